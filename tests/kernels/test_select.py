"""Histogram selection (nirskern._select) against numba's np.median and numpy's sort.

Exact: the selected values are order statistics, compared bit for bit (the sign of a zero
median aside, which the module leaves to its callers).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from nirskern._jit import jit
from nirskern._select import NBINS, SMALL, median, row_range, select


@jit
def numba_median(v: np.ndarray) -> float:
    return np.median(v)  # type: ignore[no-any-return]


def scratch(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.empty(NBINS, np.int64), np.empty(max(n, 1), np.int32)


def fast_median(v: np.ndarray) -> float:
    lo, hi = row_range(v)
    return float(median(v.copy(), lo, hi, *scratch(v.size)))


def assert_same_bits(got: float, want: float) -> None:
    if want == 0.0:  # 0.0 or -0.0, depending on numba's pivots
        assert got == 0.0
    else:
        assert np.float64(got).view(np.uint64) == np.float64(want).view(np.uint64), (got, want)


# Finite values with many ties (a few repeated values) and a wide range of magnitudes.
values = st.one_of(
    st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.5, 3.0, 1e-300, 1e300]),
    st.floats(-1e6, 1e6, allow_nan=False),
    st.floats(allow_nan=False, allow_infinity=False, allow_subnormal=True),
)
rows = arrays(np.float64, st.integers(1, 3 * SMALL + 5), elements=values)


@settings(max_examples=300, deadline=None)
@given(v=rows)
def test_median_is_numbas_median(v: np.ndarray) -> None:
    lo, hi = row_range(v)
    if not np.isfinite(hi - lo):
        return  # not binned: callers keep np.median (an overflowing range)
    assert_same_bits(fast_median(v), numba_median(v))


@settings(max_examples=200, deadline=None)
@given(v=rows, data=st.data())
def test_select_gives_order_statistics(v: np.ndarray, data: st.DataObject) -> None:
    lo, hi = row_range(v)
    if not np.isfinite(hi - lo):
        return
    k = data.draw(st.integers(0, v.size - 1))
    two = k + 1 < v.size
    a, b = select(v.copy(), v.size, k, two, lo, hi, *scratch(v.size))
    s = np.sort(v)
    assert a == s[k]
    assert b == (s[k + 1] if two else s[k])


@pytest.mark.parametrize("p", [1, 2, 5, 6, 7, 1024, 1025])
@pytest.mark.parametrize(
    "kind", ["normal", "spike", "ties", "subnormal", "huge", "narrow", "constant"]
)
def test_median_on_hard_rows(p: int, kind: str) -> None:
    rng = np.random.default_rng(p)
    v = rng.normal(size=p)
    if kind == "spike":  # the bulk crammed into one bin: a second pass
        v[rng.integers(0, p, 2)] = 1e12
    elif kind == "ties":
        v = np.round(v, 0)
    elif kind == "subnormal":  # NBINS / range overflows: the survivors are sorted directly
        v = rng.integers(0, 5, size=p) * 5e-324
    elif kind == "huge":
        v *= 1e307
    elif kind == "narrow":
        v = 1e6 + v * 1e-9
    elif kind == "constant":
        v = np.full(p, 2.5)
    assert_same_bits(fast_median(v), numba_median(v))


@pytest.mark.parametrize("p", [2, 3, 4, 6, 34, 35, 100, 1024])
def test_median_bits_on_random_rows(p: int) -> None:
    # Many rows of random magnitudes: the average of the two middle values rounds as numba's.
    rng = np.random.default_rng(p)
    for _ in range(300):
        v = rng.normal(size=p) * 10.0 ** rng.integers(-5, 5, size=p)
        assert_same_bits(fast_median(v), numba_median(v))


def test_row_range() -> None:
    v = np.array([3.0, -0.0, -7.5, 2.0, 1e-320])
    assert row_range(v) == (-7.5, 3.0)
    assert row_range(np.array([np.inf, 1.0, -np.inf])) == (-np.inf, np.inf)
    for nan in (np.nan, -np.nan):
        lo, hi = row_range(np.array([1.0, nan, 2.0]))
        assert np.isnan(lo)
        assert np.isnan(hi)
    assert row_range(np.array([-0.0])) == (0.0, 0.0)


@settings(max_examples=100, deadline=None)
@given(v=arrays(np.float64, st.integers(1, 40), elements=st.floats(allow_nan=False)))
def test_row_range_is_min_max(v: np.ndarray) -> None:
    assert row_range(v) == (v.min(), v.max())
