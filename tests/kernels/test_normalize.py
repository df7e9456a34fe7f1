"""Normalisation kernels against numpy, scikit-learn and chemotools.

float64 results equal the references to 1e-12, float32 ones to 1e-5 relative; chemotools and
scikit-learn compute the same formulas, so their parity is also 1e-12.
"""

from __future__ import annotations

from typing import Any

import nirskern
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.preprocessing import StandardScaler
from sklearn.preprocessing import normalize as sk_normalize

from tests.conftest import synthetic_spectra

DTYPES = [(np.float64, 1e-12), (np.float32, 1e-5)]


def ref_normalize(x: np.ndarray, norm: str) -> np.ndarray:
    x = x.astype(np.float64)
    if norm == "area":
        return x / np.trapezoid(x, axis=1)[:, None]
    if norm == "minmax":
        lo = x.min(axis=1, keepdims=True)
        return (x - lo) / (x.max(axis=1, keepdims=True) - lo)
    ord_ = {"l1": 1, "l2": 2, "max": np.inf}[norm]
    return x / np.linalg.norm(x, ord=ord_, axis=1, keepdims=True)


def assert_close(actual: np.ndarray, desired: np.ndarray, dtype: Any, tol: float) -> None:
    assert actual.dtype == dtype
    assert_allclose(
        actual.astype(np.float64), desired, rtol=tol, atol=tol if dtype == np.float64 else 0.0
    )


@pytest.mark.parametrize(("dtype", "tol"), DTYPES)
@pytest.mark.parametrize("norm", ["area", "l1", "l2", "max", "minmax"])
def test_normalize_matches_numpy(dtype: Any, tol: float, norm: str) -> None:
    x = synthetic_spectra(20, 150, seed=1).astype(dtype)
    x[3] -= 1.0  # a row with negative values
    assert_close(nirskern.normalize(x, norm), ref_normalize(x, norm), dtype, tol)


@pytest.mark.parametrize("norm", ["l1", "l2", "max"])
def test_normalize_matches_sklearn(norm: str) -> None:
    x = synthetic_spectra(20, 150, seed=2) - 0.8
    assert_allclose(nirskern.normalize(x, norm), sk_normalize(x, norm=norm), rtol=1e-12)


def test_normalize_matches_chemotools() -> None:
    scale = pytest.importorskip("chemotools.scale")
    x = synthetic_spectra(20, 150, seed=3)
    for l_norm, norm in ((1, "l1"), (2, "l2")):
        ct = scale.NormScaler(l_norm=l_norm).fit_transform(x)
        assert_allclose(nirskern.normalize(x, norm), ct, rtol=1e-12)
    ct = scale.MinMaxScaler().fit_transform(x)
    assert_allclose(nirskern.normalize(x, "minmax"), ct, rtol=1e-12, atol=1e-15)
    ct = scale.MinMaxScaler(use_min=False).fit_transform(x)  # x / max, equal for positive spectra
    assert_allclose(nirskern.normalize(x, "max"), ct, rtol=1e-12)


def test_l2_does_not_overflow_or_underflow() -> None:
    x = np.array([[3e200, 4e200], [3e-200, 4e-200]])
    assert_allclose(nirskern.normalize(x, "l2"), [[0.6, 0.8], [0.6, 0.8]], rtol=1e-15)


@pytest.mark.parametrize("norm", ["area", "l1", "l2", "max", "minmax"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_normalize_contract(norm: str, dtype: Any) -> None:
    x = synthetic_spectra(10, 64, seed=4).astype(dtype)
    before = x.copy()
    out = nirskern.normalize(x, norm)
    assert_array_equal(x, before)
    assert out.dtype == dtype
    assert_array_equal(nirskern.normalize(np.asfortranarray(x), norm), out)
    assert_array_equal(nirskern.normalize(x[2], norm), out[2])
    bad = x.copy()
    bad[1, 5] = np.nan
    nan_out = nirskern.normalize(bad, norm)
    assert np.all(np.isnan(nan_out[1]))
    assert_array_equal(np.delete(nan_out, 1, axis=0), np.delete(out, 1, axis=0))
    assert np.all(np.isnan(nirskern.normalize(np.zeros((1, 8), dtype=dtype), norm)))


def test_normalize_errors() -> None:
    with pytest.raises(ValueError, match="'norm' must be one of"):
        nirskern.normalize(np.ones((1, 3)), "l3")
    with pytest.raises(ValueError, match="at least 2 points"):
        nirskern.normalize(np.ones((1, 1)), "area")


finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
matrices = arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(2, 30)), elements=finite)


