"""Deterministic loops behind the spectral augmentations: axis warps and band masks.

The random draws (shifts, factors, band positions) are made by the caller; these kernels only
apply them, so the same draws always give the same spectra.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from nirskern._jit import jit
from nirskern._validate import FloatArray, as_spectra, restore

IntArray = npt.NDArray[np.int64]


@jit
def _warp(
    x: FloatArray, axis: FloatArray, offset: FloatArray, scale: FloatArray, out: FloatArray
) -> None:
    n, p = x.shape
    lo = axis[0]
    hi = axis[p - 1]
    for i in range(n):
        k = 0
        for j in range(p):
            q = offset[i] + scale[i] * axis[j]
            # Outside the measured range the edge value is held (no extrapolation).
            if q <= lo:
                out[i, j] = x[i, 0]
                continue
            if q >= hi:
                out[i, j] = x[i, p - 1]
                continue
            # scale > 0, so q increases with j: the interval pointer only moves forward.
            while axis[k + 1] <= q:
                k += 1
            while axis[k] > q:
                k -= 1
            t = (q - axis[k]) / (axis[k + 1] - axis[k])
            # (1 - t) * a + t * b is exact at both nodes (t = 0 or 1), so a whole-point shift on
            # an integer axis reproduces the original values bit for bit.
            out[i, j] = (1.0 - t) * x[i, k] + t * x[i, k + 1]


def warp(
    x: npt.ArrayLike, x_axis: npt.ArrayLike, offset: npt.ArrayLike, scale: npt.ArrayLike
) -> FloatArray:
    """Resample each spectrum at ``offset[i] + scale[i] * x_axis`` (linear, edges held).

    Row ``i`` of the result at point ``j`` is spectrum ``i`` read at the axis position
    ``offset[i] + scale[i] * x_axis[j]``. ``offset = -s, scale = 1`` shifts the spectrum by ``s``
    axis units towards higher values; ``scale = 1 / f, offset = c * (1 - 1 / f)`` stretches it by
    ``f`` around ``c``. Positions outside the axis take the edge value. The axis may be increasing
    or decreasing.

    >>> warp(np.array([[1.0, 2.0, 4.0, 8.0]]), [0.0, 1.0, 2.0, 3.0], [-1.0], [1.0]).tolist()
    [[1.0, 1.0, 2.0, 4.0]]
    """
    arr, was_1d = as_spectra(x)
    n, p = arr.shape
    axis = np.ascontiguousarray(x_axis, dtype=np.float64)
    off = np.ascontiguousarray(offset, dtype=np.float64)
    sc = np.ascontiguousarray(scale, dtype=np.float64)
    if axis.shape != (p,):
        msg = f"'x_axis' must have one value per point; got shape {axis.shape}, n_points={p}"
        raise ValueError(msg)
    if off.shape != (n,) or sc.shape != (n,):
        msg = (
            "'offset' and 'scale' must have one value per spectrum; "
            f"got shapes {off.shape} and {sc.shape}, n_spectra={n}"
        )
        raise ValueError(msg)
    if not (np.all(np.isfinite(off)) and np.all(np.isfinite(sc)) and np.all(sc > 0)):
        msg = "'offset' must be finite and 'scale' finite and > 0"
        raise ValueError(msg)
    steps = np.diff(axis)
    if p > 1 and not (np.all(steps > 0) or np.all(steps < 0)):
        msg = "'x_axis' must be strictly increasing or strictly decreasing"
        raise ValueError(msg)
    out = np.empty_like(arr)
    if p == 1:
        out[:] = arr
    elif steps[0] > 0:
        _warp(arr, axis, off, sc, out)
    else:
        # Positions are axis values, so reversing the axis and the points changes nothing but
        # the order in which they are stored.
        rev = np.empty_like(arr)
        _warp(np.ascontiguousarray(arr[:, ::-1]), axis[::-1].copy(), off, sc, rev)
        out[:] = rev[:, ::-1]
    return restore(out, was_1d)


@jit
def _mask_bands(
    x: FloatArray,
    start: IntArray,
    width: IntArray,
    interpolate: bool,  # noqa: FBT001 (numba kernels take positional arguments)
    out: FloatArray,
) -> None:
    n, p = x.shape
    for i in range(n):
        for j in range(p):
            out[i, j] = x[i, j]
        s = start[i]
        e = s + width[i]  # first point after the band
        if not interpolate:
            for j in range(s, e):
                out[i, j] = 0.0
            continue
        # Linear between the two points that flank the band; at an edge, hold the other flank.
        left = x[i, s - 1] if s > 0 else x[i, e]
        right = x[i, e] if e < p else x[i, s - 1]
        span = e - s + 1
        for j in range(s, e):
            t = (j - s + 1) / span
            out[i, j] = (1.0 - t) * left + t * right


def mask_bands(
    x: npt.ArrayLike, start: npt.ArrayLike, width: npt.ArrayLike, *, interpolate: bool
) -> FloatArray:
    """Overwrite points ``start[i] : start[i] + width[i]`` of each spectrum.

    With ``interpolate=False`` the band becomes 0; otherwise it becomes the straight line between
    the points just before and just after it (the single flank when the band touches an edge).
    At least one point of each spectrum must stay outside its band.

    >>> x = np.array([[1.0, 9.0, 9.0, 4.0, 5.0]])
    >>> mask_bands(x, [1], [2], interpolate=True).tolist()
    [[1.0, 2.0, 3.0, 4.0, 5.0]]
    """
    arr, was_1d = as_spectra(x)
    n, p = arr.shape
    st = np.ascontiguousarray(start, dtype=np.int64)
    wd = np.ascontiguousarray(width, dtype=np.int64)
    if st.shape != (n,) or wd.shape != (n,):
        msg = (
            "'start' and 'width' must have one value per spectrum; "
            f"got shapes {st.shape} and {wd.shape}, n_spectra={n}"
        )
        raise ValueError(msg)
    if np.any(st < 0) or np.any(wd < 1) or np.any(st + wd > p) or np.any(wd >= p):
        msg = (
            "each band must lie inside the spectrum and leave at least one point: "
            f"0 <= start, 1 <= width < n_points, start + width <= n_points; n_points={p}"
        )
        raise ValueError(msg)
    out = np.empty_like(arr)
    _mask_bands(arr, st, wd, interpolate, out)
    return restore(out, was_1d)
