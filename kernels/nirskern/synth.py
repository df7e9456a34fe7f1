"""Synthetic spectra: Beer-Lambert mixtures with scatter, baseline, wavelength shift and noise.

One pass per row builds the mixture ``c @ pure`` (and its derivative), shifts it along a uniform
axis by cubic Hermite interpolation, applies the multiplicative scatter and the additive
baseline, and adds (optionally heteroscedastic) noise from pre-drawn standard normals. The
random draws are made by the caller, so the kernel is deterministic.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from nirskern._jit import jit

__all__ = ["mix_spectra"]

F64 = npt.NDArray[np.float64]
FloatArray = npt.NDArray[np.floating]


@jit
def _mix(
    conc: F64,
    pure: F64,
    dpure: F64,
    shift: F64,
    scale: F64,
    b0: F64,
    b1: F64,
    b2: F64,
    t: F64,
    sigma: F64,
    hetero: float,
    z: FloatArray,
    out: FloatArray,
) -> None:
    n, p = out.shape
    k_comp = conc.shape[1]
    mix = np.empty(p)
    dmix = np.empty(p)
    noisy = z.shape[1] == p
    for i in range(n):
        # The mixture and its derivative (per axis step) at the grid points, in float64.
        for j in range(p):
            mix[j] = 0.0
            dmix[j] = 0.0
        for k in range(k_comp):
            c = conc[i, k]
            if c == 0.0:
                continue
            for j in range(p):
                mix[j] += c * pure[k, j]
                dmix[j] += c * dpure[k, j]
        s = shift[i]
        q = int(np.floor(s))
        f = s - q
        # Cubic Hermite basis for the fractional part: exact for cubics, O(step^4) error with
        # analytic derivatives, and the weights are the same for every point of the row.
        f2 = f * f
        f3 = f2 * f
        h00 = 2.0 * f3 - 3.0 * f2 + 1.0
        h10 = f3 - 2.0 * f2 + f
        h01 = -2.0 * f3 + 3.0 * f2
        h11 = f3 - f2
        g = scale[i]
        for j in range(p):
            a = j + q
            if a >= 0 and a + 1 < p:
                v = h00 * mix[a] + h10 * dmix[a] + h01 * mix[a + 1] + h11 * dmix[a + 1]
            else:
                # Past the edge of the grid: first-order Taylor from the nearest end point.
                e = 0 if a < 0 else p - 1
                v = mix[e] + dmix[e] * (j + s - e)
            tj = t[j]
            val = g * v + b0[i] + b1[i] * tj + b2[i] * tj * tj
            if noisy:
                val += sigma[i] * (1.0 + hetero * abs(val)) * z[i, j]
            out[i, j] = val


def mix_spectra(
    conc: npt.ArrayLike,
    pure: npt.ArrayLike,
    dpure: npt.ArrayLike,
    *,
    shift: npt.ArrayLike,
    scale: npt.ArrayLike,
    offset: npt.ArrayLike,
    slope: npt.ArrayLike,
    curvature: npt.ArrayLike,
    t: npt.ArrayLike,
    sigma: npt.ArrayLike,
    z: npt.ArrayLike | None = None,
    heteroscedastic: float = 0.0,
    dtype: type[np.floating] | np.dtype[np.floating] = np.float64,
) -> npt.NDArray[np.floating]:
    """Spectra ``scale * shift(conc @ pure) + offset + slope*t + curvature*t**2 + noise``.

    Parameters
    ----------
    conc
        ``(n, K)`` effective concentrations (absorbing fractions).
    pure, dpure
        ``(K, P)`` pure-component spectra on a uniform axis and their derivative with respect to
        the point index (``d/dλ * step``).
    shift
        ``(n,)`` shift of each spectrum in points: row ``i`` holds the mixture at ``j + shift[i]``.
    scale, offset, slope, curvature
        ``(n,)`` multiplicative scatter and baseline coefficients.
    t
        ``(P,)`` baseline abscissa (e.g. the centred, scaled wavelength).
    sigma
        ``(n,)`` noise standard deviation of each row.
    z
        ``(n, P)`` standard normal draws (float32 or float64), or ``None`` for no noise.
    heteroscedastic
        Noise grows as ``sigma * (1 + heteroscedastic * |value|)`` (noise-free value).
    dtype
        Output dtype (float32 or float64); computing is always float64.

    Returns
    -------
    ndarray
        ``(n, P)`` spectra of ``dtype``.

    Examples
    --------
    >>> import numpy as np
    >>> pure = np.array([[0.0, 1.0, 0.0]]); dpure = np.zeros((1, 3)); one = np.ones(1)
    >>> mix_spectra([[2.0]], pure, dpure, shift=[0.0], scale=one, offset=[0.5], slope=[0.0],
    ...             curvature=[0.0], t=np.zeros(3), sigma=[0.0]).tolist()
    [[0.5, 2.5, 0.5]]
    """
    c = np.ascontiguousarray(conc, dtype=np.float64)
    e = np.ascontiguousarray(pure, dtype=np.float64)
    de = np.ascontiguousarray(dpure, dtype=np.float64)
    if c.ndim != 2 or e.ndim != 2 or c.shape[1] != e.shape[0] or de.shape != e.shape:
        msg = (
            "'conc' must be (n, K) and 'pure', 'dpure' (K, P); "
            f"got conc {c.shape}, pure {e.shape}, dpure {de.shape}"
        )
        raise ValueError(msg)
    n, p = c.shape[0], e.shape[1]
    rows = {
        name: np.ascontiguousarray(v, dtype=np.float64)
        for name, v in (
            ("shift", shift),
            ("scale", scale),
            ("offset", offset),
            ("slope", slope),
            ("curvature", curvature),
            ("sigma", sigma),
        )
    }
    for name, v in rows.items():
        if v.shape != (n,):
            msg = f"'{name}' must have shape ({n},); got {v.shape}"
            raise ValueError(msg)
    tt = np.ascontiguousarray(t, dtype=np.float64)
    if tt.shape != (p,):
        msg = f"'t' must have shape ({p},); got {tt.shape}"
        raise ValueError(msg)
    # Noise draws may be float32 (half the cost of drawing them); they are widened per point.
    zz = np.empty((n, 0)) if z is None else np.ascontiguousarray(z)
    if zz.dtype not in (np.float32, np.float64):
        zz = zz.astype(np.float64)
    if z is not None and zz.shape != (n, p):
        msg = f"'z' must have shape ({n}, {p}); got {zz.shape}"
        raise ValueError(msg)
    out_dtype = np.dtype(dtype)
    if out_dtype not in (np.float32, np.float64):
        msg = f"'dtype' must be float32 or float64; got {out_dtype}"
        raise ValueError(msg)
    out = np.empty((n, p), dtype=out_dtype)
    _mix(
        c,
        e,
        de,
        rows["shift"],
        rows["scale"],
        rows["offset"],
        rows["slope"],
        rows["curvature"],
        tt,
        rows["sigma"],
        float(heteroscedastic),
        zz,
        out,
    )
    return out
