"""nirskern.snv_savgol equals savgol(snv(x)) bit for bit; nirskern.any_inf."""

from __future__ import annotations

import nirskern
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_array_equal

from tests.conftest import synthetic_spectra


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    ("window", "order", "deriv", "ddof"), [(15, 2, 1, 0), (5, 3, 0, 1), (11, 4, 2, 0), (3, 1, 1, 0)]
)
def test_snv_savgol_equals_the_two_kernels(
    dtype: type, window: int, order: int, deriv: int, ddof: int
) -> None:
    x = synthetic_spectra(40, 64, seed=3).astype(dtype)
    x[5] = np.nan  # a NaN row stays NaN
    x[6] = 1.0  # a flat spectrum: SNV gives NaN
    expected = nirskern.savgol(nirskern.snv(x, ddof=ddof), window, order, deriv=deriv, delta=0.5)
    got = nirskern.snv_savgol(x, window, order, deriv=deriv, delta=0.5, ddof=ddof)
    assert got.dtype == dtype
    assert_array_equal(got, expected)
    out = np.empty_like(x)
    assert nirskern.snv_savgol(x, window, order, deriv=deriv, delta=0.5, ddof=ddof, out=out) is out
    assert_array_equal(out, expected)


def test_snv_savgol_one_spectrum_and_bad_parameters() -> None:
    row = synthetic_spectra(1, 32, seed=4)[0]
    assert_array_equal(nirskern.snv_savgol(row, 7, 2), nirskern.savgol(nirskern.snv(row), 7, 2))
    with pytest.raises(ValueError, match="'window_length' must be odd"):
        nirskern.snv_savgol(row, 8, 2)
    with pytest.raises(ValueError, match="'ddof' must be smaller"):
        nirskern.snv_savgol(row, 7, 2, ddof=32)
    x = np.tile(row, (2, 1))
    with pytest.raises(ValueError, match="must not overlap"):
        nirskern.snv_savgol(x, 7, 2, out=x)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 6),
    p=st.integers(1, 40),
    where=st.sampled_from(["none", "nan", "inf", "-inf", "both", "overflow"]),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 1000),
)
def test_any_inf_is_isinf_any(n: int, p: int, where: str, dtype: type, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, p)).astype(dtype)
    i, j = rng.integers(n), rng.integers(p)
    if where in ("nan", "both"):
        x[i, j] = np.nan
    if where in ("inf", "both"):
        x[rng.integers(n), rng.integers(p)] = np.inf
    if where == "-inf":
        x[i, j] = -np.inf
    if where == "overflow":  # finite values whose sum overflows are not inf
        x[i, :] = np.finfo(dtype).max
    assert nirskern.any_inf(x) == bool(np.isinf(x).any())
