"""Savitzky-Golay, detrend, finite differences and Norris-Williams against references."""

from __future__ import annotations

import json

import nirskern
import numpy as np
import polars as pl
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from nirskern import detrend
from nirskern.derivative import derivative, norris_williams, savgol, savgol_coeffs
from numpy.testing import assert_allclose, assert_array_equal
from scipy import signal

from tests.conftest import SHARED_DATA, synthetic_spectra


def _real(name: str) -> tuple[np.ndarray, np.ndarray]:
    path = SHARED_DATA / f"{name}.parquet"
    if not path.exists():
        pytest.skip(f"shared dataset {name} absent")
    x = np.stack(pl.read_parquet(path, columns=["spectrum"])["spectrum"].to_numpy())
    axis = np.asarray(json.loads((SHARED_DATA / f"{name}.wavelengths.json").read_text())["values"])
    return x.astype(np.float64), axis


# -- Savitzky-Golay ---------------------------------------------------------------------------


@pytest.mark.parametrize("deriv", [0, 1, 2, 3])
@pytest.mark.parametrize(("window_length", "polyorder"), [(5, 3), (11, 3), (15, 4), (31, 5)])
def test_savgol_equals_scipy_on_real_data(deriv: int, window_length: int, polyorder: int) -> None:
    x, axis = _real("gasoline")
    delta = 2.0
    ref = signal.savgol_filter(x, window_length, polyorder, deriv=deriv, delta=delta, axis=-1)
    out = savgol(x, window_length, polyorder, deriv=deriv, delta=delta)
    assert_allclose(out, ref, rtol=1e-10, atol=1e-12 * np.abs(x).max())
    by_axis = savgol(x, window_length, polyorder, deriv=deriv, delta="axis", x_axis=axis)
    assert_array_equal(by_axis, out)  # gasoline: 2 nm steps


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("window_length", range(1, 34, 2))
def test_savgol_interior_is_the_in_order_tap_sum(window_length: int, dtype: type) -> None:
    # The kernel's tap passes (first pass of w mod 8 taps, then 8 at a time) add
    # c[0]*x[j] + c[1]*x[j+1] + ... left to right: bit-identical to the plain in-order sum.
    x = synthetic_spectra(7, 64, seed=5).astype(dtype)
    x[3, 20] = np.nan
    c = savgol_coeffs(window_length, min(2, window_length - 1), deriv=0).astype(dtype)
    h, m = window_length // 2, x.shape[1] - window_length + 1
    ref = c[0] * x[:, :m]
    for k in range(1, window_length):
        ref = ref + c[k] * x[:, k : k + m]
    out = savgol(x, window_length, min(2, window_length - 1))
    assert_array_equal(out[:, h : h + m], ref)


@pytest.mark.parametrize("deriv", [0, 1, 2])
@pytest.mark.parametrize("window_length", [5, 9, 21])
def test_savgol_interior_coefficients_equal_scipy(deriv: int, window_length: int) -> None:
    ref = signal.savgol_coeffs(window_length, 3, deriv=deriv, delta=0.5, use="dot")
    assert_allclose(
        savgol_coeffs(window_length, 3, deriv=deriv, delta=0.5), ref, rtol=1e-10, atol=1e-12
    )


@settings(max_examples=40, deadline=None)
@given(
    coeffs=st.lists(st.floats(-10, 10), min_size=1, max_size=4),
    half=st.integers(2, 8),
    n=st.integers(20, 60),
)
@example(coeffs=[1.0, -2.0, 0.5, 0.1], half=2, n=20)
def test_savgol_preserves_polynomials(coeffs: list[float], half: int, n: int) -> None:
    polyorder = 3
    t = np.linspace(-1, 1, n)
    x = np.polynomial.polynomial.polyval(t, coeffs)[np.newaxis]
    assert_allclose(savgol(x, 2 * half + 1, polyorder), x, atol=1e-9 * max(1.0, np.abs(x).max()))


def test_savgol_float32_close_to_float64() -> None:
    x = synthetic_spectra()
    out32 = savgol(x.astype(np.float32), 11, 2, deriv=1)
    assert out32.dtype == np.float32
    assert_allclose(out32, savgol(x, 11, 2, deriv=1), rtol=1e-5, atol=1e-5 * np.abs(out32).max())


def test_savgol_delta_axis_needs_axis() -> None:
    with pytest.raises(ValueError, match="x_axis"):
        savgol(synthetic_spectra(), 5, 2, delta="axis")


# -- detrend ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("order", "kind"), [(0, "constant"), (1, "linear")])
def test_detrend_equals_scipy(order: int, kind: str) -> None:
    x, _ = _real("corn")
    ref = signal.detrend(x, axis=-1, type=kind)
    assert_allclose(detrend(x, order), ref, rtol=1e-10, atol=1e-12 * np.abs(x).max())


@pytest.mark.parametrize("order", [2, 3, 5])
def test_detrend_equals_polyfit(order: int) -> None:
    x, _ = _real("corn")
    x = x[:20]
    t = np.linspace(-1.0, 1.0, x.shape[1])
    fit = np.polynomial.polynomial.polyfit(t, x.T, order)
    ref = x - np.polynomial.polynomial.polyval(t, fit)
    assert_allclose(detrend(x, order), ref, rtol=1e-10, atol=1e-10 * np.abs(x).max())


