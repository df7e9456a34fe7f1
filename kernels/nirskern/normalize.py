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
from nirskern._validate import FloatArray, as_spectra, check_int, restore

#: Norm codes of the row kernel, by public name.
NORMS = {"area": 0, "l1": 1, "l2": 2, "max": 3, "minmax": 4}


@jit
def _normalize(x: FloatArray, norm: int, out: FloatArray) -> None:
    n, p = x.shape
    for i in range(n):
        shift = 0.0
        if norm == 0:
            # Trapezoidal area with unit spacing (np.trapezoid); signed, like an integral.
            s = 0.0
            for j in range(1, p):
                s += 0.5 * (x[i, j - 1] + x[i, j])
            d = s
        elif norm == 1:
            s = 0.0
            for j in range(p):
                s += abs(x[i, j])
            d = s
        elif norm == 2:
            # Scaled sum of squares (as LAPACK's nrm2): no overflow or underflow for extreme
            # magnitudes.
            big = 0.0
            for j in range(p):
                a = abs(x[i, j])
                if a > big or a != a:  # a NaN sticks: the row becomes NaN
                    big = a
            s = 0.0
            if big > 0.0:
                for j in range(p):
                    r = x[i, j] / big
                    s += r * r
            d = big * np.sqrt(s)
        elif norm == 3:
            big = 0.0
            for j in range(p):
                a = abs(x[i, j])
                if a > big or a != a:  # a NaN sticks: the row becomes NaN
                    big = a
            d = big
        else:
            lo = x[i, 0]
            hi = x[i, 0]
            for j in range(1, p):
                v = x[i, j]
                if v < lo or v != v:
                    lo = v
                if v > hi or v != v:
                    hi = v
            shift = lo
            d = hi - lo
        # A zero norm (flat or all-zero spectrum) gives a NaN row rather than inf/0 noise.
        if d == 0.0:
            d = np.nan
        # Divide (not multiply by 1/d): correctly rounded, as sklearn's and numpy's x / norm.
        for j in range(p):
            out[i, j] = (x[i, j] - shift) / d


def normalize(x: npt.ArrayLike, norm: str = "l2") -> FloatArray:
    """Divide each spectrum by one of its norms.

    ``norm`` is ``"area"`` (trapezoidal area with unit spacing, ``np.trapezoid``), ``"l1"`` (sum of
    absolute values), ``"l2"`` (Euclidean norm), ``"max"`` (largest absolute value, as
    ``sklearn.preprocessing.normalize(norm="max")``) or ``"minmax"`` (``(x - min) / (max - min)``,
    so each spectrum spans [0, 1]). A spectrum whose norm is 0 becomes NaN.

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
    out = np.empty_like(arr)
    _normalize(arr, NORMS[norm], out)
    return restore(out, was_1d)


def column_stats(
    x: npt.ArrayLike, *, ddof: int = 0
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Mean and standard deviation of each column (wavelength), ignoring rows that contain NaN.

    Statistics are accumulated in float64 whatever the input dtype (two passes: mean, then the
    centred sum of squares).

    >>> mean, std = column_stats(np.array([[1.0, 2.0], [3.0, 2.0]]))
    >>> mean.tolist(), std.tolist()
    ([2.0, 2.0], [1.0, 0.0])
    """
    arr, _ = as_spectra(x)
    ddof = check_int(ddof, "ddof", minimum=0)
    rows = arr[~np.isnan(arr).any(axis=1)].astype(np.float64)
    if rows.shape[0] <= ddof:
        msg = (
            "column statistics need more spectra without NaN than 'ddof'; "
            f"got {rows.shape[0]} spectra, ddof={ddof}"
        )
        raise ValueError(msg)
    mean = rows.mean(axis=0)
    std = np.sqrt(((rows - mean) ** 2).sum(axis=0) / (rows.shape[0] - ddof))
    return mean, std


@jit
def _center_scale(x: FloatArray, center: FloatArray, scale: FloatArray, out: FloatArray) -> None:
    n, p = x.shape
    for i in range(n):
        for j in range(p):
            out[i, j] = (x[i, j] - center[j]) / scale[j]


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


def center_scale(x: npt.ArrayLike, center: npt.ArrayLike, scale: npt.ArrayLike) -> FloatArray:
    """``(x - center) / scale`` column by column (centre and scale are per wavelength).

    The arithmetic is done in float64 (``center`` and ``scale`` are float64) and stored in the
    input dtype.

    >>> center_scale(np.array([[1.0, 4.0], [3.0, 8.0]]), [2.0, 6.0], [1.0, 2.0]).tolist()
    [[-1.0, -1.0], [1.0, 1.0]]
    """
    arr, was_1d = as_spectra(x)
    c, s = _columns(arr, center, scale)
    out = np.empty_like(arr)
    _center_scale(arr, c, s, out)
    return restore(out, was_1d)


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
