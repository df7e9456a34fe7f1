"""Derivative, NorrisWilliams and SavitzkyGolay(delta="axis") operators."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import signal

from nirsframe.exceptions import AxisError, InvalidParameterError
from nirsframe.operators import Derivative, NorrisWilliams, SavitzkyGolay
from nirsframe.operators.derivative import derivative, norris_williams, savgol
from tests.conftest import synthetic_spectra

AXIS = tuple(float(v) for v in np.cumsum(np.random.default_rng(3).uniform(1.0, 3.0, 120)))


def test_derivative_follows_np_gradient_on_nonuniform_axis() -> None:
    x = synthetic_spectra()
    op = Derivative(deriv=1, edge_order=2, x_axis=AXIS)
    ref = np.gradient(x, np.asarray(AXIS), axis=-1, edge_order=2)
    assert_allclose(op.fit_transform(x), ref, rtol=1e-12, atol=1e-14)
    df = pl.DataFrame({"spectra": x})
    expr = derivative("spectra", deriv=1, edge_order=2, x_axis=AXIS)
    assert_array_equal(df.select(expr)["spectra"].to_numpy(), op.transform(x))


def test_derivative_axis_width_mismatch_is_an_axis_error() -> None:
    with pytest.raises(AxisError, match="x_axis"):
        Derivative(x_axis=AXIS[:10]).fit_transform(synthetic_spectra())


def test_norris_williams_faces_agree() -> None:
    x = synthetic_spectra()
    op = NorrisWilliams(segment=7, gap=3, deriv=2, delta=0.5)
    df = pl.DataFrame({"spectra": x})
    out = df.select(norris_williams(segment=7, gap=3, deriv=2, delta=0.5))["spectra"].to_numpy()
    assert_array_equal(out, op.fit_transform(x))
    with pytest.raises(InvalidParameterError, match="segment"):
        NorrisWilliams(segment=4).fit(x)


def test_savgol_delta_axis_uses_mean_spacing() -> None:
    x = synthetic_spectra()
    spacing = (AXIS[-1] - AXIS[0]) / (len(AXIS) - 1)
    ref = signal.savgol_filter(x, 11, 2, deriv=1, delta=spacing, axis=-1)
    op = SavitzkyGolay(window_length=11, polyorder=2, deriv=1, delta="axis", x_axis=AXIS)
    assert_allclose(op.fit_transform(x), ref, rtol=1e-10, atol=1e-13)
    df = pl.DataFrame({"spectra": x})
    expr = savgol(window_length=11, polyorder=2, deriv=1, delta="axis", x_axis=AXIS)
    assert_array_equal(df.select(expr)["spectra"].to_numpy(), op.transform(x))
    assert SavitzkyGolay().params().delta == 1.0  # unchanged default contract
    with pytest.raises(InvalidParameterError, match="x_axis"):
        SavitzkyGolay(delta="axis").params()
    with pytest.raises(InvalidParameterError, match="delta"):
        SavitzkyGolay(delta="mean").params()  # type: ignore[arg-type]
