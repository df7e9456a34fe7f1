"""The local engine and ``predict_lance``: one commit, bounded batches, lineage, failures."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import lance
import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from nirsframe.cli import app
from nirsframe.engine import RayUnavailableError, predict_lance
from nirsframe.engine.batch import ChainPredictor, affine_form, chain_payload
from nirsframe.exceptions import AxisError, DatasetError, InvalidParameterError, WorkspaceError
from tests.nirsframe.engine._setup import N_ROWS, Setup, build, lineage, read_sorted

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Setup:
    return build(tmp_path_factory.mktemp("engine-local"))


def test_predictions_match_the_chain(setup: Setup, tmp_path: Path) -> None:
    out = str(tmp_path / "preds.lance")
    assert predict_lance(setup.ws, setup.run_id, setup.source, out) == 1
    frame = read_sorted(out)
    assert frame.height == N_ROWS
    # Row addresses point back to the source rows (fragment id << 32 | offset).
    src = pl.from_arrow(lance.dataset(setup.source).to_table(with_row_address=True))
    assert isinstance(src, pl.DataFrame)
    src = src.sort("_rowaddr")
    assert frame["row_address"].to_list() == src["_rowaddr"].to_list()
    assert frame["sample_id"].to_list() == src["sample_id"].to_list()
    assert frame["y_true"].to_list() == src["y"].to_list()
    # The engine's row-wise dot agrees with the chain's BLAS predict to the last few bits.
    np.testing.assert_allclose(frame["y_pred"].to_numpy(), setup.chain.predict(setup.x), rtol=1e-12)
    assert frame.schema["y_pred"] == pl.Float64


def test_batch_size_does_not_change_a_bit(setup: Setup, tmp_path: Path) -> None:
    a, b = str(tmp_path / "a.lance"), str(tmp_path / "b.lance")
    predict_lance(setup.ws, setup.run_id, setup.source, a, batch_rows=7)
    predict_lance(setup.ws, setup.run_id, setup.source, b, batch_rows=8192, file_bytes=4096)
    assert read_sorted(a).equals(read_sorted(b))
    assert len(lance.dataset(b).get_fragments()) == 10  # 4096 bytes // 40 bytes per row


def test_one_version_per_job_and_lineage(setup: Setup, tmp_path: Path) -> None:
    out = str(tmp_path / "preds.lance")
    assert predict_lance(setup.ws, setup.run_id, setup.source, out) == 1
    assert predict_lance(setup.ws, setup.run_id, setup.source, out) == 2
    assert lance.dataset(out).count_rows() == 2 * N_ROWS
    assert predict_lance(setup.ws, setup.run_id, setup.source, out, mode="overwrite") == 3
    assert lance.dataset(out).count_rows() == N_ROWS
    props = lineage(out, 3)
    record = setup.ws.run(setup.run_id)
    source_hash = setup.ws.dataset_ref("train").hash  # not the source: just a sanity contrast
    assert props["nirsframe.operation"] == "predict"
    assert props["nirsframe.run_id"] == setup.run_id
    assert props["nirsframe.chain_hash"] == record.chain_hash == setup.chain.content_hash()
    assert props["nirsframe.pipeline_hash"] == record.pipeline_hash
    assert props["nirsframe.input_uri"] == setup.source
    assert props["nirsframe.input_version"] == "1"
    assert len(props["nirsframe.input_hash"]) == 64 and props["nirsframe.input_hash"] != source_hash
    assert props["nirsframe.target"] == "y"
    assert lineage(out, 1) == lineage(out, 3)


def test_failed_job_keeps_the_previous_version(setup: Setup, tmp_path: Path) -> None:
    out = str(tmp_path / "preds.lance")
    predict_lance(setup.ws, setup.run_id, setup.source, out)
    before = read_sorted(out)
    with pytest.raises(DatasetError, match="NaN or infinite"):
        predict_lance(setup.ws, setup.run_id, setup.poisoned, out, batch_rows=100)
    ds = lance.dataset(out)
    assert ds.version == 1
    assert read_sorted(out).equals(before)
    # A failed create leaves no dataset at all.
    fresh = str(tmp_path / "fresh.lance")
    with pytest.raises(DatasetError):
        predict_lance(setup.ws, setup.run_id, setup.poisoned, fresh, batch_rows=100)
    with pytest.raises(ValueError, match="not found|does not exist|Not found"):
        lance.dataset(fresh)


def test_pinned_source_version(setup: Setup, tmp_path: Path) -> None:
    src = str(tmp_path / "src.lance")
    table = lance.dataset(setup.source).to_table()
    lance.write_dataset(table, src, data_storage_version="2.0")
    lance.write_dataset(table, src, mode="append")
    out = str(tmp_path / "preds.lance")
    predict_lance(setup.ws, setup.run_id, src, out, source_version=1)
    assert lance.dataset(out).count_rows() == N_ROWS
    assert lineage(out, 1)["nirsframe.input_version"] == "1"


def test_errors(setup: Setup, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = str(tmp_path / "preds.lance")
    with pytest.raises(InvalidParameterError, match="'engine' must be one of"):
        predict_lance(setup.ws, setup.run_id, setup.source, out, engine="spark")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="'mode' must be"):
        predict_lance(setup.ws, setup.run_id, setup.source, out, mode="create")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="'batch_rows'"):
        predict_lance(setup.ws, setup.run_id, setup.source, out, batch_rows=0)
    with pytest.raises(DatasetError, match="cannot open Lance source"):
        predict_lance(setup.ws, setup.run_id, str(tmp_path / "none.lance"), out)
    # Appending to a table of another schema is refused before any work.
    lance.write_dataset(lance.dataset(setup.source).to_table(), out)
    with pytest.raises(DatasetError, match="cannot append"):
        predict_lance(setup.ws, setup.run_id, setup.source, out)
    # Another axis than the run's.
    from nirsframe.dataset import SpectralDataset

    other = SpectralDataset.from_numpy(setup.x[:, :32])
    table = other.frame.collect().to_arrow().replace_schema_metadata(other.metadata())
    lance.write_dataset(table, str(tmp_path / "narrow.lance"))
    with pytest.raises(AxisError, match="differs from the axis"):
        predict_lance(setup.ws, setup.run_id, str(tmp_path / "narrow.lance"), str(tmp_path / "x"))
    # Without Ray installed, engine="ray" names the extra.
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(RayUnavailableError, match=r"nirsframe\[ray\]"):
        predict_lance(setup.ws, setup.run_id, setup.source, out, engine="ray")


def test_predictor_checks_its_chain(setup: Setup) -> None:
    payload = chain_payload(setup.chain)
    with pytest.raises(WorkspaceError, match="hashes to"):
        ChainPredictor(payload, "0" * 64, n_points=setup.x.shape[1])
    predictor = ChainPredictor(payload, setup.chain.content_hash(), n_points=setup.x.shape[1])
    assert predictor.n_outputs == 1
    assert affine_form(predictor._model) is not None


def test_sklearn_model_is_row_deterministic(setup: Setup) -> None:
    from sklearn.cross_decomposition import PLSRegression
    from sklearn.linear_model import Ridge

    from nirsframe.workspace import FittedChain

    x, y = setup.x[:300], setup.x[:300, 10]
    for model in (Ridge(alpha=1e-3).fit(x, y), PLSRegression(3).fit(x, np.c_[y, 2 * y])):
        chain = FittedChain.from_estimators([], model)
        predictor = ChainPredictor(chain_payload(chain), chain.content_hash(), n_points=x.shape[1])
        whole = predictor._predict(x)
        parts = np.concatenate([predictor._predict(x[i : i + 7]) for i in range(0, 300, 7)])
        assert np.array_equal(whole, parts)
        ref = np.asarray(model.predict(x)).reshape(300, -1)
        np.testing.assert_allclose(whole, ref, rtol=1e-12, atol=1e-12)


def test_cli_predict_lance(setup: Setup, tmp_path: Path) -> None:
    out = str(tmp_path / "cli.lance")
    args = ["predict-lance", "-w", str(setup.ws.root), "--run", setup.run_id]
    args += ["--source", setup.source, "--out", out, "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert '"version": 1' in result.output
    assert lance.dataset(out).count_rows() == N_ROWS
    bad = CliRunner().invoke(app, [*args[:-1], "--engine", "spark"])
    assert bad.exit_code != 0
