"""BEADS: baseline estimation and denoising with sparsity (pybaselines 1.2 ``misc.beads``).

The baseline is modelled as the low-pass part of ``y - x``, where the signal ``x`` and its first
two differences are sparse. ``B A⁻¹`` is a zero-phase high-pass filter of order ``2 filter_type``
(``A``, ``B`` banded, half-bandwidth ``filter_type``). Each iteration solves the symmetric
positive definite banded system ``(BᵀB + A Λ A) u = d``, ``x = A u`` (``Λ`` = the 5-band
majoriser of the penalties) with the banded Cholesky of :mod:`nirskern.whittaker`; pybaselines
uses a general banded LU there, which differs only in rounding. Computations are float64.

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
    hm = ft + 2  # half-bandwidth of D A
    mm = 2 * ft + 2  # sub-diagonals of A D A
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
    lam_main = np.empty(n)
    lam_off1 = np.zeros(n)  # Λ[j - 1, j]
    lam_off2 = np.zeros(n)  # Λ[j - 2, j]
    da = np.zeros((n, 2 * hm + 1))  # D A, full band storage
    m = np.empty((n, mm + 1))  # BᵀB + A Λ A, row storage
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
            # Λ = lam_1 D1ᵀW1D1 + lam_2 D2ᵀW2D2 + Γ, with pybaselines' band formulas.
            for j in range(n):
                up1 = -_weighting(d1[j - 1], use_v2, eps_1) if j >= 1 else 0.0
                lo1 = -_weighting(d1[j], use_v2, eps_1) if j < n - 1 else 0.0
                main1 = -(up1 + lo1)
                w_up2 = _weighting(d2[j - 2], use_v2, eps_1) if j >= 2 else 0.0
                w_up2n = _weighting(d2[j - 1], use_v2, eps_1) if 1 <= j < n - 1 else 0.0
                up2_1 = 2.0 * (w_up2 - w_up2n) - 4.0 * w_up2
                w_lo2 = _weighting(d2[j], use_v2, eps_1) if j < n - 2 else 0.0
                if j < n - 1:
                    w_next = _weighting(d2[j - 1], use_v2, eps_1) if 1 <= j < n - 1 else 0.0
                    w_next2 = _weighting(d2[j], use_v2, eps_1) if j < n - 2 else 0.0
                    lo2_1 = 2.0 * (w_next - w_next2) - 4.0 * w_next
                else:
                    lo2_1 = 0.0
                main2 = -(w_up2 + up2_1 + w_lo2 + lo2_1)
                ax = abs(xs[j])
                gamma = gamma_factor / ax if ax > eps_0 else gamma_factor / eps_0
                lam_main[j] = lam_1 * main1 + lam_2 * main2 + gamma
                lam_off1[j] = lam_1 * up1 + lam_2 * up2_1
                lam_off2[j] = lam_1 * 0.0 + lam_2 * w_up2
            # D A (full band, half-bandwidth ft + 2), then M = A (D A) + BᵀB (lower rows).
            for k in range(n):
                for o in range(-hm, hm + 1):
                    jj = k + o
                    s = 0.0
                    if 0 <= jj < n:
                        for ll in range(max(0, k - 2, jj - ft), min(n - 1, k + 2, jj + ft) + 1):
                            dl = ll - k
                            if dl == 0:
                                lv = lam_main[k]
                            elif dl == 1:
                                lv = lam_off1[ll]
                            elif dl == -1:
                                lv = lam_off1[k]
                            elif dl == 2:
                                lv = lam_off2[ll]
                            else:
                                lv = lam_off2[k]
                            s += lv * a_full[ll, jj - ll + ft]
                    da[k, o + hm] = s
            for i in range(n):
                for t in range(mm + 1):
                    jj = i - t
                    s = 0.0
                    if jj >= 0:
                        for k in range(max(0, i - ft, jj - hm), min(n - 1, i + ft, jj + hm) + 1):
                            s += a_full[i, k - i + ft] * da[k, jj - k + hm]
                        if t <= 2 * ft:
                            s += btb_full[i, -t + 2 * ft]
                    m[i, t] = s
            for j in range(n):
                u[j] = d[j]
            if not cholesky_banded(m):
                for j in range(n):
                    xs[j] = np.nan
                break
            cholesky_solve_banded(m, u)
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
