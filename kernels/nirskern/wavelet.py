"""Discrete wavelet transforms: multi-level decomposition and wavelet denoising.

Same conventions as PyWavelets (``pywt.wavedec`` / ``pywt.waverec``), so results agree to
rounding:

* one level maps ``n`` points to ``(n + F - 1) // 2`` approximation and detail coefficients
  (``F`` = filter length), ``c[o] = sum_j h[j] * x_ext[2 * o + 1 - j]``;
* signal extension modes ``"symmetric"`` (pywt's default, ``c b a | a b c``), ``"reflect"``
  (``c b | a b c``), ``"periodic"``, ``"zero"`` and ``"constant"``;
* the default ``level`` is ``pywt.dwt_max_level(n, F) = floor(log2(n / (F - 1)))``; deeper levels
  are allowed (pywt warns that all their coefficients feel the boundary; here it is documented);
* decompositions are returned as one row per spectrum, ``[cA_L, cD_L, cD_L-1, ..., cD_1]``
  (``np.concatenate(pywt.wavedec(x, ...))``);
* reconstruction is pywt's "valid" upsampling convolution, dropping one approximation point when
  it is one longer than the details, then cut to the input length.

Filter banks are the Daubechies scaling filters (``haar`` = ``db1``), hard-coded to the digits
PyWavelets uses; the other three filters follow from the quadrature-mirror relations. All
arithmetic is float64; float32 rows are widened and the result cast back.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import numpy.typing as npt

from nirskern._jit import jit
from nirskern._reduce import row_sum
from nirskern._validate import FloatArray, as_spectra, check_int, output, restore

WaveletMode = Literal["symmetric", "reflect", "periodic", "zero", "constant"]
ThresholdMode = Literal["soft", "hard"]

#: Decomposition low-pass filters (``pywt.Wavelet(name).dec_lo``).
_DEC_LO: dict[str, tuple[float, ...]] = {
    "db1": (0.7071067811865476, 0.7071067811865476),
    "db2": (-0.12940952255126037, 0.2241438680420134, 0.8365163037378079, 0.48296291314453416),
    "db3": (
        0.03522629188570953,
        -0.08544127388202666,
        -0.13501102001025458,
        0.45987750211849154,
        0.8068915093110925,
        0.33267055295008263,
    ),
    "db4": (
        -0.010597401785069032,
        0.0328830116668852,
        0.030841381835560764,
        -0.18703481171909309,
        -0.027983769416859854,
        0.6308807679298589,
        0.7148465705529157,
        0.2303778133088965,
    ),
}
_DEC_LO["haar"] = _DEC_LO["db1"]
WAVELETS: tuple[str, ...] = tuple(sorted(_DEC_LO))
_MODES: dict[str, int] = {"symmetric": 0, "reflect": 1, "periodic": 2, "zero": 3, "constant": 4}


def filter_bank(wavelet: str) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """``(dec_lo, dec_hi, rec_lo, rec_hi)``, as ``pywt.Wavelet(wavelet).filter_bank``.

    >>> filter_bank("haar")[1].round(4).tolist()
    [-0.7071, 0.7071]
    """
    if wavelet not in _DEC_LO:
        msg = f"'wavelet' must be one of {list(WAVELETS)}; got wavelet={wavelet!r}"
        raise ValueError(msg)
    dec_lo = np.array(_DEC_LO[wavelet])
    rec_lo = dec_lo[::-1].copy()
    # Quadrature mirror filters: dec_hi[k] = (-1)^(k+1) * rec_lo[k], rec_hi = dec_hi reversed.
    sign = (-1.0) ** (np.arange(dec_lo.size) + 1)
    dec_hi = sign * rec_lo
    rec_hi = dec_hi[::-1].copy()
    return dec_lo, dec_hi, rec_lo, rec_hi


def _check_mode(mode: str, n_points: int, lengths: list[int]) -> int:
    """Mode code; like pywt, ``reflect`` needs at least 2 points at the input of every level."""
    if mode not in _MODES:
        msg = f"'mode' must be one of {list(_MODES)}; got mode={mode!r}"
        raise ValueError(msg)
    # Level inputs: the spectrum, then the approximations of levels 1..L-1 (lengths[2:]).
    level_inputs = [n_points, *lengths[2:]] if len(lengths) > 1 else []
    if mode == "reflect" and level_inputs and min(level_inputs) < 2:
        msg = (
            "mode='reflect' needs at least 2 points at the input of every level (as pywt); "
            f"got coefficient lengths {lengths} for {n_points} points"
        )
        raise ValueError(msg)
    return _MODES[mode]


def dwt_max_level(n_points: int, filter_len: int) -> int:
    """Deepest useful level, as ``pywt.dwt_max_level``.

    >>> dwt_max_level(1024, 8)
    7
    """
    if filter_len <= 1 or n_points < filter_len - 1:
        return 0
    return math.floor(math.log2(n_points / (filter_len - 1)))


def coefficient_lengths(n_points: int, wavelet: str = "db4", level: int | None = None) -> list[int]:
    """Lengths of ``[cA_L, cD_L, ..., cD_1]`` for spectra of ``n_points`` points.

    >>> coefficient_lengths(10, "haar", 2)
    [3, 3, 5]
    """
    f = filter_bank(wavelet)[0].size
    level = _check_level(n_points, f, level)
    lengths = []
    n = n_points
    for _ in range(level):
        n = (n + f - 1) // 2
        lengths.append(n)
    return [lengths[-1], *lengths[::-1]] if lengths else [n_points]


def _check_level(n_points: int, filter_len: int, level: int | None) -> int:
    # Levels above dwt_max_level are allowed, as in pywt (which warns that every coefficient then
    # feels the boundary): the transform stays well defined and invertible.
    if level is None:
        return dwt_max_level(n_points, filter_len)
    return check_int(level, "level", minimum=0)


@jit
def _ext(x: FloatArray, k: int, mode: int) -> float:
    """Value at position ``k`` of the extension of ``x`` (any ``k``)."""
    n = x.shape[0]
    if 0 <= k < n:
        return float(x[k])
    if mode == 0:  # symmetric, half-sample: period 2n
        m = k % (2 * n)
        return float(x[m if m < n else 2 * n - 1 - m])
    if mode == 1:  # reflect, whole-sample: period 2n - 2
        if n == 1:
            return float(x[0])
        m = k % (2 * n - 2)
        return float(x[m if m < n else 2 * n - 2 - m])
    if mode == 2:  # periodic
        return float(x[k % n])
    if mode == 3:  # zero
        return 0.0
    return float(x[0] if k < 0 else x[n - 1])  # constant


@jit
def _dwt(
    x: FloatArray, lo: FloatArray, hi: FloatArray, mode: int, ca: FloatArray, cd: FloatArray
) -> None:
    """One analysis level: ``c[o] = sum_j h[j] * x_ext[2 o + 1 - j]`` (pywt's convolution)."""
    f = lo.shape[0]
    n = x.shape[0]
    m = ca.shape[0]
    # Outputs whose taps all fall inside x (2 o + 1 - j in [0, n) for every j) read x directly:
    # no extension test per tap in the hot loop. Same terms in the same order as the edge loop,
    # so results are unchanged.
    o_lo = min((f - 1) // 2, m)
    o_hi = max(min((n - 2) // 2 + 1, m), o_lo)
    if f == 2:  # Haar: the two taps written out, so the loop over outputs vectorises
        l0, l1, h0, h1 = lo[0], lo[1], hi[0], hi[1]
        for o in range(o_lo, o_hi):
            v0 = float(x[2 * o + 1])
            v1 = float(x[2 * o])
            ca[o] = 0.0 + l0 * v0 + l1 * v1
            cd[o] = 0.0 + h0 * v0 + h1 * v1
    for o in range(o_lo if f != 2 else o_hi, o_hi):
        sa = 0.0
        sd = 0.0
        base = 2 * o + 1
        for j in range(f):
            v = float(x[base - j])
            sa += lo[j] * v
            sd += hi[j] * v
        ca[o] = sa
        cd[o] = sd
    for o in range(m):
        if o_lo <= o < o_hi:
            continue
        sa = 0.0
        sd = 0.0
        base = 2 * o + 1
        for j in range(f):
            v = _ext(x, base - j, mode)
            sa += lo[j] * v
            sd += hi[j] * v
        ca[o] = sa
        cd[o] = sd


@jit
def _idwt(ca: FloatArray, cd: FloatArray, lo: FloatArray, hi: FloatArray, out: FloatArray) -> None:
    """One synthesis level: pywt's valid upsampling convolution, ``2 n - F + 2`` points."""
    n = ca.shape[0]
    half = lo.shape[0] // 2
    o = 0
    for i in range(half - 1, n):
        ea = 0.0
        oa = 0.0
        ed = 0.0
        od = 0.0
        for j in range(half):
            ea += lo[2 * j] * ca[i - j]
            oa += lo[2 * j + 1] * ca[i - j]
            ed += hi[2 * j] * cd[i - j]
            od += hi[2 * j + 1] * cd[i - j]
        out[o] = ea + ed
        out[o + 1] = oa + od
        o += 2


@jit
def _wavedec_row(
    row: FloatArray,
    lo: FloatArray,
    hi: FloatArray,
    mode: int,
    level: int,
    coeffs: FloatArray,
    s1: FloatArray,
    s2: FloatArray,
) -> None:
    """Fill ``coeffs`` with ``[cA_L, cD_L, ..., cD_1]`` of ``row``.

    ``s1`` and ``s2`` are scratch buffers of at least ``row.shape[0]`` points: the approximation
    of each level goes to one of them in turn and the details straight into ``coeffs`` (no
    allocation per row or level).
    """
    f = lo.shape[0]
    a = row
    end = coeffs.shape[0]
    use_first = True
    for _ in range(level):
        m = (a.shape[0] + f - 1) // 2
        ca = s1[:m] if use_first else s2[:m]
        use_first = not use_first
        # Details fill the row from the end: cD_1 last, cD_L just after cA_L.
        _dwt(a, lo, hi, mode, ca, coeffs[end - m : end])
        end -= m
        a = ca
    coeffs[:end] = a


@jit
def _has_nan(row: FloatArray) -> bool:
    """Whether ``row`` holds a NaN: its sum is finite unless it holds NaN or inf (or overflows),
    so the elementwise test runs only then."""
    if math.isfinite(row_sum(row)):
        return False
    return bool(np.isnan(row).any())


@jit
def _wavedec_rows(
    x: FloatArray, lo: FloatArray, hi: FloatArray, mode: int, level: int, out: FloatArray
) -> None:
    n, p = x.shape
    row = np.empty(p)
    s1 = np.empty(p + lo.shape[0])
    s2 = np.empty(p + lo.shape[0])
    for i in range(n):
        for j in range(p):
            row[j] = x[i, j]
        if _has_nan(row):
            out[i, :] = np.nan
            continue
        _wavedec_row(row, lo, hi, mode, level, out[i], s1, s2)


@jit
def _denoise_rows(
    x: FloatArray,
    dec_lo: FloatArray,
    dec_hi: FloatArray,
    rec_lo: FloatArray,
    rec_hi: FloatArray,
    mode: int,
    lengths: npt.NDArray[np.int64],
    threshold: float,
    soft: bool,  # noqa: FBT001
    out: FloatArray,
) -> None:
    n, p = x.shape
    level = lengths.shape[0] - 1
    total = 0
    for k in range(lengths.shape[0]):
        total += lengths[k]
    row = np.empty(p)
    coeffs = np.empty(total)
    s1 = np.empty(p + dec_lo.shape[0])
    s2 = np.empty(p + dec_lo.shape[0])
    for i in range(n):
        for j in range(p):
            row[j] = x[i, j]
        has_nan = _has_nan(row)
        if has_nan or level == 0:
            # No detail coefficient to threshold at level 0: the spectrum is returned as is.
            for j in range(p):
                out[i, j] = np.nan if has_nan else row[j]
            continue
        _wavedec_row(row, dec_lo, dec_hi, mode, level, coeffs, s1, s2)
        thr = threshold
        start = lengths[0]
        if thr < 0.0:
            # Universal threshold (Donoho & Johnstone 1994): sigma * sqrt(2 ln n), sigma from the
            # median absolute finest detail (cD_1) / 0.6745.
            sigma = np.median(np.abs(coeffs[total - lengths[level] :])) / 0.6745
            thr = sigma * np.sqrt(2.0 * np.log(p))
        for k in range(start, total):
            c = coeffs[k]
            mag = abs(c)
            if soft:
                # pywt.threshold(mode="soft"): c * max(1 - thr / |c|, 0), 0 where c == 0.
                coeffs[k] = c * max(1.0 - thr / mag, 0.0) if mag > 0.0 else 0.0
            elif mag < thr:
                coeffs[k] = 0.0  # pywt.threshold(mode="hard") keeps |c| >= thr
        # Synthesis, deepest level first.
        a = coeffs[: lengths[0]].copy()
        pos = lengths[0]
        for lev in range(1, level + 1):
            m = lengths[lev]
            d = coeffs[pos : pos + m]
            pos += m
            if a.shape[0] == m + 1:
                a = a[:m].copy()
            rec = np.empty(2 * m - rec_lo.shape[0] + 2)
            _idwt(a, d, rec_lo, rec_hi, rec)
            a = rec
        for j in range(p):
            out[i, j] = a[j]


def wavedec(
    x: npt.ArrayLike,
    wavelet: str = "db4",
    level: int | None = None,
    mode: WaveletMode = "symmetric",
    *,
    out: FloatArray | None = None,
) -> FloatArray:
    """Multi-level DWT coefficients ``[cA_L, cD_L, ..., cD_1]`` of each spectrum, one row each.

    Equals ``np.concatenate(pywt.wavedec(row, wavelet, mode=mode, level=level))``; the width is
    ``sum(coefficient_lengths(n_points, wavelet, level))``. Written into ``out`` when given
    (that shape, the input's dtype; sums are float64 in both dtypes).

    >>> wavedec(np.array([1.0, 1.0, 2.0, 2.0]), "haar", level=1).round(4).tolist()
    [1.4142, 2.8284, 0.0, 0.0]
    """
    arr, was_1d = as_spectra(x)
    dec_lo, dec_hi, _, _ = filter_bank(wavelet)
    lengths = coefficient_lengths(arr.shape[1], wavelet, level)
    mode_code = _check_mode(mode, arr.shape[1], lengths)
    res = output(out, arr, was_1d=was_1d, n_points=sum(lengths))
    out64 = res if res.dtype == np.float64 else np.empty(res.shape, dtype=np.float64)
    _wavedec_rows(arr, dec_lo, dec_hi, mode_code, len(lengths) - 1, out64)
    if out64 is not res:
        np.copyto(res, out64)
    return restore(res, was_1d) if out is None else out


def haar(x: npt.ArrayLike, level: int | None = None, mode: WaveletMode = "symmetric") -> FloatArray:
    """Multi-level Haar coefficients of each spectrum: ``wavedec(x, "haar", level, mode)``.

    >>> haar(np.array([1.0, 3.0, 5.0, 7.0]), level=1).round(4).tolist()
    [2.8284, 8.4853, -1.4142, -1.4142]
    """
    return wavedec(x, "haar", level, mode)


def wavelet_denoise(
    x: npt.ArrayLike,
    wavelet: str = "db4",
    level: int | None = None,
    mode: WaveletMode = "symmetric",
    threshold: float | None = None,
    threshold_mode: ThresholdMode = "soft",
) -> FloatArray:
    """Threshold the detail coefficients of each spectrum and reconstruct it (same length).

    ``threshold=None`` is the universal threshold ``sigma * sqrt(2 ln n_points)`` with
    ``sigma = median(|cD_1|) / 0.6745``, per spectrum; the approximation is never thresholded.
    Equals ``pywt.waverec([cA] + [pywt.threshold(d, t, threshold_mode) for d in details],
    wavelet, mode)[:n_points]``.

    >>> x = np.sin(np.linspace(0.0, 3.0, 64))
    >>> bool(np.abs(wavelet_denoise(x, "db2", threshold=0.0) - x).max() < 1e-12)
    True
    """
    arr, was_1d = as_spectra(x)
    dec_lo, dec_hi, rec_lo, rec_hi = filter_bank(wavelet)
    if threshold_mode not in ("soft", "hard"):
        msg = f"'threshold_mode' must be 'soft' or 'hard'; got threshold_mode={threshold_mode!r}"
        raise ValueError(msg)
    if threshold is not None and not (math.isfinite(threshold) and threshold >= 0):
        msg = f"'threshold' must be a finite number >= 0 or None; got threshold={threshold}"
        raise ValueError(msg)
    level_lengths = coefficient_lengths(arr.shape[1], wavelet, level)
    mode_code = _check_mode(mode, arr.shape[1], level_lengths)
    lengths = np.array(level_lengths, dtype=np.int64)
    out64 = np.empty(arr.shape, dtype=np.float64)
    _denoise_rows(
        arr,
        dec_lo,
        dec_hi,
        rec_lo,
        rec_hi,
        mode_code,
        lengths,
        -1.0 if threshold is None else float(threshold),
        threshold_mode == "soft",
        out64,
    )
    return restore(out64.astype(arr.dtype, copy=False), was_1d)
