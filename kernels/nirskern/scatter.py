"""Scatter corrections: standard normal variate and multiplicative scatter correction.

References
----------
Barnes, Dhanoa & Lister (1989), Appl. Spectrosc. 43(5), 772-777 (SNV).
Geladi, MacDougall & Martens (1985), Appl. Spectrosc. 39(3), 491-500 (MSC).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from nirskern._jit import jit, jit_row
from nirskern._reduce import row_dot_dev, row_sum, row_sumsq_dev
from nirskern._select import NBINS, median, row_range
from nirskern._validate import FloatArray, as_spectra, check_int, output, restore


@jit_row
def snv_row(row: FloatArray, ddof: int, o: FloatArray) -> None:
    """SNV of one spectrum ``row`` into ``o`` (also the first step of fused chains)."""
    p = row.shape[0]
    # Two passes (mean, then centred sum of squares) in float64: stable for float32 input
    # and for spectra with a large offset relative to their variation (nirskern._reduce).
    mean = row_sum(row) / p
    ss = row_sumsq_dev(row, mean)
    # A flat spectrum has std 0: 0/0 gives NaN rows, which callers report.
    inv = 1.0 / np.sqrt(ss / (p - ddof)) if ss > 0.0 else np.nan
    for j in range(p):
        o[j] = (row[j] - mean) * inv


@jit
def _snv(x: FloatArray, ddof: int, out: FloatArray) -> None:
    for i in range(x.shape[0]):
        snv_row(x[i], ddof, out[i])


def check_ddof(ddof: object, n_points: int) -> int:
    """``ddof`` checked for spectra of ``n_points`` (an integer in ``[0, n_points)``).

    >>> check_ddof(1, 10)
    1
    """
    value = check_int(ddof, "ddof", minimum=0)
    if value >= n_points:
        msg = (
            "'ddof' must be smaller than the number of points; "
            f"got ddof={value}, n_points={n_points}"
        )
        raise ValueError(msg)
    return value


def snv(x: npt.ArrayLike, *, ddof: int = 0, out: FloatArray | None = None) -> FloatArray:
    """Standard normal variate: centre each spectrum and divide it by its standard deviation.

    ``ddof=0`` (population std) matches chemotools and nirs4all. A flat spectrum becomes NaN.
    The result is written into ``out`` when given (same shape and dtype, not overlapping ``x``).

    >>> snv(np.array([[1.0, 2.0, 3.0, 4.0]])).round(4).tolist()
    [[-1.3416, -0.4472, 0.4472, 1.3416]]
    """
    arr, was_1d = as_spectra(x)
    ddof = check_ddof(ddof, arr.shape[1])
    res = output(out, arr, was_1d=was_1d)
    _snv(arr, ddof, res)
    return restore(res, was_1d) if out is None else out


@jit
def _msc(x: FloatArray, ref: FloatArray, out: FloatArray) -> None:
    n, p = x.shape
    rmean = 0.0
    for j in range(p):
        rmean += ref[j]
    rmean /= p
    rss = 0.0
    for j in range(p):
        d = ref[j] - rmean
        rss += d * d
    # The centred reference, once: the per-row cross-product is then one multiply-add per point.
    rc = np.empty(p)
    for j in range(p):
        rc[j] = ref[j] - rmean
    for i in range(n):
        row = x[i]
        xmean = row_sum(row) / p
        # Least-squares fit x = a + b * ref on centred values (one pass, no normal equations;
        # vectorised sums, nirskern._reduce).
        sxy = row_dot_dev(row, xmean, rc)
        b = sxy / rss
        a = xmean - b * rmean
        inv = 1.0 / b
        o = out[i]
        for j in range(p):
            o[j] = (row[j] - a) * inv


def msc(x: npt.ArrayLike, reference: npt.ArrayLike) -> FloatArray:
    """Multiplicative scatter correction against ``reference``: ``(x - a) / b`` per spectrum.

    ``a`` and ``b`` are the least-squares intercept and slope of each spectrum regressed on the
    reference (usually the mean training spectrum).

    >>> ref = np.array([1.0, 2.0, 4.0])
    >>> msc(np.array([[3.0, 5.0, 9.0]]), ref).tolist()
    [[1.0, 2.0, 4.0]]
    """
    arr, was_1d = as_spectra(x)
    ref = np.ascontiguousarray(np.asarray(reference, dtype=arr.dtype))
    if ref.ndim != 1 or ref.shape[0] != arr.shape[1]:
        msg = (
            f"'reference' must be 1-D with {arr.shape[1]} points to match x; got shape {ref.shape}"
        )
        raise ValueError(msg)
    if not np.all(np.isfinite(ref)) or np.ptp(ref) == 0:
        msg = "'reference' must be finite and not constant"
        raise ValueError(msg)
    out = np.empty_like(arr)
    _msc(arr, ref, out)
    return restore(out, was_1d)


#: 1 / Phi^-1(3/4): makes the median absolute deviation a consistent estimator of the standard
#: deviation of normal data (the "1.4826" of the literature, to full precision; equal to
#: ``scipy.stats.median_abs_deviation(scale="normal")``).
MAD_TO_STD = 1.482602218505602


@jit
def _rnv_row_exact(row: FloatArray, buf: FloatArray, o: FloatArray) -> None:
    """RNV of a NaN-free ``row`` with numba's ``np.median``: rows the fast path cannot bin."""
    for j in range(row.shape[0]):
        buf[j] = row[j]
    med = np.median(buf)
    for j in range(row.shape[0]):
        buf[j] = abs(buf[j] - med)
    mad = np.median(buf)
    inv = 1.0 / (MAD_TO_STD * mad) if mad > 0.0 else np.nan
    for j in range(row.shape[0]):
        o[j] = (row[j] - med) * inv


