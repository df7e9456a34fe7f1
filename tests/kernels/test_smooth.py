"""Gaussian filter and moving average against scipy.ndimage, all edge modes."""

from __future__ import annotations

import numpy as np
import pytest
from nirskern.smooth import MODES, gaussian, moving_average
from numpy.testing import assert_allclose, assert_array_equal
from scipy import ndimage

from tests.conftest import synthetic_spectra

X = synthetic_spectra(12, 150, seed=1)


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("sigma", [0.6, 1.0, 2.5, 40.0])
@pytest.mark.parametrize("order", [0, 1, 2, 3])
def test_gaussian_equals_scipy(mode: str, sigma: float, order: int) -> None:
    for width in (1, 2, 5, 150):  # kernels longer than the spectrum exercise periodic extension
        x = X[:, :width]
        ref = ndimage.gaussian_filter1d(x, sigma, axis=-1, order=order, mode=mode, cval=0.3)
        out = gaussian(x, sigma, order=order, mode=mode, cval=0.3)
        assert_allclose(out, ref, rtol=0, atol=1e-12 * max(1.0, np.abs(ref).max()))


@pytest.mark.parametrize("truncate", [0.0, 1.0, 2.7, 4.0])
def test_gaussian_truncate(truncate: float) -> None:
    ref = ndimage.gaussian_filter1d(X, 3.0, axis=-1, truncate=truncate)
    assert_allclose(gaussian(X, 3.0, truncate=truncate), ref, rtol=0, atol=1e-12)


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("size", [1, 2, 3, 4, 7, 20, 301])
def test_moving_average_equals_scipy(mode: str, size: int) -> None:
    for width in (1, 3, 150):
        x = X[:, :width]
        ref = ndimage.uniform_filter1d(x, size, axis=-1, mode=mode, cval=-0.5)
        out = moving_average(x, size, mode=mode, cval=-0.5)
        assert_allclose(out, ref, rtol=0, atol=1e-12 * max(1.0, np.abs(ref).max()))


@pytest.mark.parametrize("size", [11, 21])  # summed directly; a re-seeded running sum
def test_moving_average_long_rows_do_not_drift(size: int) -> None:
    # 20k points of large offset: a plain running sum would drift; exact sums agree to ~1e-12.
    rng = np.random.default_rng(0)
    x = 1e4 + rng.normal(size=(2, 20_000))
    out = moving_average(x, size, mode="nearest")
    padded = np.pad(x, ((0, 0), (size // 2, size // 2)), mode="edge")
    exact = np.stack([np.convolve(r, np.ones(size) / size, mode="valid") for r in padded])
    assert_allclose(out, exact, rtol=1e-13)


def test_nan_reaches_only_covering_windows() -> None:
    x = X[:3].copy()
    x[1, 50] = np.nan
    out = moving_average(x, 5)
    assert np.isnan(out[1, 48:53]).all()
    assert np.isfinite(np.delete(out[1], range(48, 53))).all()
    assert_array_equal(out[[0, 2]], moving_average(X[[0, 2]], 5))
    g = gaussian(x, 1.0)
    assert np.isnan(g[1, 50])
    assert np.isfinite(g[0]).all()


@pytest.mark.parametrize("fn", [lambda x: gaussian(x, 2.0), lambda x: moving_average(x, 7)])
def test_float32_input_unchanged_and_layouts(fn: object) -> None:
    x32 = X.astype(np.float32)
    before = x32.copy()
    out = fn(x32)  # type: ignore[operator]
    assert out.dtype == np.float32
    assert_array_equal(x32, before)
    assert_allclose(out, fn(X), rtol=1e-5, atol=1e-6)  # type: ignore[operator]
    assert_array_equal(fn(np.asfortranarray(X)), fn(X))  # type: ignore[operator]
    assert_array_equal(fn(X[0]), fn(X)[0])  # type: ignore[operator]


def test_errors_name_the_parameter() -> None:
    with pytest.raises(ValueError, match="'mode'"):
        gaussian(X, 1.0, mode="edge")
    with pytest.raises(ValueError, match="'sigma'"):
        gaussian(X, 0.0)
    with pytest.raises(ValueError, match="'window_length'"):
        moving_average(X, 0)
    with pytest.raises(TypeError, match="'cval'"):
        moving_average(X, 3, cval="a")  # type: ignore[arg-type]
