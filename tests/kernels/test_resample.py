"""Crop and resample: np.interp and scipy's not-a-knot CubicSpline as references."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from nirskern.resample import crop, crop_mask, resample
from numpy.testing import assert_allclose, assert_array_equal
from scipy.interpolate import CubicSpline

from tests.conftest import synthetic_spectra

RNG = np.random.default_rng(7)
AXES = {
    "uniform_nm": np.linspace(1100.0, 2498.0, 120),
    "nonuniform": np.cumsum(RNG.uniform(0.5, 3.0, 120)) + 900.0,
    "decreasing_cm1": np.linspace(10000.0, 4000.0, 120),
}


def _targets(axis: np.ndarray) -> np.ndarray:
    lo, hi = axis.min(), axis.max()
    return np.concatenate([RNG.uniform(lo, hi, 50), axis[::7], [lo, hi], np.linspace(hi, lo, 9)])


@pytest.mark.parametrize("name", sorted(AXES))
@pytest.mark.parametrize("width", [2, 3, 4, 5, 120])
def test_linear_equals_np_interp_exactly(name: str, width: int) -> None:
    axis = AXES[name][:width]
    x = synthetic_spectra(10, 120, seed=2)[:, :width]
    target = _targets(axis)
    order = np.argsort(axis)
    ref = np.stack([np.interp(target, axis[order], row[order]) for row in x])
    assert_array_equal(resample(x, axis, target), ref)


@pytest.mark.parametrize("name", sorted(AXES))
@pytest.mark.parametrize("width", [2, 3, 4, 5, 120])
def test_cubic_equals_scipy_cubic_spline(name: str, width: int) -> None:
    axis = AXES[name][:width]
    x = synthetic_spectra(10, 120, seed=2)[:, :width]
    target = _targets(axis)
    order = np.argsort(axis)
    ref = CubicSpline(axis[order], x[:, order], axis=-1)(target)
    out = resample(x, axis, target, method="cubic")
    assert_allclose(out, ref, rtol=1e-12, atol=1e-12 * np.abs(x).max())


@settings(max_examples=30, deadline=None)
@given(
    width=st.integers(2, 80),
    method=st.sampled_from(["linear", "cubic"]),
    decreasing=st.booleans(),
    seed=st.integers(0, 2**16),
)
@example(width=2, method="cubic", decreasing=True, seed=0)
def test_resample_onto_same_grid_is_identity(
    width: int, method: str, decreasing: bool, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    axis = np.cumsum(rng.uniform(0.1, 5.0, width))
    axis = axis[::-1] if decreasing else axis
    x = rng.normal(size=(3, width))
    assert_array_equal(resample(x, axis, axis, method=method), x)


def test_float32_and_nan_rows() -> None:
    axis = AXES["uniform_nm"]
    x = synthetic_spectra(6, 120, seed=1)
    target = np.linspace(1200.0, 2400.0, 77)
    for method in ("linear", "cubic"):
        out32 = resample(x.astype(np.float32), axis, target, method=method)
        assert out32.dtype == np.float32
        assert_allclose(out32, resample(x, axis, target, method=method), rtol=1e-5, atol=1e-6)
        bad = x.copy()
        bad[2] = np.nan
        out = resample(bad, axis, target, method=method)
        assert np.isnan(out[2]).all()
        assert_array_equal(
            np.delete(out, 2, 0), resample(np.delete(x, 2, 0), axis, target, method=method)
        )


def test_crop_keeps_inclusive_range_in_axis_order() -> None:
    axis = AXES["decreasing_cm1"]
    x = synthetic_spectra(4, 120)
    mask = crop_mask(axis, 5000.0, 8000.0)
    assert_array_equal(crop(x, axis, 5000.0, 8000.0), x[:, mask])
    kept = axis[mask]
    assert kept.min() >= 5000.0
    assert kept.max() <= 8000.0
    assert np.all(np.diff(kept) < 0)
    edge = crop_mask(np.arange(1100.0, 1120.0, 2.0), 1100.0, 1104.0)
    assert edge.sum() == 3  # both bounds inclusive


def test_errors() -> None:
    axis = AXES["uniform_nm"]
    x = synthetic_spectra(2, 120)
    with pytest.raises(ValueError, match="'target'"):
        resample(x, axis, [1000.0])
    with pytest.raises(ValueError, match="'method'"):
        resample(x, axis, [1200.0], method="quadratic")
    with pytest.raises(ValueError, match="'x_axis'"):
        resample(x, axis[:10], [1200.0])
    with pytest.raises(ValueError, match="keeps no point"):
        crop(x, axis, 3000.0, 4000.0)
    with pytest.raises(ValueError, match="'lower'"):
        crop(x, axis, 2000.0, 1500.0)
