"""Normalisation of each spectrum (row-wise) and centring/scaling of each wavelength (column-wise).

Row-wise :func:`normalize` divides every spectrum by one of its norms. Column-wise scaling is
fitted: :func:`column_stats` learns the mean and standard deviation of each wavelength, and
:func:`center_scale` / :func:`inverse_center_scale` apply ``(x - center) / scale`` and its inverse
(mean centring, autoscaling and Pareto scaling differ only in ``scale``).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from nirskern._jit import jit
from nirskern._reduce import row_abs_sum, row_sum, row_sumsq_dev
from nirskern._validate import (
    INF_MESSAGE,
    FloatArray,
    as_spectra,
    check_int,
    output,
    restore,
)

#: Norm codes of the row kernel, by public name.
NORMS = {"area": 0, "l1": 1, "l2": 2, "max": 3, "minmax": 4}


#: Sums of squares outside [_SS_TINY, _SS_HUGE] may have underflowed or overflowed (or hold an
#: inf/NaN): those rows take the scaled path. 2**-960 leaves 2**-60 of headroom above the smallest
#: normal number, so rounding in the unscaled sum is ordinary relative rounding.
_SS_TINY = 2.0**-960
_SS_HUGE = 2.0**1000


@jit
def _l2_norm(row: FloatArray) -> float:
    # Plain sum of squares first (a vectorised sum, nirskern._reduce; no per-element division):
    # exact to rounding whenever it neither overflows nor underflows.
    ss = row_sumsq_dev(row, 0.0)
    if _SS_TINY <= ss <= _SS_HUGE:
        return float(np.sqrt(ss))
    # Rare rows (extreme magnitudes, inf, NaN): the scaled sum of squares of LAPACK's nrm2.
    p = row.shape[0]
    big = 0.0
    for j in range(p):
        a = abs(row[j])
        if a > big or a != a:  # a NaN sticks: the row becomes NaN
            big = a
    s = 0.0
    if big > 0.0:
        for j in range(p):
            r = row[j] / big
            s += r * r
    return float(big * np.sqrt(s))


@jit
def _has_inf(row: FloatArray) -> bool:
    for j in range(row.shape[0]):  # noqa: SIM110 (numba: a plain loop, no generator)
        if np.isinf(row[j]):
            return True
    return False


@jit
def _normalize(x: FloatArray, norm: int, out: FloatArray, reject_inf: bool) -> bool:  # noqa: FBT001
    n, p = x.shape
    for i in range(n):
        row = x[i]
        shift = 0.0
        if norm == 0:
            # Trapezoidal area with unit spacing (np.trapezoid); signed, like an integral.
            s = 0.0
            for j in range(1, p):
                s += 0.5 * (row[j - 1] + row[j])
            d = s
        elif norm == 1:
            d = row_abs_sum(row)
        elif norm == 2:
            d = _l2_norm(row)
        elif norm == 3:
            big = 0.0
            for j in range(p):
                a = abs(row[j])
                if a > big or a != a:  # a NaN sticks: the row becomes NaN
                    big = a
            d = big
        else:
            lo = row[0]
            hi = row[0]
            for j in range(1, p):
                v = row[j]
                if v < lo or v != v:
                    lo = v
                if v > hi or v != v:
                    hi = v
            shift = lo
            d = hi - lo
        # Every norm is finite for a finite row: only then may the row hold an inf.
        if reject_inf and not np.isfinite(d) and _has_inf(row):
            return True
        # A zero norm (flat or all-zero spectrum) gives a NaN row rather than inf/0 noise.
        if d == 0.0:
            d = np.nan
        # Divide (not multiply by 1/d): correctly rounded, as sklearn's and numpy's x / norm.
        o = out[i]
        if norm != 4:
            for j in range(p):
                o[j] = row[j] / d
        else:
            for j in range(p):
                o[j] = (row[j] - shift) / d
    return False


def normalize(
    x: npt.ArrayLike,
    norm: str = "l2",
    *,
    out: FloatArray | None = None,
    reject_inf: bool = False,
) -> FloatArray:
    """Divide each spectrum by one of its norms.

    ``norm`` is ``"area"`` (trapezoidal area with unit spacing, ``np.trapezoid``), ``"l1"`` (sum of
    absolute values), ``"l2"`` (Euclidean norm), ``"max"`` (largest absolute value, as
    ``sklearn.preprocessing.normalize(norm="max")``) or ``"minmax"`` (``(x - min) / (max - min)``,
    so each spectrum spans [0, 1]). A spectrum whose norm is 0 becomes NaN. The result is written
    into ``out`` when given (same shape and dtype, not overlapping ``x``). With ``reject_inf``, an
    inf in ``x`` raises ValueError (checked in the same pass; NaN is accepted).

    >>> normalize(np.array([[3.0, 4.0]])).tolist()
    [[0.6, 0.8]]
    >>> normalize(np.array([[1.0, 2.0, 3.0]]), "minmax").tolist()
    [[0.0, 0.5, 1.0]]
    """
    arr, was_1d = as_spectra(x)
    if not isinstance(norm, str) or norm not in NORMS:
        msg = f"'norm' must be one of {sorted(NORMS)}; got norm={norm!r}"
        raise ValueError(msg)
    if norm == "area" and arr.shape[1] < 2:
        msg = f"'norm'='area' needs at least 2 points; got n_points={arr.shape[1]}"
        raise ValueError(msg)
    res = output(out, arr, was_1d=was_1d)
    if _normalize(arr, NORMS[norm], res, reject_inf):
        raise ValueError(INF_MESSAGE.format(arr.dtype))
    return restore(res, was_1d) if out is None else out


@jit
def _has_nan(row: FloatArray) -> bool:
    for j in range(row.shape[0]):  # noqa: SIM110 (numba: a plain loop, no generator)
        if row[j] != row[j]:
            return True
    return False


@jit
def _column_stats(
    x: FloatArray,
    ddof: int,
    mean: FloatArray,
    std: FloatArray,
    with_std: bool,  # noqa: FBT001
    reject_inf: bool,  # noqa: FBT001
) -> int:
    n, p = x.shape
    keep = np.zeros(n, dtype=np.bool_)
    count = 0
    for j in range(p):
        mean[j] = 0.0
        std[j] = 0.0
    # Pass 1: column sums over the rows without NaN. Row by row, each row added elementwise into
    # the float64 sums: unit stride and no dependency between columns (vectorises), and the
    # same order of additions as numpy's ``rows.sum(axis=0)``.
    for i in range(n):
        row = x[i]
        # A NaN anywhere makes the row sum NaN, so the exact per-point test runs only then.
        s = row_sum(row)
        if reject_inf and not np.isfinite(s) and _has_inf(row):
            return -1
        if s != s and _has_nan(row):
            continue
        keep[i] = True
        count += 1
        for j in range(p):
            mean[j] += row[j]
    if count <= ddof:
        return count
    for j in range(p):
        mean[j] /= count
    if not with_std:
        return count
    # Pass 2: centred sums of squares (two passes: no cancellation for large offsets).
    for i in range(n):
        if not keep[i]:
            continue
        row = x[i]
        for j in range(p):
            d = row[j] - mean[j]
            std[j] += d * d
    for j in range(p):
        std[j] = np.sqrt(std[j] / (count - ddof))
    return count


def column_stats(
    x: npt.ArrayLike, *, ddof: int = 0, with_std: bool = True, reject_inf: bool = False
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Mean and standard deviation of each column (wavelength), ignoring rows that contain NaN.

    Statistics are accumulated in float64 whatever the input dtype (two passes: mean, then the
    centred sum of squares), in one compiled kernel without copying the input. Without
    ``with_std`` only the first pass runs (the std is then all zeros). With ``reject_inf``, an inf
    in ``x`` raises ValueError (found by the row sums of the first pass).

    >>> mean, std = column_stats(np.array([[1.0, 2.0], [3.0, 2.0]]))
    >>> mean.tolist(), std.tolist()
    ([2.0, 2.0], [1.0, 0.0])
    """
    arr, _ = as_spectra(x)
    ddof = check_int(ddof, "ddof", minimum=0)
    mean = np.empty(arr.shape[1])
    std = np.empty(arr.shape[1])
    count = _column_stats(arr, ddof, mean, std, with_std, reject_inf)
    if count < 0:
        raise ValueError(INF_MESSAGE.format(arr.dtype))
    if not with_std:
        std[:] = 0.0
    if count <= ddof:
        msg = (
            "column statistics need more spectra without NaN than 'ddof'; "
            f"got {count} spectra, ddof={ddof}"
        )
        raise ValueError(msg)
    return mean, std


