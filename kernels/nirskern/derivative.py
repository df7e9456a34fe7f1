"""Savitzky-Golay smoothing and derivatives with scipy's ``mode="interp"`` edges.

References
----------
Savitzky & Golay (1964), Anal. Chem. 36(8), 1627-1639.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Literal

import numpy as np
import numpy.typing as npt

from nirskern._jit import jit, jit_row
from nirskern._taps import correlate_valid
from nirskern._validate import INF_MESSAGE, FloatArray, as_spectra, check_int, output, restore
from nirskern.finite import row_has_inf
from nirskern.smooth import moving_average_row, moving_average_scratch


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


@jit_row
def savgol_row(row: FloatArray, centre: FloatArray, full: FloatArray, o: FloatArray) -> None:
    """Savitzky-Golay filter of one spectrum ``row`` into ``o`` (weights from :func:`_weights`)."""
    p = row.shape[0]
    w = centre.shape[0]
    h = w // 2
    correlate_valid(row, centre, o[h : p - h])  # see nirskern._taps
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


@jit
def _savgol(
    x: FloatArray,
    centre: FloatArray,
    full: FloatArray,
    out: FloatArray,
    reject_inf: bool,  # noqa: FBT001
) -> bool:
    for i in range(x.shape[0]):
        savgol_row(x[i], centre, full, out[i])
        if reject_inf and row_has_inf(x[i]):  # the row is still in L1
            return True
    return False


def savgol(
    x: npt.ArrayLike,
    window_length: int,
    polyorder: int,
    *,
    deriv: int = 0,
    delta: float | Literal["axis"] = 1.0,
    x_axis: npt.ArrayLike | None = None,
    out: FloatArray | None = None,
    reject_inf: bool = False,
) -> FloatArray:
    """Savitzky-Golay filter along each spectrum, equal to ``scipy.signal.savgol_filter(x, ...,
    axis=-1)`` with its default ``mode="interp"``.

    ``delta="axis"`` uses the mean spacing of ``x_axis``, ``|x_axis[-1] - x_axis[0]| / (n - 1)``
    (the filter itself assumes equally spaced points). The result is written into ``out`` when
    given (same shape and dtype, not overlapping ``x``). With ``reject_inf``, an inf in ``x``
    raises ValueError (each row checked while it is in cache).

    >>> savgol(np.array([[1.0, 4.0, 9.0, 16.0, 25.0]]), 3, 2, deriv=1).round(12).tolist()
    [[2.0, 4.0, 6.0, 8.0, 10.0]]
    >>> out = savgol([1.0, 4.0, 9.0], 3, 2, deriv=1, delta="axis", x_axis=[0.0, 2.0, 4.0])
    >>> out.round(12).tolist()
    [1.0, 2.0, 3.0]
    """
    arr, was_1d = as_spectra(x)
    centre, full = savgol_weights(arr, window_length, polyorder, deriv, delta, x_axis)
    res = output(out, arr, was_1d=was_1d)
    if _savgol(arr, centre, full, res, reject_inf):
        raise ValueError(INF_MESSAGE.format(arr.dtype))
    return restore(res, was_1d) if out is None else out


def savgol_weights(
    arr: FloatArray,
    window_length: int,
    polyorder: int,
    deriv: int,
    delta: float | Literal["axis"],
    x_axis: npt.ArrayLike | None,
) -> tuple[FloatArray, FloatArray]:
    """Checked parameters of :func:`savgol` for the spectra ``arr``, as the interior and edge
    weights in ``arr``'s dtype."""
    _check_savgol(window_length, polyorder, deriv)
    if isinstance(delta, str) and delta == "axis":
        if x_axis is None:
            msg = "delta='axis' needs 'x_axis'; got x_axis=None"
            raise ValueError(msg)
        axis = _check_axis(x_axis, arr.shape[1])
        delta = float(abs(axis[-1] - axis[0]) / (axis.shape[0] - 1)) if axis.shape[0] > 1 else 1.0
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
    return centre.astype(arr.dtype), full.astype(arr.dtype)


# -- finite differences (np.gradient) ---------------------------------------------------------


