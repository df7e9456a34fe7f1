"""Vectorised row reductions (nirskern._reduce) against exact sums (math.fsum).

Tolerance: a reordered sum's error bound is below the serial loop's p * eps * sum|terms|;
asserted at 4 * p * eps * sum|terms| (with margin), measured far below it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from nirskern._reduce import row_abs_sum, row_dot_dev, row_sum, row_sumsq_dev

EPS = np.finfo(np.float64).eps


@pytest.mark.parametrize("p", [0, 1, 7, 8, 9, 15, 16, 17, 1024, 1031])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_reductions_match_exact_sums(p: int, dtype: type) -> None:
    rng = np.random.default_rng(p)
    r = (rng.normal(size=p) + 3.0).astype(dtype)
    ref = rng.normal(size=p)
    c = 2.5
    rd = r.astype(np.float64)  # float32 rows are summed in float64
    cases = [
        (row_sum(r), rd.tolist()),
        (row_abs_sum(r), np.abs(rd).tolist()),
        (row_sumsq_dev(r, c), ((rd - c) ** 2).tolist()),
        (row_dot_dev(r, c, ref), ((rd - c) * ref).tolist()),
    ]
    for got, terms in cases:
        bound = 4 * max(p, 1) * EPS * math.fsum(abs(t) for t in terms)
        assert abs(got - math.fsum(terms)) <= bound


def test_nan_and_inf_propagate() -> None:
    r = np.arange(20.0)
    r[13] = np.nan
    assert math.isnan(row_sum(r))
    assert math.isnan(row_sumsq_dev(r, 0.0))
    r[13] = np.inf
    assert row_sum(r) == np.inf
    assert row_abs_sum(-r) == np.inf


def test_partial_sums_are_exact_on_integers() -> None:
    r = np.arange(1.0, 1001.0)
    assert row_sum(r) == 500500.0
    assert row_sumsq_dev(r, 0.0) == sum(i * i for i in range(1, 1001))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_row_sums_to_the_same_bits_wherever_it_sits_in_memory(dtype: type) -> None:
    # Vectorised sums must not depend on alignment: the same row in another block, morsel or
    # engine must give the same result bit for bit.
    row = (np.random.default_rng(7).normal(size=1031) + 3.0).astype(dtype)
    buf = np.empty(row.shape[0] + 16, dtype=dtype)
    sums, sumsqs, dots = set(), set(), set()
    ref = np.random.default_rng(8).normal(size=row.shape[0])
    for offset in range(16):
        r = buf[offset : offset + row.shape[0]]
        r[:] = row
        sums.add(row_sum(r))
        sumsqs.add(row_sumsq_dev(r, 2.5))
        dots.add(row_dot_dev(r, 2.5, ref))
    assert len(sums) == len(sumsqs) == len(dots) == 1
