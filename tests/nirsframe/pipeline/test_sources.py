"""Multi-source pipelines: per-source chains merged into one model input."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from numpy.testing import assert_allclose
from sklearn.cross_decomposition import PLSRegression

import nirsframe.api as api
from nirsframe.dataset import SpectralDataset
from nirsframe.exceptions import DatasetError, SpecError
from nirsframe.io import read_parquet, scan_parquet
from nirsframe.io.sources import join_sources, pivot_sources
from nirsframe.operators import MultiplicativeScatterCorrection, StandardNormalVariate
from nirsframe.pipeline.spec import load_pipeline
from tests.conftest import SHARED_DATA, synthetic_spectra


def two_sources() -> SpectralDataset:
    xa = synthetic_spectra(30, 40, seed=1)
    xb = synthetic_spectra(30, 25, seed=2)
    y = xa[:, 5:10].sum(axis=1) + xb[:, 3:6].sum(axis=1)
    a = SpectralDataset.from_numpy(xa, y, ids=[f"s{i}" for i in range(30)])
    b = SpectralDataset.from_numpy(xb, y, ids=[f"s{i}" for i in range(30)])
    return join_sources({"a": a, "b": b})


def spec(merge: str = "concat", b_steps: list | None = None) -> dict:
    return {
        "name": "ms",
        "target": "y",
        "split": {"venetian": {"n_splits": 3}},
        "steps": [
            {
                "branch": {
                    "by_source": {
                        "a": [{"snv": {}}],
                        "b": b_steps if b_steps is not None else [{"msc": {}}],
                    }
                }
            },
            {"merge_sources": merge},
            {"model": {"pls": {"n_components": 4}}},
        ],
    }


def test_concat_equals_a_manual_per_fold_refit() -> None:
    ds = two_sources()
    res = api.run(spec(), ds)
    df = ds.frame.collect()
    xa, xb, y = df["spectra_a"].to_numpy(), df["spectra_b"].to_numpy(), df["y"].to_numpy()
    expected = np.empty(30)
    folds = np.arange(30) % 3
    for k in range(3):
        tr, va = folds != k, folds == k
        snv = StandardNormalVariate()
        msc = MultiplicativeScatterCorrection().fit(xb[tr])
        xt = np.hstack([snv.transform(xa[tr]), msc.transform(xb[tr])])
        xv = np.hstack([snv.transform(xa[va]), msc.transform(xb[va])])
        expected[va] = PLSRegression(4, scale=False).fit(xt, y[tr]).predict(xv).ravel()
    assert_allclose(res.oof["y_pred"].to_numpy(), expected, rtol=1e-8)
    assert res.best["preprocessing"].startswith("concat[spectra_a: snv; spectra_b: msc")


def test_average_needs_equal_widths_and_unknown_sources_are_named() -> None:
    with pytest.raises(ValueError, match="equal width"):
        api.run(spec("average", [{"snv": {}}]), two_sources())
    bad = spec()
    bad["steps"][0]["branch"]["by_source"]["c"] = [{"snv": {}}]
    with pytest.raises(DatasetError, match="source 'c'"):
        api.run(bad, two_sources())
    with pytest.raises(SpecError, match="'concat' or 'average'"):
        load_pipeline(spec("sum"))


@pytest.mark.skipif(
    not (SHARED_DATA / "sugarcane_chaix_f750.parquet").exists(), reason="shared data absent"
)
def test_sugarcane_nine_instruments_joined_and_two_merged() -> None:
    paths = sorted(SHARED_DATA.glob("sugarcane_chaix_*.parquet"))
    ds = join_sources({p.stem.removeprefix("sugarcane_chaix_"): read_parquet(p) for p in paths})
    assert len(ds.roles.spectra) == 9
    assert ds.frame.collect().height == 60
    s = spec(b_steps=[{"snv": {}}])
    s["target"] = "CP"
    s["steps"][0]["branch"]["by_source"] = {"f750": [{"snv": {}}], "nirone22": [{"snv": {}}]}
    res = api.run(s, ds)
    assert np.isfinite(res.best["rmsecv"])


@pytest.mark.skipif(not (SHARED_DATA / "corn.parquet").exists(), reason="shared data absent")
def test_corn_instruments_pivoted_into_sources() -> None:
    ds = pivot_sources(scan_parquet(SHARED_DATA / "corn.parquet"), "instrument")
    assert ds.roles.spectra == ("spectra_m5", "spectra_mp5", "spectra_mp6")
    df = ds.frame.collect()
    assert df.height == 80
    assert df["sample_id"].n_unique() == 80
    s = spec(b_steps=[{"snv": {}}])
    s["target"] = "moisture"
    s["steps"][0]["branch"]["by_source"] = {"m5": [{"snv": {}}], "mp5": [{"snv": {}}]}
    assert np.isfinite(api.run(s, ds).best["rmsecv"])
    _ = pl


def test_feature_augmentation_concatenates_views_of_one_column() -> None:
    x = synthetic_spectra(30, 40, seed=3)
    y = x[:, 5:10].sum(axis=1)
    ds = SpectralDataset.from_numpy(x, y)
    fa = {
        "name": "fa",
        "target": "y",
        "split": {"venetian": {"n_splits": 3}},
        "steps": [
            {"feature_augmentation": [{"snv": {}}, [{"savgol": {"window_length": 7, "deriv": 1}}]]},
            {"model": {"pls": {"n_components": 4}}},
        ],
    }
    res = api.run(fa, ds)
    assert (
        res.best["preprocessing"]
        == "concat[spectra: raw; spectra: snv; spectra: savgol(deriv=1, window_length=7)]"
    )
    from nirsframe.operators import SavitzkyGolay

    views = np.hstack(
        [
            x,
            StandardNormalVariate().transform(x),
            SavitzkyGolay(window_length=7, deriv=1).transform(x),
        ]
    )
    expected = np.empty(30)
    folds = np.arange(30) % 3
    for k in range(3):
        tr, va = folds != k, folds == k
        expected[va] = (
            PLSRegression(4, scale=False).fit(views[tr], y[tr]).predict(views[va]).ravel()
        )
    assert_allclose(res.oof["y_pred"].to_numpy(), expected, rtol=1e-8)
    replace = {
        **fa,
        "steps": [
            {"feature_augmentation": {"views": [{"snv": {}}], "action": "replace"}},
            fa["steps"][1],
        ],
    }
    assert api.run(replace, ds).best["preprocessing"] == "concat[spectra: snv]"
    with pytest.raises(SpecError, match="'action' must be"):
        load_pipeline(
            {
                **fa,
                "steps": [
                    {"feature_augmentation": {"views": [{"snv": {}}], "action": "append"}},
                    fa["steps"][1],
                ],
            }
        )
