"""Morphological and peak-clipping baselines: rolling ball (Kneen 1996) and SNIP (Ryan 1988).

Both follow pybaselines 1.2 (``morphological.rolling_ball``, ``smooth.snip``) and the SciPy
filters it calls, so results agree to rounding:

* grey opening = ``scipy.ndimage.grey_opening`` (min then max filter, ``mode="reflect"``, i.e.
  ``d c b a | a b c d | d c b a``); min/max filters are exact, whatever the algorithm;
* moving average = ``scipy.ndimage.uniform_filter1d`` (``mode="reflect"``), with SciPy's running
  window sum ``s[i] = s[i-1] + x[i+h] - x[i-h-1]`` and output ``s[i] / w``: the same rounding;
* edge padding = ``pybaselines.utils.pad_edges(mode="extrapolate")``: a least-squares line
  through the ``pad`` points of each edge, evaluated beyond it;
* ``half_window=None`` = ``pybaselines.utils.optimize_window`` per spectrum.

All arithmetic is float64; float32 rows are widened first and the result cast back.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

from nirskern._jit import jit
from nirskern._validate import FloatArray, as_spectra, check_int, restore

BaselineOutput = Literal["corrected", "baseline"]
_MIN_FLOAT = float(np.finfo(np.float64).eps)


@jit
def _reflect(k: int, n: int) -> int:
    """Index of position ``k`` in SciPy's ``reflect`` extension of ``n`` points (any ``k``)."""
    m = k % (2 * n)
    return m if m < n else 2 * n - 1 - m


@jit
def _reflect_pad(y: FloatArray, half: int, ext: FloatArray) -> None:
    """``ext[:n + 2 * half]`` = ``y`` extended by ``half`` points each side, ``reflect`` mode."""
    n = y.shape[0]
    for j in range(n):
        ext[half + j] = y[j]
    for k in range(half):
        ext[k] = y[_reflect(k - half, n)]
        ext[half + n + k] = y[_reflect(n + k, n)]


@jit
def _pick(lo: FloatArray, hi: FloatArray, is_max: bool, out: FloatArray) -> None:  # noqa: FBT001
    """``out = max(lo, hi)`` (or min) elementwise, in a loop that vectorises."""
    if is_max:
        for i in range(out.shape[0]):
            out[i] = lo[i] if lo[i] > hi[i] else hi[i]
    else:
        for i in range(out.shape[0]):
            out[i] = lo[i] if lo[i] < hi[i] else hi[i]


@jit
def _minmax_filter(
    y: FloatArray,
    half: int,
    is_max: bool,  # noqa: FBT001
    out: FloatArray,
    a: FloatArray,
    b: FloatArray,
) -> None:
    """Moving min (or max) over ``2 * half + 1`` points with reflect edges.

    Window doubling: after ``k`` passes ``a[i]`` is the extremum of ``ext[i : i + L]`` with
    ``L = 2**k`` (``a[i] = min(a[i], a[i + L])``), and the window is the union of two of those
    blocks, ``[i, i + L)`` and ``[i + w - L, i + w)``. Each pass is an independent elementwise
    select that LLVM vectorises (~log2(w) + 1 passes), where a van Herk/Gil-Werman scan is a
    chain of dependent comparisons. Min and max are exact, so any order gives SciPy's values.
    ``a`` and ``b``: scratch of at least ``len(y) + 2 * half`` points.
    """
    n = y.shape[0]
    w = 2 * half + 1
    m = n + 2 * half
    _reflect_pad(y, half, a)
    src, dst = a, b
    width = 1
    while 2 * width <= w:
        # valid block starts: i + 2 * width <= m
        cnt = m - 2 * width + 1
        _pick(src[:cnt], src[width : width + cnt], is_max, dst[:cnt])
        src, dst = dst, src
        width *= 2
    _pick(src[:n], src[w - width : w - width + n], is_max, out[:n])


@jit
def _opening(
    y: FloatArray, half: int, tmp: FloatArray, out: FloatArray, a: FloatArray, b: FloatArray
) -> None:
    """Grey opening (erosion then dilation) with a flat window of ``2 * half + 1`` points.

    ``a`` and ``b``: scratch of at least ``len(y) + 2 * half`` points.
    """
    _minmax_filter(y, half, False, tmp, a, b)
    _minmax_filter(tmp, half, True, out, a, b)


@jit
def _uniform(y: FloatArray, half: int, out: FloatArray) -> None:
    """Moving mean over ``2 * half + 1`` points, reflect edges, SciPy's running-sum rounding."""
    _uniform_range(y, half, 0, y.shape[0], out)


