"""BEADS: baseline estimation and denoising with sparsity (pybaselines 1.2 ``misc.beads``).

The baseline is modelled as the low-pass part of ``y - x``, where the signal ``x`` and its first
two differences are sparse. ``B A⁻¹`` is a zero-phase high-pass filter of order ``2 filter_type``
(``A``, ``B`` banded, half-bandwidth ``filter_type``). Each iteration solves the
banded system ``(BᵀB + A Λ A) u = d``, ``x = A u`` (``Λ`` = the 5-band majoriser of the
penalties) by LU with partial pivoting, the operations of LAPACK ``gbtf2``/``gbtrs`` that
pybaselines reaches through ``scipy.linalg.solve_banded``: the system is symmetric positive
definite in exact arithmetic but not numerically for ``filter_type >= 2`` (``A`` is then nearly
singular), where a Cholesky factorisation breaks down. Solves with ``A`` use its banded Cholesky
factor (pybaselines: ``solveh_banded``). Computations are float64.

References
----------
Ning, Selesnick & Duval (2014), Chemom. Intell. Lab. Syst. 139, 156-167.
Navarro-Huerta et al. (2017), J. Chromatogr. A 1507, 1-10 (the parabola pre-fit).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import numpy.typing as npt

from nirskern._jit import jit
from nirskern._validate import FloatArray, as_spectra, check_int, restore
from nirskern.whittaker import (
    Output,
    check_float,
    check_output,
    cholesky_banded,
    cholesky_solve_banded,
)

_MIN_FLOAT = float(np.finfo(np.float64).eps)

CostFunction = Literal[1, 2, "l1_v1", "l1_v2"]


def _filter_coefficients(freq_cutoff: float, filter_type: int) -> tuple[FloatArray, FloatArray]:
    """Toeplitz coefficients (offsets -ft..ft) of ``A`` and ``B``, as pybaselines builds them."""
    filter_order = 2 * filter_type
    b = np.zeros(2 * filter_order + 1)
    b[filter_order] = -1 if filter_type % 2 else 1
    for _ in range(filter_order):
        b = b[:-1] - b[1:]
    a = abs(b)
    cos_freq = np.cos(2 * np.pi * freq_cutoff)
    t = ((1 - cos_freq) / max(1 + cos_freq, _MIN_FLOAT)) ** filter_type
    return b + a * t, b


@jit
def _toeplitz_band(coef: FloatArray, n: int, out: FloatArray) -> None:
    """Full band storage of a truncated Toeplitz matrix: ``out[i, o + ft] = M[i, i + o]``."""
    ft = (coef.shape[0] - 1) // 2
    for i in range(n):
        for o in range(-ft, ft + 1):
            out[i, o + ft] = coef[o + ft] if 0 <= i + o < n else 0.0


@jit
def _band_matvec(band: FloatArray, v: FloatArray, out: FloatArray) -> None:
    """``out = M v`` for ``M`` in full band storage (half-bandwidth ``(width - 1) // 2``)."""
    n = v.shape[0]
    h = (band.shape[1] - 1) // 2
    for i in range(n):
        s = 0.0
        for o in range(max(-h, -i), min(h, n - 1 - i) + 1):
            s += band[i, o + h] * v[i + o]
        out[i] = s


@jit
def _sym_lower_to_full(lower: FloatArray, full: FloatArray) -> None:
    """Row storage of a symmetric matrix (``lower[i, t] = M[i, i - t]``) to full band storage."""
    n, width = lower.shape
    h = width - 1
    for i in range(n):
        for o in range(-h, h + 1):
            if o <= 0:
                full[i, o + h] = lower[i, -o] if i + o >= 0 else 0.0
            else:
                full[i, o + h] = lower[i + o, o] if i + o < n else 0.0


@jit
def _btb(b_full: FloatArray, out: FloatArray) -> None:
    """``BᵀB = B B`` (B symmetric) in row storage; exact integers, half-bandwidth ``2 ft``."""
    n, width = b_full.shape
    ft = (width - 1) // 2
    for i in range(n):
        for t in range(min(2 * ft, i) + 1):
            j = i - t
            s = 0.0
            for k in range(max(0, i - ft, j - ft), min(n - 1, i + ft, j + ft) + 1):
                s += b_full[i, k - i + ft] * b_full[k, j - k + ft]
            out[i, t] = s


@jit
def _reflect(k: int, size: int) -> int:
    """scipy.ndimage ``mode="reflect"`` index (``d c b a | a b c d | d c b a``)."""
    period = 2 * size
    k = k % period
    return k if k < size else period - 1 - k


@jit
def _weighting(v: float, use_v2: bool, eps_1: float) -> float:  # noqa: FBT001
    return 1.0 / (v + eps_1) if use_v2 else 1.0 / math.sqrt(v * v + eps_1)


@jit
def _lanes_theta(x: FloatArray, asymmetry: float, eps_0: float, out: FloatArray) -> None:
    """The asymmetric Huber-like cost of the signal in every lane (pybaselines ``_beads_theta``).

    Branch-free: each sum adds 0.0 where pybaselines' masks exclude a point (no change).
    """
    n, lanes = x.shape
    c2 = (1.0 + asymmetry) / (4.0 * eps_0)
    c1 = (1.0 - asymmetry) / 2.0
    c0 = eps_0 * (1.0 + asymmetry) / 4.0
    pos = np.zeros(lanes)
    neg = np.zeros(lanes)
    small = np.zeros(lanes)
    for j in range(n):
        for ln in range(lanes):
            v = x[j, ln]
            pos[ln] += v if v > eps_0 else 0.0
            neg[ln] += v if v < -eps_0 else 0.0
            small[ln] += c2 * v * v + c1 * v + c0 if not abs(v) > eps_0 else 0.0
    for ln in range(lanes):
        out[ln] = pos[ln] - asymmetry * neg[ln] + small[ln]


# -- pivoted banded LU (LAPACK gbtf2 / gbtrs, the solver behind scipy's solve_banded) --------
@jit
def lu_banded(ab: FloatArray, kl: int, ku: int, ipiv: npt.NDArray[np.int64]) -> bool:
    """Factor a banded matrix in place by LU with partial (row) pivoting; False if singular.

    Column storage: ``ab[c, kl + ku + i - c] = M[i, c]`` (``ab`` has ``2 kl + ku + 1`` columns,
    the first ``kl`` receive the fill-in of the row interchanges and must start at zero). The
    operations are those of LAPACK's unblocked ``dgbtf2``, which ``dgbtrf`` runs for
    ``kl < 32``: the pivot is the first entry of largest magnitude, the column is scaled by the
    reciprocal pivot, then a rank-1 update. Unlike a Cholesky factorisation it does not need
    positive definiteness (BEADS with ``filter_type >= 2`` is not numerically definite).
    """
    n = ab.shape[0]
    kv = kl + ku
    ju = 0
    ok = True
    for j in range(n):
        km = min(kl, n - 1 - j)
        jp = 0
        big = abs(ab[j, kv])
        for i in range(1, km + 1):
            if abs(ab[j, kv + i]) > big:
                big = abs(ab[j, kv + i])
                jp = i
        ipiv[j] = j + jp
        if ab[j, kv + jp] == 0.0:
            ok = False
            continue
        ju = max(ju, min(j + ku + jp, n - 1))
        if jp != 0:
            for c in range(j, ju + 1):
                t = ab[c, kv + j + jp - c]
                ab[c, kv + j + jp - c] = ab[c, kv + j - c]
                ab[c, kv + j - c] = t
        if km > 0:
            r = 1.0 / ab[j, kv]
            for i in range(1, km + 1):
                ab[j, kv + i] *= r
            for c in range(j + 1, ju + 1):
                f = ab[c, kv + j - c]
                if f != 0.0:
                    for i in range(1, km + 1):
                        ab[c, kv + j + i - c] -= ab[j, kv + i] * f
    return ok


@jit
def lu_solve_banded(
    ab: FloatArray, kl: int, ku: int, ipiv: npt.NDArray[np.int64], b: FloatArray
) -> None:
    """Solve ``M x = b`` in place with the factors of :func:`lu_banded` (LAPACK ``dgbtrs``)."""
    n = ab.shape[0]
    kv = kl + ku
    for j in range(n - 1):
        lm = min(kl, n - 1 - j)
        piv = ipiv[j]
        if piv != j:
            t = b[piv]
            b[piv] = b[j]
            b[j] = t
        bj = b[j]
        for i in range(1, lm + 1):
            b[j + i] -= bj * ab[j, kv + i]
    for j in range(n - 1, -1, -1):
        if b[j] != 0.0:
            b[j] /= ab[j, kv]
            t = b[j]
            for i in range(max(0, j - kv), j):
                b[i] -= t * ab[j, kv + i - j]


# -- lane-batched driver ----------------------------------------------------------------------
#: Spectra solved side by side. Every recurrence of an iteration (the LU factorisation, the
#: banded solves) is a chain of dependent operations for one spectrum; interleaving
#: independent spectra lets the CPU overlap them. A lane whose spectrum has converged is
#: refilled with the next one. Arrays with a lane axis hold one spectrum per lane (last axis).
LANES = 32


@jit
def _lanes_matvec(band: FloatArray, v: FloatArray, out: FloatArray) -> None:
    """``out[:, ln] = M v[:, ln]`` for every lane (:func:`_band_matvec`'s sums, same order)."""
    n, lanes = v.shape
    h = (band.shape[1] - 1) // 2
    for i in range(n):
        for ln in range(lanes):
            out[i, ln] = 0.0
        for o in range(max(-h, -i), min(h, n - 1 - i) + 1):
            m = band[i, o + h]
            for ln in range(lanes):
                out[i, ln] += m * v[i + o, ln]


@jit
def _lanes_chol_solve(chol: FloatArray, b: FloatArray) -> None:
    """:func:`cholesky_solve_banded` of every lane of ``b`` with one shared factor."""
    n, width = chol.shape
    lanes = b.shape[1]
    m = width - 1
    for i in range(n):
        for t in range(1, min(m, i) + 1):
            c = chol[i, t]
            for ln in range(lanes):
                b[i, ln] -= c * b[i - t, ln]
        d = chol[i, 0]
        for ln in range(lanes):
            b[i, ln] /= d
    for i in range(n - 1, -1, -1):
        for t in range(1, min(m, n - 1 - i) + 1):
            c = chol[i + t, t]
            for ln in range(lanes):
                b[i, ln] -= c * b[i + t, ln]
        d = chol[i, 0]
        for ln in range(lanes):
            b[i, ln] /= d


@jit
def _lanes_lu(ab: FloatArray, kl: int, ku: int, ipiv: npt.NDArray[np.int64]) -> None:
    """:func:`lu_banded` of every lane (``ab[c, t, ln]``), with the same results.

    The row interchange and the rank-1 update run over every column a pivot can reach
    (``j + kl + ku``) instead of LAPACK's running bound ``ju``: beyond it the entries of both
    rows are zeros, so swapping or subtracting ``0 * l`` changes nothing. A lane with a zero
    pivot turns into inf/NaN (its spectrum becomes a NaN row); the other lanes are unaffected.
    """
    n = ab.shape[0]
    lanes = ab.shape[2]
    kv = kl + ku
    jp = np.zeros(lanes, dtype=np.int64)
    big = np.zeros(lanes)
    for j in range(n):
        km = min(kl, n - 1 - j)
        last = min(j + kv, n - 1)
        any_swap = False
        for ln in range(lanes):
            jp[ln] = 0
            big[ln] = abs(ab[j, kv, ln])
        for i in range(1, km + 1):
            for ln in range(lanes):
                a = abs(ab[j, kv + i, ln])
                if a > big[ln]:
                    big[ln] = a
                    jp[ln] = i
        for ln in range(lanes):
            ipiv[j, ln] = j + jp[ln]
            any_swap = any_swap or jp[ln] != 0
        if any_swap:
            for ln in range(lanes):
                q = jp[ln]
                if q != 0:
                    for c in range(j, last + 1):
                        t = ab[c, kv + j + q - c, ln]
                        ab[c, kv + j + q - c, ln] = ab[c, kv + j - c, ln]
                        ab[c, kv + j - c, ln] = t
        if km > 0:
            for ln in range(lanes):
                r = 1.0 / ab[j, kv, ln]
                for i in range(1, km + 1):
                    ab[j, kv + i, ln] *= r
            for c in range(j + 1, last + 1):
                for i in range(1, km + 1):
                    for ln in range(lanes):
                        ab[c, kv + j + i - c, ln] -= ab[j, kv + i, ln] * ab[c, kv + j - c, ln]


@jit
def _lanes_lu_solve(
    ab: FloatArray, kl: int, ku: int, ipiv: npt.NDArray[np.int64], b: FloatArray
) -> None:
    """:func:`lu_solve_banded` of every lane (a zero ``b[j]`` divided and subtracted as 0)."""
    n = ab.shape[0]
    lanes = b.shape[1]
    kv = kl + ku
    for j in range(n - 1):
        lm = min(kl, n - 1 - j)
        for ln in range(lanes):
            piv = ipiv[j, ln]
            if piv != j:
                t = b[piv, ln]
                b[piv, ln] = b[j, ln]
                b[j, ln] = t
        for i in range(1, lm + 1):
            for ln in range(lanes):
                b[j + i, ln] -= b[j, ln] * ab[j, kv + i, ln]
    for j in range(n - 1, -1, -1):
        for ln in range(lanes):
            b[j, ln] /= ab[j, kv, ln]
        for i in range(max(0, j - kv), j):
            for ln in range(lanes):
                b[i, ln] -= b[j, ln] * ab[j, kv + i - j, ln]


@jit
def _lanes_moving_average(src: FloatArray, length: int, h: int, out: FloatArray) -> None:
    """``scipy.ndimage.uniform_filter1d(src[:length], 2h + 1)`` of every lane, reflected edges."""
    lanes = src.shape[1]
    w = 2 * h + 1
    for i in range(length):
        for ln in range(lanes):
            out[i, ln] = 0.0
        for k in range(i - h, i + h + 1):
            kk = _reflect(k, length)
            for ln in range(lanes):
                out[i, ln] += src[kk, ln]
        for ln in range(lanes):
            out[i, ln] /= w


@jit
def _lanes_abs_diff(x: FloatArray, h: int, d1: FloatArray, d2: FloatArray, tmp: FloatArray) -> None:
    """|first| and |second| differences of every lane of ``x`` (lengths n-1, n-2), optionally
    smoothed (pybaselines smooths the raw second difference, then the first difference)."""
    n, lanes = x.shape
    for j in range(n - 1):
        for ln in range(lanes):
            d1[j, ln] = x[j + 1, ln] - x[j, ln]
    if h > 0:
        for j in range(n - 2):
            for ln in range(lanes):
                tmp[j, ln] = d1[j + 1, ln] - d1[j, ln]
        _lanes_moving_average(tmp, n - 2, h, d2)
        for j in range(n - 1):
            for ln in range(lanes):
                tmp[j, ln] = d1[j, ln]
        _lanes_moving_average(tmp, n - 1, h, d1)
        for j in range(n - 2):
            for ln in range(lanes):
                d2[j, ln] = abs(d2[j, ln])
    else:
        for j in range(n - 2):
            for ln in range(lanes):
                d2[j, ln] = abs(d1[j + 1, ln] - d1[j, ln])
    for j in range(n - 1):
        for ln in range(lanes):
            d1[j, ln] = abs(d1[j, ln])


_MANTISSA = (1 << 52) - 1
_ONE_BITS = 1023 << 52
_LN2 = math.log(2.0)


@jit
def _split_exponent(a: FloatArray, esum: npt.NDArray[np.int64]) -> None:
    """``a = m 2^e`` with ``m`` in [1, 2) for positive normal ``a``: ``a = m``, ``esum += e``."""
    bits = a.view(np.int64)
    for ln in range(a.shape[0]):
        b = bits[ln]
        esum[ln] += (b >> 52) - 1023
        bits[ln] = (b & _MANTISSA) | _ONE_BITS


@jit
def _lanes_loss(d: FloatArray, m: int, use_v2: bool, eps: float, out: FloatArray) -> None:  # noqa: FBT001
    """``out[ln]`` = the loss of ``d[:m, ln]``, for every lane: the sum of ``v - eps log(v + eps)``
    (``use_v2``, cost function 2) or of ``sqrt(v² + eps)``.

    ``v - eps log(v + eps)`` is summed as ``sum(v) - eps log(prod(v + eps))``, the product
    kept as mantissas in [1, 2) with the binary exponents summed apart (renormalised every 256
    factors, so it never overflows): one ``log`` per 256 points instead of one per point. The
    cost only feeds the relative-change exit test, where the different rounding (~1e-13 of the
    log sum, times ``eps``) does not show.
    """
    lanes = d.shape[1]
    sv = np.zeros(lanes)
    if not use_v2:
        for j in range(m):
            for ln in range(lanes):
                sv[ln] += math.sqrt(d[j, ln] * d[j, ln] + eps)
        out[:] = sv
        return
    prod = np.ones(lanes)
    factor = np.empty(lanes)
    esum = np.zeros(lanes, dtype=np.int64)
    for j in range(m):
        for ln in range(lanes):
            sv[ln] += d[j, ln]
            factor[ln] = d[j, ln] + eps
        _split_exponent(factor, esum)
        for ln in range(lanes):
            prod[ln] *= factor[ln]
        if j % 256 == 255:
            _split_exponent(prod, esum)
    for ln in range(lanes):
        out[ln] = sv[ln] - eps * (math.log(prod[ln]) + esum[ln] * _LN2)


@jit
def _start_lane(
    x: FloatArray,
    r: int,
    ln: int,
    a_full: FloatArray,
    a_chol: FloatArray,
    btb_full: FloatArray,
    a_const: FloatArray,
    xgrid: FloatArray,
    fit_parabola: bool,  # noqa: FBT001
    y: FloatArray,
    parab: FloatArray,
    d: FloatArray,
    xs: FloatArray,
    row: FloatArray,
    tmp: FloatArray,
) -> bool:
    """Load spectrum ``r`` into lane ``ln``: ``y`` (less the parabola), ``d``, ``xs = y``.

    Returns False (lane untouched) when the spectrum holds a non-finite value.
    """
    n = row.shape[0]
    for j in range(n):
        row[j] = x[r, j]
        if not math.isfinite(row[j]):
            return False
    if fit_parabola:
        # The parabola through both end points with minimum min(y) at the centre.
        lo = row.min()
        y1 = row[0] - lo
        y2 = row[n - 1] - lo
        cc = (y2 + y1) / 2.0
        bb = cc - y1
        for j in range(n):
            pj = lo + bb * xgrid[j] + cc * xgrid[j] ** 2
            parab[j, ln] = pj
            row[j] -= pj
    else:
        for j in range(n):
            parab[j, ln] = 0.0
    # d = BᵀB A⁻¹ y - A (lam_0 (1 - asymmetry) / 2)  (line 2 of Table 3 of the paper)
    for j in range(n):
        y[j, ln] = row[j]
        xs[j, ln] = row[j]
    cholesky_solve_banded(a_chol, row)
    _band_matvec(btb_full, row, tmp)
    for j in range(n):
        d[j, ln] = tmp[j] - a_const[j]
    return True


@jit
def _beads(
    x: FloatArray,
    a_full: FloatArray,
    b_full: FloatArray,
    a_chol: FloatArray,
    btb_full: FloatArray,
    lam_0: float,
    lam_1: float,
    lam_2: float,
    asymmetry: float,
    use_v2: bool,  # noqa: FBT001
    max_iter: int,
    tol: float,
    eps_0: float,
    eps_1: float,
    fit_parabola: bool,  # noqa: FBT001
    smooth_half_window: int,
    corrected: bool,  # noqa: FBT001
    lanes: int,
    out: FloatArray,
) -> None:
    n_rows, n = x.shape
    ft = (a_full.shape[1] - 1) // 2
    hm = ft + 2  # half-bandwidth of A Λ
    mm = 2 * ft + 2  # half-bandwidth of A Λ A (kl = ku of the LU)
    kv = 2 * mm
    row = np.empty(n)
    tmp1 = np.empty(n)
    y = np.zeros((n, lanes))
    parab = np.zeros((n, lanes))
    d = np.zeros((n, lanes))
    u = np.zeros((n, lanes))
    v = np.zeros((n, lanes))
    xs = np.zeros((n, lanes))
    h = np.zeros((n, lanes))
    tmp = np.zeros((n, lanes))
    d1 = np.zeros((max(n - 1, 1), lanes))
    d2 = np.zeros((max(n - 2, 1), lanes))
    w1 = np.zeros((n + 1, lanes))  # weights of |Δx|, zero past the end
    w2 = np.zeros((n + 2, lanes))  # weights of |Δ²x|
    up2 = np.zeros((n + 1, lanes))  # up2[c] = (D2ᵀW2D2)[c - 1, c] as pybaselines computes it
    # The band products run in diagonal storage (one row per diagonal, zero-padded ends), so
    # that their inner loops run over all points with no bound tests:
    # lam[q, ft + k] = Λ[k, k + q - 2], a_d[s + ft, hm + k] = A[k, k + s],
    # al[o + hm, i] = (A Λ)[i, i + o], m_d[o + mm, i] = M[i, i + o], btb_d likewise.
    lam = np.zeros((5, n + 2 * ft, lanes))
    a_d = np.zeros((2 * ft + 1, n + 2 * hm))
    for s in range(2 * ft + 1):
        for k in range(n):
            a_d[s, hm + k] = a_full[k, s]
    btb_d = np.zeros((4 * ft + 1, n))
    for o in range(4 * ft + 1):
        for k in range(n):
            btb_d[o, k] = btb_full[k, o]
    al = np.zeros((2 * hm + 1, n, lanes))
    m_d = np.zeros((2 * mm + 1, n, lanes))
    ab = np.zeros((n, 3 * mm + 1, lanes))  # BᵀB + A Λ A in LU column storage (see lu_banded)
    ipiv = np.zeros((n, lanes), dtype=np.int64)
    const = lam_0 * (1.0 - asymmetry) / 2.0
    gamma_factor = lam_0 * (1.0 + asymmetry) / 2.0
    for j in range(n):
        tmp1[j] = const
    a_const = np.empty(n)
    _band_matvec(a_full, tmp1, a_const)
    xgrid = np.linspace(-1.0, 1.0, n)
    lane_row = np.full(lanes, -1)
    iters = np.zeros(lanes, dtype=np.int64)
    cost_old = np.zeros(lanes)
    theta = np.zeros(lanes)
    hh = np.zeros(lanes)
    loss1 = np.zeros(lanes)
    loss2 = np.zeros(lanes)
    done = np.zeros(lanes, dtype=np.bool_)
    next_row = 0
    while True:
        # -- refill idle lanes (rows with non-finite values become NaN rows at once)
        active = 0
        for ln in range(lanes):
            while lane_row[ln] < 0 and next_row < n_rows:
                r = next_row
                next_row += 1
                if not _start_lane(
                    x,
                    r,
                    ln,
                    a_full,
                    a_chol,
                    btb_full,
                    a_const,
                    xgrid,
                    fit_parabola,
                    y,
                    parab,
                    d,
                    xs,
                    row,
                    tmp1,
                ):
                    out[r, :] = np.nan
                    continue
                lane_row[ln] = r
                iters[ln] = 0
                cost_old[ln] = 0.0
                one = slice(ln, ln + 1)
                _lanes_abs_diff(xs[:, one], smooth_half_window, d1[:, one], d2[:, one], tmp[:, one])
            # (an idle lane keeps iterating its last spectrum: lanes never mix, so it is harmless)
            if lane_row[ln] >= 0:
                active += 1
        if active == 0:
            break

        # -- Λ = lam_1 D1ᵀW1D1 + lam_2 D2ᵀW2D2 + Γ, with pybaselines' band formulas (one
        # weight per difference, then the bands as pybaselines combines them).
        for j in range(n - 1):
            for ln in range(lanes):
                w1[j, ln] = _weighting(d1[j, ln], use_v2, eps_1)
        for j in range(n - 2):
            for ln in range(lanes):
                w2[j, ln] = _weighting(d2[j, ln], use_v2, eps_1)
        for c in range(n):
            for ln in range(lanes):
                # M2[c - 2, c] = w2[c - 2]; M2[c - 1, c] = 2 (that - next) - 4 that (np.roll)
                cur = w2[c - 2, ln] if c >= 2 else 0.0
                nxt = w2[c - 1, ln] if 1 <= c < n - 1 else 0.0
                up2[c, ln] = 2.0 * (cur - nxt) - 4.0 * cur
        for k in range(n):
            col = ft + k
            for ln in range(lanes):
                u1 = -w1[k - 1, ln] if k >= 1 else 0.0  # M1[k - 1, k]
                l1 = -w1[k, ln] if k < n - 1 else 0.0  # M1[k + 1, k]
                u2 = w2[k - 2, ln] if k >= 2 else 0.0
                l2 = w2[k, ln] if k < n - 2 else 0.0
                l2_1 = up2[k + 1, ln] if k < n - 1 else 0.0
                main2 = -(u2 + up2[k, ln] + l2 + l2_1)
                ax = abs(xs[k, ln])
                gamma = gamma_factor / ax if ax > eps_0 else gamma_factor / eps_0
                lam[2, col, ln] = lam_1 * -(u1 + l1) + lam_2 * main2 + gamma
                lam[3, col, ln] = lam_1 * l1 + lam_2 * l2_1 if k < n - 1 else 0.0
                lam[4, col, ln] = lam_1 * 0.0 + lam_2 * l2 if k < n - 2 else 0.0
                if k >= 1:
                    lam[1, col, ln] = lam[3, col - 1, ln]
                if k >= 2:
                    lam[0, col, ln] = lam[4, col - 2, ln]
        # A Λ, then (A Λ) A + BᵀB as pybaselines associates them; out-of-range terms are
        # products with the zero padding.
        al[:, :, :] = 0.0
        for sa in range(2 * ft + 1):
            for q in range(5):
                for i in range(n):
                    a = a_d[sa, hm + i]
                    for ln in range(lanes):
                        al[sa + q, i, ln] += a * lam[q, i + sa, ln]
        m_d[:, :, :] = 0.0
        for sl in range(2 * hm + 1):
            for q in range(2 * ft + 1):
                for i in range(n):
                    a = a_d[q, i + sl]
                    for ln in range(lanes):
                        m_d[sl + q, i, ln] += al[sl, i, ln] * a
        for o in range(4 * ft + 1):
            for i in range(n):
                b = btb_d[o, i]
                for ln in range(lanes):
                    m_d[o + 2, i, ln] += b
        for o in range(-mm, mm + 1):
            for i in range(max(0, -o), min(n, n - o)):
                for ln in range(lanes):
                    ab[i + o, kv - o, ln] = m_d[o + mm, i, ln]
        for c in range(n):
            for t in range(mm):
                for ln in range(lanes):
                    ab[c, t, ln] = 0.0  # row-interchange fill-in starts at zero
        for j in range(n):
            for ln in range(lanes):
                u[j, ln] = d[j, ln]
        # pybaselines solves this system with scipy's solve_banded (pivoted LU), which raises
        # on an exactly singular matrix: that lane's row becomes NaN (a zero pivot's inf/NaN
        # reach its baseline).
        _lanes_lu(ab, mm, mm, ipiv)
        _lanes_lu_solve(ab, mm, mm, ipiv, u)
        _lanes_matvec(a_full, u, xs)
        _lanes_theta(xs, asymmetry, eps_0, theta)
        _lanes_abs_diff(xs, smooth_half_window, d1, d2, tmp)
        # h = B A⁻¹ (y - x)
        for j in range(n):
            for ln in range(lanes):
                v[j, ln] = y[j, ln] - xs[j, ln]
        _lanes_chol_solve(a_chol, v)
        _lanes_matvec(b_full, v, h)
        hh[:] = 0.0
        for j in range(n):
            for ln in range(lanes):
                hh[ln] += h[j, ln] * h[j, ln]
        _lanes_loss(d1, n - 1, use_v2, eps_1, loss1)
        _lanes_loss(d2, n - 2, use_v2, eps_1, loss2)
        for ln in range(lanes):
            cost = 0.5 * hh[ln] + lam_0 * theta[ln] + lam_1 * loss1[ln] + lam_2 * loss2[ln]
            iters[ln] += 1
            done[ln] = (
                abs(cost - cost_old[ln]) / max(abs(cost_old[ln]), _MIN_FLOAT) < tol
                or iters[ln] > max_iter
            )
            cost_old[ln] = cost

        # -- store finished lanes: baseline = (y - x) - B A⁻¹ (y - x), plus the parabola
        for ln in range(lanes):
            r = lane_row[ln]
            if r < 0 or not done[ln]:
                continue
            for j in range(n):
                base = (y[j, ln] - xs[j, ln]) - h[j, ln] + parab[j, ln]
                if not math.isfinite(base):
                    out[r, :] = np.nan
                    break
                out[r, j] = float(x[r, j]) - base if corrected else base
            lane_row[ln] = -1


def beads(
    x: npt.ArrayLike,
    *,
    freq_cutoff: float = 0.005,
    lam_0: float = 1.0,
    lam_1: float = 1.0,
    lam_2: float = 1.0,
    asymmetry: float = 6.0,
    filter_type: int = 1,
    cost_function: CostFunction = 2,
    max_iter: int = 50,
    tol: float = 1e-2,
    eps_0: float = 1e-6,
    eps_1: float = 1e-6,
    fit_parabola: bool = True,
    smooth_half_window: int | None = None,
    output: Output = "corrected",
) -> FloatArray:
    """BEADS baseline of each spectrum (pybaselines ``misc.beads``, same parameters and defaults).

    ``cost_function`` 2 / ``"l1_v2"`` approximates ``|x|`` by ``|x| - eps_1 log(|x| + eps_1)``,
    1 / ``"l1_v1"`` by ``sqrt(x² + eps_1)``. The default ``lam_*`` suit about 1000 points.
    Returns ``x - baseline`` (``output="corrected"``) or the baseline.

    >>> t = np.linspace(0.0, 1.0, 300)
    >>> y = 1.0 + 0.5 * t + np.exp(-0.5 * ((t - 0.5) / 0.01) ** 2)
    >>> round(float(beads(y).max()), 1)  # the unit peak survives, the sloped baseline goes
    0.9
    """
    corrected = check_output(output)
    arr, was_1d = as_spectra(x)
    fc = check_float(freq_cutoff, "freq_cutoff", low=0.0, high=0.5)
    l0 = check_float(lam_0, "lam_0", low=0.0, low_open=False)
    l1 = check_float(lam_1, "lam_1", low=0.0, low_open=False)
    l2 = check_float(lam_2, "lam_2", low=0.0, low_open=False)
    asym = check_float(asymmetry, "asymmetry", low=0.0)
    ft = check_int(filter_type, "filter_type", minimum=1)
    key = cost_function.lower() if isinstance(cost_function, str) else cost_function
    if key not in (1, 2, "l1_v1", "l1_v2") or isinstance(key, bool):
        msg = (
            f"'cost_function' must be 1, 2, 'l1_v1' or 'l1_v2'; got cost_function={cost_function!r}"
        )
        raise ValueError(msg)
    use_v2 = key in (2, "l1_v2")
    iters = check_int(max_iter, "max_iter", minimum=0)
    tol_v = check_float(tol, "tol", low=0.0, low_open=False)
    # pybaselines floors both at machine epsilon so that 0 + eps stays > 0.
    e0 = max(check_float(eps_0, "eps_0", low=0.0, low_open=False), _MIN_FLOAT)
    e1 = max(check_float(eps_1, "eps_1", low=0.0, low_open=False), _MIN_FLOAT)
    if not isinstance(fit_parabola, bool | np.bool_):
        msg = f"'fit_parabola' must be a bool, not {type(fit_parabola).__name__}"
        raise TypeError(msg)
    shw = (
        0
        if smooth_half_window is None
        else check_int(smooth_half_window, "smooth_half_window", minimum=0)
    )

    n = arr.shape[1]
    a_coef, b_coef = _filter_coefficients(fc, ft)
    a_full = np.empty((n, 2 * ft + 1))
    b_full = np.empty((n, 2 * ft + 1))
    _toeplitz_band(a_coef, n, a_full)
    _toeplitz_band(b_coef, n, b_full)
    # A in row storage for its Cholesky factor (A is symmetric positive definite).
    a_chol = np.zeros((n, ft + 1))
    for t in range(ft + 1):
        a_chol[t:, t] = a_full[t:, ft - t]
    if not cholesky_banded(a_chol):
        msg = f"the high-pass filter matrix is singular for freq_cutoff={fc}, filter_type={ft}"
        raise ValueError(msg)
    # BᵀB = B B (B symmetric): exact integers, half-bandwidth 2 ft.
    btb_lower = np.zeros((n, 2 * ft + 1))
    _btb(b_full, btb_lower)
    btb_full = np.empty((n, 4 * ft + 1))
    _sym_lower_to_full(btb_lower, btb_full)

    out = np.empty_like(arr)
    _beads(
        arr,
        a_full,
        b_full,
        a_chol,
        btb_full,
        l0,
        l1,
        l2,
        asym,
        use_v2,
        iters,
        tol_v,
        e0,
        e1,
        bool(fit_parabola),
        shw,
        corrected,
        max(1, min(LANES, arr.shape[0])),
        out,
    )
    return restore(out, was_1d)
