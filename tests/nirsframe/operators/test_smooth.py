"""GaussianFilter and MovingAverage operators: scipy parity through all three faces."""

from __future__ import annotations

import polars as pl
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import ndimage

import nirsframe as nf
from nirsframe.exceptions import InvalidParameterError
from nirsframe.operators import GaussianFilter, MovingAverage
from nirsframe.operators.smooth import gaussian, moving_average
from tests.conftest import synthetic_spectra


def test_gaussian_faces_equal_scipy() -> None:
    x = synthetic_spectra()
    ref = ndimage.gaussian_filter1d(x, 2.5, axis=-1, order=1, mode="nearest")
    op = GaussianFilter(sigma=2.5, order=1, mode="nearest")
    assert_allclose(op.fit_transform(x), ref, rtol=0, atol=1e-12)
    df = pl.DataFrame({"spectra": x})
    out = df.select(gaussian("spectra", sigma=2.5, order=1, mode="nearest"))["spectra"].to_numpy()
    assert_array_equal(out, op.transform(x))
    assert nf.functions.gaussian is gaussian


def test_moving_average_faces_equal_scipy() -> None:
    x = synthetic_spectra()
    ref = ndimage.uniform_filter1d(x, 9, axis=-1, mode="mirror")
    op = MovingAverage(window_length=9, mode="mirror")
    assert_allclose(op.fit_transform(x), ref, rtol=0, atol=1e-12)
    df = pl.DataFrame({"spectra": x})
    via_ns = df.select(pl.col("spectra").nirs.moving_average(window_length=9, mode="mirror"))
    assert_array_equal(via_ns["spectra"].to_numpy(), op.transform(x))
    assert df.select(moving_average(window_length=9, mode="mirror")).equals(via_ns)


@pytest.mark.parametrize(
    ("op", "match"),
    [
        (GaussianFilter(sigma=0.0), "sigma"),
        (GaussianFilter(mode="edge"), "mode"),  # type: ignore[arg-type]
        (MovingAverage(window_length=0), "window_length"),
    ],
)
def test_invalid_parameters(op: GaussianFilter | MovingAverage, match: str) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        op.fit(synthetic_spectra())