@jit
def _uniform_range(y: FloatArray, half: int, start: int, stop: int, out: FloatArray) -> None:
    """Outputs ``start..stop - 1`` of :func:`_uniform` into ``out[: stop - start]``.

    SciPy (1.17) keeps a running window sum ``s[i] = s[i-1] + (y[i+h] - y[i-h-1])`` from
    ``i = 0`` and divides each output: the same operations in the same order here, so the
    results are bitwise equal (the sum is run from 0 even when the first outputs are not
    wanted). Reflected indices are resolved outside the inner loops.
    """
    n = y.shape[0]
    w = 2 * half + 1
    s = 0.0
    for k in range(-half, half + 1):
        s += y[_reflect(k, n)]
    if start == 0 and stop > 0:
        out[0] = s / w
    # i - half - 1 < 0 for i <= half; i + half >= n for i >= n - half
    i1 = min(half + 1, stop)
    i2 = max(min(n - half, stop), i1)
    for i in range(1, i1):
        s += y[_reflect(i + half, n)] - y[_reflect(i - half - 1, n)]
        if i >= start:
            out[i - start] = s / w
    for i in range(i1, i2):
        s += y[i + half] - y[i - half - 1]
        if i >= start:
            out[i - start] = s / w
    for i in range(i2, stop):
        s += y[_reflect(i + half, n)] - y[_reflect(i - half - 1, n)]
        if i >= start:
            out[i - start] = s / w


@jit
def _pad_extrapolate(y: FloatArray, pad: int, out: FloatArray) -> None:
    """``out = [left, y, right]``: each edge extended by the least-squares line of ``pad`` points.

    The line is fitted on the index (as pybaselines' ``Polynomial.fit`` on ``arange``), in
    centred form, which is the well-conditioned way to get the same line.
    """
    n = y.shape[0]
    for j in range(n):
        out[pad + j] = y[j]
    if pad == 0:
        return
    win = min(pad, n)
    for side in range(2):
        start = 0 if side == 0 else n - win
        if win == 1:
            for k in range(pad):
                out[k if side == 0 else pad + n + k] = y[start]
            continue
        tm = 0.0
        ym = 0.0
        for k in range(win):
            tm += start + k
            ym += y[start + k]
        tm /= win
        ym /= win
        sxy = 0.0
        sxx = 0.0
        for k in range(win):
            dt = start + k - tm
            sxy += dt * (y[start + k] - ym)
            sxx += dt * dt
        slope = sxy / sxx
        for k in range(pad):
            t = (k - pad) if side == 0 else (n + k)
            out[k if side == 0 else pad + n + k] = ym + slope * (t - tm)


@jit
def _optimize_window(
    y: FloatArray, a: FloatArray, b: FloatArray, tmp: FloatArray, e1: FloatArray, e2: FloatArray
) -> int:
    """``pybaselines.utils.optimize_window(y)`` with its defaults (increment 1, 3 hits, 1e-6).

    The first of three consecutive half windows whose openings agree to a relative L2 change
    below 1e-6; when no run of three is found the last half window tried is returned, as there.
    ``e1`` and ``e2``: scratch of at least ``2 * len(y) + 2`` points.
    """
    n = y.shape[0]
    max_half = (n - 1) // 2
    _opening(y, 1, tmp, a, e1, e2)
    hits = 0
    half = 1
    best = 1
    for h in range(2, max_half):
        half = h
        _opening(y, h, tmp, b, e1, e2)
        num = 0.0
        den = 0.0
        for j in range(n):
            d = b[j] - a[j]
            num += d * d
            den += a[j] * a[j]
        if np.sqrt(num) / max(np.sqrt(den), _MIN_FLOAT) < 1e-6:
            if hits == 0:
                best = h - 1
            hits += 1
            if hits >= 3:
                half = best
                break
        elif hits:
            hits = 0
        for j in range(n):
            a[j] = b[j]
    return max(half, 1)


