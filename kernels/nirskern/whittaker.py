"""Whittaker-smoother baselines: asls, iasls, airpls and arpls (pybaselines 1.2 algorithms).

Each spectrum ``y`` gets a baseline ``z`` solving ``(W + lam DᵀD) z = W y`` with a reweighting
loop. ``D`` is the ``diff_order`` finite-difference matrix, so the system is symmetric positive
definite and banded with ``diff_order`` sub-diagonals; it is solved here by a banded Cholesky
factorisation (the same factorisation as LAPACK ``pbtrf``, which pybaselines reaches through
``scipy.linalg.solveh_banded``). Every spectrum is computed in float64 whatever its input dtype;
work arrays are allocated once per call and reused across spectra and iterations.

Band storage used throughout ("row storage"): ``band[i, t] = M[i, i - t]`` for
``t = 0..m``, so the entries of one row of the lower triangle are contiguous in memory.

References
----------
Eilers & Boelens (2005), Baseline correction with asymmetric least squares smoothing (asls).
He et al. (2014), Anal. Methods 6(12), 4402-4407 (iasls).
Zhang, Chen & Liang (2010), Analyst 135(5), 1138-1146 (airpls).
Baek et al. (2015), Analyst 140, 250-257 (arpls).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import numpy.typing as npt

from nirskern._jit import jit
from nirskern._validate import FloatArray, as_spectra, check_int, restore
from nirskern.baseline import _basis

Output = Literal["corrected", "baseline"]

#: pybaselines' floor for denominators (``np.finfo(float).eps``).
_MIN_FLOAT = float(np.finfo(np.float64).eps)
#: airpls clips the exponent below log(max float64) so that ``exp`` never overflows.
_LOG_MAX = math.log(float(np.finfo(np.float64).max))
_EXP_CAP = _LOG_MAX - float(np.spacing(_LOG_MAX))


# -- banded symmetric positive definite solver ------------------------------------------------
@jit
def cholesky_banded(band: FloatArray) -> bool:
    """Factor ``band`` (row storage, ``(n, m + 1)``) in place into its Cholesky factor ``L``.

    Returns False (leaving ``band`` partly overwritten) when the matrix is not numerically
    positive definite.
    """
    n, width = band.shape
    m = width - 1
    for i in range(n):
        k0 = max(0, i - m)
        for j in range(k0, i + 1):
            # s = M[i, j] - sum_k L[i, k] L[j, k]; L[i, k] = band[i, i - k].
            s = band[i, i - j]
            for k in range(k0, j):
                s -= band[i, i - k] * band[j, j - k]
            if j < i:
                band[i, i - j] = s / band[j, 0]
            else:
                if not s > 0.0:
                    return False
                band[i, 0] = math.sqrt(s)
    return True


@jit
def cholesky_solve_banded(chol: FloatArray, b: FloatArray) -> None:
    """Solve ``L Lᵀ x = b`` in place (``chol`` from :func:`cholesky_banded`)."""
    n, width = chol.shape
    m = width - 1
    for i in range(n):
        s = b[i]
        for t in range(1, min(m, i) + 1):
            s -= chol[i, t] * b[i - t]
        b[i] = s / chol[i, 0]
    for i in range(n - 1, -1, -1):
        s = b[i]
        for t in range(1, min(m, n - 1 - i) + 1):
            s -= chol[i + t, t] * b[i + t]
        b[i] = s / chol[i, 0]


@jit
def _difference_penalty(n: int, diff_order: int, out: FloatArray) -> None:
    """Add ``DᵀD`` (row storage, exact integers) of the ``diff_order`` difference matrix."""
    d = diff_order
    coef = np.zeros(d + 1)
    # Row r of D holds (-1)^(d - t) * C(d, t) at column r + t.
    binom = 1.0
    for t in range(d + 1):
        coef[t] = binom if (d - t) % 2 == 0 else -binom
        binom = binom * (d - t) / (t + 1)
    for r in range(n - d):
        for a in range(d + 1):
            for b in range(a + 1):
                out[r + a, a - b] += coef[a] * coef[b]


def difference_penalty(n_points: int, diff_order: int) -> FloatArray:
    """``DᵀD`` of the ``diff_order`` finite-difference matrix in row band storage.

    ``out[i, t] = (DᵀD)[i, i - t]``; the values are exact integers, equal to pybaselines'
    ``diff_penalty_diagonals``.

    >>> difference_penalty(4, 1).tolist()
    [[1.0, 0.0], [2.0, -1.0], [2.0, -1.0], [1.0, -1.0]]
    """
    out = np.zeros((n_points, diff_order + 1))
    _difference_penalty(n_points, diff_order, out)
    return out


@jit
def _weighted_solve(
    pen: FloatArray, diag: FloatArray, rhs: FloatArray, chol: FloatArray, z: FloatArray
) -> bool:
    """``z = (pen + diag(diag))⁻¹ rhs``; False when the system is not positive definite."""
    n, width = pen.shape
    for i in range(n):
        for t in range(width):
            chol[i, t] = pen[i, t]
        chol[i, 0] += diag[i]
        z[i] = rhs[i]
    if not cholesky_banded(chol):
        return False
    cholesky_solve_banded(chol, z)
    return True


@jit
def _relative_difference(old: FloatArray, new: FloatArray) -> float:
    """``‖new - old‖₂ / max(‖old‖₂, eps)``: pybaselines' exit criterion."""
    num = 0.0
    den = 0.0
    for j in range(old.shape[0]):
        d = new[j] - old[j]
        num += d * d
        den += old[j] * old[j]
    return math.sqrt(num) / max(math.sqrt(den), _MIN_FLOAT)


