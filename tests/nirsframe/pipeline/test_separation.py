"""Separation branches: one search per metadata group, predictions reassembled."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from numpy.testing import assert_allclose

import nirsframe.api as api
from nirsframe.axis import SpectralAxis
from nirsframe.dataset import DatasetRoles, SpectralDataset
from nirsframe.exceptions import DatasetError
from nirsframe.io import scan_parquet
from nirsframe.pipeline.candidates import from_spec
from nirsframe.pipeline.execute import execute
from nirsframe.pipeline.spec import expand, load_pipeline
from nirsframe.validation.splitters import parse_split
from tests.conftest import SHARED_DATA, synthetic_spectra


def grouped() -> SpectralDataset:
    x = synthetic_spectra(40, 30, seed=9)
    y = x[:, 3:8].sum(axis=1)
    group = np.where(np.arange(40) < 20, "a", "b")
    x[group == "b"] *= 1.5  # a second instrument with another gain
    df = pl.DataFrame(
        {"sample_id": [f"s{i}" for i in range(40)], "spectra": x, "y": y, "instrument": group}
    )
    roles = DatasetRoles(id="sample_id", targets=("y",), metadata=("instrument",))
    return SpectralDataset(df.lazy(), {"spectra": SpectralAxis.index(30)}, roles)


SPEC = {
    "name": "sep",
    "target": "y",
    "split": {"venetian": {"n_splits": 4}},
    "steps": [
        {"branch": {"by_metadata": "instrument"}},
        {"_or_": [{"snv": {}}, {"detrend": {"order": 1}}]},
        {"model": {"pls": {"n_components": 3}}},
        {"merge": "concat"},
    ],
}


def test_equals_one_search_per_group_concatenated() -> None:
    ds = grouped()
    res = api.run(SPEC, ds)
    pipeline = load_pipeline(SPEC)
    assert pipeline.separate_by == "instrument"
    candidates = [from_spec(v) for v in expand(pipeline)]
    for value in ("a", "b"):
        sub = ds.with_frame(ds.frame.filter(pl.col("instrument") == value))
        alone = execute(sub, candidates, target="y", splitter=parse_split(SPEC["split"]))
        for vid, cand in alone.variants.items():
            mine = res.oof.filter(
                (pl.col("group") == value) & (pl.col("variant") == candidates.index(cand))
            )
            theirs = alone.oof.filter(pl.col("variant") == vid)
            assert_allclose(mine["y_pred"].to_numpy(), theirs["y_pred"].to_numpy(), rtol=0, atol=0)
    assert res.oof.height == 2 * 40
    assert res.ranking["preprocessing"].str.starts_with("by instrument").all()


def test_unknown_column_is_named() -> None:
    bad = {**SPEC, "steps": [{"branch": {"by_metadata": "site"}}, *SPEC["steps"][1:]]}
    with pytest.raises(DatasetError, match="'site'"):
        api.run(bad, grouped())


@pytest.mark.skipif(not (SHARED_DATA / "corn.parquet").exists(), reason="shared data absent")
def test_corn_one_model_per_instrument_beats_pooling() -> None:
    ds = scan_parquet(SHARED_DATA / "corn.parquet")
    frame = ds.frame.with_columns(
        (pl.col("instrument") + ":" + pl.col("sample_id")).alias("sample_id")
    )
    ds = ds.with_frame(frame).collect()
    spec = {**SPEC, "target": "moisture", "split": {"kfold": {"n_splits": 5}}}
    spec["steps"] = [SPEC["steps"][0], {"snv": {}}, {"model": {"pls": {"n_components": 5}}}]
    separated = api.run(spec, ds).best["rmsecv"]
    pooled = api.run({**spec, "steps": spec["steps"][1:]}, ds).best["rmsecv"]
    # Measured here: 0.2283 per instrument vs 0.2398 pooled (moisture, %).
    assert separated < pooled
