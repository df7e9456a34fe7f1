"""nirskern._taps.correlate_valid (tap passes and aligned vector blocks) against a plain loop."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from nirskern._taps import box_sum_valid, correlate_valid, tap_passes
from numpy.testing import assert_array_equal


def _plain(r: npt.NDArray[np.floating], c: npt.NDArray[np.floating], n: int) -> np.ndarray:
    want = np.empty(n, dtype=r.dtype)
    for j in range(n):
        s = c[0] * r[j]
        for k in range(1, c.shape[0]):
            s = s + c[k] * r[j + k]
        want[j] = s
    return want


def _at_offset(values: np.ndarray, offset: int) -> np.ndarray:
    """``values`` copied to start ``offset`` elements after a 64-byte boundary."""
    lanes = 64 // values.itemsize
    buf = np.empty(values.shape[0] + 2 * lanes, dtype=values.dtype)
    start = (-(buf.ctypes.data % 64) // values.itemsize) % lanes + offset
    view = buf[start : start + values.shape[0]]
    view[:] = values
    assert (view.ctypes.data - offset * values.itemsize) % 64 == 0
    return view


@pytest.mark.parametrize("w", range(1, 42, 2))
def test_passes_have_the_bits_of_a_plain_left_to_right_loop(w: int) -> None:
    # Every first pass (1, 3, 5, 7 taps) and up to five later passes of 8.
    rng = np.random.default_rng(w)
    r = rng.normal(size=w + 60) * 10.0 ** rng.uniform(-3, 3, size=w + 60)
    c = rng.normal(size=w)
    o = np.full(61, np.nan)
    tap_passes(r, c, o)
    assert_array_equal(o, _plain(r, c, 61))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("w", range(1, 42, 2))
def test_aligned_blocks_have_the_bits_of_a_plain_loop(w: int, dtype: type) -> None:
    # Every row start relative to a 64-byte boundary, and lengths that leave 0 to 4 vector
    # blocks (one step of 4 blocks side by side, single blocks, the passes before and after).
    rng = np.random.default_rng(w)
    lanes = 64 // np.dtype(dtype).itemsize
    c = rng.normal(size=w).astype(dtype)
    for n in (1, 2 * lanes - 1, 2 * lanes, 3 * lanes + 5, 5 * lanes, 9 * lanes + 3, 203):
        values = (rng.normal(size=n + w - 1) * 10.0 ** rng.uniform(-3, 3, size=n + w - 1)).astype(
            dtype
        )
        want = _plain(values, c, n)
        for offset in range(lanes):
            r = _at_offset(values, offset)
            o = _at_offset(np.full(n, np.nan, dtype=dtype), (offset * 3) % lanes)
            correlate_valid(r, c, o)
            assert_array_equal(o, want, err_msg=f"n={n}, offset={offset}")


@pytest.mark.parametrize("out_dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 9, 13, 17, 24])
def test_box_sums_have_the_bits_of_a_plain_loop(size: int, out_dtype: type) -> None:
    rng = np.random.default_rng(size)
    scale = 1.0 / size
    for n in (1, 7, 8, 9, 40, 203):
        values = rng.normal(size=n + size - 1) * 10.0 ** rng.uniform(-3, 3, size=n + size - 1)
        want = np.empty(n, dtype=out_dtype)
        for j in range(n):
            s = values[j]
            for k in range(1, size):
                s = s + values[j + k]
            want[j] = s * scale
        for offset in range(8):
            r = _at_offset(values, offset)
            o = np.full(n, np.nan, dtype=out_dtype)
            box_sum_valid(r, size, scale, o)
            assert_array_equal(o, want, err_msg=f"n={n}, offset={offset}")


def test_nan_and_inf_propagate_through_the_blocks() -> None:
    r = _at_offset(np.ones(300), 0)
    r[100], r[200] = np.nan, np.inf
    c = np.full(17, 1.0 / 17)
    o = np.empty(284)
    correlate_valid(r, c, o)
    assert_array_equal(o, _plain(r, c, 284))
    assert np.isnan(o[84:101]).all()
    assert np.isinf(o[184:201]).all()


def test_strided_rows_take_the_passes() -> None:
    rng = np.random.default_rng(0)
    r = rng.normal(size=(300, 2))[:, 0]
    c = rng.normal(size=9)
    o = np.empty(292)
    correlate_valid(r, c, o)
    assert_array_equal(o, _plain(r, c, 292))