@jit
def _load_row(x: FloatArray, i: int, y: FloatArray) -> bool:
    """Copy row ``i`` of ``x`` into float64 ``y``; False when it holds a non-finite value."""
    ok = True
    for j in range(x.shape[1]):
        v = x[i, j]
        y[j] = v
        if not math.isfinite(v):
            ok = False
    return ok


@jit
def _store_row(
    x: FloatArray, i: int, z: FloatArray, ok: bool, corrected: bool, out: FloatArray
) -> None:
    for j in range(x.shape[1]):
        if not ok:
            out[i, j] = np.nan
        elif corrected:
            # The subtraction is done in float64 before the cast to the output dtype.
            out[i, j] = float(x[i, j]) - z[j]
        else:
            out[i, j] = z[j]


# -- asls ------------------------------------------------------------------------------------
@jit
def _asls(
    x: FloatArray,
    pen: FloatArray,
    p: float,
    max_iter: int,
    tol: float,
    corrected: bool,
    out: FloatArray,
) -> None:
    n_rows, n = x.shape
    y = np.empty(n)
    w = np.empty(n)
    new_w = np.empty(n)
    rhs = np.empty(n)
    z = np.empty(n)
    chol = np.empty_like(pen)
    for i in range(n_rows):
        ok = _load_row(x, i, y)
        if ok:
            w[:] = 1.0
            for _ in range(max_iter + 1):
                for j in range(n):
                    rhs[j] = w[j] * y[j]
                if not _weighted_solve(pen, w, rhs, chol, z):
                    ok = False
                    break
                for j in range(n):
                    new_w[j] = p if y[j] > z[j] else 1.0 - p
                if _relative_difference(w, new_w) < tol:
                    break
                w[:] = new_w
        _store_row(x, i, z, ok, corrected, out)


