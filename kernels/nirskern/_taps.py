"""Correlation of a row with a short filter, vectorised over the points.

``correlate_valid(r, c, o)`` sets ``o[j] = c[0]*r[j] + c[1]*r[j+1] + ... + c[w-1]*r[j+w-1]``
for an odd number of taps ``w`` (the "valid" part: ``len(r) >= len(o) + w - 1``), the products
added left to right, so the result has the bits of a plain loop over the taps.

Contiguous rows go through :mod:`nirskern._aligned_taps` (64-byte-aligned vector loads and
shuffles, LLVM IR) from the first output whose input sits on a 64-byte boundary. The few
outputs before and after that stretch, and strided rows, take :func:`tap_passes`. The 17-tap
Gaussian at 10k x 1024 float64 on one thread went from 14.3-14.6 to 8.7-9.9 ms (session 8).

:func:`tap_passes` runs in passes of up to 8 taps. Each pass is one loop over the points whose
body adds its taps in a fixed order, so numba/LLVM vectorises it over the points (a per-point
loop over a run-time number of taps is a serial reduction, which does not vectorise without
fastmath), and the output row is stored once per pass instead of once per tap. The first pass
takes ``w mod 8`` taps (1, 3, 5 or 7) and sets the output; each later pass adds 8 taps to it.
Its loads are unaligned: with 64-byte vectors, 7 of 8 straddle two cache lines.

>>> import numpy as np
>>> o = np.empty(3)
>>> correlate_valid(np.array([1.0, 2.0, 3.0, 4.0, 5.0]), np.array([1.0, 0.0, -1.0]), o)
>>> o.tolist()
[-2.0, -2.0, -2.0]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nirskern._aligned_taps import aligned_blocks, aligned_box_blocks, lanes
from nirskern._jit import jit, jit_row

if TYPE_CHECKING:
    from nirskern._validate import FloatArray


@jit_row
def correlate_valid(r: FloatArray, c: FloatArray, o: FloatArray) -> None:
    """``o[j] = sum_k c[k] * r[j + k]`` for an odd number of taps ``len(c)``.

    Contiguous rows go through :func:`nirskern._aligned_taps.aligned_blocks` from the first
    output whose input is 64-byte aligned for as long as its vector loads stay inside ``r``; the
    few outputs before and after that run (and strided rows) take the tap passes.
    """
    n = o.shape[0]
    width = lanes(r)  # values per 64 bytes, a constant: the divisions below are shifts
    size = 64 // width
    at = r.ctypes.data
    if (
        r.strides[0] == size
        and c.strides[0] == size
        and o.strides[0] == size
        and at % size == 0
        and n >= width
    ):
        lead = min(((-at) % 64) // size, n)
        span = width * ((c.shape[0] - 2) // width + 2)  # the vectors one block reads
        n_blocks = min((n - lead) // width, (r.shape[0] - lead - span) // width + 1)
        if n_blocks > 0:
            end = lead + n_blocks * width
            if lead > 0:  # (an empty slice still costs ~20 ns of reference counting)
                tap_passes(r[: lead + c.shape[0] - 1], c, o[:lead])
            aligned_blocks(r, c, o, lead, n_blocks)
            if end < n:
                tap_passes(r[end:], c, o[end:])
            return
    tap_passes(r, c, o)


@jit_row
def box_sum_valid(r: FloatArray, size: int, scale: float, o: FloatArray) -> None:
    """``o[j] = (r[j] + r[j+1] + ... + r[j+size-1]) * scale`` for a float64 row ``r`` (the sum
    left to right, rounded once to ``o``'s dtype): the aligned vector blocks of
    :func:`correlate_valid` with every weight 1, and the same bits outside them."""
    n = o.shape[0]
    at = r.ctypes.data
    if r.strides[0] == 8 and o.strides[0] == o.itemsize and at % 8 == 0 and n >= 8:
        lead = min(((-at) % 64) // 8, n)
        span = 8 * ((size - 2) // 8 + 2)  # the vectors one block reads
        n_blocks = min((n - lead) // 8, (r.shape[0] - lead - span) // 8 + 1)
        if n_blocks > 0:
            end = lead + n_blocks * 8
            _box_loop(r, size, scale, o, 0, lead)
            aligned_box_blocks(r, size, scale, o, lead, n_blocks)
            _box_loop(r, size, scale, o, end, n)
            return
    _box_loop(r, size, scale, o, 0, n)


@jit_row
def _box_loop(r: FloatArray, size: int, scale: float, o: FloatArray, a: int, b: int) -> None:
    for j in range(a, b):
        s = r[j]
        for k in range(1, size):
            s = s + r[j + k]
        o[j] = s * scale


#: Extra points to allocate for :func:`aligned_row` (a 64-byte boundary is at most 7 float64 away).
ALIGN_SLACK = 7


@jit
def aligned_row(buf: FloatArray) -> FloatArray:
    """The part of a float64 scratch row ``buf`` from its first 64-byte boundary (``len(buf) -
    ALIGN_SLACK`` points or more): rows laid out like that take :func:`correlate_valid`'s
    aligned vector blocks from their first point."""
    return buf[((-buf.ctypes.data) % 64) // 8 :]


@jit
def tap_passes(r: FloatArray, c: FloatArray, o: FloatArray) -> None:
    """:func:`correlate_valid` in passes of up to 8 taps over unaligned loads (any layout)."""
    k = c.shape[0] % 8
    if k == 1:
        c0 = c[0]
        for j in range(o.shape[0]):
            o[j] = c0 * r[j]
    elif k == 3:
        c0, c1, c2 = c[0], c[1], c[2]
        for j in range(o.shape[0]):
            o[j] = c0 * r[j] + c1 * r[j + 1] + c2 * r[j + 2]
    elif k == 5:
        c0, c1, c2, c3, c4 = c[0], c[1], c[2], c[3], c[4]
        for j in range(o.shape[0]):
            o[j] = c0 * r[j] + c1 * r[j + 1] + c2 * r[j + 2] + c3 * r[j + 3] + c4 * r[j + 4]
    else:
        c0, c1, c2, c3, c4, c5, c6 = c[0], c[1], c[2], c[3], c[4], c[5], c[6]
        for j in range(o.shape[0]):
            o[j] = (
                c0 * r[j]
                + c1 * r[j + 1]
                + c2 * r[j + 2]
                + c3 * r[j + 3]
                + c4 * r[j + 4]
                + c5 * r[j + 5]
                + c6 * r[j + 6]
            )
    while k < c.shape[0]:
        c0, c1, c2, c3 = c[k], c[k + 1], c[k + 2], c[k + 3]
        c4, c5, c6, c7 = c[k + 4], c[k + 5], c[k + 6], c[k + 7]
        for j in range(o.shape[0]):
            i = j + k
            o[j] = (
                o[j]
                + c0 * r[i]
                + c1 * r[i + 1]
                + c2 * r[i + 2]
                + c3 * r[i + 3]
                + c4 * r[i + 4]
                + c5 * r[i + 5]
                + c6 * r[i + 6]
                + c7 * r[i + 7]
            )
        k += 8
