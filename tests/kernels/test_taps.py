"""The tap passes of nirskern._taps.correlate_valid against a plain loop over the taps."""

from __future__ import annotations

import numpy as np
import pytest
from nirskern._taps import correlate_valid
from numpy.testing import assert_array_equal


@pytest.mark.parametrize("w", range(1, 42, 2))
def test_passes_have_the_bits_of_a_plain_left_to_right_loop(w: int) -> None:
    # Every first pass (1, 3, 5, 7, 9 taps) and up to four later passes of 8.
    rng = np.random.default_rng(w)
    r = rng.normal(size=w + 60) * 10.0 ** rng.uniform(-3, 3, size=w + 60)
    c = rng.normal(size=w)
    o = np.full(61, np.nan)
    correlate_valid(r, c, o)
    want = np.empty(61)
    for j in range(61):
        s = c[0] * r[j]
        for k in range(1, w):
            s = s + c[k] * r[j + k]
        want[j] = s
    assert_array_equal(o, want)