@jit
def _center_scale(
    x: FloatArray,
    center: FloatArray,
    scale: FloatArray,
    out: FloatArray,
    reject_inf: bool,  # noqa: FBT001
) -> bool:
    n, p = x.shape
    for i in range(n):
        row = x[i]
        for j in range(p):
            out[i, j] = (row[j] - center[j]) / scale[j]
        # The row is in L1 cache: its (vectorised) sum is NaN or inf only if a value is.
        if reject_inf:
            s = row_sum(row)
            if not np.isfinite(s) and _has_inf(row):
                return True
    return False


@jit
def _inverse_center_scale(
    x: FloatArray, center: FloatArray, scale: FloatArray, out: FloatArray
) -> None:
    n, p = x.shape
    for i in range(n):
        for j in range(p):
            out[i, j] = x[i, j] * scale[j] + center[j]


def _columns(
    arr: FloatArray, center: npt.ArrayLike, scale: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]:
    p = arr.shape[1]
    c = np.ascontiguousarray(np.asarray(center, dtype=np.float64))
    s = np.ascontiguousarray(np.asarray(scale, dtype=np.float64))
    for name, v in (("center", c), ("scale", s)):
        if v.shape != (p,):
            msg = f"'{name}' must be 1-D with {p} points to match x; got shape {v.shape}"
            raise ValueError(msg)
        if not np.all(np.isfinite(v)):
            msg = f"'{name}' must be finite"
            raise ValueError(msg)
    if np.any(s == 0.0):
        msg = "'scale' must not contain zeros (use 1 for constant columns)"
        raise ValueError(msg)
    return c, s


