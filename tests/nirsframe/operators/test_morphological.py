"""Snip / RollingBall operators: faces, options, errors."""

from __future__ import annotations

import warnings

import numpy as np
import polars as pl
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import nirsframe.functions as nff
from nirsframe.exceptions import InvalidParameterError
from nirsframe.operators import RollingBall, Snip
from tests.conftest import synthetic_spectra

pybaselines = pytest.importorskip("pybaselines")


def test_snip_faces_agree_and_match_pybaselines() -> None:
    x = synthetic_spectra(4, 150, seed=5)
    base = Snip(max_half_window=20, filter_order=4, output="baseline").fit_transform(x)
    ref = np.array([pybaselines.smooth.snip(r, max_half_window=20, filter_order=4)[0] for r in x])
    assert_allclose(base, ref, rtol=1e-12, atol=1e-13)
    df = pl.DataFrame({"spectra": x})
    got = df.select(nff.snip("spectra", max_half_window=20, filter_order=4)).to_series().to_numpy()
    assert_allclose(got, x - base, atol=1e-13)
    via_namespace = df.select(pl.col("spectra").nirs.snip(max_half_window=20, filter_order=4))
    assert_array_equal(via_namespace.to_series().to_numpy(), got)


def test_rolling_ball_default_window_is_optimized_per_spectrum() -> None:
    x = synthetic_spectra(3, 150, seed=6)
    base = RollingBall(output="baseline").fit_transform(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = np.array([pybaselines.morphological.rolling_ball(r)[0] for r in x])
    assert_allclose(base, ref, rtol=1e-12, atol=1e-13)
    df = pl.DataFrame({"spectra": x})
    got = df.select(nff.rolling_ball("spectra", output="baseline")).to_series().to_numpy()
    assert_array_equal(got, base)


def test_parameter_errors_name_the_parameter() -> None:
    with pytest.raises(InvalidParameterError, match="'filter_order'"):
        Snip(filter_order=3).fit(np.ones((2, 10)))  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="'max_half_window'"):
        Snip(max_half_window=0).fit(np.ones((2, 10)))
    with pytest.raises(InvalidParameterError, match="'half_window'"):
        RollingBall(half_window=0).fit(np.ones((2, 10)))
