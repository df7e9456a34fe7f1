"""The streamed search (local engine): the in-memory numbers, by map-reduce over Lance."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import lance
import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

import nirsframe as nf
from nirsframe.cli import app
from nirsframe.engine.route import EngineRoutingError
from nirsframe.engine.search import UnsupportedOnEngineError, search_lance
from tests.nirsframe.engine._search_setup import SPEC, by_variant, write_source

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> str:
    return write_source(str(tmp_path_factory.mktemp("search") / "src.lance"))


def _close(a: np.ndarray, b: np.ndarray, rel: float) -> None:
    np.testing.assert_allclose(a, b, rtol=rel, atol=0)


def test_local_engine_matches_the_in_memory_search(source: str) -> None:
    memory = nf.run(SPEC, source)
    streamed = nf.run(SPEC, source, engine="local")
    a, b = by_variant(memory), by_variant(streamed)
    assert a["preprocessing"].to_list() == b["preprocessing"].to_list()
    assert a["n_components"].to_list() == b["n_components"].to_list()
    _close(a["rmsecv"].to_numpy(), b["rmsecv"].to_numpy(), 1e-9)
    _close(a["rmsep"].to_numpy(), b["rmsep"].to_numpy(), 1e-9)
    assert memory.best["variant"] == streamed.best["variant"]
    keys = ["variant", "sample_id"]
    oof_a, oof_b = memory.oof.sort(keys), streamed.oof.sort(keys)
    assert oof_a.drop("y_pred").equals(oof_b.drop("y_pred"))  # same rows, folds, targets
    _close(oof_a["y_pred"].to_numpy(), oof_b["y_pred"].to_numpy(), 1e-8)
    test_a, test_b = memory.test_predictions.sort(keys), streamed.test_predictions.sort(keys)
    _close(test_a["y_pred"].to_numpy(), test_b["y_pred"].to_numpy(), 1e-8)
    assert streamed.extra["rows_without_target"] == memory.extra["rows_without_target"] > 0
    assert streamed.extra["n_test"] == memory.extra["n_test"] > 0
    # raw, detrend and msc share one set of sums, snv+savgol another, detrend before msc a
    # third; each msc chain then sums its 4 folds and final context after its own msc.
    assert streamed.extra["crossproduct_passes"] == 3 + 2 * 5
    assert streamed.extra["passes"] == 3


def test_same_partition_same_bits(source: str) -> None:
    a = search_lance(SPEC, source, batch_rows=64, unit_rows=100)
    b = search_lance(SPEC, source, batch_rows=64, unit_rows=100)
    assert a.ranking.equals(b.ranking)
    assert a.oof.equals(b.oof)
    c = search_lance(SPEC, source)  # another partition: other rounding, same numbers
    _close(by_variant(a)["rmsecv"].to_numpy(), by_variant(c)["rmsecv"].to_numpy(), 1e-10)


def test_contiguous_folds_with_batches_inside_one_fold(source: str) -> None:
    spec = {**SPEC, "split": {"kfold": {"n_splits": 3}}}
    memory, streamed = nf.run(spec, source), search_lance(spec, source, batch_rows=32)
    _close(by_variant(memory)["rmsecv"].to_numpy(), by_variant(streamed)["rmsecv"].to_numpy(), 1e-9)


def test_repetitions_keep_samples_together(tmp_path: Path) -> None:
    uri = write_source(str(tmp_path / "reps.lance"), 300, repetitions=2)
    memory, streamed = nf.run(SPEC, uri), nf.run(SPEC, uri, engine="local")
    # Wrong folds would differ by percents; on 600 rows of 48 float32 points, the 6th-8th
    # components after msc + savgol amplify rounding to ~1e-9.
    for col in ("rmsecv", "rmsecv_agg"):
        _close(by_variant(memory)[col].to_numpy(), by_variant(streamed)[col].to_numpy(), 1e-8)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"steps": [{"msc": {"reference": "median"}}, {"model": {"pls": {}}}]}, "msc.* is fitted"),
        ({"steps": [{"msc": {}}, {"emsc": {}}, {"model": {"pls": {}}}]}, "second fitted"),
        ({"steps": [{"model": {"sklearn.linear_model.Ridge": {}}}]}, "is not PLS"),
        ({"split": {"kennard_stone": {"test_size": 0.2}}}, "needs the spectra"),
        ({"steps": [{"y_processing": {"minmax": {}}}, {"model": {"pls": {}}}]}, "y_processing"),
        ({"steps": [{"model": {"pls": {"scale": True}}}]}, "'autoscale.*' is fitted"),
    ],
)
def test_unsupported_elements_are_named(source: str, change: dict[str, Any], match: str) -> None:
    with pytest.raises(UnsupportedOnEngineError, match=match):
        nf.run({**SPEC, **change}, source, engine="local")


def test_too_many_folds_are_refused(source: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("nirsframe.engine.search.MAX_FOLD_BYTES", 4 * 48 * 48 * 8)
    with pytest.raises(UnsupportedOnEngineError, match="leave-one-out"):
        nf.run(SPEC, source, engine="local")  # 4 folds: 5 matrices of 48 x 48


def test_in_memory_data_is_refused_for_an_engine() -> None:
    x = np.random.default_rng(0).normal(size=(20, 8))
    with pytest.raises(EngineRoutingError, match=r"nf\.run\(engine='ray'\) streams a Lance"):
        nf.run(SPEC, (x, x[:, 0]), engine="ray")


def test_streamed_run_is_recorded_and_replayable(source: str, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    result = nf.run(SPEC, source, engine="local", workspace=ws)
    assert result.run_id is not None
    preds = nf.predict(ws, result.run_id, source)
    assert preds.height > 0 and np.isfinite(preds["y_pred"].to_numpy()).all()


def test_cli_run_with_an_engine(source: str, tmp_path: Path) -> None:
    spec = tmp_path / "spec.json"
    spec.write_text(__import__("json").dumps(SPEC))
    res = CliRunner().invoke(app, ["run", str(spec), "-d", source, "--engine", "local", "-q"])
    assert res.exit_code == 0, res.output


def test_partial_moments_merge_into_the_kernel_moments() -> None:
    from nirskern.pls import fold_crossproducts, pls_fit_crossproducts

    from nirsframe.engine.mapreduce import partial_crossproducts

    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(40, 6)) + 3.0, rng.normal(size=(40, 1))
    codes = np.tile([0, 1, 2, -1, -2], 8)
    ids = np.array([0, 1, 2])
    halves = [
        partial_crossproducts(x[s], y[s], codes[s], ids) for s in (slice(0, 17), slice(17, 40))
    ]
    merged = halves[0].merge(halves[1])
    train = codes >= -1
    kernel = fold_crossproducts(x[train], y[train], codes[train])
    assert merged.counts.tolist() == kernel.counts.tolist() and merged.n_total == kernel.n_total
    a, b = pls_fit_crossproducts(merged.total(), 4), pls_fit_crossproducts(kernel.total(), 4)
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(a.x_mean, b.x_mean, rtol=1e-13)


def test_wild_validation_spectra_do_not_move_the_fold_models(source: str, tmp_path: Path) -> None:
    """Half of validation fold 0 replaced by 1e6-scale noise: every chain's fold-0 model pools
    the other folds' moments only (the msc reference too), so the other half's out-of-fold
    predictions do not move (measured: bit-identical)."""
    steps = [{"_or_": [[], {"detrend": {"order": 1}}, {"msc": {}}]}, pls_step(6)]
    spec = {**SPEC, "steps": steps}
    clean = search_lance(spec, source)
    fold0 = clean.oof.filter((pl.col("fold") == 0) & (pl.col("variant") == 0))["sample_id"]
    wild, kept = fold0[::2].cast(pl.Int64), fold0[1::2]
    table = lance.dataset(source).to_table()
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    x = frame["spectra"].to_numpy().copy()
    hit = frame["id"].is_in(wild.implode()).to_numpy()
    x[hit] = np.random.default_rng(0).normal(0.0, 1e6, (int(hit.sum()), x.shape[1]))
    dirty_uri = str(tmp_path / "wild.lance")
    dirty_table = frame.with_columns(pl.Series("spectra", x)).to_arrow()
    lance.write_dataset(
        dirty_table.replace_schema_metadata(table.schema.metadata),
        dirty_uri,
        max_rows_per_file=250,
        data_storage_version="2.0",
    )
    dirty = search_lance(spec, dirty_uri)
    keys = ["variant", "sample_id"]
    a, b = (
        r.oof.filter(pl.col("sample_id").is_in(kept.implode())).sort(keys) for r in (clean, dirty)
    )
    assert a.height == 3 * kept.len()
    np.testing.assert_allclose(b["y_pred"].to_numpy(), a["y_pred"].to_numpy(), rtol=1e-12)
    # The wild rows are in the other folds' training sets: those predictions do move.
    other = [r.oof.filter(pl.col("fold") == 1)["y_pred"].to_numpy() for r in (clean, dirty)]
    assert np.max(np.abs(other[1] - other[0])) > 1.0


def pls_step(n: int) -> dict[str, Any]:
    return {"model": {"pls": {"n_components": n}}}