@jit
def _rnv(x: FloatArray, out: FloatArray) -> None:
    """RNV of each row; its two medians by histogram selection (nirskern._select), ~3.5x faster
    than two ``np.median`` calls on rows of 1024 points and equal to them bit for bit.
    """
    n, p = x.shape
    buf = np.empty(p)  # float64 scratch: medians of float32 rows are taken in float64
    counts = np.empty(NBINS, np.int64)
    bins = np.empty(p, np.int32)
    for i in range(n):
        row, o = x[i], out[i]
        for j in range(p):
            buf[j] = row[j]
        lo, hi = row_range(buf)
        if lo != lo:  # a NaN
            o[:] = np.nan
            continue
        # The medians by histogram selection (nirskern._select): the bits of np.median, which
        # stays the reference for what cannot be binned (inf values or an overflowing range)
        # and for a zero median, whose sign (0.0 or -0.0) depends on np.median's pivots.
        med = median(buf, lo, hi, counts, bins) if np.isfinite(hi - lo) else np.nan
        if med == 0.0 or not np.isfinite(med):
            _rnv_row_exact(row, buf, o)
            continue
        for j in range(p):
            buf[j] = abs(row[j] - med)
        # |x - med| lies within [0, max(hi - med, med - lo)], a finite range.
        mad = median(buf, 0.0, max(hi - med, med - lo), counts, bins)
        # More than half the points equal to the median: MAD is 0, the row becomes NaN (as SNV
        # does for a flat spectrum).
        inv = 1.0 / (MAD_TO_STD * mad) if mad > 0.0 else np.nan
        for j in range(p):
            o[j] = (row[j] - med) * inv


def rnv(x: npt.ArrayLike, *, out: FloatArray | None = None) -> FloatArray:
    """Robust normal variate: ``(x - median) / (1.4826 * MAD)`` for each spectrum.

    The SNV with robust location and scale: the median and the median absolute deviation
    ``MAD = median(|x - median(x)|)``, scaled by ``1 / Phi^-1(3/4) = 1.482602218505602`` so that
    it estimates the standard deviation of normal data. A spectrum with ``MAD = 0`` becomes NaN.

    This is not chemotools' ``RobustNormalVariate``, which follows Guo, Wu & Massart (1999):
    ``(x - P) / std(x[x <= P])`` with ``P`` the 25th percentile of the spectrum. The result is
    written into ``out`` when given (same shape and dtype, not overlapping ``x``).

    >>> rnv(np.array([[1.0, 2.0, 3.0, 4.0, 100.0]])).round(4).tolist()
    [[-1.349, -0.6745, 0.0, 0.6745, 65.4255]]
    """
    arr, was_1d = as_spectra(x)
    res = output(out, arr, was_1d=was_1d)
    _rnv(arr, res)
    return restore(res, was_1d) if out is None else out