@jit
def _rolling_ball_rows(
    x: FloatArray,
    half_window: int,
    smooth_half_window: int,
    want_baseline: bool,  # noqa: FBT001
    out: FloatArray,
) -> None:
    n, p = x.shape
    # Work buffers for the largest windows that can occur, allocated once for all rows.
    cap = half_window if half_window > 0 else p
    smooth_cap = smooth_half_window if smooth_half_window >= 0 else cap
    y = np.empty(p)
    rough = np.empty(p)
    tmp = np.empty(p)
    a = np.empty(p)
    e1 = np.empty(p + 2 * cap)
    e2 = np.empty(p + 2 * cap)
    padded = np.empty(p + 2 * smooth_cap)
    for i in range(n):
        has_nan = False
        for j in range(p):
            y[j] = x[i, j]
            if np.isnan(y[j]):
                has_nan = True
        if has_nan:
            for j in range(p):
                out[i, j] = np.nan
            continue
        half = half_window if half_window > 0 else _optimize_window(y, a, rough, tmp, e1, e2)
        smooth = smooth_half_window if smooth_half_window >= 0 else half
        _opening(y, half, tmp, rough, e1, e2)
        ext = padded[: p + 2 * smooth]
        _pad_extrapolate(rough, smooth, ext)
        # only the moving means of the unpadded points are kept: written straight to the row
        row = out[i]
        _uniform_range(ext, smooth, smooth, smooth + p, row)
        if not want_baseline:
            for j in range(p):
                row[j] = y[j] - row[j]


@jit
def _snip_filter(b: FloatArray, j: int, i: int, order: int) -> float:
    """The clipping value at ``j`` for window ``i`` (pybaselines' 2/4/6/8-order filters)."""
    f = (b[j - i] + b[j + i]) / 2
    if order > 2:
        h = i // 2
        f4 = (-(b[j - i] + b[j + i]) + 4 * (b[j - h] + b[j + h])) / 6
        f = max(f, f4)
    if order > 4:
        h2 = 2 * i // 3
        h1 = i // 3
        f6 = (b[j - i] + b[j + i] - 6 * (b[j - h2] + b[j + h2]) + 15 * (b[j - h1] + b[j + h1])) / 20
        f = max(f, f6)
    if order > 6:
        h3 = 3 * i // 4
        h2 = i // 2
        h1 = i // 4
        f8 = (
            -(b[j - i] + b[j + i])
            + 8 * (b[j - h3] + b[j + h3])
            - 28 * (b[j - h2] + b[j + h2])
            + 56 * (b[j - h1] + b[j + h1])
        ) / 70
        f = max(f, f8)
    return float(f)


@jit
def _clip_pass(b: FloatArray, w: int, out: FloatArray) -> None:
    """One second-order SNIP pass: ``out[j] = min(b[j], (b[j - w] + b[j + w]) / 2)`` inside.

    Written as a select with no store in a branch, so that LLVM vectorises it (SNIP at 1024
    points ran ~10x faster than with the branchy in-place loop); points within ``w`` of an end
    are copied.

    >>> out = np.empty(5)
    >>> _clip_pass(np.array([0.0, 0.0, 4.0, 2.0, 0.0]), 1, out)
    >>> out.tolist()
    [0.0, 0.0, 1.0, 2.0, 0.0]
    """
    m = b.shape[0]
    for j in range(min(w, m)):
        out[j] = b[j]
    # Slices indexed from 0: no negative-index wraparound test, so no gather/scatter.
    inner = max(m - 2 * w, 0)
    left, mid, right, dst = b[:inner], b[w : w + inner], b[2 * w : 2 * w + inner], out[w:]
    for k in range(inner):
        f = (left[k] + right[k]) / 2
        dst[k] = f if mid[k] > f else mid[k]
    for j in range(max(m - w, w), m):
        out[j] = b[j]


