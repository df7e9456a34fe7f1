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

import functools
import math
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

from nirskern._jit import jit, jit_row
from nirskern._reduce import row_sum
from nirskern._select import NBINS, median, row_range
from nirskern._validate import INF_MESSAGE, FloatArray, as_spectra, check_int, output, restore

if TYPE_CHECKING:
    from nirskern._select import Bins, Counts

IntArray = npt.NDArray[np.int64]
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


@functools.cache
def _taps(wavelet: str) -> tuple[tuple[float, ...], ...]:
    """``filter_bank(wavelet)`` as tuples for the kernels, built once per name.

    As tuples, the filter length is part of the compiled type (one specialisation per length):
    LLVM unrolls the tap loops and vectorises the loops over the points. Cached: the operators
    call the kernels once per block of rows, and rebuilding the bank cost ~5 us a call.
    """
    return tuple(tuple(float(c) for c in h) for h in filter_bank(wavelet))


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
    f = len(_taps(wavelet)[0])
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


@jit_row
def _ext(x: FloatArray, n: int, k: int, mode: int) -> float:
    """Value at position ``k`` of the extension of ``x[:n]`` (any ``k``)."""
    if 0 <= k < n:
        return float(x[k])
    if mode == 3:  # zero
        return 0.0
    if mode == 4:  # constant
        return float(x[0] if k < 0 else x[n - 1])
    # symmetric (half-sample, period 2n), reflect (whole-sample, 2n - 2), periodic (n)
    period = 2 * n if mode == 0 else 2 * n - 2 if mode == 1 else n
    if period == 0:  # reflect of one point
        return float(x[0])
    # k % period by steps: k is at most a filter length outside [0, n), so this is one or two
    # steps where an integer division would cost tens of cycles per boundary point.
    m = k
    while m < 0:
        m += period
    while m >= period:
        m -= period
    if m < n:
        return float(x[m])
    return float(x[2 * n - 1 - m] if mode == 0 else x[2 * n - 2 - m])