def _gradient_stencil(
    axis: FloatArray, edge_order: int
) -> tuple[npt.NDArray[np.int64], FloatArray]:
    """Start index and 3 weights per output point reproducing ``np.gradient(f, axis, edge_order)``.

    Output ``j`` is ``sum_k weights[j, k] * f[start[j] + k]`` (weights of unused taps are 0). The
    coefficient formulas are numpy's: second-order accurate central differences inside, one-sided
    differences of order ``edge_order`` at the ends, and numpy's uniform-step special case when
    every step is exactly equal.
    """
    n = axis.shape[0]
    width = min(3, n)
    start = np.zeros(n, dtype=np.int64)
    w = np.zeros((n, width))
    dx = np.diff(axis)
    uniform = bool(np.all(dx == dx[0]))
    if n > 2:
        start[1:-1] = np.arange(n - 2)
        if uniform:
            w[1:-1, 0] = -1.0 / (2.0 * dx[0])
            w[1:-1, 2] = 1.0 / (2.0 * dx[0])
        else:
            dx1, dx2 = dx[:-1], dx[1:]
            w[1:-1, 0] = -dx2 / (dx1 * (dx1 + dx2))
            w[1:-1, 1] = (dx2 - dx1) / (dx1 * dx2)
            w[1:-1, 2] = dx1 / (dx2 * (dx1 + dx2))
    start[-1] = n - width
    if edge_order == 1:
        w[0, 0], w[0, 1] = -1.0 / dx[0], 1.0 / dx[0]
        w[-1, width - 2], w[-1, width - 1] = -1.0 / dx[-1], 1.0 / dx[-1]
    elif uniform:
        h = dx[0]
        w[0] = [-1.5 / h, 2.0 / h, -0.5 / h]
        w[-1] = [0.5 / h, -2.0 / h, 1.5 / h]
    else:
        d1, d2 = dx[0], dx[1]
        w[0] = [
            -(2.0 * d1 + d2) / (d1 * (d1 + d2)),
            (d1 + d2) / (d1 * d2),
            -d1 / (d2 * (d1 + d2)),
        ]
        d1, d2 = dx[-2], dx[-1]
        w[-1] = [
            d2 / (d1 * (d1 + d2)),
            -(d2 + d1) / (d1 * d2),
            (2.0 * d2 + d1) / (d2 * (d1 + d2)),
        ]
    return start, w


@jit_row
def _gradient_row(
    r: FloatArray, start: npt.NDArray[np.int64], w: FloatArray, wt: FloatArray, o: FloatArray
) -> None:
    """``o[j] = sum_k w[j, k] * r[start[j] + k]`` over the taps with a nonzero weight (so that an
    inf outside the stencil cannot turn into ``0 * inf = NaN``), the taps added left to right.

    The interior (``start[j] = j - 1``, weights ``wt[:, j]``, contiguous) is one loop that LLVM
    vectorises: the middle weight is 0 on a uniform axis and its product is then replaced by 0
    (a select, not a branch); adding that 0 leaves the sum's bits as they were. The two ends take
    the general loop.
    """
    p = r.shape[0]
    m = max(p - 2, 0)  # interior points; slices from 0 (an index j - 1 would not vectorise)
    w0, w1, w2 = wt[0, 1 : m + 1], wt[1, 1 : m + 1], wt[2, 1 : m + 1]
    left, mid, right, inner = r[:m], r[1 : m + 1], r[2 : m + 2], o[1 : m + 1]
    for j in range(m):
        b = w1[j] * mid[j] if w1[j] != 0.0 else 0.0
        inner[j] = (w0[j] * left[j] + b) + w2[j] * right[j]
    for j in (0, p - 1):
        s = 0.0
        for k in range(w.shape[1]):
            c = w[j, k]
            if c != 0.0:
                s += c * r[start[j] + k]
        o[j] = s


@jit
def _gradient(
    x: FloatArray,
    start: npt.NDArray[np.int64],
    w: FloatArray,
    wt: FloatArray,
    deriv: int,
    out: FloatArray,
) -> None:
    # The second derivative applies the stencil again to each row's first derivative, held in
    # a scratch row (it never becomes a matrix).
    scratch = np.empty(x.shape[1], dtype=out.dtype)
    for i in range(x.shape[0]):
        if deriv == 1:
            _gradient_row(x[i], start, w, wt, out[i])
        else:
            _gradient_row(x[i], start, w, wt, scratch)
            _gradient_row(scratch, start, w, wt, out[i])


