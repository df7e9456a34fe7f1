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
def _moving_average(src: FloatArray, length: int, h: int, out: FloatArray) -> None:
    """``scipy.ndimage.uniform_filter1d(src[:length], 2h + 1)`` with reflected edges."""
    w = 2 * h + 1
    for i in range(length):
        s = 0.0
        for k in range(i - h, i + h + 1):
            s += src[_reflect(k, length)]
        out[i] = s / w


@jit
def _abs_diff(x: FloatArray, h: int, d1: FloatArray, d2: FloatArray, tmp: FloatArray) -> None:
    """|first| and |second| differences of ``x`` (lengths n-1, n-2), optionally smoothed."""
    n = x.shape[0]
    for j in range(n - 1):
        d1[j] = x[j + 1] - x[j]
    if h > 0:
        # pybaselines smooths the raw second difference, then the first difference.
        for j in range(n - 2):
            tmp[j] = d1[j + 1] - d1[j]
        _moving_average(tmp, n - 2, h, d2)
        for j in range(n - 1):
            tmp[j] = d1[j]
        _moving_average(tmp, n - 1, h, d1)
        for j in range(n - 2):
            d2[j] = abs(d2[j])
    else:
        for j in range(n - 2):
            d2[j] = abs(d1[j + 1] - d1[j])
    for j in range(n - 1):
        d1[j] = abs(d1[j])


@jit
def _weighting(v: float, use_v2: bool, eps_1: float) -> float:  # noqa: FBT001
    return 1.0 / (v + eps_1) if use_v2 else 1.0 / math.sqrt(v * v + eps_1)


@jit
def _loss(v: float, use_v2: bool, eps_1: float) -> float:  # noqa: FBT001
    return v - eps_1 * math.log(v + eps_1) if use_v2 else math.sqrt(v * v + eps_1)