@jit
def _local_snv(x: FloatArray, w: int, ddof: int, out: FloatArray) -> None:
    n, p = x.shape
    half = w // 2
    for i in range(n):
        # One NaN makes the whole row NaN (as every kernel does), not only the windows around it.
        has_nan = False
        for j in range(p):
            if x[i, j] != x[i, j]:
                has_nan = True
        if has_nan:
            for j in range(p):
                out[i, j] = np.nan
            continue
        for j in range(p):
            # The window is centred on j and shifted (not shrunk) at the edges so that it always
            # holds exactly w points: the first and last half-windows share one window each.
            start = min(max(j - half, 0), p - w)
            # Two passes in float64 for each window (O(p * w)): exact to rounding, unlike running
            # sums of x and x^2 that cancel catastrophically on spectra with a large offset.
            # Each pass vectorises (nirskern._reduce).
            win = x[i, start : start + w]
            mean = row_sum(win) / w
            ss = row_sumsq_dev(win, mean)
            # A flat window has std 0: that point becomes NaN (as SNV does for a flat spectrum).
            inv = 1.0 / np.sqrt(ss / (w - ddof)) if ss > 0.0 else np.nan
            out[i, j] = (x[i, j] - mean) * inv


def local_snv(x: npt.ArrayLike, *, window_length: int = 31, ddof: int = 0) -> FloatArray:
    """SNV in a moving window: each point centred and scaled by the mean and std of its window.

    The window holds ``window_length`` (odd) points centred on each point. At the edges it is
    shifted inward rather than truncated, so every point is scaled by statistics of exactly
    ``window_length`` points: the first ``window_length // 2`` points use the window
    ``x[:window_length]`` and the last ones ``x[-window_length:]``. With ``window_length`` equal to
    the number of points this is :func:`snv`. ``ddof`` is the delta degrees of freedom of the std.

    >>> local_snv(np.array([[1.0, 2.0, 4.0, 8.0]]), window_length=3).round(4).tolist()
    [[-1.069, -0.2673, -0.2673, 1.3363]]
    """
    arr, was_1d = as_spectra(x)
    window_length = check_int(window_length, "window_length", minimum=3)
    ddof = check_int(ddof, "ddof", minimum=0)
    if window_length % 2 == 0 or window_length > arr.shape[1]:
        msg = (
            "'window_length' must be odd and at most the number of points; "
            f"got window_length={window_length}, n_points={arr.shape[1]}"
        )
        raise ValueError(msg)
    if ddof >= window_length:
        msg = (
            "'ddof' must be smaller than 'window_length'; "
            f"got ddof={ddof}, window_length={window_length}"
        )
        raise ValueError(msg)
    out = np.empty_like(arr)
    _local_snv(arr, window_length, ddof, out)
    return restore(out, was_1d)