# -- iasls -----------------------------------------------------------------------------------
@jit
def _iasls(
    x: FloatArray,
    pen: FloatArray,
    q: FloatArray,
    p: float,
    lam_1: float,
    max_iter: int,
    tol: float,
    corrected: bool,
    out: FloatArray,
) -> None:
    n_rows, n = x.shape
    k = q.shape[1]
    y = np.empty(n)
    w = np.empty(n)
    w2 = np.empty(n)
    new_w = np.empty(n)
    d1_y = np.empty(n)
    rhs = np.empty(n)
    z = np.empty(n)
    coef = np.empty(k)
    chol = np.empty_like(pen)
    for i in range(n_rows):
        ok = _load_row(x, i, y)
        if ok:
            # Initial weights from the least-squares quadratic (projection on an orthonormal
            # basis: the same fit as pybaselines' pseudo-inverse of the Vandermonde matrix).
            for c in range(k):
                s = 0.0
                for j in range(n):
                    s += q[j, c] * y[j]
                coef[c] = s
            for j in range(n):
                s = 0.0
                for c in range(k):
                    s += q[j, c] * coef[c]
                w[j] = p if y[j] > s else 1.0 - p
            # lam_1 * D1ᵀD1 y, written as pybaselines does.
            if n > 1:
                d1_y[0] = y[0] - y[1]
                d1_y[n - 1] = y[n - 1] - y[n - 2]
                for j in range(1, n - 1):
                    d1_y[j] = 2.0 * y[j] - y[j - 1] - y[j + 1]
                for j in range(n):
                    d1_y[j] = lam_1 * d1_y[j]
            else:
                d1_y[0] = 0.0
            for _ in range(max_iter + 1):
                for j in range(n):
                    w2[j] = w[j] * w[j]
                    rhs[j] = w2[j] * y[j] + d1_y[j]
                if not _weighted_solve(pen, w2, rhs, chol, z):
                    ok = False
                    break
                for j in range(n):
                    new_w[j] = p if y[j] > z[j] else 1.0 - p
                if _relative_difference(w, new_w) < tol:
                    break
                w[:] = new_w
        _store_row(x, i, z, ok, corrected, out)


# -- airpls ----------------------------------------------------------------------------------
@jit
def _airpls(
    x: FloatArray,
    pen: FloatArray,
    max_iter: int,
    tol: float,
    normalize_weights: bool,
    corrected: bool,
    out: FloatArray,
) -> None:
    n_rows, n = x.shape
    y = np.empty(n)
    w = np.empty(n)
    rhs = np.empty(n)
    z = np.empty(n)
    chol = np.empty_like(pen)
    for i in range(n_rows):
        ok = _load_row(x, i, y)
        if ok:
            y_l1 = 0.0
            for j in range(n):
                y_l1 += abs(y[j])
            w[:] = 1.0
            for it in range(1, max_iter + 2):
                for j in range(n):
                    rhs[j] = w[j] * y[j]
                if not _weighted_solve(pen, w, rhs, chol, z):
                    ok = False
                    break
                n_neg = 0
                neg_sum = 0.0
                for j in range(n):
                    r = y[j] - z[j]
                    if r < 0.0:
                        n_neg += 1
                        neg_sum += r
                # Fewer than two points under the baseline: pybaselines stops (with a warning)
                # and keeps this baseline.
                if n_neg < 2:
                    break
                if abs(neg_sum) / y_l1 < tol:
                    break
                # w = exp(min(it, 50) * r / sum(r<0)) on r < 0, 0 elsewhere (the corrected
                # equation 9 of the paper), exponent clipped to [0, log(max float)].
                scale = min(it, 50) / neg_sum
                w_max = 0.0
                for j in range(n):
                    r = y[j] - z[j]
                    if r < 0.0:
                        e = min(max(scale * r, 0.0), _EXP_CAP)
                        w[j] = math.exp(e)
                        w_max = max(w_max, w[j])
                    else:
                        w[j] = 0.0
                if normalize_weights:
                    for j in range(n):
                        if y[j] - z[j] < 0.0:
                            w[j] /= w_max
        _store_row(x, i, z, ok, corrected, out)


