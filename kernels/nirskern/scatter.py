"""Scatter corrections: standard normal variate and multiplicative scatter correction.

References
----------
Barnes, Dhanoa & Lister (1989), Appl. Spectrosc. 43(5), 772-777 (SNV).
Geladi, MacDougall & Martens (1985), Appl. Spectrosc. 39(3), 491-500 (MSC).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from nirskern._jit import jit
from nirskern._validate import FloatArray, as_spectra, check_int, restore


@jit
def _snv(x: FloatArray, ddof: int, out: FloatArray) -> None:
    n, p = x.shape
    for i in range(n):
        # Two passes (mean, then centred sum of squares) in float64: stable for float32 input
        # and for spectra with a large offset relative to their variation.
        s = 0.0
        for j in range(p):
            s += x[i, j]
        mean = s / p
        ss = 0.0
        for j in range(p):
            d = x[i, j] - mean
            ss += d * d
        # A flat spectrum has std 0: 0/0 gives NaN rows, which callers report.
        inv = 1.0 / np.sqrt(ss / (p - ddof)) if ss > 0.0 else np.nan
        for j in range(p):
            out[i, j] = (x[i, j] - mean) * inv


def snv(x: npt.ArrayLike, *, ddof: int = 0) -> FloatArray:
    """Standard normal variate: centre each spectrum and divide it by its standard deviation.

    ``ddof=0`` (population std) matches chemotools and nirs4all. A flat spectrum becomes NaN.

    >>> snv(np.array([[1.0, 2.0, 3.0, 4.0]])).round(4).tolist()
    [[-1.3416, -0.4472, 0.4472, 1.3416]]
    """
    arr, was_1d = as_spectra(x)
    ddof = check_int(ddof, "ddof", minimum=0)
    if ddof >= arr.shape[1]:
        msg = f"'ddof' must be smaller than the number of points; got ddof={ddof}, n_points={arr.shape[1]}"
        raise ValueError(msg)
    out = np.empty_like(arr)
    _snv(arr, ddof, out)
    return restore(out, was_1d)


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
    for i in range(n):
        xmean = 0.0
        for j in range(p):
            xmean += x[i, j]
        xmean /= p
        # Least-squares fit x = a + b * ref on centred values (one pass, no normal equations).
        sxy = 0.0
        for j in range(p):
            sxy += (ref[j] - rmean) * (x[i, j] - xmean)
        b = sxy / rss
        a = xmean - b * rmean
        inv = 1.0 / b
        for j in range(p):
            out[i, j] = (x[i, j] - a) * inv


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
        msg = f"'reference' must be 1-D with {arr.shape[1]} points to match x; got shape {ref.shape}"
        raise ValueError(msg)
    if not np.all(np.isfinite(ref)) or np.ptp(ref) == 0:
        msg = "'reference' must be finite and not constant"
        raise ValueError(msg)
    out = np.empty_like(arr)
    _msc(arr, ref, out)
    return restore(out, was_1d)