@lru_cache(maxsize=16)
def _stencil(
    axis_bytes: bytes, shape: tuple[int, ...], n_points: int, edge_order: int
) -> tuple[npt.NDArray[np.int64], FloatArray, FloatArray]:
    """The checked axis's :func:`_gradient_stencil` and its interior weights by tap (``wt[k]``
    contiguous; zeros where a row has no interior). Memoised on the axis bytes: an operator
    differentiates block after block of rows on the same axis, and this costs more than a block.
    """
    axis = _check_axis(np.frombuffer(axis_bytes).reshape(shape), n_points)
    start, w = _gradient_stencil(axis, edge_order)
    wt = np.zeros((3, n_points))
    if n_points > 2:
        wt[:, 1:-1] = w[1:-1].T
    return start, w, wt


def _check_axis(x_axis: npt.ArrayLike | None, n_points: int) -> FloatArray:
    """The axis values as float64 (``0..n_points-1`` when None), checked against the width."""
    if x_axis is None:
        return np.arange(n_points, dtype=np.float64)
    axis = np.asarray(x_axis, dtype=np.float64)
    if axis.ndim != 1 or axis.shape[0] != n_points:
        msg = (
            "'x_axis' must be 1-D with one value per point; "
            f"got shape {axis.shape}, n_points={n_points}"
        )
        raise ValueError(msg)
    if not np.all(np.isfinite(axis)):
        msg = "'x_axis' must be finite"
        raise ValueError(msg)
    steps = np.diff(axis)
    if not (np.all(steps > 0) or np.all(steps < 0)):
        msg = "'x_axis' must be strictly increasing or strictly decreasing"
        raise ValueError(msg)
    return axis


def derivative(
    x: npt.ArrayLike,
    *,
    deriv: int = 1,
    x_axis: npt.ArrayLike | None = None,
    edge_order: int = 1,
    out: FloatArray | None = None,
) -> FloatArray:
    """First or second derivative by finite differences along a (possibly non-uniform) axis.

    ``deriv=1`` equals ``np.gradient(x, x_axis, axis=-1, edge_order=edge_order)``: second-order
    accurate central differences inside (exact for quadratics on any spacing), one-sided
    differences at the ends. ``deriv=2`` applies the same gradient twice. ``x_axis=None`` means
    unit spacing (channel index); a decreasing axis (cm-1) gives derivatives with respect to the
    axis values as stored. The result is written into ``out`` when given (same shape and dtype,
    not overlapping ``x``).

    Parameters
    ----------
    x
        Spectra ``(n_samples, n_points)`` or one spectrum.
    deriv
        1 or 2.
    x_axis
        Positions of the points (strictly monotonic), or None for unit spacing.
    edge_order
        Accuracy order of the one-sided differences at the ends (1 or 2).

    Examples
    --------
    >>> derivative(np.array([[0.0, 1.0, 4.0, 9.0]]), x_axis=[0.0, 1.0, 2.0, 3.0]).tolist()
    [[1.0, 2.0, 4.0, 5.0]]
    """
    arr, was_1d = as_spectra(x)
    deriv = check_int(deriv, "deriv", minimum=1)
    if deriv > 2:
        msg = f"'deriv' must be 1 or 2; got deriv={deriv}"
        raise ValueError(msg)
    edge_order = check_int(edge_order, "edge_order", minimum=1)
    if edge_order > 2:
        msg = f"'edge_order' must be 1 or 2; got edge_order={edge_order}"
        raise ValueError(msg)
    p = arr.shape[1]
    if p < edge_order + 1:
        msg = (
            "spectra need at least edge_order + 1 points for a derivative; "
            f"got n_points={p}, edge_order={edge_order}"
        )
        raise ValueError(msg)
    axis = np.arange(p, dtype=np.float64) if x_axis is None else np.asarray(x_axis, np.float64)
    start, w, wt = _stencil(axis.tobytes(), axis.shape, p, edge_order)
    res = output(out, arr, was_1d=was_1d)
    _gradient(arr, start, w, wt, deriv, res)
    return restore(res, was_1d) if out is None else out


# -- Norris-Williams gap-segment derivative ---------------------------------------------------


