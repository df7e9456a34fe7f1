"""Axis operations: crop to a range and resample onto a new grid (linear or cubic spline).

The source axis may be increasing (nm) or decreasing (cm-1); the target grid may run either way.
Everything that depends only on the two axes (interval indices, offsets, the factorised spline
system) is computed once per call; the per-spectrum loops are numba kernels.

References
----------
de Boor, C. (1978). A Practical Guide to Splines (not-a-knot end conditions), as implemented by
``scipy.interpolate.CubicSpline``.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from nirskern._jit import jit
from nirskern._validate import FloatArray, as_spectra, output, restore

IntArray = npt.NDArray[np.int64]

METHODS = ("linear", "cubic")


def _as_axis(values: npt.ArrayLike, name: str, n_points: int | None = None) -> FloatArray:
    axis = np.asarray(values, dtype=np.float64)
    if axis.ndim != 1 or axis.shape[0] == 0:
        msg = f"'{name}' must be a non-empty 1-D sequence; got shape {axis.shape}"
        raise ValueError(msg)
    if n_points is not None and axis.shape[0] != n_points:
        msg = (
            f"'{name}' must have one value per point; "
            f"got {axis.shape[0]} values, n_points={n_points}"
        )
        raise ValueError(msg)
    if not np.all(np.isfinite(axis)):
        msg = f"'{name}' must be finite"
        raise ValueError(msg)
    return axis


def _check_monotonic(axis: FloatArray, name: str) -> None:
    steps = np.diff(axis)
    if not (np.all(steps > 0) or np.all(steps < 0)):
        msg = f"'{name}' must be strictly increasing or strictly decreasing"
        raise ValueError(msg)


def crop_mask(x_axis: npt.ArrayLike, lower: float, upper: float) -> npt.NDArray[np.bool_]:
    """The points kept by :func:`crop`: ``lower <= x_axis <= upper``.

    >>> crop_mask([1000.0, 1002.0, 1004.0], 1001, 1004).tolist()
    [False, True, True]
    """
    axis = _as_axis(x_axis, "x_axis")
    if math.isnan(lower) or math.isnan(upper):
        msg = f"'lower' and 'upper' must not be NaN; got lower={lower!r}, upper={upper!r}"
        raise ValueError(msg)
    if lower > upper:
        msg = f"'lower' must not exceed 'upper'; got lower={lower!r}, upper={upper!r}"
        raise ValueError(msg)
    mask: npt.NDArray[np.bool_] = (axis >= lower) & (axis <= upper)
    if not mask.any():
        msg = (
            f"crop range [{lower}, {upper}] keeps no point of the axis [{axis.min()}, {axis.max()}]"
        )
        raise ValueError(msg)
    return mask


def crop(x: npt.ArrayLike, x_axis: npt.ArrayLike, lower: float, upper: float) -> FloatArray:
    """The points of each spectrum whose axis value lies in ``[lower, upper]`` (order kept).

    >>> crop(np.array([[1.0, 2.0, 3.0]]), [900.0, 902.0, 904.0], 901, 904).tolist()
    [[2.0, 3.0]]
    """
    arr, was_1d = as_spectra(x)
    _as_axis(x_axis, "x_axis", arr.shape[1])
    mask = crop_mask(x_axis, lower, upper)
    out = np.ascontiguousarray(arr[:, mask])
    return restore(out, was_1d)


# -- grid preparation --------------------------------------------------------------------------


def _increasing(axis: FloatArray) -> tuple[FloatArray, bool]:
    """The axis in increasing order and whether it was reversed."""
    if axis.shape[0] > 1 and axis[1] < axis[0]:
        return np.ascontiguousarray(axis[::-1]), True
    return axis, False


def _locate(xp: FloatArray, target: FloatArray) -> tuple[IntArray, FloatArray, FloatArray]:
    """Interval ``j`` with ``xp[j] <= t < xp[j + 1]`` (the last interval for ``t == xp[-1]``),
    the offset ``t - xp[j]`` and the interval width, as numpy's ``interp`` and scipy's ``PPoly``
    find them."""
    n = xp.shape[0]
    j = np.searchsorted(xp, target, side="right") - 1
    j = np.clip(j, 0, max(n - 2, 0)).astype(np.int64)
    u = target - xp[j]
    h = xp[np.minimum(j + 1, n - 1)] - xp[j]
    return j, u, h


# -- linear --------------------------------------------------------------------------------------


@jit
def _linear(
    y: FloatArray, j: IntArray, u: FloatArray, h: FloatArray, exact: IntArray, out: FloatArray
) -> None:
    n = y.shape[0]
    m = j.shape[0]
    for i in range(n):
        row = y[i]
        for t in range(m):
            k = j[t]
            if exact[t] >= 0:
                # A target on a source point copies it (np.interp does the same).
                out[i, t] = row[exact[t]]
                continue
            # np.interp's formula and order of operations, so results are bit-identical.
            slope = (row[k + 1] - row[k]) / h[t]
            v = slope * u[t] + row[k]
            if math.isnan(v):
                v = slope * (u[t] - h[t]) + row[k + 1]
                if math.isnan(v) and row[k] == row[k + 1]:
                    v = row[k]
            out[i, t] = v


# -- not-a-knot cubic spline -------------------------------------------------------------------


def _spline_system(
    xp: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, IntArray]:
    """Thomas factorisation of scipy's tridiagonal system for the knot slopes, and its rhs.

    Returns ``(lower, inv_diag, upper, rhs_w, rhs_i)``: after forward elimination, ``lower[i]`` is
    the multiplier of row ``i``, ``inv_diag[i]`` the inverse pivot, ``upper[i]`` the
    super-diagonal; row ``i`` of the right-hand side is
    ``rhs_w[i, 0] * slope[rhs_i[i, 0]] + rhs_w[i, 1] * slope[rhs_i[i, 1]]``. The system is that
    of ``scipy.interpolate.CubicSpline`` with ``bc_type="not-a-knot"`` (the parabola through the
    points for three points, the line for two).
    """
    n = xp.shape[0]
    dx = np.diff(xp)
    sub = np.zeros(n)  # A[i, i-1]
    diag = np.ones(n)
    sup = np.zeros(n)  # A[i, i+1]
    rhs_w = np.zeros((n, 2))
    rhs_i = np.zeros((n, 2), dtype=np.int64)
    if n == 2:  # both slopes equal the chord's
        rhs_w[:, 0] = 1.0
    elif n == 3:  # not-a-knot at both ends of 3 points: the parabola
        sup[0] = 1.0
        sub[1], diag[1], sup[1] = dx[1], 2.0 * (dx[0] + dx[1]), dx[0]
        sub[2] = 1.0
        rhs_w[0] = (2.0, 0.0)
        rhs_w[1] = (3.0 * dx[1], 3.0 * dx[0])
        rhs_i[1] = (0, 1)
        rhs_w[2] = (0.0, 2.0)
        rhs_i[2] = (0, 1)
    else:
        # Interior rows: dx[i] s[i-1] + 2 (dx[i-1] + dx[i]) s[i] + dx[i-1] s[i+1]
        #                = 3 (dx[i] slope[i-1] + dx[i-1] slope[i]).
        diag[1:-1] = 2.0 * (dx[:-1] + dx[1:])
        sup[1:-1] = dx[:-1]
        sub[1:-1] = dx[1:]
        rhs_w[1:-1, 0] = 3.0 * dx[1:]
        rhs_w[1:-1, 1] = 3.0 * dx[:-1]
        rhs_i[1:-1, 0] = np.arange(n - 2)
        rhs_i[1:-1, 1] = np.arange(1, n - 1)
        # Not-a-knot ends: the third derivative is continuous at the second and last-but-one knot.
        d = xp[2] - xp[0]
        diag[0], sup[0] = dx[1], d
        rhs_w[0] = ((dx[0] + 2.0 * d) * dx[1] / d, dx[0] ** 2 / d)
        rhs_i[0] = (0, 1)
        d = xp[-1] - xp[-3]
        diag[-1], sub[-1] = dx[-2], d
        rhs_w[-1] = (dx[-1] ** 2 / d, (2.0 * d + dx[-1]) * dx[-2] / d)
        rhs_i[-1] = (n - 3, n - 2)
    # Forward elimination without pivoting: after the not-a-knot first row the next pivot is
    # dx0 + dx1 > 0 and the interior rows are diagonally dominant, so pivoting is not needed.
    lower = np.zeros(n)
    inv_diag = np.zeros(n)
    inv_diag[0] = 1.0 / diag[0]
    for i in range(1, n):
        lower[i] = sub[i] * inv_diag[i - 1]
        inv_diag[i] = 1.0 / (diag[i] - lower[i] * sup[i - 1])
    return lower, inv_diag, sup, rhs_w, rhs_i


@jit
def _cubic(
    y: FloatArray,
    dx: FloatArray,
    lower: FloatArray,
    inv_diag: FloatArray,
    upper: FloatArray,
    rhs_w: FloatArray,
    rhs_i: IntArray,
    j: IntArray,
    u: FloatArray,
    exact: IntArray,
    out: FloatArray,
) -> None:
    n, p = y.shape
    m = j.shape[0]
    slope = np.empty(p - 1)
    s = np.empty(p)
    for i in range(n):
        row = y[i]
        for k in range(p - 1):
            slope[k] = (row[k + 1] - row[k]) / dx[k]
        # Right-hand side and forward substitution (the factorisation depends on the axis only).
        for k in range(p):
            b = rhs_w[k, 0] * slope[rhs_i[k, 0]] + rhs_w[k, 1] * slope[rhs_i[k, 1]]
            if k > 0:
                b -= lower[k] * s[k - 1]
            s[k] = b
        s[p - 1] *= inv_diag[p - 1]
        for k in range(p - 2, -1, -1):
            s[k] = (s[k] - upper[k] * s[k + 1]) * inv_diag[k]
        # Hermite cubic on each interval: scipy's PPoly coefficients, Horner evaluation.
        for t in range(m):
            if exact[t] >= 0:
                # On a knot the spline interpolates: copy the value (exact identity resampling).
                out[i, t] = row[exact[t]]
                continue
            k = j[t]
            h = dx[k]
            sl = slope[k]
            tt = (s[k] + s[k + 1] - 2.0 * sl) / h
            c0 = tt / h
            c1 = (sl - s[k]) / h - tt
            v = u[t]
            out[i, t] = ((c0 * v + c1) * v + s[k]) * v + row[k]


def resample(
    x: npt.ArrayLike,
    x_axis: npt.ArrayLike,
    target: npt.ArrayLike,
    *,
    method: str = "linear",
    out: FloatArray | None = None,
) -> FloatArray:
    """Each spectrum interpolated from ``x_axis`` onto the ``target`` grid.

    ``method="linear"`` equals ``np.interp(target, axis, row)`` bit for bit (on the axis sorted
    increasingly); ``"cubic"`` equals ``scipy.interpolate.CubicSpline(axis, row)`` (not-a-knot
    ends) to ~1e-15 relative. Both axes may be increasing or decreasing; every target must lie
    inside the source range (no extrapolation). The result is written into ``out`` when given
    (``len(target)`` points per spectrum, the dtype of ``x``, not overlapping ``x``).

    Parameters
    ----------
    x
        Spectra ``(n_samples, n_points)`` or one spectrum.
    x_axis
        Source positions, strictly monotonic, one per point.
    target
        Positions to interpolate at (any order, inside the source range).
    method
        ``"linear"`` or ``"cubic"``.

    Examples
    --------
    >>> resample(np.array([[0.0, 10.0, 20.0]]), [1000.0, 1002.0, 1004.0], [1001.0, 1003.0]).tolist()
    [[5.0, 15.0]]
    """
    arr, was_1d = as_spectra(x)
    if method not in METHODS:
        msg = f"'method' must be one of {list(METHODS)}; got method={method!r}"
        raise ValueError(msg)
    axis = _as_axis(x_axis, "x_axis", arr.shape[1])
    grid = _as_axis(target, "target")
    reversed_, j, u, h, exact, spline = _plan(axis.tobytes(), grid.tobytes(), method)
    y = np.ascontiguousarray(arr[:, ::-1]) if reversed_ else arr
    res = output(out, arr, was_1d=was_1d, n_points=grid.shape[0])
    if spline is None:
        _linear(y, j, u, h, exact, res)
    else:
        _cubic(y, *spline, j, u, exact, res)
    return restore(res, was_1d) if out is None else out


#: The spline system of :func:`_spline_system` with the knot spacings first (``_cubic``'s order).
Spline = tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, IntArray]


@lru_cache(maxsize=16)
def _plan(
    axis_bytes: bytes, grid_bytes: bytes, method: str
) -> tuple[bool, IntArray, FloatArray, FloatArray, IntArray, Spline | None]:
    """Everything :func:`resample` derives from the two axes, checked (memoised on their bytes:
    an operator resamples block after block of rows onto the same grid, and this preparation
    costs more than interpolating a block): whether the source axis is reversed, each target's
    interval, offset and width, the targets that fall on a source point, and the spline system
    for ``method="cubic"`` (None for linear)."""
    axis = np.frombuffer(axis_bytes)
    grid = np.frombuffer(grid_bytes)
    _check_monotonic(axis, "x_axis")
    lo, hi = float(axis.min()), float(axis.max())
    if grid.min() < lo or grid.max() > hi:
        msg = (
            f"'target' must lie inside the source axis range [{lo}, {hi}]; "
            f"got [{grid.min()}, {grid.max()}]"
        )
        raise ValueError(msg)
    if axis.shape[0] < 2:
        msg = f"resampling needs at least 2 source points; got n_points={axis.shape[0]}"
        raise ValueError(msg)
    xp, reversed_ = _increasing(axis)
    j, u, h = _locate(xp, grid)
    # Targets that fall exactly on a source point (index, else -1).
    exact = np.full(grid.shape[0], -1, dtype=np.int64)
    on_left = xp[j] == grid
    exact[on_left] = j[on_left]
    exact[grid == xp[-1]] = xp.shape[0] - 1
    spline = (np.diff(xp), *_spline_system(xp)) if method == "cubic" else None
    return reversed_, j, u, h, exact, spline