def center_scale(
    x: npt.ArrayLike,
    center: npt.ArrayLike,
    scale: npt.ArrayLike,
    *,
    out: FloatArray | None = None,
    reject_inf: bool = False,
) -> FloatArray:
    """``(x - center) / scale`` column by column (centre and scale are per wavelength).

    The arithmetic is done in float64 (``center`` and ``scale`` are float64) and stored in the
    input dtype. The result is written into ``out`` when given (same shape and dtype, not
    overlapping ``x``). With ``reject_inf``, an inf in ``x`` raises ValueError (same pass).

    >>> center_scale(np.array([[1.0, 4.0], [3.0, 8.0]]), [2.0, 6.0], [1.0, 2.0]).tolist()
    [[-1.0, -1.0], [1.0, 1.0]]
    """
    arr, was_1d = as_spectra(x)
    c, s = _columns(arr, center, scale)
    res = output(out, arr, was_1d=was_1d)
    if _center_scale(arr, c, s, res, reject_inf):
        raise ValueError(INF_MESSAGE.format(arr.dtype))
    return restore(res, was_1d) if out is None else out


def inverse_center_scale(
    x: npt.ArrayLike, center: npt.ArrayLike, scale: npt.ArrayLike
) -> FloatArray:
    """``x * scale + center`` column by column: the inverse of :func:`center_scale`.

    >>> inverse_center_scale(np.array([[-1.0, -1.0]]), [2.0, 6.0], [1.0, 2.0]).tolist()
    [[1.0, 4.0]]
    """
    arr, was_1d = as_spectra(x)
    c, s = _columns(arr, center, scale)
    out = np.empty_like(arr)
    _inverse_center_scale(arr, c, s, out)
    return restore(out, was_1d)
