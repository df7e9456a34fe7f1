"""Iterative polynomial baselines: ModPoly (Lieber 2003) and IModPoly (Zhao 2007).

Both follow ``pybaselines.polynomial.modpoly`` / ``imodpoly`` (1.2) step by step: the baseline is
the least-squares polynomial of the points clipped to it, refitted until the relative change is
below ``tol``. The polynomial is fitted on the index mapped to ``[-1, 1]`` (pybaselines' default
when no ``x_data`` is given) through the Moore-Penrose pseudo-inverse of the (optionally masked)
Vandermonde matrix, as pybaselines does. All arithmetic is float64 (float32 rows are widened
before fitting and the result cast back), so float32 differs from float64 only by input rounding.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

from nirskern._jit import jit
from nirskern._validate import FloatArray, as_spectra, check_int, restore

#: pybaselines' floor for the denominator of the relative difference (``np.finfo(float).eps``).
_MIN_FLOAT = float(np.finfo(np.float64).eps)

BaselineOutput = Literal["corrected", "baseline"]


@jit
def _std(r: FloatArray) -> float:
    # Two-pass population std (ddof=0), the same formula as np.std.
    n = r.shape[0]
    m = 0.0
    for j in range(n):
        m += r[j]
    m /= n
    s = 0.0
    for j in range(n):
        d = r[j] - m
        s += d * d
    return float(np.sqrt(s / n))


@jit
def _fit(
    pinv: FloatArray, vander: FloatArray, sw: FloatArray, y: FloatArray, out: FloatArray
) -> None:
    """``out = V @ (pinv @ (sqrt(w) * y))``: the weighted least-squares polynomial of ``y``."""
    k, p = pinv.shape
    coef = np.zeros(k)
    for c in range(k):
        s = 0.0
        for j in range(p):
            s += pinv[c, j] * (sw[j] * y[j])
        coef[c] = s
    for j in range(p):
        s = 0.0
        for c in range(k):
            s += vander[j, c] * coef[c]
        out[j] = s


@jit
def _poly_rows(
    x: FloatArray,
    vander: FloatArray,
    pinv0: FloatArray,
    tol: float,
    max_iter: int,
    use_original: bool,  # noqa: FBT001
    mask_initial_peaks: bool,  # noqa: FBT001
    improved: bool,  # noqa: FBT001
    num_std: float,
    want_baseline: bool,  # noqa: FBT001
    out: FloatArray,
) -> None:
    n, p = x.shape
    y0 = np.empty(p)
    y = np.empty(p)
    sw = np.empty(p)
    base = np.empty(p)
    old = np.empty(p)
    resid = np.empty(p)
    for i in range(n):
        has_nan = False
        for j in range(p):
            y0[j] = x[i, j]
            if np.isnan(y0[j]):
                has_nan = True
        if has_nan:
            # A NaN row has no baseline; skip the iterations (they would all run to max_iter).
            for j in range(p):
                out[i, j] = np.nan
            continue
        for j in range(p):
            y[j] = y0[j]
            sw[j] = 1.0
        pinv = pinv0
        _fit(pinv, vander, sw, y, base)
        for j in range(p):
            resid[j] = y[j] - base[j]
        deviation = _std(resid)
        if mask_initial_peaks:
            # Points above the first fit + one std of its residual are peaks: weight 0.
            for j in range(p):
                if base[j] + deviation < y[j]:
                    sw[j] = 0.0
            pinv = np.ascontiguousarray(np.linalg.pinv(sw.reshape((p, 1)) * vander))
        for _ in range(max_iter):
            if improved:
                # IModPoly: clip to baseline + num_std * std(residual); stop on the std's change.
                for j in range(p):
                    ref = y0[j] if use_original else y[j]
                    y[j] = min(ref, base[j] + num_std * deviation)
                _fit(pinv, vander, sw, y, base)
                for j in range(p):
                    resid[j] = y[j] - base[j]
                new_deviation = _std(resid)
                # pybaselines calls relative_difference(new_deviation, deviation): the new value
                # is the denominator.
                diff = abs(deviation - new_deviation) / max(abs(new_deviation), _MIN_FLOAT)
                if diff < tol:
                    break
                deviation = new_deviation
            else:
                # ModPoly: clip to the baseline; stop on the relative L2 change of the baseline.
                for j in range(p):
                    old[j] = base[j]
                    ref = y0[j] if use_original else y[j]
                    y[j] = min(ref, base[j])
                _fit(pinv, vander, sw, y, base)
                num = 0.0
                den = 0.0
                for j in range(p):
                    d = base[j] - old[j]
                    num += d * d
                    den += old[j] * old[j]
                diff = np.sqrt(num) / max(np.sqrt(den), _MIN_FLOAT)
                if diff < tol:
                    break
        for j in range(p):
            out[i, j] = base[j] if want_baseline else y0[j] - base[j]


def _vandermonde(n_points: int, poly_order: int) -> tuple[FloatArray, FloatArray]:
    """Vandermonde matrix on ``linspace(-1, 1, n)`` and its pseudo-inverse, as pybaselines."""
    t = np.linspace(-1.0, 1.0, n_points)
    vander = np.ascontiguousarray(np.polynomial.polynomial.polyvander(t, poly_order))
    return vander, np.ascontiguousarray(np.linalg.pinv(vander))


def _check(
    x: npt.ArrayLike, poly_order: int, tol: float, max_iter: int, output: str
) -> tuple[FloatArray, bool, int, int]:
    arr, was_1d = as_spectra(x)
    poly_order = check_int(poly_order, "poly_order", minimum=0)
    max_iter = check_int(max_iter, "max_iter", minimum=0)
    if not tol >= 0:
        msg = f"'tol' must be >= 0; got tol={tol}"
        raise ValueError(msg)
    if output not in ("corrected", "baseline"):
        msg = f"'output' must be 'corrected' or 'baseline'; got output={output!r}"
        raise ValueError(msg)
    return arr, was_1d, poly_order, max_iter


def _run(
    x: npt.ArrayLike,
    *,
    poly_order: int,
    tol: float,
    max_iter: int,
    use_original: bool,
    mask_initial_peaks: bool,
    improved: bool,
    num_std: float,
    output: str,
) -> FloatArray:
    arr, was_1d, poly_order, max_iter = _check(x, poly_order, tol, max_iter, output)
    vander, pinv = _vandermonde(arr.shape[1], poly_order)
    out64 = np.empty(arr.shape, dtype=np.float64)
    _poly_rows(
        arr,
        vander,
        pinv,
        float(tol),
        max_iter,
        bool(use_original),
        bool(mask_initial_peaks),
        improved,
        float(num_std),
        output == "baseline",
        out64,
    )
    return restore(out64.astype(arr.dtype, copy=False), was_1d)


def modpoly(
    x: npt.ArrayLike,
    poly_order: int = 2,
    tol: float = 1e-3,
    max_iter: int = 250,
    *,
    use_original: bool = False,
    mask_initial_peaks: bool = False,
    output: BaselineOutput = "corrected",
) -> FloatArray:
    """Modified polynomial (ModPoly) baseline of each spectrum, as ``pybaselines.modpoly``.

    Returns ``x - baseline`` (``output="corrected"``) or the baseline (``output="baseline"``).

    >>> t = np.linspace(0.0, 1.0, 50)
    >>> x = 1.0 + t + np.exp(-(((t - 0.5) / 0.05) ** 2))
    >>> bool(abs(modpoly(x, poly_order=1, output="baseline")[0] - 1.0) < 0.05)
    True
    """
    return _run(
        x,
        poly_order=poly_order,
        tol=tol,
        max_iter=max_iter,
        use_original=use_original,
        mask_initial_peaks=mask_initial_peaks,
        improved=False,
        num_std=0.0,
        output=output,
    )


def imodpoly(
    x: npt.ArrayLike,
    poly_order: int = 2,
    tol: float = 1e-3,
    max_iter: int = 250,
    *,
    use_original: bool = False,
    mask_initial_peaks: bool = True,
    num_std: float = 1.0,
    output: BaselineOutput = "corrected",
) -> FloatArray:
    """Improved modified polynomial (IModPoly) baseline, as ``pybaselines.imodpoly``.

    Returns ``x - baseline`` (``output="corrected"``) or the baseline (``output="baseline"``).

    >>> t = np.linspace(0.0, 1.0, 50)
    >>> x = 1.0 + t + np.exp(-(((t - 0.5) / 0.05) ** 2))
    >>> imodpoly(x, poly_order=1).shape
    (50,)
    """
    if not num_std >= 0:
        msg = f"'num_std' must be >= 0; got num_std={num_std}"
        raise ValueError(msg)
    return _run(
        x,
        poly_order=poly_order,
        tol=tol,
        max_iter=max_iter,
        use_original=use_original,
        mask_initial_peaks=mask_initial_peaks,
        improved=True,
        num_std=num_std,
        output=output,
    )
