"""Wavelength selection (VIP, CARS, MC-UVE): informative bands kept, seeds, faces, axis, storage."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import polars as pl
import pytest
from nirskern.pls import pls_cv, pls_fit
from numpy.testing import assert_allclose, assert_array_equal

import nirsframe as nf
from nirsframe.axis import SpectralAxis
from nirsframe.exceptions import AxisError, InvalidParameterError
from nirsframe.models import PLS
from nirsframe.models.selection import (
    CompetitiveAdaptiveReweightedSampling,
    MonteCarloUninformativeVariableElimination,
    VipSelection,
    _SubsetModels,
    vip_scores,
)
from nirsframe.operators import REGISTRY
from nirsframe.workspace.chain import FittedChain, load_chain, save_chain
from tests.conftest import synthetic_spectra

if TYPE_CHECKING:
    from pathlib import Path

    from nirsframe.models.selection import _Selector

INFORMATIVE = np.array([20, 21, 22, 70, 71])


def _data(seed: int = 0, n: int = 80) -> tuple[np.ndarray, np.ndarray]:
    """NIR-like spectra plus point-wise variation; y depends only on the INFORMATIVE points."""
    rng = np.random.default_rng(seed)
    p = 100
    x = synthetic_spectra(n, p, seed=seed) + 0.05 * rng.normal(size=(n, p))
    y = x[:, INFORMATIVE] @ np.array([1.0, 1.0, 1.0, -1.5, -1.5]) + 0.005 * rng.normal(size=n)
    return x, y


def _selectors() -> list[_Selector]:
    return [
        VipSelection(n_components=5),
        CompetitiveAdaptiveReweightedSampling(n_components=8, n_runs=50),
        MonteCarloUninformativeVariableElimination(n_components=8, n_runs=50),
    ]


def test_registered_as_supervised_operators() -> None:
    for name in ("vip_selection", "cars", "mcuve"):
        assert REGISTRY[name].kind == "supervised"


@pytest.mark.parametrize("op", _selectors(), ids=lambda op: op.name)
@pytest.mark.parametrize("seed", [0, 1])
def test_informative_points_are_kept(op: _Selector, seed: int) -> None:
    x, y = _data(seed)
    support = op.fit(x, y).support_
    assert support.dtype == np.bool_
    assert support.shape == (100,)
    assert support[INFORMATIVE].all()
    if op.name == "vip_selection":
        # VIP also keeps the spectrally correlated neighbours (measured 30 and 24 of 100 points).
        assert support.sum() <= 35
    elif seed == 0:
        # CARS and MC-UVE keep exactly the informative points on this data (measured).
        assert_array_equal(np.flatnonzero(support), INFORMATIVE)
    else:
        assert support.sum() <= 8  # measured: CARS 5, MC-UVE 7


def test_vip_scores_definition() -> None:
    x, y = _data()
    vip = vip_scores(x, y, 5)
    assert_allclose(np.mean(vip**2), 1.0, rtol=1e-12)
    # Direct formula from an independent PLS fit (sklearn-free: the nirsframe PLS attributes).
    pls = PLS(n_components=5).fit(x, y)
    t = pls.transform(x)
    ss = pls.y_loadings_[0] ** 2 * np.sum(t**2, axis=0)
    w = pls.x_weights_ / np.linalg.norm(pls.x_weights_, axis=0)
    assert_allclose(vip, np.sqrt(x.shape[1] * (w**2 @ ss) / ss.sum()), rtol=1e-10)
    op = VipSelection(n_components=5, threshold=1.2).fit(x, y)
    assert_array_equal(op.support_, vip >= 1.2)
    assert_allclose(op.vip_, vip, rtol=1e-13)


@pytest.mark.parametrize(
    "make",
    [
        lambda s: CompetitiveAdaptiveReweightedSampling(n_components=5, n_runs=20, random_state=s),
        lambda s: MonteCarloUninformativeVariableElimination(
            n_components=5, n_runs=30, random_state=s
        ),
    ],
    ids=["cars", "mcuve"],
)
def test_reproducible_by_seed(make: object) -> None:
    x, y = _data(seed=2, n=50)
    first = make(7).fit(x, y)  # type: ignore[operator]
    again = make(7).fit(x, y)  # type: ignore[operator]
    other = make(8).fit(x, y)  # type: ignore[operator]
    for a, b in zip(first.fitted_arrays().values(), again.fitted_arrays().values(), strict=True):
        assert_array_equal(a, b)
    name = "rmsecv_" if first.name == "cars" else "stability_"
    assert not np.array_equal(getattr(first, name), getattr(other, name))


def test_subset_models_equal_direct_fits() -> None:
    x, y = _data(n=50)
    folds = np.arange(50) % 5
    models = _SubsetModels(x, y, folds)
    rows_out = np.array([1, 7, 8, 30, 44])
    cols = np.array([3, 20, 21, 22, 50, 70, 71, 90])
    keep = np.setdiff1d(np.arange(50), rows_out)
    direct = pls_fit(x[np.ix_(keep, cols)], y[keep], 4).coef[-1, :, 0]
    # Downdated cross-products vs a fresh fit: measured 9e-16 relative (RMSECV 5e-15).
    assert_allclose(
        models.coef(rows_out, cols, 4), direct, rtol=1e-12, atol=1e-12 * np.abs(direct).max()
    )
    pred = pls_cv(x[:, cols], y, folds, 4)[:, :, 0]
    expected = np.sqrt(np.mean((pred - y) ** 2, axis=1)).min()
    assert abs(models.rmsecv(cols, 4) - expected) <= 1e-12 * expected


def test_cars_schedule() -> None:
    x, y = _data(n=50)
    op = CompetitiveAdaptiveReweightedSampling(n_components=5, n_runs=20).fit(x, y)
    sizes = op.n_selected_
    assert sizes.shape == (20,) and op.rmsecv_.shape == (20,)
    assert np.all(np.diff(sizes) <= 0)  # subsets only shrink
    assert sizes[-1] <= 2  # r_N = 2 / P
    assert op.support_.sum() == sizes[int(np.argmin(op.rmsecv_))]


def test_mcuve_fixed_size_keeps_most_stable() -> None:
    x, y = _data()
    op = MonteCarloUninformativeVariableElimination(
        n_components=8, n_runs=50, n_features_to_select=3
    ).fit(x, y)
    top = np.argsort(-np.abs(op.stability_), kind="stable")[:3]
    assert_array_equal(np.flatnonzero(op.support_), np.sort(top))


def test_transform_expression_axis_and_function_faces() -> None:
    x, y = _data()
    op = CompetitiveAdaptiveReweightedSampling(n_components=8, n_runs=30).fit(x, y)
    kept = op.transform(x)
    assert_array_equal(kept, x[:, op.support_])
    assert op.transform(x.astype(np.float32)).dtype == np.float32
    df = pl.DataFrame({"spectra": x})
    via_op = df.select(op.to_expr("spectra"))
    width = int(op.support_.sum())
    assert via_op.schema["spectra"] == pl.Array(pl.Float64, width)
    assert df.lazy().select(op.to_expr("spectra")).collect_schema()["spectra"] == pl.Array(
        pl.Float64, width
    )
    assert_array_equal(via_op["spectra"].to_numpy(), kept)
    via_function = df.select(nf.cars("spectra", support=op.support_))
    via_namespace = df.select(pl.col("spectra").nirs.cars(support=op.support_))
    assert via_function.equals(via_op) and via_namespace.equals(via_op)
    axis = SpectralAxis(np.linspace(1100.0, 2498.0, 100), "nm")
    out_axis = op.output_axis(axis)
    assert_array_equal(out_axis.values, axis.values[op.support_])
    assert out_axis.unit == "nm"
    with pytest.raises(AxisError, match="100 points"):
        op.output_axis(SpectralAxis(np.arange(50.0), "nm"))
    with pytest.raises(AxisError, match="width 100"):
        pl.DataFrame({"spectra": x[:, :50]}).select(op.to_expr("spectra"))


def test_nan_training_rows_are_left_out() -> None:
    x, y = _data()
    bad = x.copy()
    bad[3] = np.nan
    with_nan = VipSelection(n_components=5).fit(bad, y)
    without = VipSelection(n_components=5).fit(np.delete(x, 3, axis=0), np.delete(y, 3))
    assert_array_equal(with_nan.support_, without.support_)


def test_chain_with_selection_step_round_trip(tmp_path: Path) -> None:
    x, y = _data()
    sel = MonteCarloUninformativeVariableElimination(n_components=8, n_runs=40).fit(x, y)
    model = PLS(n_components=3).fit(sel.transform(x), y)
    chain = FittedChain.from_estimators([sel], model)
    digest = save_chain(chain, tmp_path / "chain")
    loaded = load_chain(tmp_path / "chain")
    assert loaded.content_hash() == digest
    assert_array_equal(loaded.predict(x), model.predict(sel.transform(x)))
    rebuilt = loaded.operators()[0]
    assert isinstance(rebuilt, MonteCarloUninformativeVariableElimination)
    assert_array_equal(rebuilt.support_, sel.support_)


@pytest.mark.parametrize(
    ("op", "match"),
    [
        (VipSelection(threshold=50.0), "largest VIP"),
        (MonteCarloUninformativeVariableElimination(n_features_to_select=101), "n_features=100"),
        (CompetitiveAdaptiveReweightedSampling(n_runs=1), "'n_runs'"),
        (MonteCarloUninformativeVariableElimination(sample_fraction=1.0), "'sample_fraction'"),
    ],
)
def test_errors(op: _Selector, match: str) -> None:
    x, y = _data()
    with pytest.raises(InvalidParameterError, match=match):
        op.fit(x, y)


def test_needs_y_and_a_valid_mask() -> None:
    x, _ = _data()
    with pytest.raises(InvalidParameterError, match="requires y"):
        VipSelection().fit(x)
    with pytest.raises(InvalidParameterError, match="one response value per spectrum"):
        VipSelection().fit(x, np.ones((80, 2)))
    with pytest.raises(InvalidParameterError, match="boolean mask"):
        nf.vip_selection("spectra", support=[1, 0, 1])
    arrays = {
        "support_": np.zeros(4, dtype=bool),
        "vip_": np.zeros(4),
        "n_features_in_": np.asarray(4),
    }
    with pytest.raises(InvalidParameterError, match="at least one True"):
        VipSelection.from_fitted({}, arrays)
