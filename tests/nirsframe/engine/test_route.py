"""Engine routing of ``nf.predict`` / ``nf.generate``: the streamed path or a clear error."""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl
import pytest
from typer.testing import CliRunner

import nirsframe as nf
from nirsframe.cli import app
from nirsframe.engine.route import EngineRoutingError, lance_uri
from tests.nirsframe.engine._setup import N_ROWS, Setup, build, read_sorted

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Setup:
    return build(tmp_path_factory.mktemp("engine-route"))


def test_lance_uri() -> None:
    assert lance_uri("a/b.lance/") == "a/b.lance/"
    assert lance_uri("memory://x") == "memory://x"
    assert lance_uri("a.parquet") is None
    assert lance_uri(pl.DataFrame()) is None


def test_nf_predict_streams_lance_to_lance(setup: Setup, tmp_path: Path) -> None:
    out = tmp_path / "preds.lance"
    assert nf.predict(setup.ws, setup.run_id, setup.source, out=out) == 1
    streamed = read_sorted(str(out))
    assert streamed.height == N_ROWS
    in_memory = nf.predict(setup.ws, setup.run_id, setup.source)
    assert streamed["y_pred"].to_list() == pytest.approx(in_memory["y_pred"].to_list(), rel=1e-12)


def test_ray_without_a_lance_target_or_source_is_refused(setup: Setup, tmp_path: Path) -> None:
    with pytest.raises(EngineRoutingError, match="out="):
        nf.predict(setup.ws, setup.run_id, setup.source, engine="ray")
    with pytest.raises(EngineRoutingError, match="streams a Lance source"):
        nf.predict(setup.ws, setup.run_id, (setup.x, setup.x[:, 0]), out=tmp_path / "p.lance")
    with pytest.raises(EngineRoutingError, match="resample"):
        nf.predict(setup.ws, setup.run_id, setup.source, out=tmp_path / "p.lance", resample=True)
    with pytest.raises(EngineRoutingError, match="lance_uri"):
        nf.generate(3, engine="ray")
    assert not (tmp_path / "p.lance").exists()


def test_cli_predict_to_a_lance_target(setup: Setup, tmp_path: Path) -> None:
    out = str(tmp_path / "cli.lance")
    args = ["predict", "-w", str(setup.ws.root), "--run", setup.run_id, "-d", setup.source]
    res = CliRunner().invoke(app, [*args, "-o", out, "--engine", "local"])
    assert res.exit_code == 0, res.output
    assert "version 1" in res.output
    assert read_sorted(out).height == N_ROWS
