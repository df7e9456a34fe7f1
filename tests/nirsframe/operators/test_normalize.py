"""Normalisation and column scaling operators: faces, sklearn/chemotools parity, inverses."""

from __future__ import annotations

from typing import Any

import nirskern
import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.preprocessing import StandardScaler

import nirsframe  # noqa: F401  (registers the nirs namespace)
from nirsframe.exceptions import InvalidParameterError
from nirsframe.functions import autoscale, mean_center, normalize, pareto
from nirsframe.operators import Autoscale, MeanCenter, Normalize, ParetoScaling
from tests.conftest import synthetic_spectra

SCALERS = [MeanCenter, Autoscale, ParetoScaling]


@pytest.fixture
def x() -> np.ndarray:
    return synthetic_spectra(25, 60, seed=2)


@pytest.mark.parametrize("norm", ["area", "l1", "l2", "max", "minmax"])
def test_normalize_faces_agree(x: np.ndarray, norm: str) -> None:
    df = pl.DataFrame({"spectra": x})
    expected = nirskern.normalize(x, norm)
    assert_array_equal(Normalize(norm=norm).fit_transform(x), expected)
    assert_array_equal(df.select(normalize(norm=norm))["spectra"].to_numpy(), expected)
    via_ns = df.select(pl.col("spectra").nirs.normalize(norm=norm))  # type: ignore[attr-defined]
    assert_array_equal(via_ns["spectra"].to_numpy(), expected)


def test_normalize_rejects_unknown_norm(x: np.ndarray) -> None:
    with pytest.raises(InvalidParameterError, match="'norm' parameter of normalize"):
        Normalize(norm="l3").fit_transform(x)
    with pytest.raises(InvalidParameterError, match="'norm'"):
        normalize(norm="l3")


def test_mean_center(x: np.ndarray) -> None:
    op = MeanCenter().fit(x)
    assert_allclose(op.mean_, x.mean(axis=0), rtol=1e-14)
    assert_allclose(op.transform(x), x - x.mean(axis=0), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("ddof", [0, 1])
def test_autoscale_matches_sklearn_and_numpy(x: np.ndarray, ddof: int) -> None:
    op = Autoscale(ddof=ddof).fit(x)
    expected = (x - x.mean(axis=0)) / x.std(axis=0, ddof=ddof)
    assert_allclose(op.transform(x), expected, rtol=1e-12, atol=1e-12)
    if ddof == 0:
        assert_allclose(op.transform(x), StandardScaler().fit_transform(x), rtol=1e-12, atol=1e-12)


def test_pareto_matches_chemotools(x: np.ndarray) -> None:
    scale = pytest.importorskip("chemotools.scale")
    op = ParetoScaling().fit(x)
    ct = scale.ParetoScaler().fit(x)
    assert_allclose(op.scale_, ct.scale_, rtol=1e-12)
    assert_allclose(op.transform(x), ct.transform(x), rtol=1e-12, atol=1e-12)
    assert_allclose(op.inverse_transform(op.transform(x)), x, rtol=1e-13)


def test_constant_wavelength_is_left_unscaled(x: np.ndarray) -> None:
    x = x.copy()
    x[:, 7] = 0.3
    for cls in (Autoscale, ParetoScaling):
        op = cls().fit(x)
        assert op.scale_[7] == 1.0
        assert_allclose(op.transform(x)[:, 7], 0.0, atol=1e-15)


@pytest.mark.parametrize("cls", SCALERS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_inverse_transform_round_trips_and_keeps_dtype(cls: Any, dtype: Any, x: np.ndarray) -> None:
    xd = x.astype(dtype)
    op = cls().fit(xd)
    back = op.inverse_transform(op.transform(xd))
    assert back.dtype == dtype
    assert_allclose(back, xd, rtol=1e-12 if dtype == np.float64 else 1e-6)


@pytest.mark.parametrize("cls", SCALERS)
def test_fit_ignores_nan_rows_and_to_expr_matches(cls: Any, x: np.ndarray) -> None:
    bad = np.vstack([x, np.full((1, x.shape[1]), np.nan)])
    op = cls().fit(bad)
    assert_allclose(op.mean_, x.mean(axis=0), rtol=1e-14)
    df = pl.DataFrame({"spectra": bad})
    out = df.lazy().select(op.to_expr("spectra")).collect(engine="streaming")
    got = out["spectra"].to_numpy()
    assert np.all(np.isnan(got[-1]))
    assert_array_equal(got[:-1], op.transform(x))


def test_functions_with_given_statistics(x: np.ndarray) -> None:
    df = pl.DataFrame({"spectra": x})
    mean, std = x.mean(axis=0), x.std(axis=0)
    got = df.select(mean_center(mean=mean))["spectra"].to_numpy()
    assert_array_equal(got, MeanCenter().fit(x).transform(x))
    got = df.select(autoscale(mean=mean, std=std))["spectra"].to_numpy()
    assert_allclose(got, Autoscale().fit(x).transform(x), rtol=1e-12, atol=1e-12)
    got = df.select(pareto(mean=mean, std=std))["spectra"].to_numpy()
    assert_allclose(got, ParetoScaling().fit(x).transform(x), rtol=1e-12, atol=1e-12)
    with pytest.raises(InvalidParameterError, match="'std' must be positive"):
        autoscale(mean=mean, std=np.zeros_like(std))
    with pytest.raises(InvalidParameterError, match="same length"):
        autoscale(mean=mean, std=std[:-1])
    with pytest.raises(InvalidParameterError, match="'mean' must be a finite 1-D"):
        mean_center(mean=[[1.0]])


def test_fit_needs_enough_spectra() -> None:
    with pytest.raises(InvalidParameterError, match=r"autoscale: .*ddof=1"):
        Autoscale(ddof=1).fit(np.ones((1, 4)))
    with pytest.raises(InvalidParameterError, match="'ddof' parameter"):
        Autoscale(ddof=-1).fit(np.ones((3, 4)))


@settings(max_examples=40, deadline=None)
@given(
    x=arrays(
        np.float64,
        st.tuples(st.integers(2, 8), st.integers(1, 12)),
        elements=st.floats(-1e3, 1e3, allow_nan=False),
    ),
    which=st.sampled_from(SCALERS),
)
def test_inverse_transform_round_trip_property(x: np.ndarray, which: Any) -> None:
    op = which().fit(x)
    assert_allclose(op.inverse_transform(op.transform(x)), x, rtol=1e-9, atol=1e-9)
