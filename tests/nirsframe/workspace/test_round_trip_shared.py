"""Ingest -> run -> replay gives identical predictions on every shared dataset."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import polars as pl
import pytest

import nirsframe.api as api
from nirsframe.axis import SpectralAxis
from nirsframe.io import read_parquet, scan_parquet
from nirsframe.workspace import Workspace
from tests.conftest import shared_datasets

if TYPE_CHECKING:
    from pathlib import Path

    from nirsframe.dataset import SpectralDataset


def load(path: Path) -> SpectralDataset:
    if path.stem == "alcohol_mixtures":  # stores 1520 nm where its 5 nm grid has 1530
        return read_parquet(path, axis=SpectralAxis(np.arange(1100.0, 1605.0, 5.0)))
    if path.stem == "corn":  # sample ids repeat across its three instruments
        ds = scan_parquet(path)
        frame = ds.frame.with_columns(
            (pl.col("instrument") + ":" + pl.col("sample_id")).alias("sample_id")
        )
        return ds.with_frame(frame).collect().validate()
    return read_parquet(path)


def first_target(ds: SpectralDataset) -> str | None:
    df = ds.frame.collect()
    for t in ds.roles.targets:
        if df[t].drop_nans().drop_nulls().len() >= 12:
            return t
    return None


@pytest.mark.skipif(not shared_datasets(), reason="shared data absent")
@pytest.mark.parametrize("path", shared_datasets(), ids=lambda p: p.stem)
def test_ingest_run_replay(path: Path, tmp_path: Path) -> None:
    ds = load(path)
    target = first_target(ds)
    if target is None:
        pytest.skip(f"{path.stem} has no numeric target with enough values")
    spec = {
        "name": path.stem,
        "target": target,
        "split": {"kfold": {"n_splits": 3}},
        "steps": [
            {"_or_": [{"snv": {}}, {"msc": {}}]},
            {"model": {"pls": {"n_components": {"_range_": [1, 3]}}}},
        ],
    }
    ws = Workspace(tmp_path / "ws")
    result = api.run(spec, ds, workspace=ws)
    run_id = result.run_id or ""
    stored = ws.predictions(run_id).filter(pl.col("scope") == "final").sort("sample_id")
    replay = api.predict(ws, run_id, ds).sort("sample_id")
    assert replay.height == stored.height == ds.frame.collect().height
    assert np.array_equal(replay["y_pred"].to_numpy(), stored["y_pred"].to_numpy())
    reopened = ws.open_dataset(ws.run(run_id).dataset.name, ws.run(run_id).dataset.version)
    assert reopened.axes == ds.axes