@jit_row
def _split(
    x: FloatArray, n: int, mode: int, q: int, ev: FloatArray, od: FloatArray, m: int
) -> None:
    """Polyphase parts of the extended signal ``x[:n]``: ``ev[i] = x_ext[2 i - 2 q]``,
    ``od[i] = x_ext[2 i + 1 - 2 q]`` for ``i < m``.

    The analysis then reads both with unit stride and no boundary test (a loop over outputs that
    LLVM vectorises); only the few points outside ``x`` go through :func:`_ext`.
    """
    i_end = min(q + n // 2, m)  # 2 i - 2 q and 2 i + 1 - 2 q both in [0, n)
    for t in range(i_end - q):  # from 0: provably non-negative indices (no wraparound test)
        ev[q + t] = x[2 * t]
        od[q + t] = x[2 * t + 1]
    for i in range(q):
        ev[i] = _ext(x, n, 2 * i - 2 * q, mode)
        od[i] = _ext(x, n, 2 * i + 1 - 2 * q, mode)
    for i in range(max(i_end, q), m):
        ev[i] = _ext(x, n, 2 * i - 2 * q, mode)
        od[i] = _ext(x, n, 2 * i + 1 - 2 * q, mode)


@jit
def _dwt(
    x: FloatArray,
    n: int,
    lo: tuple[float, ...],
    hi: tuple[float, ...],
    mode: int,
    out: FloatArray,
    m: int,
    d_at: int,
    ev: FloatArray,
    od: FloatArray,
) -> None:
    """One analysis level of ``x[:n]``: ``c[o] = sum_j h[j] * x_ext[2 o + 1 - j]`` (pywt's
    convolution), the ``m`` approximation coefficients into ``out[:m]`` and the details into
    ``out[d_at : d_at + m]``.

    ``x`` may be ``out`` itself (the levels run in place): it is read into the polyphase parts
    ``ev`` and ``od`` (scratch of at least ``m + F // 2 - 1`` points) before anything is written.
    Buffers and lengths are passed instead of slices: a slice passed to a compiled call costs
    its reference counting, ~18 ns, more than the deepest levels' arithmetic.

    The filters are tuples, so their length is a compile-time constant (one specialisation per
    length): LLVM unrolls the tap loop and vectorises the loop over outputs. The taps are added
    in order ``j = 0 .. F - 1`` starting from ``0.0``, as the plain loop does, so the bits do
    not change.
    """
    q = len(lo) // 2 - 1
    _split(x, n, mode, q, ev, od, m + q)
    # Local views (cheap here, unlike slices passed to a call): two distinct arrays let LLVM
    # check them for overlap once and vectorise the loop.
    ca = out[:m]
    cd = out[d_at : d_at + m]
    e = ev[: m + q]
    d = od[: m + q]
    for o in range(m):
        sa = 0.0
        sd = 0.0
        # Tap 2 k reads x_ext[2 (o - k) + 1] = d[o + q - k], tap 2 k + 1 reads e[o + q - k].
        for k in range(len(lo) // 2):
            vo = d[o + q - k]
            ve = e[o + q - k]
            sa += lo[2 * k] * vo
            sa += lo[2 * k + 1] * ve
            sd += hi[2 * k] * vo
            sd += hi[2 * k + 1] * ve
        ca[o] = sa
        cd[o] = sd


@jit
def _idwt(
    ca: FloatArray,
    cd: FloatArray,
    d_at: int,
    m: int,
    lo: tuple[float, ...],
    hi: tuple[float, ...],
    out: FloatArray,
) -> None:
    """One synthesis level of ``ca[:m]`` and ``cd[d_at : d_at + m]``: pywt's valid upsampling
    convolution, ``2 m - F + 2`` points into ``out``.

    Tuple filters for a constant tap count, buffers and offsets instead of slices, as in
    :func:`_dwt`.
    """
    half = len(lo) // 2
    a = ca[:m]
    d = cd[d_at : d_at + m]
    for t in range(m - half + 1):
        i = t + half - 1
        ea = 0.0
        oa = 0.0
        ed = 0.0
        od = 0.0
        for j in range(half):
            ea += lo[2 * j] * a[i - j]
            oa += lo[2 * j + 1] * a[i - j]
            ed += hi[2 * j] * d[i - j]
            od += hi[2 * j + 1] * d[i - j]
        out[2 * t] = ea + ed
        out[2 * t + 1] = oa + od


@jit_row
def _wavedec_row(
    row: FloatArray,
    lo: tuple[float, ...],
    hi: tuple[float, ...],
    mode: int,
    level: int,
    coeffs: FloatArray,
    ev: FloatArray,
    od: FloatArray,
) -> None:
    """Fill ``coeffs`` with ``[cA_L, cD_L, ..., cD_1]`` of ``row`` (float32 or float64).

    The levels run in place in ``coeffs``: each approximation overwrites the previous one at
    the start of the row, the details fill the row from the end (cD_1 last, cD_L just after
    cA_L). The remaining coefficients of a level always hold at least its two halves, so they
    never meet. ``ev``, ``od``: scratch for :func:`_dwt`.
    """
    f = len(lo)
    end = coeffs.shape[0]
    if level == 0:
        for j in range(end):
            coeffs[j] = row[j]
        return
    # Level 1 reads the row itself (any dtype or stride): no float64 copy of it.
    m = (row.shape[0] + f - 1) // 2
    _dwt(row, row.shape[0], lo, hi, mode, coeffs, m, end - m, ev, od)
    end -= m
    for _ in range(1, level):
        n = m
        m = (n + f - 1) // 2
        _dwt(coeffs, n, lo, hi, mode, coeffs, m, end - m, ev, od)
        end -= m


#: What :func:`_row_state` found in a row.
_FINITE, _HAS_NAN, _HAS_INF = 0, 1, 2


@jit
def _row_state(row: FloatArray, reject_inf: bool) -> int:  # noqa: FBT001
    """:data:`_HAS_INF` when ``reject_inf`` and ``row`` holds an inf, else :data:`_HAS_NAN` when
    it holds a NaN, else :data:`_FINITE` (an inf then flows through the transform). The row's
    sum is finite unless it holds NaN or inf (or overflows), so the elementwise tests run only
    then: the check for inf costs the transform no pass of its own."""
    if math.isfinite(row_sum(row)):
        return _FINITE
    if reject_inf and np.isinf(row).any():
        return _HAS_INF
    return _HAS_NAN if np.isnan(row).any() else _FINITE


@jit_row
def _level_size(p: int, f: int) -> int:
    """Points that hold any level's input for spectra of ``p`` points and a filter of ``f`` taps.

    A level's input is at most ``max(p, f - 1)`` points (below ``f - 1`` the lengths grow
    towards it when the level exceeds ``dwt_max_level``), so ``max(p, f)`` holds every level;
    the polyphase parts of :func:`_dwt` need ``size // 2 + f``."""
    return max(p, f)


@jit
def _wavedec_rows(
    x: FloatArray,
    lo: tuple[float, ...],
    hi: tuple[float, ...],
    mode: int,
    level: int,
    out: FloatArray,
    reject_inf: bool,  # noqa: FBT001
) -> bool:
    """Decompose each row of ``x`` into ``out``; ``True`` (and stop) at a row holding an inf
    when ``reject_inf``. A row holding a NaN becomes NaN."""
    n, p = x.shape
    f = len(lo)
    size = _level_size(p, f)
    ev = np.empty(size // 2 + f)
    od = np.empty(size // 2 + f)
    # The coefficients of a row are computed into a cached scratch row (details land from the
    # end, level by level) and then written out in one ascending pass: the output's cache lines
    # then stream to memory in order (10k x 1024 from memory, per row: Haar 1.68 -> 1.07 us, db4
    # 1.83 -> 1.47 us).
    coeffs = np.empty(out.shape[1], dtype=np.float64)
    for i in range(n):
        state = _row_state(x[i], reject_inf)
        if state == _HAS_INF:
            return True
        o = out[i]
        if state == _HAS_NAN:
            o[:] = np.nan
            continue
        _wavedec_row(x[i], lo, hi, mode, level, coeffs, ev, od)
        for j in range(o.shape[0]):
            o[j] = coeffs[j]
    return False


@jit_row
def _median_abs(d: FloatArray, v: FloatArray, counts: Counts, bins: Bins) -> float:
    """``np.median(np.abs(d))``, the same bits (:func:`nirskern._select.median`); ``v``: float64
    scratch of ``len(d)`` points, ``counts``/``bins``: its scratch."""
    n = d.shape[0]
    for j in range(n):
        v[j] = abs(d[j])
    lo, hi = row_range(v[:n]) if n else (np.nan, np.nan)
    if not math.isfinite(hi - lo):
        # NaN (from an inf in the row) or an overflowing range: numba's median, whatever it gives.
        return float(np.median(np.abs(d)))
    return median(v[:n], lo, hi, counts, bins)


@jit
def _denoise_rows(
    x: FloatArray,
    dec_lo: tuple[float, ...],
    dec_hi: tuple[float, ...],
    rec_lo: tuple[float, ...],
    rec_hi: tuple[float, ...],
    mode: int,
    lengths: IntArray,
    threshold: float,
    soft: bool,  # noqa: FBT001
    out: FloatArray,
    reject_inf: bool,  # noqa: FBT001
) -> bool:
    """Denoise each row of ``x`` into ``out``; ``True`` (and stop) at a row holding an inf when
    ``reject_inf``. A row holding a NaN becomes NaN."""
    n, p = x.shape
    f = len(dec_lo)
    level = lengths.shape[0] - 1
    total = 0
    for k in range(lengths.shape[0]):
        total += lengths[k]
    # Scratch, allocated once: coefficients, approximations (s1, s2; also the synthesis levels
    # and the median's values), polyphase parts (ev, od), the median's bins (counts, bins).
    coeffs: FloatArray = np.empty(total)
    size = _level_size(p, f)
    s1 = np.empty(size + f)
    s2 = np.empty(size + f)
    ev = np.empty(size // 2 + f)
    od = np.empty(size // 2 + f)
    counts = np.empty(NBINS, dtype=np.int64)
    bins = np.empty(s1.shape[0], dtype=np.int32)
    log_term = np.sqrt(2.0 * np.log(p))
    for i in range(n):
        row = x[i]
        state = _row_state(row, reject_inf)
        if state == _HAS_INF:
            return True
        has_nan = state == _HAS_NAN
        if has_nan or level == 0:
            # No detail coefficient to threshold at level 0: the spectrum is returned as is.
            for j in range(p):
                out[i, j] = np.nan if has_nan else row[j]
            continue
        _wavedec_row(row, dec_lo, dec_hi, mode, level, coeffs, ev, od)
        thr = threshold
        start = lengths[0]
        if thr < 0.0:
            # Universal threshold (Donoho & Johnstone 1994): sigma * sqrt(2 ln n), sigma from the
            # median absolute finest detail (cD_1) / 0.6745.
            sigma = _median_abs(coeffs[total - lengths[level] :], s1, counts, bins) / 0.6745
            thr = sigma * log_term
        # The details as a slice, looped over from 0: an index that numba cannot prove
        # non-negative gets a wraparound test, and the loop then does not vectorise.
        details = coeffs[start:total]
        if soft:
            for k in range(details.shape[0]):
                c = details[k]
                mag = abs(c)
                # pywt.threshold(mode="soft"): c * max(1 - thr / |c|, 0), 0 where c == 0.
                details[k] = c * max(1.0 - thr / mag, 0.0) if mag > 0.0 else 0.0
        else:
            for k in range(details.shape[0]):
                c = details[k]
                details[k] = 0.0 if abs(c) < thr else c  # pywt.threshold(mode="hard")
        # Synthesis, deepest level first, into s1 and s2 in turn. Each level reads the first
        # m approximation points (dropping the last one when it is one longer than the details).
        pos = lengths[0]
        for lev in range(1, level + 1):
            m = lengths[lev]
            if lev == 1:
                _idwt(coeffs, coeffs, pos, m, rec_lo, rec_hi, s1)
            elif lev % 2 == 0:
                _idwt(s1, coeffs, pos, m, rec_lo, rec_hi, s2)
            else:
                _idwt(s2, coeffs, pos, m, rec_lo, rec_hi, s1)
            pos += m
        last = s1 if level % 2 == 1 else s2
        for j in range(p):
            out[i, j] = last[j]
    return False


def wavedec(
    x: npt.ArrayLike,
    wavelet: str = "db4",
    level: int | None = None,
    mode: WaveletMode = "symmetric",
    *,
    out: FloatArray | None = None,
    reject_inf: bool = False,
) -> FloatArray:
    """Multi-level DWT coefficients ``[cA_L, cD_L, ..., cD_1]`` of each spectrum, one row each.

    Equals ``np.concatenate(pywt.wavedec(row, wavelet, mode=mode, level=level))``; the width is
    ``sum(coefficient_lengths(n_points, wavelet, level))``. Written into ``out`` when given
    (that shape, the input's dtype; sums are float64 in both dtypes). A spectrum holding a NaN
    gives a NaN row. With ``reject_inf``, an inf in ``x`` raises ValueError (found by the row
    sums the NaN test takes anyway).

    >>> wavedec(np.array([1.0, 1.0, 2.0, 2.0]), "haar", level=1).round(4).tolist()
    [1.4142, 2.8284, 0.0, 0.0]
    """
    arr, was_1d = as_spectra(x)
    dec_lo, dec_hi, _, _ = _taps(wavelet)
    lengths = coefficient_lengths(arr.shape[1], wavelet, level)
    mode_code = _check_mode(mode, arr.shape[1], lengths)
    res = output(out, arr, was_1d=was_1d, n_points=sum(lengths))
    out64 = res if res.dtype == np.float64 else np.empty(res.shape, dtype=np.float64)
    if _wavedec_rows(arr, dec_lo, dec_hi, mode_code, len(lengths) - 1, out64, reject_inf):
        raise ValueError(INF_MESSAGE.format(arr.dtype))
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
    *,
    out: FloatArray | None = None,
    reject_inf: bool = False,
) -> FloatArray:
    """Threshold the detail coefficients of each spectrum and reconstruct it (same length).

    ``threshold=None`` is the universal threshold ``sigma * sqrt(2 ln n_points)`` with
    ``sigma = median(|cD_1|) / 0.6745``, per spectrum; the approximation is never thresholded.
    Equals ``pywt.waverec([cA] + [pywt.threshold(d, t, threshold_mode) for d in details],
    wavelet, mode)[:n_points]``. Written into ``out`` when given (same shape and dtype, not
    overlapping ``x``). A spectrum holding a NaN gives a NaN row. With ``reject_inf``, an inf in
    ``x`` raises ValueError (found by the row sums the NaN test takes anyway).

    >>> x = np.sin(np.linspace(0.0, 3.0, 64))
    >>> bool(np.abs(wavelet_denoise(x, "db2", threshold=0.0) - x).max() < 1e-12)
    True
    """
    arr, was_1d = as_spectra(x)
    dec_lo, dec_hi, rec_lo, rec_hi = _taps(wavelet)
    if threshold_mode not in ("soft", "hard"):
        msg = f"'threshold_mode' must be 'soft' or 'hard'; got threshold_mode={threshold_mode!r}"
        raise ValueError(msg)
    if threshold is not None and not (math.isfinite(threshold) and threshold >= 0):
        msg = f"'threshold' must be a finite number >= 0 or None; got threshold={threshold}"
        raise ValueError(msg)
    level_lengths = coefficient_lengths(arr.shape[1], wavelet, level)
    mode_code = _check_mode(mode, arr.shape[1], level_lengths)
    lengths = np.array(level_lengths, dtype=np.int64)
    res = output(out, arr, was_1d=was_1d)
    out64 = res if res.dtype == np.float64 else np.empty(res.shape, dtype=np.float64)
    found_inf = _denoise_rows(
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
        reject_inf,
    )
    if found_inf:
        raise ValueError(INF_MESSAGE.format(arr.dtype))
    if out64 is not res:
        np.copyto(res, out64)
    return restore(res, was_1d) if out is None else out