# -- arpls -----------------------------------------------------------------------------------
@jit
def _arpls(
    x: FloatArray,
    pen: FloatArray,
    max_iter: int,
    tol: float,
    corrected: bool,
    out: FloatArray,
) -> None:
    n_rows, n = x.shape
    y = np.empty(n)
    w = np.empty(n)
    new_w = np.empty(n)
    rhs = np.empty(n)
    z = np.empty(n)
    chol = np.empty_like(pen)
    for i in range(n_rows):
        ok = _load_row(x, i, y)
        if ok:
            w[:] = 1.0
            for _ in range(max_iter + 1):
                for j in range(n):
                    rhs[j] = w[j] * y[j]
                if not _weighted_solve(pen, w, rhs, chol, z):
                    ok = False
                    break
                n_neg = 0
                neg_sum = 0.0
                for j in range(n):
                    r = y[j] - z[j]
                    if r < 0.0:
                        n_neg += 1
                        neg_sum += r
                if n_neg < 2:
                    break
                mean = neg_sum / n_neg
                # Sample std (ddof=1) of the negative residuals, two passes; 0 -> eps.
                ss = 0.0
                for j in range(n):
                    r = y[j] - z[j]
                    if r < 0.0:
                        ss += (r - mean) * (r - mean)
                std = math.sqrt(ss / (n_neg - 1))
                if std == 0.0:
                    std = _MIN_FLOAT
                # Logistic weights expit(-(2/std) * (r - (2 std - mean))), written so that
                # exp never overflows (as scipy's expit does).
                shift = 2.0 * std - mean
                for j in range(n):
                    u = -(2.0 / std) * ((y[j] - z[j]) - shift)
                    if u >= 0.0:
                        new_w[j] = 1.0 / (1.0 + math.exp(-u))
                    else:
                        e = math.exp(u)
                        new_w[j] = e / (1.0 + e)
                if _relative_difference(w, new_w) < tol:
                    break
                w[:] = new_w
        _store_row(x, i, z, ok, corrected, out)


# -- public wrappers -------------------------------------------------------------------------
def check_float(
    value: object,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = True,
    high_open: bool = True,
) -> float:
    """Check that ``value`` is a finite real number in the given interval and return it.

    >>> check_float(0.5, "p", low=0.0, high=1.0)
    0.5
    """
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        msg = f"'{name}' must be a real number, not {type(value).__name__}"
        raise TypeError(msg)
    v = float(value)
    bad = not math.isfinite(v)
    if low is not None:
        bad = bad or (v <= low if low_open else v < low)
    if high is not None:
        bad = bad or (v >= high if high_open else v > high)
    if bad:
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        msg = f"'{name}' must be a finite number in {left}{lo}, {hi}{right}; got {name}={value!r}"
        raise ValueError(msg)
    return v


def check_output(output: object) -> bool:
    """Validate ``output`` and return whether the corrected spectrum is wanted.

    >>> check_output("baseline")
    False
    """
    if output not in ("corrected", "baseline"):
        msg = f"'output' must be 'corrected' or 'baseline'; got output={output!r}"
        raise ValueError(msg)
    return output == "corrected"


def _setup(
    x: npt.ArrayLike, lam: object, diff_order: object, max_iter: object, tol: object, *, min_order: int = 1
) -> tuple[FloatArray, bool, FloatArray, int, float]:
    arr, was_1d = as_spectra(x)
    lam_v = check_float(lam, "lam", low=0.0)
    order = check_int(diff_order, "diff_order", minimum=min_order)
    iters = check_int(max_iter, "max_iter", minimum=0)
    tol_v = check_float(tol, "tol", low=0.0, low_open=False)
    pen = difference_penalty(arr.shape[1], order)
    pen *= lam_v
    return arr, was_1d, pen, iters, tol_v


def asls(
    x: npt.ArrayLike,
    *,
    lam: float = 1e6,
    p: float = 1e-2,
    diff_order: int = 2,
    max_iter: int = 50,
    tol: float = 1e-3,
    output: Output = "corrected",
) -> FloatArray:
    """Asymmetric least squares baseline (pybaselines ``whittaker.asls``).

    Points above the baseline get weight ``p``, points below ``1 - p``; starts from unit
    weights and stops when the relative change of the weights drops below ``tol``. Returns
    ``x - baseline`` (``output="corrected"``) or the baseline.

    >>> t = np.linspace(0.0, 1.0, 200)
    >>> y = 0.5 + 0.3 * t + np.exp(-0.5 * ((t - 0.5) / 0.02) ** 2)
    >>> bool(abs(asls(y, lam=1e5, p=1e-3)[:50]).max() < 1e-2)
    True
    """
    corrected = check_output(output)
    arr, was_1d, pen, iters, tol_v = _setup(x, lam, diff_order, max_iter, tol)
    p_v = check_float(p, "p", low=0.0, high=1.0)
    out = np.empty_like(arr)
    _asls(arr, pen, p_v, iters, tol_v, corrected, out)
    return restore(out, was_1d)


