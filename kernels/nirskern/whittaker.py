"""Whittaker-smoother baselines: asls, iasls, airpls and arpls (pybaselines 1.2 algorithms).

Each spectrum ``y`` gets a baseline ``z`` solving ``(W + lam DᵀD) z = W y`` with a reweighting
loop. ``D`` is the ``diff_order`` finite-difference matrix, so the system is symmetric positive
definite and banded with ``diff_order`` sub-diagonals; it is solved here by a banded Cholesky
factorisation (the same factorisation as LAPACK ``pbtrf``, which pybaselines reaches through
``scipy.linalg.solveh_banded``), with the same operations in the same order, so the rounding
follows pybaselines'. ``diff_order=2`` (pentadiagonal, the default) has an unrolled solver, and
arpls and airpls use a square-root-free ``L D Lᵀ`` there (2x cheaper; observed <= 1.2e-7
relative to pybaselines on the shared real data sets, where the Cholesky gave up to 1.3e-7, and
1e-8 on synthetic NIR spectra; the parity tests assert 1e-6).
Every spectrum is computed in float64 whatever its input dtype; work arrays are allocated once
per call and reused across spectra and iterations.

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


# -- lane-batched driver ----------------------------------------------------------------------
#: Spectra solved together. The Cholesky recurrence is a chain of dependent sqrt/div operations
#: (~40 cycles per point for one spectrum); interleaving independent spectra lets the CPU overlap
#: them and vectorise across lanes (~4x faster at 1024 points). A lane that converges is refilled
#: with the next spectrum, so lanes never wait for each other.
LANES = 8

ASLS = 0
IASLS = 1
AIRPLS = 2
ARPLS = 3
#: Placeholder basis for the methods that do not fit an initial polynomial.
_NO_BASIS = np.zeros((1, 1))


@jit
def _lanes_solve(pen: FloatArray, diag: FloatArray, rhs: FloatArray, chol: FloatArray) -> None:
    """Solve ``(pen + diag(diag[:, ln])) z = rhs[:, ln]`` for every lane ``ln``; ``rhs`` becomes z.

    Banded Cholesky ``L Lᵀ`` in row storage with a lane axis: ``chol[i, t, ln] = L[i, i - t]``
    (``chol[i, 0, ln]`` holds ``1 / L[i, i]``). A non positive definite lane yields NaN/inf.
    """
    n, width = pen.shape
    m = width - 1
    s = np.empty(LANES)
    for i in range(n):
        k0 = max(0, i - m)
        for j in range(k0, i + 1):
            for ln in range(LANES):
                s[ln] = pen[i, i - j]
            if j == i:
                for ln in range(LANES):
                    s[ln] += diag[i, ln]
            for k in range(k0, j):
                for ln in range(LANES):
                    s[ln] -= chol[i, i - k, ln] * chol[j, j - k, ln]
            if j < i:
                for ln in range(LANES):
                    chol[i, i - j, ln] = s[ln] * chol[j, 0, ln]
            else:
                # sqrt of a negative pivot is NaN: the lane's solution becomes NaN (reported).
                for ln in range(LANES):
                    chol[i, 0, ln] = 1.0 / math.sqrt(s[ln])
        # forward substitution L z = rhs, fused with the factorisation of row i
        for t in range(1, min(m, i) + 1):
            for ln in range(LANES):
                rhs[i, ln] -= chol[i, t, ln] * rhs[i - t, ln]
        for ln in range(LANES):
            rhs[i, ln] *= chol[i, 0, ln]
    for i in range(n - 1, -1, -1):
        for t in range(1, min(m, n - 1 - i) + 1):
            for ln in range(LANES):
                rhs[i, ln] -= chol[i + t, t, ln] * rhs[i + t, ln]
        for ln in range(LANES):
            rhs[i, ln] *= chol[i, 0, ln]


@jit
def _penta_solve(pen: FloatArray, diag: FloatArray, rhs: FloatArray, chol: FloatArray) -> None:
    """:func:`_lanes_solve` specialised to ``diff_order=2`` (pentadiagonal systems).

    The same operations in the same order as the general recurrence (so bit-identical results),
    with the band loops unrolled: the lane loops become straight-line code that LLVM
    vectorises, ~5x faster at 1024 points.
    """
    n = pen.shape[0]
    for i in range(n):
        if i >= 2:
            for ln in range(LANES):
                l2 = pen[i, 2] * chol[i - 2, 0, ln]
                l1 = (pen[i, 1] - l2 * chol[i - 1, 1, ln]) * chol[i - 1, 0, ln]
                s = (pen[i, 0] + diag[i, ln]) - l2 * l2 - l1 * l1
                # sqrt of a negative pivot is NaN: the lane's solution becomes NaN (reported)
                inv = 1.0 / math.sqrt(s)
                chol[i, 0, ln] = inv
                chol[i, 1, ln] = l1
                chol[i, 2, ln] = l2
                # forward substitution L z = rhs fused with the factorisation of row i
                rhs[i, ln] = ((rhs[i, ln] - l1 * rhs[i - 1, ln]) - l2 * rhs[i - 2, ln]) * inv
        elif i == 1:
            for ln in range(LANES):
                l1 = pen[1, 1] * chol[0, 0, ln]
                inv = 1.0 / math.sqrt((pen[1, 0] + diag[1, ln]) - l1 * l1)
                chol[1, 0, ln] = inv
                chol[1, 1, ln] = l1
                rhs[1, ln] = (rhs[1, ln] - l1 * rhs[0, ln]) * inv
        else:
            for ln in range(LANES):
                inv = 1.0 / math.sqrt(pen[0, 0] + diag[0, ln])
                chol[0, 0, ln] = inv
                rhs[0, ln] *= inv
    for ln in range(LANES):
        rhs[n - 1, ln] *= chol[n - 1, 0, ln]
    if n >= 2:
        for ln in range(LANES):
            rhs[n - 2, ln] = (rhs[n - 2, ln] - chol[n - 1, 1, ln] * rhs[n - 1, ln]) * chol[
                n - 2, 0, ln
            ]
    for i in range(n - 3, -1, -1):
        for ln in range(LANES):
            rhs[i, ln] = (
                (rhs[i, ln] - chol[i + 1, 1, ln] * rhs[i + 1, ln])
                - chol[i + 2, 2, ln] * rhs[i + 2, ln]
            ) * chol[i, 0, ln]


@jit
def _penta_ldl_solve(pen: FloatArray, diag: FloatArray, rhs: FloatArray, fac: FloatArray) -> None:
    """Pentadiagonal lanes solve by ``L D Lᵀ`` (unit ``L``): no square root, one division.

    ``fac[i, 0, ln] = 1 / D[i]``, ``fac[i, 1, ln] = L[i, i - 1]``, ``fac[i, 2, ln] = L[i, i - 2]``.
    With ``c = M[i, i - 2]``: ``L[i, i - 2] = c / D[i - 2]``,
    ``e = M[i, i - 1] - c L[i - 1, i - 2]``, ``L[i, i - 1] = e / D[i - 1]`` and
    ``D[i] = M[i, i] - L[i, i - 1] e - L[i, i - 2] c``. The lane
    loops stay scalar (numba does not vectorise them), where square root and division share one
    unit, so this is ~2x faster than :func:`_penta_solve`. Its rounding differs from LAPACK's
    Cholesky by ~cond * eps (both factorisations are backward stable for these symmetric
    positive definite systems): used for arpls (weights in (0, 1) from a logistic) and airpls
    (weights 0 or exp(...) >= 1; measured <= 1.2e-7 relative to pybaselines); asls/iasls keep
    the Cholesky that matches pybaselines to ~1e-12. A pivot that is not positive gives a NaN
    lane.
    """
    n = pen.shape[0]
    for i in range(n):
        a = pen[i, 0]
        b = pen[i, 1]
        c = pen[i, 2]
        if i >= 2:
            for ln in range(LANES):
                l2 = c * fac[i - 2, 0, ln]
                e = b - c * fac[i - 1, 1, ln]
                l1 = e * fac[i - 1, 0, ln]
                d = (a + diag[i, ln]) - l1 * e - l2 * c
                fac[i, 0, ln] = 1.0 / d if d > 0.0 else np.nan
                fac[i, 1, ln] = l1
                fac[i, 2, ln] = l2
                rhs[i, ln] = (rhs[i, ln] - l1 * rhs[i - 1, ln]) - l2 * rhs[i - 2, ln]
        elif i == 1:
            for ln in range(LANES):
                l1 = b * fac[0, 0, ln]
                d = (a + diag[1, ln]) - l1 * b
                fac[1, 0, ln] = 1.0 / d if d > 0.0 else np.nan
                fac[1, 1, ln] = l1
                fac[1, 2, ln] = 0.0
                rhs[1, ln] = rhs[1, ln] - l1 * rhs[0, ln]
        else:
            for ln in range(LANES):
                d = a + diag[0, ln]
                fac[0, 0, ln] = 1.0 / d if d > 0.0 else np.nan
                fac[0, 1, ln] = 0.0
                fac[0, 2, ln] = 0.0
    # back substitution Lᵀ z = D⁻¹ y
    for ln in range(LANES):
        rhs[n - 1, ln] *= fac[n - 1, 0, ln]
    if n >= 2:
        for ln in range(LANES):
            rhs[n - 2, ln] = rhs[n - 2, ln] * fac[n - 2, 0, ln] - fac[n - 1, 1, ln] * rhs[n - 1, ln]
    for i in range(n - 3, -1, -1):
        for ln in range(LANES):
            rhs[i, ln] = (
                rhs[i, ln] * fac[i, 0, ln]
                - fac[i + 1, 1, ln] * rhs[i + 1, ln]
                - fac[i + 2, 2, ln] * rhs[i + 2, ln]
            )


# -- vectorisable exp -------------------------------------------------------------------------
# ``math.exp`` is an opaque libm call that stops LLVM from vectorising a loop; arpls and airpls
# need one exp per point and iteration. This one is Cody-Waite reduction t = k ln2 + r
# (|r| <= ln2 / 2, ln2 split in a 32-bit head and a tail so that k * head is exact), a degree-13
# Taylor polynomial (truncation < 4e-18) and 2^k built from exponent bits, applied in two
# halves so that k in [-1075, 1024] neither overflows nor flushes early. Measured error <= 1 ulp
# against numpy's exp on [-745, 709.78]; NaN stays NaN and +inf gives inf.
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_LOG2E = 1.4426950408889634
#: 1.5 * 2**52: adding it rounds to an integer whose value sits in the low mantissa bits.
_SHIFTER = 6755399441055744.0
_SHIFTER_BITS = int(np.array(_SHIFTER).view(np.int64))
_C = tuple(1.0 / math.factorial(k) for k in range(14))
_C2, _C3, _C4, _C5, _C6, _C7, _C8, _C9, _C10, _C11, _C12, _C13 = _C[2:]


@jit
def _exp_inplace(t: FloatArray, work: FloatArray) -> None:
    """``t = exp(t)`` on a contiguous 1-D buffer (``work``: scratch of the same size)."""
    bits = work.view(np.int64)
    for j in range(t.shape[0]):
        v = min(max(t[j], -745.2), 709.79)
        z = v * _LOG2E + _SHIFTER
        kf = z - _SHIFTER
        r = (v - kf * _LN2_HI) - kf * _LN2_LO
        q = _C13 * r + _C12
        q = q * r + _C11
        q = q * r + _C10
        q = q * r + _C9
        q = q * r + _C8
        q = q * r + _C7
        q = q * r + _C6
        q = q * r + _C5
        q = q * r + _C4
        q = q * r + _C3
        q = q * r + _C2
        q = q * r + 1.0
        t[j] = q * r + 1.0
        work[j] = z
    for j in range(t.shape[0]):
        k = bits[j] - _SHIFTER_BITS
        half = k >> 1
        bits[j] = (half + 1023) << 52
        t[j] *= work[j]
        bits[j] = (k - half + 1023) << 52
        t[j] *= work[j]


@jit
def _whittaker(
    x: FloatArray,
    pen: FloatArray,
    method: int,
    q: FloatArray,
    p: float,
    lam_1: float,
    max_iter: int,
    tol: float,
    normalize_weights: bool,  # noqa: FBT001
    corrected: bool,  # noqa: FBT001
    out: FloatArray,
) -> None:
    n_rows, n = x.shape
    width = pen.shape[1]
    y = np.zeros((n, LANES))
    w = np.ones((n, LANES))
    diag = np.ones((n, LANES))
    z = np.zeros((n, LANES))
    d1_y = np.zeros((n, LANES))
    chol = np.empty((n, width, LANES))
    # exp arguments/values of all lanes in one contiguous buffer (vectorised exp)
    e_flat = np.empty(n * LANES)
    e_buf = e_flat.reshape((n, LANES))
    e_work = np.empty(n * LANES)
    # residuals y - z of airpls/arpls, computed once per iteration
    res = np.empty((n, LANES))
    coef = np.empty(q.shape[1])
    row = np.full(LANES, -1)
    iters = np.zeros(LANES, dtype=np.int64)
    y_l1 = np.zeros(LANES)
    num = np.zeros(LANES)
    den = np.zeros(LANES)
    n_neg = np.zeros(LANES, dtype=np.int64)
    neg_sum = np.zeros(LANES)
    shift = np.zeros(LANES)
    scale = np.zeros(LANES)
    done = np.zeros(LANES, dtype=np.bool_)
    next_row = 0
    while True:
        # -- refill idle lanes (rows with non-finite values become NaN rows at once)
        active = 0
        for ln in range(LANES):
            while row[ln] < 0 and next_row < n_rows:
                r = next_row
                next_row += 1
                finite = True
                for j in range(n):
                    v = float(x[r, j])
                    y[j, ln] = v
                    if not math.isfinite(v):
                        finite = False
                if not finite:
                    out[r, :] = np.nan
                    continue
                row[ln] = r
                iters[ln] = 0
                y_l1[ln] = 0.0
                for j in range(n):
                    w[j, ln] = 1.0
                    y_l1[ln] += abs(y[j, ln])
                if method == IASLS:
                    # Initial weights from the least-squares quadratic (projection on an
                    # orthonormal basis = pybaselines' pseudo-inverse of the Vandermonde).
                    for c in range(q.shape[1]):
                        acc = 0.0
                        for j in range(n):
                            acc += q[j, c] * y[j, ln]
                        coef[c] = acc
                    for j in range(n):
                        acc = 0.0
                        for c in range(q.shape[1]):
                            acc += q[j, c] * coef[c]
                        w[j, ln] = p if y[j, ln] > acc else 1.0 - p
                    # lam_1 * D1ᵀD1 y, written as pybaselines does.
                    if n > 1:
                        d1_y[0, ln] = lam_1 * (y[0, ln] - y[1, ln])
                        d1_y[n - 1, ln] = lam_1 * (y[n - 1, ln] - y[n - 2, ln])
                        for j in range(1, n - 1):
                            d1_y[j, ln] = lam_1 * (2.0 * y[j, ln] - y[j - 1, ln] - y[j + 1, ln])
            if row[ln] < 0:
                # idle lane: a harmless system (z = 0) that the vector loops can run through
                for j in range(n):
                    y[j, ln] = 0.0
                    w[j, ln] = 1.0
                    d1_y[j, ln] = 0.0
            else:
                active += 1
        if active == 0:
            break

        # -- one weighted Whittaker solve for every lane
        if method == IASLS:
            for j in range(n):
                for ln in range(LANES):
                    diag[j, ln] = w[j, ln] * w[j, ln]
                    z[j, ln] = diag[j, ln] * y[j, ln] + d1_y[j, ln]
            w_sys = diag
        else:
            for j in range(n):
                for ln in range(LANES):
                    z[j, ln] = w[j, ln] * y[j, ln]
            w_sys = w
        if width == 3 and method in (ARPLS, AIRPLS):
            _penta_ldl_solve(pen, w_sys, z, chol)
        elif width == 3:
            _penta_solve(pen, w_sys, z, chol)
        else:
            _lanes_solve(pen, w_sys, z, chol)
        for ln in range(LANES):
            iters[ln] += 1
            done[ln] = iters[ln] > max_iter

        # -- new weights and the exit test of each method
        if method in (ASLS, IASLS):
            num[:] = 0.0
            den[:] = 0.0
            for j in range(n):
                for ln in range(LANES):
                    new = p if y[j, ln] > z[j, ln] else 1.0 - p
                    d = new - w[j, ln]
                    num[ln] += d * d
                    den[ln] += w[j, ln] * w[j, ln]
                    w[j, ln] = new
            for ln in range(LANES):
                if math.sqrt(num[ln]) / max(math.sqrt(den[ln]), _MIN_FLOAT) < tol:
                    done[ln] = True
        else:
            n_neg[:] = 0
            neg_sum[:] = 0.0
            # Branch-free accumulation (the sign of a residual is unpredictable; adding 0.0
            # leaves a sum unchanged, so the results are those of the branching loop). The
            # residuals are kept for the passes below.
            for j in range(n):
                for ln in range(LANES):
                    r = y[j, ln] - z[j, ln]
                    res[j, ln] = r
                    n_neg[ln] += 1 if r < 0.0 else 0
                    neg_sum[ln] += r if r < 0.0 else 0.0
            for ln in range(LANES):
                # Fewer than two points under the baseline: pybaselines stops (with a
                # warning) and keeps this baseline.
                if n_neg[ln] < 2:
                    done[ln] = True
            if method == AIRPLS:
                for ln in range(LANES):
                    if n_neg[ln] >= 2 and abs(neg_sum[ln]) / y_l1[ln] < tol:
                        done[ln] = True
                    scale[ln] = min(iters[ln], 50) / neg_sum[ln] if n_neg[ln] >= 2 else 0.0
                # w = exp(min(it, 50) * r / sum(r<0)) on r < 0, 0 elsewhere (the corrected
                # equation 9 of the paper), exponent clipped to [0, log(max float)].
                for j in range(n):
                    for ln in range(LANES):
                        r = res[j, ln]
                        e_buf[j, ln] = min(max(scale[ln] * r, 0.0), _EXP_CAP) if r < 0.0 else 0.0
                _exp_inplace(e_flat, e_work)
                num[:] = 0.0
                for j in range(n):
                    for ln in range(LANES):
                        e = e_buf[j, ln] if res[j, ln] < 0.0 else 0.0
                        w[j, ln] = e
                        # e >= 1 wherever r < 0: the zeros never change the maximum
                        num[ln] = max(num[ln], e)
                if normalize_weights:
                    for j in range(n):
                        for ln in range(LANES):
                            if res[j, ln] < 0.0:
                                w[j, ln] /= num[ln]
            else:
                # arpls: logistic weights from the mean and sample std (ddof=1) of the
                # negative residuals (std 0 -> eps, as pybaselines' _safe_std).
                den[:] = 0.0
                for ln in range(LANES):
                    shift[ln] = neg_sum[ln] / max(n_neg[ln], 1)
                for j in range(n):
                    for ln in range(LANES):
                        r = res[j, ln]
                        dev = r - shift[ln]
                        den[ln] += dev * dev if r < 0.0 else 0.0
                for ln in range(LANES):
                    std = math.sqrt(den[ln] / max(n_neg[ln] - 1, 1))
                    if std == 0.0:
                        std = _MIN_FLOAT
                    scale[ln] = -2.0 / std
                    shift[ln] = 2.0 * std - shift[ln]
                for j in range(n):
                    for ln in range(LANES):
                        # u = scale * (r - shift); the logistic needs exp(-|u|) (no overflow)
                        u = scale[ln] * (res[j, ln] - shift[ln])
                        res[j, ln] = u
                        e_buf[j, ln] = -abs(u)
                _exp_inplace(e_flat, e_work)
                num[:] = 0.0
                den[:] = 0.0
                for j in range(n):
                    for ln in range(LANES):
                        # expit(u) written so that exp never overflows (as scipy's expit)
                        e = e_buf[j, ln]
                        # one division: e * (1 / (1 + e)) is within an ulp of e / (1 + e)
                        inv = 1.0 / (1.0 + e)
                        new = inv if res[j, ln] >= 0.0 else e * inv
                        d = new - w[j, ln]
                        num[ln] += d * d
                        den[ln] += w[j, ln] * w[j, ln]
                        w[j, ln] = new
                for ln in range(LANES):
                    if math.sqrt(num[ln]) / max(math.sqrt(den[ln]), _MIN_FLOAT) < tol:
                        done[ln] = True

        # -- store finished lanes (a failed factorisation shows as a non-finite baseline)
        for ln in range(LANES):
            if row[ln] >= 0 and done[ln]:
                r = row[ln]
                for j in range(n):
                    if corrected:
                        # the subtraction is done in float64 before the cast
                        out[r, j] = y[j, ln] - z[j, ln]
                    else:
                        out[r, j] = z[j, ln]
                    if not math.isfinite(z[j, ln]):
                        out[r, :] = np.nan
                        break
                row[ln] = -1


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
    x: npt.ArrayLike,
    lam: object,
    diff_order: object,
    max_iter: object,
    tol: object,
    *,
    min_order: int = 1,
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
    _whittaker(arr, pen, ASLS, _NO_BASIS, p_v, 0.0, iters, tol_v, False, corrected, out)
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
    _whittaker(arr, pen, IASLS, q, p_v, lam_1_v, iters, tol_v, False, corrected, out)
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
    _whittaker(
        arr, pen, AIRPLS, _NO_BASIS, 0.5, 0.0, iters, tol_v, bool(normalize_weights), corrected, out
    )
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
    _whittaker(arr, pen, ARPLS, _NO_BASIS, 0.5, 0.0, iters, tol_v, False, corrected, out)
    return restore(out, was_1d)
