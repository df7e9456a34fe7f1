"""Crop and Resample operators: width changes, output axis, three faces."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from scipy.interpolate import CubicSpline

from nirsframe.axis import SpectralAxis
from nirsframe.exceptions import AxisError, InvalidParameterError
from nirsframe.operators import Crop, Resample
from nirsframe.operators.axis_ops import crop, resample
from tests.conftest import synthetic_spectra

NM = tuple(1100.0 + 2.0 * i for i in range(120))
CM1 = tuple(9000.0 - 40.0 * i for i in range(120))


@settings(max_examples=30, deadline=None)
@given(
    lo=st.floats(1050.0, 1400.0),
    span=st.floats(0.0, 300.0),
    decreasing=st.booleans(),
)
def test_crop_output_axis_agrees_with_data(lo: float, span: float, decreasing: bool) -> None:
    values = CM1 if decreasing else NM
    unit = "cm-1" if decreasing else "nm"
    lo = lo * 5 if decreasing else lo
    hi = lo + (span * 5 if decreasing else span)
    x = synthetic_spectra(5, 120)
    op = Crop(lower=lo, upper=hi, x_axis=values)
    mask = (np.asarray(values) >= lo) & (np.asarray(values) <= hi)
    if not mask.any():
        with pytest.raises(InvalidParameterError, match="keeps no point"):
            op.fit_transform(x)
        return
    out = op.fit_transform(x)
    axis = op.output_axis(SpectralAxis(values, unit))
    assert out.shape == (5, len(axis))
    assert_array_equal(axis.values, np.asarray(values)[mask])
    assert_array_equal(out, x[:, mask])
    assert axis.unit == unit


def test_crop_expression_declares_width_and_matches() -> None:
    x = synthetic_spectra(5, 120)
    df = pl.DataFrame({"spectra": x})
    expr = crop("spectra", lower=1150.0, upper=1200.0, x_axis=NM)
    assert df.lazy().select(expr).collect_schema()["spectra"] == pl.Array(pl.Float64, 26)
    out = df.select(expr)["spectra"].to_numpy()
    assert_array_equal(out, Crop(lower=1150.0, upper=1200.0, x_axis=NM).fit_transform(x))
    with pytest.raises(InvalidParameterError, match="x_axis"):
        crop("spectra", lower=1.0, upper=3.0)  # width unknown without an axis
    with pytest.raises(AxisError, match="width"):
        Crop(lower=1150.0, x_axis=NM).fit_transform(x[:, :50])


@pytest.mark.parametrize("method", ["linear", "cubic"])
def test_resample_decreasing_axis_and_faces(method: str) -> None:
    x = synthetic_spectra(6, 120)
    target = tuple(np.linspace(8800.0, 4500.0, 64))
    op = Resample(target=target, method=method, x_axis=CM1)
    out = op.fit_transform(x)
    ax = np.asarray(CM1)[::-1]
    if method == "linear":
        ref = np.stack([np.interp(target, ax, row[::-1]) for row in x])
        assert_array_equal(out, ref)
    else:
        ref = CubicSpline(ax, x[:, ::-1], axis=-1)(np.asarray(target))
        assert_allclose(out, ref, rtol=1e-12, atol=1e-12)
    df = pl.DataFrame({"spectra": x})
    expr = resample(target=target, method=method, x_axis=CM1)  # type: ignore[arg-type]
    assert df.lazy().select(expr).collect_schema()["spectra"] == pl.Array(pl.Float64, 64)
    assert_array_equal(df.select(expr)["spectra"].to_numpy(), out)
    new_axis = op.output_axis(SpectralAxis(CM1, "cm-1"))
    assert new_axis.unit == "cm-1"
    assert len(new_axis) == 64


def test_resample_onto_own_axis_is_identity() -> None:
    x = synthetic_spectra(4, 120)
    for method in ("linear", "cubic"):
        assert_array_equal(Resample(target=NM, method=method, x_axis=NM).fit_transform(x), x)  # type: ignore[arg-type]


def test_resample_errors() -> None:
    x = synthetic_spectra(2, 120)
    with pytest.raises(InvalidParameterError, match="target"):
        Resample().fit_transform(x)
    with pytest.raises(InvalidParameterError, match="inside the source axis range"):
        Resample(target=(1000.0,), x_axis=NM).fit_transform(x)