def iasls(
    x: npt.ArrayLike,
    *,
    lam: float = 1e6,
    p: float = 1e-2,
    lam_1: float = 1e-4,
    max_iter: int = 50,
    tol: float = 1e-3,
    diff_order: int = 2,
    output: Output = "corrected",
) -> FloatArray:
    """Improved asymmetric least squares baseline (pybaselines ``whittaker.iasls``).

    Squared asls weights plus a first-difference penalty ``lam_1`` on the residual; the initial
    weights come from a least-squares quadratic fit. ``diff_order`` must be at least 2.

    >>> t = np.linspace(0.0, 1.0, 200)
    >>> y = 0.5 + 0.3 * t + np.exp(-0.5 * ((t - 0.5) / 0.02) ** 2)
    >>> bool(abs(iasls(y, lam=1e5, p=1e-3)[:50]).max() < 1e-2)
    True
    """
    corrected = check_output(output)
    arr, was_1d, pen, iters, tol_v = _setup(x, lam, diff_order, max_iter, tol, min_order=2)
    p_v = check_float(p, "p", low=0.0, high=1.0)
    lam_1_v = check_float(lam_1, "lam_1", low=0.0)
    # lam * D_dᵀD_d + lam_1 * D_1ᵀD_1, summed in the order pybaselines uses.
    pen[:, :2] += lam_1_v * difference_penalty(arr.shape[1], 1)
    q = _basis(arr.shape[1], 2)
    out = np.empty_like(arr)
    _iasls(arr, pen, q, p_v, lam_1_v, iters, tol_v, corrected, out)
    return restore(out, was_1d)


def airpls(
    x: npt.ArrayLike,
    *,
    lam: float = 1e6,
    diff_order: int = 2,
    max_iter: int = 50,
    tol: float = 1e-3,
    normalize_weights: bool = False,
    output: Output = "corrected",
) -> FloatArray:
    """Adaptive iteratively reweighted penalized least squares (pybaselines ``whittaker.airpls``).

    Stops when the L1 norm of the negative residuals falls below ``tol`` times the L1 norm of
    the spectrum, or when fewer than two points lie under the baseline (pybaselines warns in
    that case; this kernel silently keeps the last baseline, as pybaselines does).

    >>> t = np.linspace(0.0, 1.0, 200)
    >>> y = 0.5 + 0.3 * t + np.exp(-0.5 * ((t - 0.5) / 0.02) ** 2)
    >>> bool(abs(airpls(y, lam=1e5)[:50]).max() < 1e-2)
    True
    """
    corrected = check_output(output)
    arr, was_1d, pen, iters, tol_v = _setup(x, lam, diff_order, max_iter, tol)
    if not isinstance(normalize_weights, bool | np.bool_):
        msg = f"'normalize_weights' must be a bool, not {type(normalize_weights).__name__}"
        raise TypeError(msg)
    out = np.empty_like(arr)
    _airpls(arr, pen, iters, tol_v, bool(normalize_weights), corrected, out)
    return restore(out, was_1d)


def arpls(
    x: npt.ArrayLike,
    *,
    lam: float = 1e5,
    diff_order: int = 2,
    max_iter: int = 50,
    tol: float = 1e-3,
    output: Output = "corrected",
) -> FloatArray:
    """Asymmetrically reweighted penalized least squares (pybaselines ``whittaker.arpls``).

    Logistic weights from the mean and sample standard deviation of the negative residuals.

    >>> t = np.linspace(0.0, 1.0, 200)
    >>> y = 0.5 + 0.3 * t + np.exp(-0.5 * ((t - 0.5) / 0.02) ** 2)
    >>> bool(abs(arpls(y, lam=1e5)[:50]).max() < 1e-2)
    True
    """
    corrected = check_output(output)
    arr, was_1d, pen, iters, tol_v = _setup(x, lam, diff_order, max_iter, tol)
    out = np.empty_like(arr)
    _arpls(arr, pen, iters, tol_v, corrected, out)
    return restore(out, was_1d)