@jit
def _snip_rows(
    x: FloatArray,
    max_half_window: int,
    decreasing: bool,  # noqa: FBT001
    smooth_half_window: int,
    filter_order: int,
    want_baseline: bool,  # noqa: FBT001
    out: FloatArray,
) -> None:
    n, p = x.shape
    y = np.empty(p)
    tmp = np.empty(p)
    a = np.empty(p)
    b = np.empty(p)
    e1 = np.empty(2 * p + 2)
    e2 = np.empty(2 * p + 2)
    for i in range(n):
        has_nan = False
        for j in range(p):
            y[j] = x[i, j]
            if np.isnan(y[j]):
                has_nan = True
        if has_nan:
            for j in range(p):
                out[i, j] = np.nan
            continue
        half = max_half_window if max_half_window > 0 else _optimize_window(y, a, b, tmp, e1, e2)
        # Windows beyond (n - 1) // 2 have no effect; pybaselines clips them (with a warning).
        half = min(half, (p - 1) // 2)
        m = p + 2 * half
        base = np.empty(m)
        _pad_extrapolate(y, half, base)
        old = np.empty(m)
        smoothed = np.empty(m)
        for step in range(half):
            w = half - step if decreasing else step + 1
            if filter_order == 2 and smooth_half_window <= 0:
                # The default: one branch-free pass from ``base`` into ``old``, then swap.
                _clip_pass(base, w, old)
                base, old = old, base
                continue
            # Every point of one pass reads the baseline of the previous pass.
            for j in range(m):
                old[j] = base[j]
            if smooth_half_window > 0:
                _uniform(old, smooth_half_window, smoothed)
            for j in range(w, m - w):
                f = _snip_filter(old, j, w, filter_order)
                if old[j] > f:
                    base[j] = f
                elif smooth_half_window > 0:
                    base[j] = smoothed[j]
        for j in range(p):
            v = base[half + j]
            out[i, j] = v if want_baseline else y[j] - v


def _check_output(output: str) -> bool:
    if output not in ("corrected", "baseline"):
        msg = f"'output' must be 'corrected' or 'baseline'; got output={output!r}"
        raise ValueError(msg)
    return output == "baseline"


def _check_points(arr: FloatArray, minimum: int, name: str) -> None:
    if arr.shape[1] < minimum:
        msg = f"{name} needs spectra of at least {minimum} points; got n_points={arr.shape[1]}"
        raise ValueError(msg)


def rolling_ball(
    x: npt.ArrayLike,
    half_window: int | None = None,
    smooth_half_window: int | None = None,
    *,
    output: BaselineOutput = "corrected",
) -> FloatArray:
    """Rolling-ball baseline of each spectrum, as ``pybaselines.morphological.rolling_ball``.

    A grey opening over ``2 * half_window + 1`` points, then a moving average over
    ``2 * smooth_half_window + 1`` points of the opening padded by linear extrapolation.
    ``half_window=None`` picks it per spectrum with pybaselines' ``optimize_window``;
    ``smooth_half_window=None`` uses the half window. Returns ``x - baseline`` or the baseline.

    >>> rolling_ball(np.array([0.0, 0.0, 5.0, 0.0, 0.0, 0.0]), half_window=1, smooth_half_window=0)
    array([0., 0., 5., 0., 0., 0.])
    """
    arr, was_1d = as_spectra(x)
    want = _check_output(output)
    _check_points(arr, 1, "rolling_ball")
    hw = -1 if half_window is None else check_int(half_window, "half_window", minimum=1)
    shw = (
        -1
        if smooth_half_window is None
        else check_int(smooth_half_window, "smooth_half_window", minimum=0)
    )
    out64 = np.empty(arr.shape, dtype=np.float64)
    _rolling_ball_rows(arr, hw, shw, want, out64)
    return restore(out64.astype(arr.dtype, copy=False), was_1d)


def snip(
    x: npt.ArrayLike,
    max_half_window: int | None = None,
    decreasing: bool = False,  # noqa: FBT001, FBT002
    smooth_half_window: int | None = None,
    filter_order: int = 2,
    *,
    output: BaselineOutput = "corrected",
) -> FloatArray:
    """SNIP peak-clipping baseline of each spectrum, as ``pybaselines.smooth.snip``.

    ``max_half_window`` clipping passes (window 1, 2, ... or decreasing) over the spectrum padded
    by linear extrapolation; ``None`` picks it per spectrum with ``optimize_window``, values above
    ``(n_points - 1) // 2`` act as that value (pybaselines also warns), so spectra of fewer than 3
    points are their own baseline. ``filter_order`` in
    {2, 4, 6, 8}; ``smooth_half_window > 0`` replaces unclipped points by their moving mean.
    Returns ``x - baseline`` (``output="corrected"``) or the baseline.

    >>> snip(np.array([1.0, 1.0, 1.0, 9.0, 1.0, 1.0, 1.0]), max_half_window=2, output="baseline")
    array([1., 1., 1., 1., 1., 1., 1.])
    """
    arr, was_1d = as_spectra(x)
    want = _check_output(output)
    _check_points(arr, 1, "snip")
    if filter_order not in (2, 4, 6, 8):
        msg = f"'filter_order' must be 2, 4, 6 or 8; got filter_order={filter_order!r}"
        raise ValueError(msg)
    hw = -1 if max_half_window is None else check_int(max_half_window, "max_half_window", minimum=1)
    shw = (
        0
        if smooth_half_window is None
        else check_int(smooth_half_window, "smooth_half_window", minimum=0)
    )
    out64 = np.empty(arr.shape, dtype=np.float64)
    _snip_rows(arr, hw, bool(decreasing), shw, int(filter_order), want, out64)
    return restore(out64.astype(arr.dtype, copy=False), was_1d)
