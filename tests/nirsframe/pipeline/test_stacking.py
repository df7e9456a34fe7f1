"""Stacking: nested out-of-fold construction checked by hand, and tecator fat."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from numpy.testing import assert_allclose
from sklearn.linear_model import LinearRegression

from nirsframe.axis import SpectralAxis
from nirsframe.dataset import DatasetRoles, SpectralDataset
from nirsframe.exceptions import SpecError
from nirsframe.io import read_parquet
from nirsframe.models.pls import PLS
from nirsframe.operators import StandardNormalVariate
from nirsframe.pipeline.candidates import Candidate, ModelChoice, Step
from nirsframe.pipeline.stacking import stack
from nirsframe.validation.splitters import parse_split
from tests.conftest import SHARED_DATA, synthetic_spectra

RAW2 = Candidate((), ModelChoice.of("pls", {"n_components": 2}))
SNV3 = Candidate((Step.of("snv"),), ModelChoice.of("pls", {"n_components": 3}))
META = ModelChoice.of("sklearn.linear_model.LinearRegression")


def tiny() -> SpectralDataset:
    x = synthetic_spectra(12, 30, seed=2)
    y = x[:, 3:9].sum(axis=1)
    df = pl.DataFrame({"sample_id": [f"s{i}" for i in range(12)], "spectra": x, "y": y})
    return SpectralDataset(
        df.lazy(), {"spectra": SpectralAxis.index(30)}, DatasetRoles(id="sample_id", targets=("y",))
    )


def by_hand(
    x: np.ndarray, y: np.ndarray, fit: np.ndarray, pred: np.ndarray, k_inner: int
) -> tuple[np.ndarray, np.ndarray]:
    """Base features for the meta-model, computed with plain loops (venetian inner folds)."""

    def base_models(xa: np.ndarray, ya: np.ndarray) -> list:
        snv = StandardNormalVariate().fit(xa)
        return [
            ("raw", PLS(n_components=2).fit(xa, ya)),
            ("snv", snv, PLS(n_components=3).fit(snv.transform(xa), ya)),
        ]

    def predict(models: list, xb: np.ndarray) -> np.ndarray:
        raw = models[0][1].predict(xb)
        snv = models[1][2].predict(models[1][1].transform(xb))
        return np.column_stack([raw, snv])

    inner = np.empty((fit.size, 2))
    inner_folds = np.arange(fit.size) % k_inner
    for j in range(k_inner):
        tr, va = fit[inner_folds != j], fit[inner_folds == j]
        inner[inner_folds == j] = predict(base_models(x[tr], y[tr]), x[va])
    outer = predict(base_models(x[fit], y[fit]), x[pred])
    return inner, outer


def test_oof_construction_matches_a_hand_computation() -> None:
    ds = tiny()
    x = ds.matrix()
    y = ds.target()
    res = stack(
        ds, [RAW2, SNV3], META, target="y", splitter=parse_split({"venetian": {"n_splits": 3}})
    )
    expected = np.empty(12)
    base_expected = np.empty((12, 2))
    rows = np.arange(12)
    for k in range(3):
        fit, val = rows[rows % 3 != k], rows[rows % 3 == k]
        inner, outer = by_hand(x, y, fit, val, 3)
        expected[val] = LinearRegression().fit(inner, y[fit]).predict(outer)
        base_expected[val] = outer
    assert_allclose(res.oof["y_pred"].to_numpy(), expected, rtol=1e-8)
    assert_allclose(res.oof.select("base_0", "base_1").to_numpy(), base_expected, rtol=1e-8)


def test_needs_two_bases() -> None:
    with pytest.raises(SpecError, match="at least two"):
        stack(tiny(), [RAW2], META, target="y", splitter=parse_split({"kfold": {"n_splits": 3}}))


@pytest.mark.skipif(not (SHARED_DATA / "tecator.parquet").exists(), reason="shared data absent")
def test_tecator_stack_is_not_worse_than_its_best_base() -> None:
    ds = read_parquet(SHARED_DATA / "tecator.parquet")
    sg = Step.of("savgol", {"window_length": 9, "polyorder": 2, "deriv": 1})
    # A derivative chain and a baseline-corrected one: complementary errors (measured here:
    # base RMSECV 1.978 and 2.502, stack 1.809; RMSEP 2.037 / 1.970 -> 1.754).
    bases = [
        Candidate((Step.of("snv"), sg), ModelChoice.of("pls", {"n_components": 9})),
        Candidate((Step.of("detrend", {"order": 1}),), ModelChoice.of("pls", {"n_components": 13})),
    ]
    res = stack(
        ds,
        bases,
        ModelChoice.of("sklearn.linear_model.Ridge", {"alpha": 1.0}),
        target="fat",
        splitter=parse_split({"venetian": {"n_splits": 5}}),
        train_values=("train", "monitor"),
        test_values=("test",),
    )
    m = res.metrics
    assert m["rmsecv"] <= min(m["base_0_rmsecv"], m["base_1_rmsecv"])
    assert m["rmsep"] <= min(m["base_0_rmsep"], m["base_1_rmsep"])


def test_nirs4all_branch_merge_runs_as_a_stack_through_nf_run() -> None:
    import nirsframe.api as api

    spec = {
        "name": "stack",
        "target": "y",
        "split": {"venetian": {"n_splits": 3}},
        "steps": [
            {
                "branch": [
                    [{"model": {"pls": {"n_components": 2}}}],
                    [{"snv": {}}, {"model": {"pls": {"n_components": 3}}}],
                ]
            },
            {"merge": {"predictions": {"model": {"sklearn.linear_model.LinearRegression": {}}}}},
        ],
    }
    result = api.run(spec, tiny())
    direct = stack(
        tiny(), [RAW2, SNV3], META, target="y", splitter=parse_split({"venetian": {"n_splits": 3}})
    )
    row = result.ranking.filter(pl.col("preprocessing").str.starts_with("stack")).row(0, named=True)
    assert row["rmsecv"] == pytest.approx(direct.metrics["rmsecv"], rel=1e-12)
    assert result.ranking.height == 3
