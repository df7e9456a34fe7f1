"""Savitzky-Golay smoothing and derivatives with scipy's ``mode="interp"`` edges.

References
----------
Savitzky & Golay (1964), Anal. Chem. 36(8), 1627-1639.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from nirskern._jit import jit
from nirskern._validate import FloatArray, as_spectra, check_int, restore


def _check_savgol(window_length: int, polyorder: int, deriv: int) -> None:
    check_int(window_length, "window_length", minimum=1)
    check_int(polyorder, "polyorder", minimum=0)
    check_int(deriv, "deriv", minimum=0)
    if window_length % 2 == 0:
        msg = f"'window_length' must be odd; got window_length={window_length}"
        raise ValueError(msg)
    if polyorder >= window_length:
        msg = (
            "'polyorder' must be less than 'window_length'; "
            f"got polyorder={polyorder}, window_length={window_length}"
        )
        raise ValueError(msg)


def _fit_matrix(window_length: int, polyorder: int, deriv: int, delta: float) -> FloatArray:
    """Rows ``t`` of the window: weights giving the ``deriv``-th derivative of the LS polynomial.

    Entry ``[t, j]`` is the weight of window point ``j`` in the derivative evaluated at window
    position ``t`` (positions ``0..window_length-1``), scaled by ``delta**-deriv``.
    """
    t = np.arange(window_length, dtype=np.float64)
    # Polynomial fit on a centred abscissa is better conditioned; derivatives are shift-invariant.
    tc = t - (window_length - 1) / 2.0
    vander = tc[:, np.newaxis] ** np.arange(polyorder + 1)
    pinv = np.linalg.pinv(vander)  # (order+1, window): coefficients = pinv @ y
    dvander = np.zeros((window_length, polyorder + 1))
    for k in range(deriv, polyorder + 1):
        dvander[:, k] = math.factorial(k) / math.factorial(k - deriv) * tc ** (k - deriv)
    weights: FloatArray = dvander @ pinv / delta**deriv
    return weights


@lru_cache(maxsize=64)
def _weights(
    window_length: int, polyorder: int, deriv: int, delta: float
) -> tuple[FloatArray, FloatArray]:
    full = _fit_matrix(window_length, polyorder, deriv, delta)
    full.setflags(write=False)
    centre = full[(window_length - 1) // 2].copy()
    centre.setflags(write=False)
    return centre, full


def savgol_coeffs(
    window_length: int, polyorder: int, *, deriv: int = 0, delta: float = 1.0
) -> FloatArray:
    """Interior filter weights, in correlation order (weight ``k`` multiplies ``x[i - h + k]``).

    Equal to ``scipy.signal.savgol_coeffs(..., use="dot")``.

    >>> savgol_coeffs(5, 2).round(4).tolist()
    [-0.0857, 0.3429, 0.4857, 0.3429, -0.0857]
    """
    _check_savgol(window_length, polyorder, deriv)
    return _weights(window_length, polyorder, deriv, float(delta))[0].copy()


@jit
def _savgol(x: FloatArray, centre: FloatArray, full: FloatArray, out: FloatArray) -> None:
    n, p = x.shape
    w = centre.shape[0]
    h = w // 2
    m = p - 2 * h
    for i in range(n):
        row = x[i]
        o = out[i]
        # Interior: one axpy pass per tap, which vectorises (accumulate in the output row).
        for j in range(m):
            o[h + j] = centre[0] * row[j]
        for k in range(1, w):
            c = centre[k]
            for j in range(m):
                o[h + j] += c * row[j + k]
        # Edges (scipy mode="interp"): the polynomial fitted to the first/last window,
        # evaluated at the edge positions.
        for t in range(h):
            s_left = 0.0
            s_right = 0.0
            for k in range(w):
                s_left += full[t, k] * row[k]
                s_right += full[w - h + t, k] * row[p - w + k]
            o[t] = s_left
            o[p - h + t] = s_right


def savgol(
    x: npt.ArrayLike,
    window_length: int,
    polyorder: int,
    *,
    deriv: int = 0,
    delta: float = 1.0,
) -> FloatArray:
    """Savitzky-Golay filter along each spectrum, equal to ``scipy.signal.savgol_filter(x, ...,
    axis=-1)`` with its default ``mode="interp"``.

    >>> savgol(np.array([[1.0, 4.0, 9.0, 16.0, 25.0]]), 3, 2, deriv=1).tolist()
    [[2.0, 4.0, 6.0, 8.0, 10.0]]
    """
    arr, was_1d = as_spectra(x)
    _check_savgol(window_length, polyorder, deriv)
    if not (isinstance(delta, int | float) and math.isfinite(delta) and delta > 0):
        msg = f"'delta' must be a positive finite number; got delta={delta!r}"
        raise ValueError(msg)
    if window_length > arr.shape[1]:
        msg = (
            "'window_length' must not exceed the number of points; "
            f"got window_length={window_length}, n_points={arr.shape[1]}"
        )
        raise ValueError(msg)
    centre, full = _weights(int(window_length), int(polyorder), int(deriv), float(delta))
    out = np.empty_like(arr)
    _savgol(arr, centre.astype(arr.dtype), full.astype(arr.dtype), out)
    return restore(out, was_1d)
