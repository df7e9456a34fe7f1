"""Sessions (one workspace, cached datasets and chains) and retraining (full / transfer)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import nirsframe as nf
from nirsframe._bridge import series_to_matrix
from nirsframe.demo import SAMPLE_DATA
from nirsframe.exceptions import AxisError, InvalidParameterError, WorkspaceError
from nirsframe.io.load import load_dataset
from nirsframe.models.pls import PLS
from nirsframe.workspace import Workspace

if TYPE_CHECKING:
    from pathlib import Path

    from nirsframe.dataset import SpectralDataset

SPLIT = {"train_values": ["train", "monitor"], "test_values": ["test"]}
MSC_SPEC = {
    "name": "msc-fat",
    "target": "fat",
    "split": {"venetian": {"n_splits": 4}},
    "steps": [{"msc": {}}, {"model": {"pls": {"n_components": {"_range_": [1, 8]}}}}],
}
SNV_SPEC = {
    "name": "snv-fat",
    "target": "fat",
    "split": {"kfold": {"n_splits": 3}},
    "steps": [{"snv": {}}, {"model": {"pls": {"n_components": {"_range_": [1, 4]}}}}],
}


def _batch2() -> SpectralDataset:
    """Another 'batch': 4 of every 5 rows, with a small additive drift on every spectrum."""
    ds = load_dataset(SAMPLE_DATA)
    col = ds.spectra_column
    frame = ds.frame.collect()
    frame = frame.filter(pl.int_range(pl.len()) % 5 != 0)
    x, _ = series_to_matrix(frame[col])
    drifted = x + 0.02 + 0.01 * np.linspace(0, 1, x.shape[1])
    frame = frame.with_columns(pl.Series(col, drifted, dtype=frame.schema[col]))
    return ds.with_frame(frame)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    ws = tmp_path_factory.mktemp("session") / "ws"
    res = nf.run(MSC_SPEC, SAMPLE_DATA, workspace=ws, **SPLIT)
    assert res.run_id is not None
    return ws, res.run_id


def test_session_caches_datasets_and_chains(tmp_path: Path) -> None:
    ws_dir = tmp_path / "ws"
    with nf.session(ws_dir) as s:
        r1 = s.run(SNV_SPEC, SAMPLE_DATA, dataset_name="tecator", **SPLIT)
        assert s.stats["dataset_misses"] == 1
        assert s.stats["ingests"] == 1
        # Same file again: no re-read, no re-hash, no new ingest.
        r2 = s.run(MSC_SPEC, SAMPLE_DATA, dataset_name="tecator", **SPLIT)
        assert s.stats["dataset_hits"] == 1
        assert s.stats["ingests"] == 1
        # Same content as another object: found by content hash.
        ds, digest = s.dataset(load_dataset(SAMPLE_DATA).collect())
        assert s.stats["dataset_hits"] == 2
        assert s.stats["dataset_misses"] == 1
        # An eager frame is remembered by identity after its first hash.
        frame = ds.frame.collect()
        s.dataset(frame)
        s.dataset(frame)
        assert (s.stats["dataset_misses"], s.stats["dataset_hits"]) == (2, 3)
        assert r1.run_id is not None
        assert r2.run_id is not None
        ws = Workspace(ws_dir)
        assert ws.run(r1.run_id).dataset == ws.run(r2.run_id).dataset
        assert ws.run(r1.run_id).dataset.hash == digest
        assert ws.versions("tecator")[-1]["version"] == 1
        # Predictions equal the stand-alone replay; the chain is loaded once.
        p1 = s.predict(r1.run_id, SAMPLE_DATA)
        assert_frame_equal(p1, nf.predict(ws_dir, r1.run_id, SAMPLE_DATA))
        s.predict(r1.run_id, SAMPLE_DATA)
        e = s.explain(r1.run_id, n_repeats=1, shap=False)
        assert e.run_id == r1.run_id
        assert s.stats["chain_misses"] == 1
        assert s.stats["chain_hits"] == 2
    with pytest.raises(WorkspaceError, match="closed"):
        s.chain(r1.run_id)


def test_retrain_full_records_a_new_search_with_origin(base: tuple[Path, str]) -> None:
    ws_dir, old_id = base
    new = nf.retrain(ws_dir, old_id, _batch2(), mode="full")
    ws = Workspace(ws_dir)
    old = ws.run(old_id)
    assert new.run_id != old_id
    assert new.operation == "retrain"
    assert new.origin is not None
    assert new.origin["run_id"] == old_id
    assert new.origin["mode"] == "full"
    assert new.origin["dataset"]["version"] == old.dataset.version
    assert new.pipeline_hash == old.pipeline_hash
    assert new.dataset.name == old.dataset.name
    assert new.dataset.version > old.dataset.version  # the new batch is a new version
    assert ws.lineage(new.run_id).to_dict()["origin"]["run_id"] == old_id
    assert new.parameters["n_variants"] == 8
    res = ws.results(new.run_id)
    assert res.filter(pl.col("scope") == "best")["metric"].to_list()[0] == "rmsecv"
    assert set(ws.predictions(new.run_id)["scope"].unique()) == {"cv", "test", "final"}


def test_retrain_transfer_refits_only_the_model(base: tuple[Path, str]) -> None:
    ws_dir, old_id = base
    ws = Workspace(ws_dir)
    batch = _batch2()
    new = nf.retrain(ws, old_id, batch, mode="transfer")
    assert new.origin is not None
    assert (new.origin["run_id"], new.origin["mode"]) == (old_id, "transfer")
    old_chain, new_chain = ws.chain(old_id), ws.chain(new.run_id)
    # The fitted preprocessing is kept bit for bit (MSC reference learned on the OLD data).
    assert [s.op for s in new_chain.steps] == ["msc"]
    for a, b in zip(old_chain.steps, new_chain.steps, strict=True):
        assert a.params == b.params
        assert a.arrays.keys() == b.arrays.keys()
        for k in a.arrays:
            np.testing.assert_array_equal(a.arrays[k], b.arrays[k])
    old_model, new_model = old_chain.build_model(), new_chain.build_model()
    assert new_model.n_components == old_model.n_components
    assert new.parameters["n_components"] == old_model.n_components
    assert not np.allclose(new_model.coef_, old_model.coef_)
    # The model equals a PLS fit by hand on the new training rows through the OLD MSC.
    df = batch.frame.collect()
    train = df["split"].is_in(["train", "monitor"]).to_numpy()
    x, _ = series_to_matrix(df[batch.spectra_column])
    z = old_chain.transform(x[train])
    ref = PLS(n_components=old_model.n_components).fit(z, df["fat"].to_numpy()[train])
    np.testing.assert_allclose(new_model.coef_, ref.coef_, rtol=1e-10, atol=1e-12)
    # Recorded metrics and predictions.
    metrics = dict(ws.results(new.run_id).select("metric", "value").iter_rows())
    assert {"rmsecv", "rmsec", "rmsep", "r2p"} <= set(metrics)
    preds = ws.predictions(new.run_id)
    final = preds.filter(pl.col("scope") == "final").sort("sample_id")
    replay = nf.predict(ws, new.run_id, batch).sort("sample_id")
    np.testing.assert_array_equal(final["y_pred"].to_numpy(), replay["y_pred"].to_numpy())
    test = preds.filter(pl.col("scope") == "test")
    rmsep = float(np.sqrt(np.mean((test["y_true"] - test["y_pred"]).to_numpy() ** 2)))
    assert metrics["rmsep"] == pytest.approx(rmsep, rel=1e-12)
    assert (
        json.loads(ws.runs().filter(pl.col("run_id") == new.run_id)["origin_json"][0])["run_id"]
        == old_id
    )


def test_retrain_errors(base: tuple[Path, str]) -> None:
    ws_dir, old_id = base
    with pytest.raises(InvalidParameterError, match="'mode' must be 'full' or 'transfer'"):
        nf.retrain(ws_dir, old_id, SAMPLE_DATA, mode="partial")  # type: ignore[arg-type]
    rng = np.random.default_rng(0)
    other = (rng.normal(size=(10, 50)), rng.normal(size=10), np.linspace(900, 1000, 50))
    with pytest.raises(AxisError, match="axis"):
        nf.retrain(ws_dir, old_id, other, mode="transfer")
    with pytest.raises(WorkspaceError, match="no run"):
        nf.retrain(ws_dir, "missing", SAMPLE_DATA)


def test_session_retrain_reuses_the_ingested_batch(base: tuple[Path, str]) -> None:
    ws_dir, old_id = base
    batch = _batch2().collect()
    with nf.session(ws_dir) as s:
        a = s.retrain(old_id, batch, mode="transfer")
        b = s.retrain(old_id, batch, mode="transfer")
        # A dataset object is re-hashed (its frame may be lazy) but ingested once.
        assert (s.stats["dataset_misses"], s.stats["dataset_hits"]) == (1, 1)
        assert s.stats["ingests"] == 1
        assert a.dataset == b.dataset
        assert s.stats["chain_misses"] == 1