@settings(max_examples=80, deadline=None)
@given(x=matrices, norm=st.sampled_from(["area", "l1", "l2", "max", "minmax"]))
@example(x=np.array([[1.0, -1.0, 2.0]]), norm="area")
def test_normalized_norm_is_one(x: np.ndarray, norm: str) -> None:
    out = nirskern.normalize(x, norm)
    ok = np.all(np.isfinite(out), axis=1)
    if norm == "area":  # a signed area near 0 is ill-conditioned: keep well-posed rows
        ok &= np.abs(np.trapezoid(x, axis=1)) > 1e-3 * (1.0 + np.abs(x).sum(axis=1))
    out = out[ok]
    if out.shape[0] == 0:
        return
    if norm == "area":
        measured = np.trapezoid(out, axis=1)
    elif norm == "minmax":
        assert_allclose(out.min(axis=1), 0.0, atol=1e-12)
        measured = out.max(axis=1)
    else:
        measured = np.linalg.norm(out, ord={"l1": 1, "l2": 2, "max": np.inf}[norm], axis=1)
    assert_allclose(measured, 1.0, rtol=1e-9)


# -- column-wise centring and scaling ------------------------------------------------------------
@pytest.mark.parametrize("ddof", [0, 1])
def test_column_stats_match_numpy_and_ignore_nan_rows(ddof: int) -> None:
    x = synthetic_spectra(30, 50, seed=5)
    mean, std = nirskern.column_stats(x, ddof=ddof)
    assert_allclose(mean, x.mean(axis=0), rtol=1e-12)
    assert_allclose(std, x.std(axis=0, ddof=ddof), rtol=1e-12)
    bad = np.vstack([x, np.full((1, 50), np.nan)])
    assert_array_equal(nirskern.column_stats(bad, ddof=ddof)[0], mean)
    m32, s32 = nirskern.column_stats(x.astype(np.float32), ddof=ddof)
    assert m32.dtype == s32.dtype == np.float64
    assert_allclose(s32, std, rtol=1e-5)


def test_center_scale_matches_sklearn_and_round_trips() -> None:
    x = synthetic_spectra(30, 50, seed=6)
    mean, std = nirskern.column_stats(x)
    sk = StandardScaler().fit(x)
    out = nirskern.center_scale(x, mean, std)
    assert_allclose(out, sk.transform(x), rtol=1e-12, atol=1e-12)
    assert_allclose(nirskern.inverse_center_scale(out, mean, std), x, rtol=1e-14)
    x32 = x.astype(np.float32)
    out32 = nirskern.center_scale(x32, mean, std)
    assert out32.dtype == np.float32
    assert_allclose(out32, (x32.astype(np.float64) - mean) / std, rtol=1e-5, atol=1e-6)


def test_center_scale_errors() -> None:
    x = np.ones((2, 3))
    with pytest.raises(ValueError, match="'center' must be 1-D with 3 points"):
        nirskern.center_scale(x, [0.0, 0.0], [1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="'scale' must not contain zeros"):
        nirskern.center_scale(x, [0.0] * 3, [1.0, 0.0, 1.0])
    with pytest.raises(ValueError, match="need more spectra without NaN"):
        nirskern.column_stats(np.full((2, 3), np.nan))


@settings(max_examples=60, deadline=None)
@given(
    x=matrices,
    center=arrays(np.float64, 30, elements=finite),
    scale=arrays(np.float64, 30, elements=st.floats(1e-3, 1e3)),
)
def test_inverse_center_scale_round_trips(
    x: np.ndarray, center: np.ndarray, scale: np.ndarray
) -> None:
    p = x.shape[1]
    c, s = center[:p], scale[:p]
    back = nirskern.inverse_center_scale(nirskern.center_scale(x, c, s), c, s)
    assert_allclose(back, x, rtol=1e-12, atol=1e-12 * (1.0 + np.abs(c).max() + np.abs(x).max()))