@settings(max_examples=40, deadline=None)
@given(coeffs=st.lists(st.floats(-10, 10), min_size=1, max_size=4), n=st.integers(8, 80))
@example(coeffs=[3.0, 0.0, 0.0, 1.0], n=8)
def test_detrend_removes_polynomials_of_its_order(coeffs: list[float], n: int) -> None:
    order = len(coeffs) - 1
    t = np.linspace(0.0, 5.0, n)
    x = np.polynomial.polynomial.polyval(t, coeffs)[np.newaxis]
    assert_allclose(detrend(x, order), 0.0, atol=1e-9 * max(1.0, np.abs(x).max()))


def test_detrend_float32_close_to_float64() -> None:
    x = synthetic_spectra()
    out32 = detrend(x.astype(np.float32), 2)
    assert out32.dtype == np.float32
    assert_allclose(out32, detrend(x, 2), rtol=1e-5, atol=1e-5 * np.abs(x).max())


# -- finite differences -----------------------------------------------------------------------


def _axes() -> list[np.ndarray | None]:
    rng = np.random.default_rng(4)
    return [
        None,
        np.arange(60) * 2.0 + 1000.0,
        np.cumsum(rng.uniform(0.5, 3.0, 60)),  # non-uniform
        np.linspace(4000.0, 1000.0, 60),  # decreasing cm-1
    ]


@pytest.mark.parametrize("axis_id", range(4))
@pytest.mark.parametrize("edge_order", [1, 2])
@pytest.mark.parametrize("width", [3, 4, 60])
def test_derivative_equals_np_gradient(axis_id: int, edge_order: int, width: int) -> None:
    x = synthetic_spectra(8, 60, seed=5)[:, :width]
    ax = _axes()[axis_id]
    args = () if ax is None else (ax[:width],)
    ref1 = np.gradient(x, *args, axis=-1, edge_order=edge_order)
    ref2 = np.gradient(ref1, *args, axis=-1, edge_order=edge_order)
    a = None if ax is None else ax[:width]
    assert_allclose(derivative(x, x_axis=a, edge_order=edge_order), ref1, rtol=1e-12, atol=1e-13)
    out2 = derivative(x, deriv=2, x_axis=a, edge_order=edge_order)
    assert_allclose(out2, ref2, rtol=1e-12, atol=1e-12 * np.abs(ref2).max())


def test_derivative_is_exact_for_quadratics_on_nonuniform_axis() -> None:
    ax = np.cumsum(np.random.default_rng(1).uniform(0.5, 2.0, 40))
    x = (3.0 + 2.0 * ax - 0.5 * ax**2)[np.newaxis]
    assert_allclose(derivative(x, x_axis=ax, edge_order=2)[0], 2.0 - ax, rtol=1e-9, atol=1e-9)


def test_derivative_errors() -> None:
    x = synthetic_spectra()
    with pytest.raises(ValueError, match="'deriv'"):
        derivative(x, deriv=3)
    with pytest.raises(ValueError, match="'x_axis'"):
        derivative(x, x_axis=np.arange(5.0))
    with pytest.raises(ValueError, match="'x_axis'"):
        derivative(x, x_axis=np.ones(x.shape[1]))


# -- Norris-Williams --------------------------------------------------------------------------


def _nw_reference(x: np.ndarray, segment: int, gap: int, deriv: int, delta: float) -> np.ndarray:
    """Plain numpy definition (nirs4all): edge-padded moving average, then edge-padded gap
    difference, repeated ``deriv`` times."""
    out = x
    for _ in range(deriv):
        h = segment // 2
        padded = np.pad(out, ((0, 0), (h, h)), mode="edge")
        out = np.stack([padded[:, j : j + segment].mean(axis=1) for j in range(x.shape[1])], 1)
        padded = np.pad(out, ((0, 0), (gap, gap)), mode="edge")
        out = (padded[:, 2 * gap :] - padded[:, : x.shape[1]]) / (2 * gap * delta)
    return out


@pytest.mark.parametrize(("segment", "gap"), [(1, 1), (5, 5), (11, 3), (3, 20)])
@pytest.mark.parametrize("deriv", [1, 2])
def test_norris_williams_equals_numpy_reference(segment: int, gap: int, deriv: int) -> None:
    x, _ = _real("tecator")
    ref = _nw_reference(x, segment, gap, deriv, 2.0)
    out = norris_williams(x, segment=segment, gap=gap, deriv=deriv, delta=2.0)
    assert_allclose(out, ref, rtol=1e-10, atol=1e-12 * np.abs(ref).max())


def test_norris_williams_errors() -> None:
    with pytest.raises(ValueError, match="'segment'"):
        norris_williams(synthetic_spectra(), segment=4)
    with pytest.raises(ValueError, match="'gap'"):
        norris_williams(synthetic_spectra(), gap=0)


def test_axis_checks_still_name_the_axis_when_memoised() -> None:
    x = np.ones((2, 5))
    axis = np.arange(5.0)
    nirskern.derivative(x, x_axis=axis)  # a valid axis, now memoised
    with pytest.raises(ValueError, match="1-D with one value per point"):
        nirskern.derivative(x, x_axis=axis[None, :])  # same bytes, another shape
    with pytest.raises(ValueError, match="strictly increasing or strictly decreasing"):
        nirskern.derivative(x, x_axis=[0.0, 1.0, 1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="inside the source axis range"):
        nirskern.resample(x, axis, [-1.0, 2.0])
