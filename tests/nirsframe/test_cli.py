"""Every CLI command through typer's runner, with a failure path each."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from nirsframe.cli import app
from nirsframe.demo import DEMO_PIPELINE, SAMPLE_DATA

if TYPE_CHECKING:
    from pathlib import Path

runner = CliRunner()

SMALL = """
name: small
target: fat
split: {kfold: {n_splits: 3}}
steps:
  - _or_: [{snv: {}}, {detrend: {order: 1}}]
  - model: {pls: {n_components: {_range_: [1, 4]}}}
"""


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    tmp = tmp_path_factory.mktemp("cli")
    spec = tmp / "p.yaml"
    spec.write_text(SMALL)
    ws = tmp / "ws"
    res = runner.invoke(
        app,
        [
            "run",
            str(spec),
            "--data",
            str(SAMPLE_DATA),
            "-w",
            str(ws),
            "--json",
            "--train-value",
            "train",
            "--train-value",
            "monitor",
            "--test-value",
            "test",
        ],
    )
    assert res.exit_code == 0, res.output
    return ws, json.loads(res.output)["run_id"]


def test_run_json_has_ranked_results(recorded: tuple[Path, str], tmp_path: Path) -> None:
    spec = tmp_path / "p.yaml"
    spec.write_text(SMALL)
    res = runner.invoke(app, ["run", str(spec), "--data", str(SAMPLE_DATA), "--json"])
    out = json.loads(res.output)
    assert out["run_id"] is None  # no workspace
    assert len(out["results"]) == 8
    best = out["best"]
    assert set(best) >= {"preprocessing", "model", "n_components", "rmsecv", "rmsep"}
    assert [r["rmsecv"] for r in out["results"]] == sorted(r["rmsecv"] for r in out["results"])


def test_run_and_validate_fail_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(SMALL.replace("snv: {}", "snvv: {}"))
    res = runner.invoke(app, ["validate", str(bad)])
    assert res.exit_code == 1
    assert "snvv" in res.output and "snv" in res.output
    res = runner.invoke(app, ["run", str(bad), "--data", str(SAMPLE_DATA)])
    assert res.exit_code == 1
    assert res.output.startswith("error:")
    ok = runner.invoke(app, ["validate", str(DEMO_PIPELINE), "--json"])
    assert json.loads(ok.output)["variants"] == 140


def test_predict_replays_and_refuses_another_axis(
    recorded: tuple[Path, str], tmp_path: Path
) -> None:
    ws, run_id = recorded
    out = tmp_path / "pred.parquet"
    res = runner.invoke(
        app, ["predict", "-w", str(ws), "--run", run_id, "--data", str(SAMPLE_DATA), "-o", str(out)]
    )
    assert res.exit_code == 0, res.output
    pred = pl.read_parquet(out)
    assert pred.height == 240
    other = tmp_path / "other.parquet"
    df = pl.read_parquet(SAMPLE_DATA)
    df.with_columns(pl.col("spectrum").list.head(50)).write_parquet(other)
    res = runner.invoke(
        app, ["predict", "-w", str(ws), "--run", run_id, "--data", str(other), "-o", str(out)]
    )
    assert res.exit_code == 1
    assert "axis" in res.output


def test_runs_lineage_tag(recorded: tuple[Path, str]) -> None:
    ws, run_id = recorded
    res = runner.invoke(app, ["runs", "-w", str(ws), "--json"])
    assert run_id in res.output
    lin = runner.invoke(app, ["lineage", run_id, "-w", str(ws), "--verify"])
    info = json.loads(lin.output)
    assert info["dataset"]["version"] == 1
    assert len(info["pipeline"]["hash"]) == 64
    assert runner.invoke(app, ["lineage", "nope", "-w", str(ws)]).exit_code == 1
    assert runner.invoke(app, ["tag", "release-1", "-w", str(ws)]).exit_code == 0
    assert runner.invoke(app, ["tag", "bad tag!", "-w", str(ws)]).exit_code == 1


def test_export_import_round_trip(recorded: tuple[Path, str], tmp_path: Path) -> None:
    ws, run_id = recorded
    key = tmp_path / "key"
    key.write_bytes(np.random.default_rng(0).bytes(32))
    bundle = tmp_path / "b.zip"
    res = runner.invoke(
        app, ["export", run_id, "-w", str(ws), "-o", str(bundle), "--key", str(key)]
    )
    assert res.exit_code == 0, res.output
    other = tmp_path / "ws2"
    res = runner.invoke(
        app, ["import", str(bundle), "-w", str(other), "--key", str(key), "--require-signature"]
    )
    assert res.exit_code == 0, res.output
    data = bytearray(bundle.read_bytes())
    data[len(data) // 2] ^= 0xFF
    bundle.write_bytes(bytes(data))
    res = runner.invoke(
        app, ["import", str(bundle), "-w", str(tmp_path / "ws3"), "--key", str(key)]
    )
    assert res.exit_code == 1
    assert res.output.startswith("error:")


def test_operators_and_demo(tmp_path: Path) -> None:
    res = runner.invoke(app, ["operators", "--json"])
    names = {op["name"] for op in json.loads(res.output)}
    assert {"snv", "msc", "savgol", "asls", "resample", "mixup"} <= names
    res = runner.invoke(app, ["demo", "-w", str(tmp_path / "ws"), "--json"])
    assert res.exit_code == 0, res.output
    best = json.loads(res.output)["best"]
    # shared/data/reference/pls_baselines.json: raw PLS on this split has RMSEP 2.09844.
    assert best["rmsep"] < 2.09844
    assert best["preprocessing"] != "raw"
    html = (tmp_path / "ws" / "report.html").read_text()
    assert html.count('<img src="data:image/png;base64,') == 5


def test_failure_paths_of_runs_operators_and_demo(tmp_path: Path) -> None:
    res = runner.invoke(app, ["runs", "-w", str(tmp_path / "nope")])
    assert res.exit_code == 1
    assert "no workspace" in res.output
    assert runner.invoke(app, ["operators", "--bogus"]).exit_code == 2
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    res = runner.invoke(app, ["demo", "-w", str(blocker), "--quiet"])
    assert res.exit_code == 1
    assert res.output.startswith("error:")