@jit_row
def _gap_difference_row(s: FloatArray, gap: int, scale: float, o: FloatArray) -> None:
    p = s.shape[0]
    # Edge points repeat beyond the ends (mode "nearest"), as in nirs4all; the interior, where
    # both points are inside, is one branch-free (vectorised) loop.
    for j in range(min(gap, p)):
        o[j] = (s[min(j + gap, p - 1)] - s[0]) * scale
    # Over slices from 0: numba checks an index it cannot prove non-negative (``j - gap``) for
    # wraparound, and that loop does not vectorise (0.8 -> 0.1 ns per point).
    ahead, behind, inner = s[2 * gap :], s[: max(p - 2 * gap, 0)], o[gap : max(p - gap, gap)]
    for j in range(inner.shape[0]):
        inner[j] = (ahead[j] - behind[j]) * scale
    for j in range(max(p - gap, gap), p):
        o[j] = (s[p - 1] - s[max(j - gap, 0)]) * scale


@jit
def _norris_williams(
    x: FloatArray,
    segment: int,
    gap: int,
    scale: float,
    deriv: int,
    out: FloatArray,
    reject_inf: bool,  # noqa: FBT001
) -> bool:
    # Row by row: each order's moving average and gap difference go through scratch rows
    # while the spectrum is in cache (no intermediate matrix).
    p = x.shape[1]
    buf, sources = moving_average_scratch(p, segment, 2)  # 2: mode "nearest"
    smoothed = np.empty(p, dtype=out.dtype)
    first = np.empty(p, dtype=out.dtype)  # the first derivative when deriv == 2
    for i in range(x.shape[0]):
        src = x[i]
        for d in range(deriv):
            s = src
            if segment > 1:
                moving_average_row(src, segment, sources, 0.0, buf, smoothed)
                s = smoothed
            dst = out[i] if d == deriv - 1 else first
            _gap_difference_row(s, gap, scale, dst)
            src = first
        if reject_inf and row_has_inf(x[i]):  # the row is still in cache
            return True
    return False


def norris_williams(
    x: npt.ArrayLike,
    *,
    segment: int = 5,
    gap: int = 5,
    deriv: int = 1,
    delta: float = 1.0,
    out: FloatArray | None = None,
    reject_inf: bool = False,
) -> FloatArray:
    """Norris-Williams gap-segment derivative of each spectrum.

    Each derivative order is a centred moving average over ``segment`` points followed by the gap
    difference ``(s[j + gap] - s[j - gap]) / (2 * gap * delta)``; both steps repeat the edge points
    beyond the ends (mode ``"nearest"``). ``deriv=2`` applies the pair twice. This is the
    definition of nirs4all's ``NorrisWilliams`` (Norris & Williams 1984). The result is written
    into ``out`` when given (same shape and dtype, not overlapping ``x``). With ``reject_inf``, an
    inf in ``x`` raises ValueError (each row checked while it is in cache).

    Parameters
    ----------
    x
        Spectra ``(n_samples, n_points)`` or one spectrum.
    segment
        Odd number of points of the smoothing segment (1: no smoothing).
    gap
        Distance in points between the centre and each of the two differenced points (>= 1).
    deriv
        1 or 2.
    delta
        Spacing of the points; each derivative order is divided by it.

    References
    ----------
    Norris, K. H. & Williams, P. C. (1984). Optimization of mathematical treatments of raw
    near-infrared signal in the measurement of protein in hard red spring wheat. I. Influence of
    particle size. Cereal Chemistry 61(2), 158-165.

    Examples
    --------
    >>> norris_williams(np.array([[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]]), segment=1, gap=1).tolist()
    [[0.5, 1.0, 1.0, 1.0, 1.0, 0.5]]
    """
    arr, was_1d = as_spectra(x)
    segment = check_int(segment, "segment", minimum=1)
    if segment % 2 == 0:
        msg = f"'segment' must be odd; got segment={segment}"
        raise ValueError(msg)
    gap = check_int(gap, "gap", minimum=1)
    deriv = check_int(deriv, "deriv", minimum=1)
    if deriv > 2:
        msg = f"'deriv' must be 1 or 2; got deriv={deriv}"
        raise ValueError(msg)
    if not (isinstance(delta, int | float) and math.isfinite(delta) and delta > 0):
        msg = f"'delta' must be a positive finite number; got delta={delta!r}"
        raise ValueError(msg)
    res = output(out, arr, was_1d=was_1d)
    scale = 1.0 / (2.0 * gap * float(delta))
    if _norris_williams(arr, segment, gap, scale, deriv, res, reject_inf):
        raise ValueError(INF_MESSAGE.format(arr.dtype))
    return restore(res, was_1d) if out is None else out