@jit
def _theta(x: FloatArray, asymmetry: float, eps_0: float) -> float:
    """The asymmetric Huber-like cost of the signal (pybaselines ``_beads_theta``)."""
    pos = 0.0
    neg = 0.0
    small = 0.0
    c2 = (1.0 + asymmetry) / (4.0 * eps_0)
    c1 = (1.0 - asymmetry) / 2.0
    c0 = eps_0 * (1.0 + asymmetry) / 4.0
    for v in x:
        if v > eps_0:
            pos += v
        elif v < -eps_0:
            neg += v
        if not abs(v) > eps_0:
            small += c2 * v * v + c1 * v + c0
    return pos - asymmetry * neg + small


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
    out: FloatArray,
) -> None:
    n_rows, n = x.shape
    ft = (a_full.shape[1] - 1) // 2
    hm = ft + 2  # half-bandwidth of A Λ
    mm = 2 * ft + 2  # half-bandwidth of A Λ A (kl = ku of the LU)
    y = np.empty(n)
    parab = np.zeros(n)
    d = np.empty(n)
    v = np.empty(n)
    u = np.empty(n)
    xs = np.empty(n)
    h = np.empty(n)
    tmp = np.empty(n)
    d1 = np.zeros(max(n - 1, 1))
    d2 = np.zeros(max(n - 2, 1))
    w1 = np.zeros(n + 1)  # weights of |Δx|, zero past the end
    w2 = np.zeros(n + 2)  # weights of |Δ²x|
    up2 = np.zeros(n + 1)  # up2[c] = (D2ᵀW2D2)[c - 1, c] as pybaselines computes it
    # The band products run in diagonal storage (one contiguous row per diagonal, zero-padded
    # ends), so that their inner loops run over all points with no bound tests and vectorise:
    # lam[q, ft + k] = Λ[k, k + q - 2], a_d[s + ft, hm + k] = A[k, k + s],
    # al[o + hm, i] = (A Λ)[i, i + o], m_d[o + mm, i] = M[i, i + o], btb_d likewise.
    lam = np.zeros((5, n + 2 * ft))
    a_d = np.zeros((2 * ft + 1, n + 2 * hm))
    for s in range(2 * ft + 1):
        for k in range(n):
            a_d[s, hm + k] = a_full[k, s]
    btb_d = np.zeros((4 * ft + 1, n))
    for o in range(4 * ft + 1):
        for k in range(n):
            btb_d[o, k] = btb_full[k, o]
    al = np.zeros((2 * hm + 1, n))
    m_d = np.zeros((2 * mm + 1, n))
    ab = np.zeros((n, 3 * mm + 1))  # BᵀB + A Λ A in LU column storage (see lu_banded)
    ipiv = np.zeros(n, dtype=np.int64)
    kv = 2 * mm
    xgrid = np.linspace(-1.0, 1.0, n)
    const = lam_0 * (1.0 - asymmetry) / 2.0
    gamma_factor = lam_0 * (1.0 + asymmetry) / 2.0
    for r in range(n_rows):
        finite = True
        for j in range(n):
            y[j] = x[r, j]
            if not math.isfinite(y[j]):
                finite = False
        if not finite:
            out[r, :] = np.nan
            continue
        if fit_parabola:
            # The parabola through both end points with minimum min(y) at the centre.
            lo = y.min()
            y1 = y[0] - lo
            y2 = y[n - 1] - lo
            cc = (y2 + y1) / 2.0
            bb = cc - y1
            for j in range(n):
                parab[j] = lo + bb * xgrid[j] + cc * xgrid[j] ** 2
                y[j] -= parab[j]
        # d = BᵀB A⁻¹ y - A (lam_0 (1 - asymmetry) / 2)  (line 2 of Table 3 of the paper)
        for j in range(n):
            v[j] = y[j]
        cholesky_solve_banded(a_chol, v)
        _band_matvec(btb_full, v, d)
        for j in range(n):
            tmp[j] = const
        _band_matvec(a_full, tmp, u)
        for j in range(n):
            d[j] -= u[j]
            xs[j] = y[j]
        _abs_diff(xs, smooth_half_window, d1, d2, tmp)
        cost_old = 0.0
        for _ in range(max_iter + 1):
            # Λ = lam_1 D1ᵀW1D1 + lam_2 D2ᵀW2D2 + Γ, with pybaselines' band formulas (one
            # weight per difference, then the bands as pybaselines combines them).
            for j in range(n - 1):
                w1[j] = _weighting(d1[j], use_v2, eps_1)
            for j in range(n - 2):
                w2[j] = _weighting(d2[j], use_v2, eps_1)
            for c in range(n):
                # M2[c - 2, c] = w2[c - 2]; M2[c - 1, c] = 2 (that - next) - 4 that (np.roll)
                cur = w2[c - 2] if c >= 2 else 0.0
                nxt = w2[c - 1] if 1 <= c < n - 1 else 0.0
                up2[c] = 2.0 * (cur - nxt) - 4.0 * cur
            for k in range(n):
                u1 = -w1[k - 1] if k >= 1 else 0.0  # M1[k - 1, k]
                l1 = -w1[k] if k < n - 1 else 0.0  # M1[k + 1, k]
                u2 = w2[k - 2] if k >= 2 else 0.0
                l2 = w2[k] if k < n - 2 else 0.0
                l2_1 = up2[k + 1] if k < n - 1 else 0.0
                main2 = -(u2 + up2[k] + l2 + l2_1)
                ax = abs(xs[k])
                gamma = gamma_factor / ax if ax > eps_0 else gamma_factor / eps_0
                col = ft + k
                lam[2, col] = lam_1 * -(u1 + l1) + lam_2 * main2 + gamma
                lam[3, col] = lam_1 * l1 + lam_2 * l2_1 if k < n - 1 else 0.0
                lam[4, col] = lam_1 * 0.0 + lam_2 * l2 if k < n - 2 else 0.0
                if k >= 1:
                    lam[1, col] = lam[3, col - 1]
                if k >= 2:
                    lam[0, col] = lam[4, col - 2]
            # A Λ, then (A Λ) A + BᵀB as pybaselines associates them; out-of-range terms are
            # products with the zero padding.
            al[:, :] = 0.0
            for sa in range(2 * ft + 1):
                for q in range(5):
                    for i in range(n):
                        al[sa + q, i] += a_d[sa, hm + i] * lam[q, i + sa]
            m_d[:, :] = 0.0
            for sl in range(2 * hm + 1):
                for q in range(2 * ft + 1):
                    for i in range(n):
                        m_d[sl + q, i] += al[sl, i] * a_d[q, i + sl]
            for o in range(4 * ft + 1):
                for i in range(n):
                    m_d[o + 2, i] += btb_d[o, i]
            for o in range(-mm, mm + 1):
                for i in range(max(0, -o), min(n, n - o)):
                    ab[i + o, kv - o] = m_d[o + mm, i]
            for c in range(n):
                for t in range(mm):
                    ab[c, t] = 0.0  # row-interchange fill-in starts at zero
            for j in range(n):
                u[j] = d[j]
            # pybaselines solves this system with scipy's solve_banded (pivoted LU), which
            # raises on an exactly singular matrix: the row becomes NaN here instead.
            if not lu_banded(ab, mm, mm, ipiv):
                for j in range(n):
                    xs[j] = np.nan
                break
            lu_solve_banded(ab, mm, mm, ipiv, u)
            _band_matvec(a_full, u, xs)
            theta = _theta(xs, asymmetry, eps_0)
            _abs_diff(xs, smooth_half_window, d1, d2, tmp)
            # h = B A⁻¹ (y - x)
            for j in range(n):
                v[j] = y[j] - xs[j]
            cholesky_solve_banded(a_chol, v)
            _band_matvec(b_full, v, h)
            hh = 0.0
            for j in range(n):
                hh += h[j] * h[j]
            l1 = 0.0
            for j in range(n - 1):
                l1 += _loss(d1[j], use_v2, eps_1)
            l2 = 0.0
            for j in range(n - 2):
                l2 += _loss(d2[j], use_v2, eps_1)
            cost = 0.5 * hh + lam_0 * theta + lam_1 * l1 + lam_2 * l2
            if abs(cost - cost_old) / max(abs(cost_old), _MIN_FLOAT) < tol:
                break
            cost_old = cost
        # baseline = (y - x) - B A⁻¹ (y - x), plus the parabola taken out first
        for j in range(n):
            v[j] = y[j] - xs[j]
            tmp[j] = v[j]
        cholesky_solve_banded(a_chol, v)
        _band_matvec(b_full, v, h)
        for j in range(n):
            base = tmp[j] - h[j] + parab[j]
            if not math.isfinite(base):
                out[r, :] = np.nan
                break
            out[r, j] = float(x[r, j]) - base if corrected else base


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
        out,
    )
    return restore(out, was_1d)
