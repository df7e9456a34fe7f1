"""Deterministic loops behind the spectral augmentations: axis warps, band masks, drifts, mixes.

The random draws (shifts, factors, band positions) are made by the caller; these kernels only
apply them, so the same draws always give the same spectra.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from nirskern._jit import jit
from nirskern._validate import FloatArray, as_spectra, output, restore

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


@jit
def _add_polynomial(
    x: FloatArray, scale: FloatArray, coef: FloatArray, basis: FloatArray, out: FloatArray
) -> bool:
    """Fill ``out``; a row of ``x`` with NaN gives a NaN row. False (stops) at the first inf."""
    n, p = x.shape
    k = basis.shape[0]
    drift = np.empty(p)
    for i in range(n):
        for j in range(p):
            drift[j] = -0.0  # -0.0 + v is v for every v (0.0 would turn -0.0 into +0.0)
        for c in range(k):
            a = coef[i, c]
            for j in range(p):
                drift[j] += a * basis[c, j]
        s = scale[i]
        # An integer count of the non-finite inputs: unlike a float sum, it vectorises.
        bad = 0
        for j in range(p):
            v = x[i, j]
            out[i, j] = s * v + drift[j]
            bad += 0 if abs(v) < np.inf else 1
        if bad:
            for j in range(p):
                if np.isinf(x[i, j]):
                    return False
            out[i, :] = np.nan
    return True


def add_polynomial(
    x: npt.ArrayLike,
    scale: npt.ArrayLike,
    coef: npt.ArrayLike,
    basis: npt.ArrayLike,
    *,
    out: FloatArray | None = None,
) -> FloatArray:
    """``scale[:, None] * x + coef @ basis`` in one pass (no temporaries), in the dtype of ``x``
    (written into ``out`` when given: same shape and dtype, not overlapping ``x``).

    Row ``i`` is spectrum ``i`` scaled by ``scale[i]`` plus the combination of the ``k`` rows
    of ``basis`` (``(k, n_points)``) with weights ``coef[i]`` (``(n_spectra, k)``), summed in
    float64 in the order of the basis rows. A spectrum holding NaN gives a NaN row; ``x``
    holding inf raises ``ValueError`` (the same pass checks it). With ``k = 0`` and unit
    ``scale`` it is an exact copy that applies those two rules.

    >>> add_polynomial(np.array([[1.0, 2.0]]), [2.0], [[1.0, 3.0]], [[1.0, 1.0], [0.0, 1.0]])
    array([[3., 8.]])
    """
    arr, was_1d = as_spectra(x)
    n, p = arr.shape
    sc = np.ascontiguousarray(scale, dtype=np.float64)
    cf = np.ascontiguousarray(coef, dtype=np.float64)
    bs = np.ascontiguousarray(basis, dtype=np.float64)
    if sc.shape != (n,) or cf.ndim != 2 or bs.ndim != 2 or cf.shape[0] != n:
        msg = (
            "'scale' must be (n_spectra,), 'coef' (n_spectra, k) and 'basis' (k, n_points); "
            f"got {sc.shape}, {cf.shape}, {bs.shape} for x {arr.shape}"
        )
        raise ValueError(msg)
    if bs.shape != (cf.shape[1], p):
        msg = f"'basis' must be (k, n_points) = ({cf.shape[1]}, {p}); got {bs.shape}"
        raise ValueError(msg)
    res = output(out, arr, was_1d=was_1d)
    if not _add_polynomial(arr, sc, cf, bs, res):
        msg = "'x' must not contain inf"
        raise ValueError(msg)
    return restore(res, was_1d) if out is None else out


@jit
def _mix_rows(x: FloatArray, partner: IntArray, lam: FloatArray, out: FloatArray) -> None:
    n, p = x.shape
    for i in range(n):
        a = lam[i]
        b = 1.0 - a
        src = x[partner[i]]
        for j in range(p):
            out[i, j] = a * x[i, j] + b * src[j]


def mix_rows(x: npt.ArrayLike, partner: npt.ArrayLike, lam: npt.ArrayLike) -> FloatArray:
    """``lam[:, None] * x + (1 - lam[:, None]) * x[partner]`` in one pass, in the dtype of ``x``.

    >>> mix_rows(np.array([[0.0, 4.0], [2.0, 0.0]]), [1, 0], [0.25, 1.0]).tolist()
    [[1.5, 1.0], [2.0, 0.0]]
    """
    arr, was_1d = as_spectra(x)
    n = arr.shape[0]
    pt = np.ascontiguousarray(partner, dtype=np.int64)
    lm = np.ascontiguousarray(lam, dtype=np.float64)
    if pt.shape != (n,) or lm.shape != (n,):
        msg = (
            "'partner' and 'lam' must have one value per spectrum; "
            f"got shapes {pt.shape} and {lm.shape}, n_spectra={n}"
        )
        raise ValueError(msg)
    if n and (pt.min() < 0 or pt.max() >= n):
        msg = f"'partner' must index the spectra (0 <= partner < {n})"
        raise ValueError(msg)
    out = np.empty_like(arr)
    _mix_rows(arr, pt, lm, out)
    return restore(out, was_1d)


@jit
def _apply_noise(
    x: FloatArray,
    noise: FloatArray,
    scale: float,
    multiplicative: bool,  # noqa: FBT001
) -> bool:
    """``noise = x * (1 + scale * noise)`` or ``x + scale * noise`` in place, NaN rows; False at
    the first inf."""
    n, p = x.shape
    for i in range(n):
        bad = 0  # an integer count of non-finite inputs: unlike a float sum, it vectorises
        for j in range(p):
            v = x[i, j]
            e = scale * noise[i, j]
            noise[i, j] = v * (1.0 + e) if multiplicative else v + e
            bad += 0 if abs(v) < np.inf else 1
        if bad:
            for j in range(p):
                if np.isinf(x[i, j]):
                    return False
            noise[i, :] = np.nan
    return True


def apply_noise(
    x: npt.ArrayLike, noise: FloatArray, *, multiplicative: bool, scale: float = 1.0
) -> FloatArray:
    """``x + scale * noise`` or ``x * (1 + scale * noise)``, written into ``noise`` (float64,
    ``x``'s shape).

    One pass and no temporary: ``noise`` can hold standard normal draws, scaled here (``scale *
    z`` has the bits of numpy's ``normal(0, scale)``, which computes ``0 + scale * z``). A
    spectrum holding NaN gives a NaN row; ``x`` holding inf raises ``ValueError`` (the same pass
    checks it).

    >>> apply_noise(np.array([[1.0, 2.0]]), np.array([[0.5, -0.5]]), multiplicative=True).tolist()
    [[1.5, 1.0]]
    >>> apply_noise(np.array([[1.0, 2.0]]), np.array([[0.5, -0.5]]), multiplicative=False,
    ...             scale=2.0).tolist()
    [[2.0, 1.0]]
    """
    arr, _ = as_spectra(x)
    if noise.dtype != np.float64 or noise.shape != arr.shape or not noise.flags.c_contiguous:
        msg = f"'noise' must be a C-contiguous float64 array of shape {arr.shape}"
        raise ValueError(msg)
    if not _apply_noise(arr, noise, float(scale), multiplicative):
        msg = "'x' must not contain inf"
        raise ValueError(msg)
    return noise
