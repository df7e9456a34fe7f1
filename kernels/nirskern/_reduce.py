"""Row reductions with eight independent partial sums, for the row kernels' hot loops.

``fastmath`` is off (NaN must propagate), so LLVM may not reorder a floating-point sum: a plain
``s += x[j]`` loop is one serial chain of dependent additions (one add latency, ~3-4 cycles, per
element). Summing into eight partial sums (``s_k`` takes the elements ``j = k mod 8``) and adding
them pairwise at the end breaks that chain: the eight additions of an iteration are independent,
so the CPU overlaps them. Measured on the project machine (10k x 1024 float64, SNV): 15.7 ms ->
10.3 ms for the whole kernel.

Rounding: the result is the same sum taken in another order. Each partial sum holds ``p / 8``
terms, so the worst-case error bound ``~ (p / 8 + 3) * eps * sum|x|`` is smaller than the serial
loop's ``~ p * eps * sum|x|``; results differ from the serial loop in the last bits (measured
<= 1e-14 relative on SNV outputs), well inside every parity tolerance.

The eight partial sums are still scalar additions (LLVM does not turn them into one vector
without reassociation). :func:`row_sum_folded` first folds the row by four in a loop that does
vectorise (``(r[l] + r[l+q]) + (r[l+2q] + r[l+3q])``), then sums the quarter-length folds as above.
Measured (1024 points, rows in cache): float64 12.1 -> 9.1 ms per 100k rows, float32 (converted
to float64 point by point in the scalar loop) 22.9 -> 7.4 ms; SNV as a whole 38 -> 28 ms (float64)
and 51 -> 28 ms (float32). The error bound is smaller (each term of the eight partial sums is
itself a pairwise sum of four).

Examples
--------
>>> import numpy as np
>>> row_sum(np.arange(10.0))
45.0
>>> row_sumsq_dev(np.array([1.0, 2.0, 3.0]), 2.0)
2.0
>>> row_sum_folded(np.arange(10.0), np.empty(2))
45.0
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from nirskern._jit import jit

if TYPE_CHECKING:
    from nirskern._validate import FloatArray


@jit
def row_sum(r: FloatArray) -> float:
    """``sum(r)`` in float64 with eight partial sums (see the module docstring)."""
    p = r.shape[0]
    m = p - p % 8
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
    for j in range(0, m, 8):
        s0 += r[j]
        s1 += r[j + 1]
        s2 += r[j + 2]
        s3 += r[j + 3]
        s4 += r[j + 4]
        s5 += r[j + 5]
        s6 += r[j + 6]
        s7 += r[j + 7]
    for j in range(m, p):
        s0 += r[j]
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))


@jit
def row_sum_folded(r: FloatArray, buf: FloatArray) -> float:
    """``sum(r)`` in float64: folded by four into ``buf`` (float64 scratch of at least
    ``len(r) // 4`` points), then :func:`row_sum` of the folds (see the module docstring)."""
    p = r.shape[0]
    q = p // 4
    for j in range(q):
        a = np.float64(r[j]) + np.float64(r[j + q])
        b = np.float64(r[j + 2 * q]) + np.float64(r[j + 3 * q])
        buf[j] = a + b
    s = row_sum(buf[:q])
    for j in range(4 * q, p):
        s += r[j]
    return s


@jit
def row_sumsq_dev(r: FloatArray, c: float) -> float:
    """``sum((r - c) ** 2)`` in float64 with eight partial sums (``c = 0``: the sum of squares)."""
    p = r.shape[0]
    m = p - p % 8
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
    for j in range(0, m, 8):
        d0 = r[j] - c
        d1 = r[j + 1] - c
        d2 = r[j + 2] - c
        d3 = r[j + 3] - c
        d4 = r[j + 4] - c
        d5 = r[j + 5] - c
        d6 = r[j + 6] - c
        d7 = r[j + 7] - c
        s0 += d0 * d0
        s1 += d1 * d1
        s2 += d2 * d2
        s3 += d3 * d3
        s4 += d4 * d4
        s5 += d5 * d5
        s6 += d6 * d6
        s7 += d7 * d7
    for j in range(m, p):
        d = r[j] - c
        s0 += d * d
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))


@jit
def row_abs_sum(r: FloatArray) -> float:
    """``sum(|r|)`` in float64 with eight partial sums."""
    p = r.shape[0]
    m = p - p % 8
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
    for j in range(0, m, 8):
        s0 += abs(r[j])
        s1 += abs(r[j + 1])
        s2 += abs(r[j + 2])
        s3 += abs(r[j + 3])
        s4 += abs(r[j + 4])
        s5 += abs(r[j + 5])
        s6 += abs(r[j + 6])
        s7 += abs(r[j + 7])
    for j in range(m, p):
        s0 += abs(r[j])
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))


@jit
def row_dot_dev(r: FloatArray, c: float, ref: FloatArray) -> float:
    """``sum((r - c) * ref)`` in float64 with eight partial sums."""
    p = r.shape[0]
    m = p - p % 8
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
    for j in range(0, m, 8):
        s0 += (r[j] - c) * ref[j]
        s1 += (r[j + 1] - c) * ref[j + 1]
        s2 += (r[j + 2] - c) * ref[j + 2]
        s3 += (r[j + 3] - c) * ref[j + 3]
        s4 += (r[j + 4] - c) * ref[j + 4]
        s5 += (r[j + 5] - c) * ref[j + 5]
        s6 += (r[j + 6] - c) * ref[j + 6]
        s7 += (r[j + 7] - c) * ref[j + 7]
    for j in range(m, p):
        s0 += (r[j] - c) * ref[j]
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
