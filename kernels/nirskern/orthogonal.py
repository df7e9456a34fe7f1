"""Row-wise deflation by fixed directions: the apply step of OSC and EPO.

A plain loop per spectrum (not a BLAS matrix product) so that each output row is bit-identical
whatever the batch it is computed in: BLAS picks different blockings for different row counts,
which breaks the eager == lazy == streaming equality of expressions.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from nirskern._jit import jit
from nirskern._validate import FloatArray, as_spectra, restore


@jit
def _deflate(
    x: FloatArray, mean: FloatArray, weights: FloatArray, loadings: FloatArray, out: FloatArray
) -> None:
    n, p = x.shape
    k = weights.shape[0]
    row = np.empty(p)  # float64 work row, also for float32 input
    for i in range(n):
        for j in range(p):
            row[j] = x[i, j] - mean[j]
        for c in range(k):
            t = 0.0
            for j in range(p):
                t += row[j] * weights[c, j]
            for j in range(p):
                row[j] -= t * loadings[c, j]
        for j in range(p):
            out[i, j] = row[j] + mean[j]


def deflate(
    x: npt.ArrayLike,
    mean: npt.ArrayLike,
    weights: npt.ArrayLike,
    loadings: npt.ArrayLike,
) -> FloatArray:
    """Sequentially remove components from centred spectra: ``x - mean``, then for each
    component ``c``: ``t = x_c . weights[c]`` and ``x_c -= t * loadings[c]``; ``mean`` is added
    back. With ``weights = loadings = V`` (orthonormal rows) and ``mean = 0`` it is the
    projection ``x (I - V'V)``.

    >>> deflate(np.array([[5.0, 2.0]]), [0.0, 0.0], [[1.0, 0.0]], [[1.0, 0.0]]).tolist()
    [[0.0, 2.0]]
    """
    arr, was_1d = as_spectra(x)
    p = arr.shape[1]
    m = np.ascontiguousarray(mean, dtype=np.float64)
    w = np.ascontiguousarray(np.atleast_2d(weights), dtype=np.float64)
    ld = np.ascontiguousarray(np.atleast_2d(loadings), dtype=np.float64)
    if m.shape != (p,) or w.shape[1:] != (p,) or ld.shape != w.shape:
        msg = (
            "'mean', 'weights' and 'loadings' must have shapes (p,), (k, p), (k, p) with "
            f"p={p}; got {m.shape}, {w.shape}, {ld.shape}"
        )
        raise ValueError(msg)
    out = np.empty_like(arr)
    _deflate(arr, m, w, ld, out)
    return restore(out, was_1d)