def emsc_design(
    reference: npt.ArrayLike,
    *,
    order: int = 2,
    interferents: npt.ArrayLike | None = None,
    x_axis: npt.ArrayLike | None = None,
) -> npt.NDArray[np.float64]:
    """The EMSC design matrix ``[1, t, ..., t^order, reference, interferents...]``, float64.

    ``t`` is the spectral axis mapped affinely onto [-1, 1] (the point index when ``x_axis`` is
    None), which keeps the polynomial columns well conditioned. The reference is column
    ``order + 1``.

    >>> emsc_design([1.0, 2.0, 4.0], order=1).tolist()
    [[1.0, -1.0, 1.0], [1.0, 0.0, 2.0], [1.0, 1.0, 4.0]]
    """
    order = check_int(order, "order", minimum=0)
    ref = np.asarray(reference, dtype=np.float64)
    if ref.ndim != 1 or not np.all(np.isfinite(ref)):
        msg = f"'reference' must be a finite 1-D spectrum; got shape {ref.shape}"
        raise ValueError(msg)
    p = ref.shape[0]
    if x_axis is None:
        t = np.linspace(-1.0, 1.0, p)
    else:
        axis = np.asarray(x_axis, dtype=np.float64)
        if axis.shape != (p,) or not np.all(np.isfinite(axis)) or np.ptp(axis) == 0:
            msg = f"'x_axis' must be {p} finite, not all equal values; got shape {axis.shape}"
            raise ValueError(msg)
        lo, hi = axis.min(), axis.max()
        t = 2.0 * (axis - lo) / (hi - lo) - 1.0
    columns = [np.vander(t, order + 1, increasing=True), ref[:, np.newaxis]]
    if interferents is not None:
        itf = np.asarray(interferents, dtype=np.float64)
        if itf.ndim == 1:
            itf = itf[np.newaxis, :]
        if itf.ndim != 2 or itf.shape[1] != p or not np.all(np.isfinite(itf)):
            msg = f"'interferents' must be finite spectra of shape (k, {p}); got shape {itf.shape}"
            raise ValueError(msg)
        columns.append(itf.T)
    design = np.hstack(columns)
    if design.shape[1] > p:
        msg = (
            f"EMSC has more terms ({design.shape[1]}) than points ({p}); "
            "lower 'order' or use fewer 'interferents'"
        )
        raise ValueError(msg)
    return design


@jit
def _emsc(
    x: FloatArray,
    design: FloatArray,
    q: FloatArray,
    r_inv: FloatArray,
    iref: int,
    out: FloatArray,
) -> None:
    n, p = x.shape
    k = design.shape[1]
    z = np.empty(k)
    c = np.empty(k)
    for i in range(n):
        # Least squares x ~ design @ c through the thin QR of the design: c = R^-1 Q^T x.
        for a in range(k):
            s = 0.0
            for j in range(p):
                s += q[j, a] * x[i, j]
            z[a] = s
        for a in range(k):
            s = 0.0
            for b in range(a, k):
                s += r_inv[a, b] * z[b]
            c[a] = s
        inv = 1.0 / c[iref]
        # Remove the polynomial baseline and the interferents, divide by the reference's weight.
        for j in range(p):
            s = x[i, j]
            for a in range(k):
                if a != iref:
                    s -= design[j, a] * c[a]
            out[i, j] = s * inv


def emsc(
    x: npt.ArrayLike,
    reference: npt.ArrayLike,
    *,
    order: int = 2,
    interferents: npt.ArrayLike | None = None,
    x_axis: npt.ArrayLike | None = None,
) -> FloatArray:
    """Extended multiplicative scatter correction against ``reference``.

    Each spectrum is fitted by least squares as
    ``x = c_0 + c_1 t + ... + c_order t^order + b * reference + sum_k g_k * interferent_k`` (see
    :func:`emsc_design` for ``t``) and corrected to
    ``(x - polynomial - sum_k g_k * interferent_k) / b``, as chemotools'
    ``ExtendedMultiplicativeScatterCorrection``. With ``order=0`` and no interferents it is MSC.

    >>> ref = np.array([1.0, 2.0, 4.0, 3.0])
    >>> emsc(np.array([[3.0, 5.0, 9.0, 7.0]]), ref, order=0).round(12).tolist()
    [[1.0, 2.0, 4.0, 3.0]]
    """
    arr, was_1d = as_spectra(x)
    design = emsc_design(reference, order=order, interferents=interferents, x_axis=x_axis)
    if design.shape[0] != arr.shape[1]:
        msg = f"'reference' must have {arr.shape[1]} points to match x; got {design.shape[0]}"
        raise ValueError(msg)
    q, r = np.linalg.qr(design)
    diag = np.abs(np.diag(r))
    # Rank check: a column (near) in the span of the others has a negligible R diagonal.
    if diag.min() <= 1e-10 * diag.max():
        msg = (
            "EMSC terms are linearly dependent: 'reference' or 'interferents' lie in the span of "
            f"the polynomial of order {order} (a constant reference?) or of each other"
        )
        raise ValueError(msg)
    r_inv = np.linalg.solve(r, np.eye(r.shape[0]))
    out = np.empty_like(arr)
    _emsc(arr, design, np.ascontiguousarray(q), np.ascontiguousarray(r_inv), order + 1, out)
    return restore(out, was_1d)
