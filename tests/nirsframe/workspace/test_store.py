"""Workspace: ingest/versions/time travel, runs written last, lineage on every commit, tags."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import lance
import numpy as np
import polars as pl
import pytest
from sklearn.linear_model import Ridge

import nirsframe
from nirsframe.dataset import SpectralDataset
from nirsframe.exceptions import WorkspaceError
from nirsframe.operators import StandardNormalVariate
from nirsframe.workspace import FittedChain, Workspace, dataset_hash
from nirsframe.workspace import store as store_mod
from tests.conftest import synthetic_spectra

if TYPE_CHECKING:
    from pathlib import Path

X = synthetic_spectra(10, 20, seed=1)
Y = np.arange(10.0)
SPEC = '{"steps":[{"op":"snv"}],"model":{"op":"ridge"}}'


def dataset(x: np.ndarray = X) -> SpectralDataset:
    return SpectralDataset.from_numpy(x, y=Y)


def chain() -> FittedChain:
    snv = StandardNormalVariate().fit(X)
    return FittedChain.from_estimators([snv], Ridge().fit(snv.transform(X), Y))


def record(ws: Workspace, run_id: str | None = None, **kw: Any) -> Any:
    ref = ws.ingest(dataset(), "d")
    c = chain()
    args: dict[str, Any] = {
        "dataset": ref,
        "spec_json": SPEC,
        "parameters": {"cv": 5},
        "results": {"rmse": 0.25, "r2": 0.9},
        "predictions": pl.DataFrame({"row": range(10), "y_true": Y, "y_pred": c.predict(X)}),
        "chain": c,
        "run_id": run_id,
    }
    return ws.record_run(**{**args, **kw})


def test_ingest_versions_and_time_travel(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    r1 = ws.ingest(dataset(), "d", source="raw/d.parquet")
    assert (r1.version, r1.hash) == (1, dataset_hash(dataset()))
    assert ws.ingest(dataset(), "d") == r1  # identical data: no new version
    r2 = ws.ingest(dataset(X * 2), "d")
    assert r2.version == 2
    assert r2.hash != r1.hash
    assert ws.datasets() == ["d"]
    np.testing.assert_array_equal(ws.open_dataset("d", 1).matrix(), X)
    np.testing.assert_array_equal(ws.open_dataset("d").matrix(), X * 2)
    ws.tag("first", 1, dataset="d")
    np.testing.assert_array_equal(ws.open_dataset("d", "first").matrix(), X)
    assert ws.dataset_ref("d", "first") == r1
    props = ws.versions("d")[0]
    assert props["nirsframe.operation"] == "ingest"
    assert props["nirsframe.input_uri"] == "raw/d.parquet"
    assert props["nirsframe.content_hash"] == r1.hash
    with pytest.raises(WorkspaceError, match="no dataset 'nope'"):
        ws.open_dataset("nope")
    with pytest.raises(WorkspaceError, match="no version or tag"):
        ws.open_dataset("d", 9)
    with pytest.raises(WorkspaceError, match="dataset name"):
        ws.ingest(dataset(), "../evil")


def test_record_run_and_read_back(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    rec = record(ws, "r1", duration_s=1.5)
    assert ws.run("r1") == rec
    assert rec.parameters == {"cv": 5}
    assert rec.code_version == nirsframe.__version__
    assert ws.runs()["run_id"].to_list() == ["r1"]
    assert sorted(ws.results("r1")["metric"].to_list()) == ["r2", "rmse"]
    preds = ws.predictions("r1")
    np.testing.assert_array_equal(preds.sort("row")["y_pred"].to_numpy(), chain().predict(X))
    np.testing.assert_array_equal(ws.chain("r1").predict(X), chain().predict(X))
    assert record(ws, "r1") == rec  # recording it again returns the stored run
    assert ws.results().height == 2
    with pytest.raises(WorkspaceError, match="no run 'r2'"):
        ws.run("r2")


def test_every_commit_carries_lineage(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    rec = record(ws, "r1")
    record(ws, "r2")
    for uri in (ws.runs_uri, ws.results_uri, ws.predictions_uri, ws.dataset_uri("d")):
        ds = lance.dataset(uri)
        for info in ds.versions():
            props = ds.read_transaction(info["version"]).transaction_properties
            for key in ("operation", "code_version", "timestamp"):
                assert props[f"nirsframe.{key}"], (uri, key)
            if uri != ws.dataset_uri("d"):
                assert props["nirsframe.input_uri"] == rec.dataset.uri
                assert props["nirsframe.input_version"] == "1"
                assert props["nirsframe.input_hash"] == rec.dataset.hash
                assert props["nirsframe.pipeline_hash"] == rec.pipeline_hash
                assert props["nirsframe.spec"] == SPEC
                assert props["nirsframe.parameters"] == '{"cv":5}'
                assert props["nirsframe.run_id"] in {"r1", "r2"}
                assert props["nirsframe.write_token"].startswith(props["nirsframe.run_id"])


def test_lineage_chain(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    ws.ingest(dataset(), "d", source="raw/d.parquet")
    rec = record(ws, "r1", pipeline_hash="abc123")
    lin = ws.lineage("r1", verify=True).to_dict()
    assert lin["predictions"] == {"uri": ws.predictions_uri, "version": 1, "n_rows": 10}
    assert lin["run"]["run_id"] == "r1"
    assert lin["pipeline"] == {"hash": "abc123", "spec": SPEC}
    assert lin["dataset"] == rec.dataset.to_dict()
    assert lin["raw_source"] == "raw/d.parquet"
    assert lin["dataset_commit"]["nirsframe.operation"] == "ingest"


def test_crash_before_runs_row_leaves_no_visible_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = Workspace(tmp_path)
    real = Workspace._append

    def crash_on_runs(self: Workspace, uri: str, *a: Any, **k: Any) -> int:
        if uri == self.runs_uri:
            raise KeyboardInterrupt  # the process dies between the data and the runs row
        return real(self, uri, *a, **k)

    monkeypatch.setattr(Workspace, "_append", crash_on_runs)
    with pytest.raises(KeyboardInterrupt):
        record(ws, "r1")
    monkeypatch.setattr(Workspace, "_append", real)
    assert ws.runs().height == 0
    assert ws.results().height == 0
    assert ws.predictions().height == 0
    with pytest.raises(WorkspaceError):
        ws.run("r1")
    # Retrying the same run completes it; the rows already committed are not written twice.
    record(ws, "r1")
    assert ws.results().height == 2
    assert ws.predictions().height == 10
    assert lance.dataset(ws.results_uri).count_rows() == 2


def test_append_is_idempotent_and_retries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = Workspace(tmp_path)
    record(ws, "r0")
    calls = {"n": 0}
    real_write = store_mod.lance.write_dataset

    def flaky(*a: Any, **k: Any) -> Any:
        # The commit lands but the caller sees an error (lost acknowledgement), twice.
        out = real_write(*a, **k)
        calls["n"] += 1
        if calls["n"] <= 2:
            msg = "commit conflict"
            raise OSError(msg)
        return out

    monkeypatch.setattr(store_mod.lance, "write_dataset", flaky)
    record(ws, "r1")
    assert lance.dataset(ws.results_uri).count_rows() == 4
    assert ws.runs().height == 2


def test_tags_survive_cleanup(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    ws.ingest(dataset(), "d")
    ws.tag("v1", 1, dataset="d")
    ws.ingest(dataset(X + 1), "d")
    ws.ingest(dataset(X + 2), "d")
    record(ws, "r1")
    assert ws.tag("snapshot") == 1
    record(ws, "r2")
    ws.cleanup(older_than=timedelta(0))
    np.testing.assert_array_equal(ws.open_dataset("d", "v1").matrix(), X)
    assert ws.runs("snapshot")["run_id"].to_list() == ["r1"]
    assert ws.runs()["run_id"].to_list() == ["r1", "r2"]
    with pytest.raises(WorkspaceError):
        ws.open_dataset("d", 2)  # untagged, cleaned up
    with pytest.raises(WorkspaceError, match="cannot create tag"):
        ws.tag("v1", 3, dataset="d")


def test_invalid_inputs_write_nothing(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    with pytest.raises(WorkspaceError, match="unknown columns"):
        record(ws, "r1", predictions={"y_pred": [1.0], "bogus": [1]})
    with pytest.raises(WorkspaceError, match="JSON"):
        record(ws, "r1", parameters={"x": object()})
    with pytest.raises(WorkspaceError, match="run_id"):
        record(ws, "bad id'")
    assert not (tmp_path / "results.lance").exists()
    assert not any((tmp_path / "chains").iterdir())
    assert ws.runs().height == 0
