"""Fitted graphs: storage round trips, tamper detection, unseen groups, bundles, batch replay."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import lance
import numpy as np
import polars as pl
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from typer.testing import CliRunner

import nirsframe as nf
import nirsframe.api as api
from nirsframe.axis import SpectralAxis
from nirsframe.cli import app
from nirsframe.dataset import DatasetRoles, SpectralDataset
from nirsframe.engine import predict_lance
from nirsframe.exceptions import BundleError, WorkspaceError
from nirsframe.io import write_parquet
from nirsframe.io.sources import join_sources
from nirsframe.workspace import (
    FittedGraph,
    UnseenGroupError,
    Workspace,
    export_bundle,
    import_bundle,
    read_bundle,
)
from tests.conftest import synthetic_spectra

if TYPE_CHECKING:
    from pathlib import Path

KEY = b"nirsframe-test-key-0123456789"  # test-only HMAC secret


def two_sources() -> SpectralDataset:
    xa = synthetic_spectra(30, 40, seed=1)
    xb = synthetic_spectra(30, 25, seed=2)
    y = xa[:, 5:10].sum(axis=1) + xb[:, 3:6].sum(axis=1)
    ids = [f"s{i}" for i in range(30)]
    a = SpectralDataset.from_numpy(xa, y, ids=ids)
    b = SpectralDataset.from_numpy(xb, y, ids=ids)
    return join_sources({"a": a, "b": b})


SOURCES = {
    "name": "ms",
    "target": "y",
    "split": {"venetian": {"n_splits": 3}},
    "steps": [
        {"y_processing": {"autoscale": {}}},
        {"branch": {"by_source": {"a": [{"snv": {}}], "b": [{"msc": {}}]}}},
        {"merge_sources": "concat"},
        {"model": {"sklearn.linear_model.Ridge": {"alpha": 0.01}}},
    ],
}


def grouped() -> SpectralDataset:
    x = synthetic_spectra(40, 30, seed=9)
    y = x[:, 3:8].sum(axis=1)
    group = np.where(np.arange(40) < 20, "a", "b")
    x[group == "b"] *= 1.5
    df = pl.DataFrame(
        {"sample_id": [f"s{i}" for i in range(40)], "spectra": x, "y": y, "instrument": group}
    )
    roles = DatasetRoles(id="sample_id", targets=("y",), metadata=("instrument",))
    return SpectralDataset(df.lazy(), {"spectra": SpectralAxis.index(30)}, roles)


SEPARATED = {
    "name": "sep",
    "target": "y",
    "split": {"venetian": {"n_splits": 4}},
    "steps": [
        {"branch": {"by_metadata": "instrument"}},
        {"snv": {}},
        {"model": {"pls": {"n_components": 3}}},
        {"merge": "concat"},
    ],
}


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, str, str]:
    """A workspace with a multi-source run and a separated run."""
    ws = Workspace(tmp_path_factory.mktemp("graph") / "ws")
    sources = api.run(SOURCES, two_sources(), workspace=ws).run_id
    separated = api.run(SEPARATED, grouped(), workspace=ws).run_id
    assert sources is not None
    assert separated is not None
    return ws, sources, separated


def test_members_round_trip_and_hash(recorded: tuple[Workspace, str, str]) -> None:
    ws, run_id, _ = recorded
    graph = ws.fitted(run_id)
    assert isinstance(graph, FittedGraph)
    assert graph.kind == "sources"
    assert [i.column for i in graph.inputs()] == ["spectra_a", "spectra_b"]
    again = FittedGraph.from_members(graph.to_members())
    assert again.content_hash() == graph.content_hash() == ws.run(run_id).chain_hash
    frame = two_sources().frame.collect()
    assert_array_equal(again.predict(frame, primary="x"), graph.predict(frame, primary="x"))
    with pytest.raises(WorkspaceError, match="not one chain"):
        ws.chain(run_id)


@pytest.mark.parametrize("what", ["array", "graph.json", "stray"])
def test_tampered_members_are_detected(
    recorded: tuple[Workspace, str, str], tmp_path: Path, what: str
) -> None:
    ws, run_id, _ = recorded
    graph = ws.fitted(run_id)
    members = graph.to_members()
    if what == "array":
        name = next(n for n in members if n.startswith("nodes/") and n.endswith(".npy"))
        data = bytearray(members[name])
        data[-1] ^= 1  # one bit of the last stored float
        members[name] = bytes(data)
        match = "does not match its recorded hash"
    elif what == "graph.json":
        doc = json.loads(members["graph.json"])
        doc["root"]["targets"][0]["shift"][0] += 1.0
        members["graph.json"] = json.dumps(doc, sort_keys=True, indent=1).encode()
        match = None
    else:
        members["nodes/999/chain.json"] = b"{}"
        match = "belong to no recorded chain"
    if match is not None:
        with pytest.raises(WorkspaceError, match=match):
            FittedGraph.from_members(members)
    # In the workspace the run's recorded hash catches every change.
    root = ws.chain_path(run_id)
    for name, data in members.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        original = (root / name).read_bytes() if (root / name).exists() else None
        if original == data:
            continue
        (root / name).write_bytes(data)
        try:
            with pytest.raises(WorkspaceError, match="hash|no recorded chain"):
                ws.fitted(run_id)
        finally:
            if original is None:
                (root / name).unlink()
            else:
                (root / name).write_bytes(original)
    assert ws.fitted(run_id).content_hash() == ws.run(run_id).chain_hash


def test_unseen_group_is_a_typed_error(recorded: tuple[Workspace, str, str]) -> None:
    ws, _, run_id = recorded
    graph = ws.fitted(run_id)
    assert isinstance(graph, FittedGraph)
    assert graph.kind == "separated"
    assert graph.metadata_columns() == ["instrument"]
    data = grouped().frame.collect().with_columns(pl.lit("c").alias("instrument"))
    with pytest.raises(UnseenGroupError, match=r"instrument.*\['c'\].*known: \['a', 'b'\]"):
        api.predict(ws, run_id, data)


def test_bundles_carry_graphs(recorded: tuple[Workspace, str, str], tmp_path: Path) -> None:
    ws, sources, separated = recorded
    dest = Workspace(tmp_path / "dest")
    for run_id, data in ((sources, two_sources()), (separated, grouped())):
        path = export_bundle(ws, run_id, tmp_path / f"{run_id}.zip", key=KEY)
        bundle = read_bundle(path, key=KEY, require_signature=True)
        assert bundle.manifest["format_version"] == 2
        assert isinstance(bundle.chain, FittedGraph)
        rec = import_bundle(path, dest, key=KEY)
        assert rec.chain_hash == ws.run(run_id).chain_hash
        assert_array_equal(
            api.predict(dest, run_id, data)["y_pred"].to_numpy(),
            api.predict(ws, run_id, data)["y_pred"].to_numpy(),
        )


def test_a_graph_in_a_version_1_bundle_is_rejected(
    recorded: tuple[Workspace, str, str], tmp_path: Path
) -> None:
    from nirsframe.workspace.bundle import _zip_bytes, load_bundle_bytes

    ws, run_id, _ = recorded
    path = export_bundle(ws, run_id, tmp_path / "g.zip")
    members = _members(path.read_bytes())
    manifest = json.loads(members["manifest.json"])
    manifest["format_version"] = 1
    members["manifest.json"] = json.dumps(manifest, sort_keys=True, indent=1).encode()
    with pytest.raises(
        BundleError, match="format_version 1 bundles hold one chain; this one does not"
    ):
        load_bundle_bytes(_zip_bytes(members))


def _members(data: bytes) -> dict[str, bytes]:
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def write_lance(ds: SpectralDataset, uri: str) -> None:
    table = ds.frame.collect().to_arrow().replace_schema_metadata(ds.metadata())
    lance.write_dataset(table, uri, max_rows_per_file=16, data_storage_version="2.0")


@pytest.mark.parametrize("which", ["sources", "separated"])
def test_batch_predict_reads_every_column(
    recorded: tuple[Workspace, str, str], tmp_path: Path, which: str
) -> None:
    ws, sources, separated = recorded
    run_id, data = (sources, two_sources()) if which == "sources" else (separated, grouped())
    write_lance(data, str(tmp_path / "src.lance"))
    out = str(tmp_path / "out.lance")
    predict_lance(ws, run_id, str(tmp_path / "src.lance"), out, batch_rows=7)
    got = pl.from_arrow(lance.dataset(out).to_table())
    assert isinstance(got, pl.DataFrame)
    expected = api.predict(ws, run_id, data)
    joined = expected.join(got.select("sample_id", pl.col("y_pred").alias("batch")), on="sample_id")
    assert joined.height == expected.height
    assert_allclose(joined["batch"].to_numpy(), joined["y_pred"].to_numpy(), rtol=1e-12)


def test_cli_and_session_replay_a_graph(
    recorded: tuple[Workspace, str, str], tmp_path: Path
) -> None:
    ws, run_id, _ = recorded
    data = tmp_path / "two_sources.parquet"
    write_parquet(two_sources(), data)
    out = tmp_path / "p.parquet"
    args = ["predict", "-w", str(ws.root), "--run", run_id, "--data", str(data), "-o", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    expected = api.predict(ws, run_id, two_sources())["y_pred"].to_numpy()
    assert_array_equal(pl.read_parquet(out)["y_pred"].to_numpy(), expected)
    with nf.session(ws.root) as s:
        assert_array_equal(s.predict(run_id, two_sources())["y_pred"].to_numpy(), expected)
        with pytest.raises(WorkspaceError, match="graph"):
            s.chain(run_id)
