"""Row reductions in float64 that vectorise, for the row kernels' hot loops.

Without fastmath LLVM may not reorder a floating-point sum: a plain ``s += x[j]`` loop is one
serial chain of dependent additions (one add latency, ~3-4 cycles, per element). These
reductions are compiled with reassociation allowed and nothing else (:func:`jit_reduction`):
LLVM then keeps several vector accumulators and adds them at the end, so the additions of an
iteration are independent and several elements go per instruction. NaN and inf propagate as in
a plain loop. Measured on the project machine (rows of 1024 points in cache, a mean then a
centred sum of squares per row): 33 -> 9.3 ms per 100k float64 rows, 43 -> 9.4 ms for float32
(converted to float64 point by point), against the previous eight scalar partial sums.

Rounding: the result is the same sum taken in another order (strided partial sums, then a
pairwise combination), whose worst-case error bound is below the serial loop's
``~ p * eps * sum|x|``. The order depends only on the compiled code and the row length, never
on where the row sits in memory: a row gives the same bits in every block and engine.

Examples
--------
>>> import numpy as np
>>> row_sum(np.arange(10.0))
45.0
>>> row_sumsq_dev(np.array([1.0, 2.0, 3.0]), 2.0)
2.0
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from nirskern._jit import jit_reduction

if TYPE_CHECKING:
    from nirskern._validate import FloatArray


@jit_reduction
def row_sum(r: FloatArray) -> float:
    """``sum(r)`` in float64 (see the module docstring)."""
    s = 0.0
    for j in range(r.shape[0]):
        s += np.float64(r[j])
    return s


@jit_reduction
def row_sumsq_dev(r: FloatArray, c: float) -> float:
    """``sum((r - c) ** 2)`` in float64 (``c = 0``: the sum of squares)."""
    s = 0.0
    for j in range(r.shape[0]):
        d = np.float64(r[j]) - c
        s += d * d
    return s


@jit_reduction
def row_abs_sum(r: FloatArray) -> float:
    """``sum(|r|)`` in float64."""
    s = 0.0
    for j in range(r.shape[0]):
        s += abs(np.float64(r[j]))
    return s


@jit_reduction
def row_dot_dev(r: FloatArray, c: float, ref: FloatArray) -> float:
    """``sum((r - c) * ref)`` in float64."""
    s = 0.0
    for j in range(r.shape[0]):
        s += (np.float64(r[j]) - c) * ref[j]
    return s
