"""Polynomial baseline removal (detrend)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt

from nirskern._jit import jit
from nirskern._validate import FloatArray, as_spectra, check_int, restore


@lru_cache(maxsize=64)
def _basis(n_points: int, order: int) -> FloatArray:
    """Orthonormal basis (n_points, order + 1) of polynomials of degree <= order on the index."""
    t = np.linspace(-1.0, 1.0, n_points) if n_points > 1 else np.zeros(1)
    q, _ = np.linalg.qr(t[:, np.newaxis] ** np.arange(order + 1))
    q = np.ascontiguousarray(q)
    q.setflags(write=False)
    return q


@jit
def _detrend(x: FloatArray, q: FloatArray, out: FloatArray) -> None:
    n, p = x.shape
    k = q.shape[1]
    coef = np.empty(k)
    for i in range(n):
        # Projection on an orthonormal polynomial basis: x - Q (Q^T x), no normal equations.
        for c in range(k):
            s = 0.0
            for j in range(p):
                s += q[j, c] * x[i, j]
            coef[c] = s
        for j in range(p):
            s = x[i, j]
            for c in range(k):
                s -= q[j, c] * coef[c]
            out[i, j] = s


def detrend(x: npt.ArrayLike, order: int = 1) -> FloatArray:
    """Subtract the least-squares polynomial of degree ``order`` from each spectrum.

    Orders 0 and 1 equal ``scipy.signal.detrend(x, type="constant" | "linear", axis=-1)``.

    >>> detrend(np.array([[1.0, 3.0, 5.0, 7.0]])).round(12).tolist()
    [[0.0, 0.0, 0.0, 0.0]]
    """
    arr, was_1d = as_spectra(x)
    order = check_int(order, "order", minimum=0)
    if order >= arr.shape[1]:
        msg = (
            "'order' must be smaller than the number of points; "
            f"got order={order}, n_points={arr.shape[1]}"
        )
        raise ValueError(msg)
    q = _basis(arr.shape[1], order).astype(arr.dtype)
    out = np.empty_like(arr)
    _detrend(arr, q, out)
    return restore(out, was_1d)
