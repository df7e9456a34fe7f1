"""Iterative polynomial baselines: ModPoly (Lieber 2003) and IModPoly (Zhao 2007).

Both follow ``pybaselines.polynomial.modpoly`` / ``imodpoly`` (1.2) step by step: the baseline is
the least-squares polynomial of the points clipped to it, refitted until the relative change is
below ``tol``. The polynomial is fitted on the index mapped to ``[-1, 1]`` (pybaselines' default
when no ``x_data`` is given). pybaselines projects with the pseudo-inverse of the (optionally
masked) Vandermonde matrix; the same projection is computed here with an orthonormal basis of
the polynomials, shared by all spectra (a masked fit adds one small Gram matrix per spectrum),
so results agree to rounding (~1e-14 relative). A masked fit left with fewer distinct points
than coefficients (only possible for spectra of fewer than ``2 (poly_order + 1)`` points) drops
the dependent basis polynomials instead of taking pybaselines' minimum-norm coefficients. All
arithmetic is float64 (float32 rows are widened before fitting and the result cast back), so
float32 differs from float64 only by input rounding.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

from nirskern._jit import jit
from nirskern._validate import FloatArray, as_spectra, check_int, restore
from nirskern.baseline import _basis

#: pybaselines' floor for the denominator of the relative difference (``np.finfo(float).eps``).
_MIN_FLOAT = float(np.finfo(np.float64).eps)

BaselineOutput = Literal["corrected", "baseline"]


@jit
def _dot(a: FloatArray, b: FloatArray) -> float:
    """``a @ b`` with four interleaved partial sums (independent chains, ~4x the scalar rate)."""
    n = a.shape[0]
    s0 = s1 = s2 = s3 = 0.0
    j = 0
    while j + 4 <= n:
        s0 += a[j] * b[j]
        s1 += a[j + 1] * b[j + 1]
        s2 += a[j + 2] * b[j + 2]
        s3 += a[j + 3] * b[j + 3]
        j += 4
    while j < n:
        s0 += a[j] * b[j]
        j += 1
    return (s0 + s1) + (s2 + s3)


@jit
def _spd_inverse(g: FloatArray, out: FloatArray) -> None:
    """``out = g⁻¹`` for a small symmetric positive semi-definite ``g`` (Cholesky, ``L⁻ᵀ L⁻¹``).

    A pivot below ``1e-12`` of its diagonal entry (a masked fit with fewer distinct points
    than coefficients) drops that basis polynomial: ``out`` is then the inverse of the kept
    principal submatrix, zero elsewhere, which still gives a least-squares fit.
    """
    k = g.shape[0]
    chol = np.zeros((k, k))
    for i in range(k):
        for j in range(i + 1):
            s = g[i, j]
            for m in range(j):
                s -= chol[i, m] * chol[j, m]
            if i == j:
                chol[i, i] = np.sqrt(s) if s > 1e-12 * g[i, i] else 0.0
            elif chol[j, j] > 0.0:
                chol[i, j] = s / chol[j, j]
    inv_l = np.zeros((k, k))  # L⁻¹ (lower triangular), dropped rows and columns zero
    for i in range(k):
        if chol[i, i] == 0.0:
            continue
        inv_l[i, i] = 1.0 / chol[i, i]
        for j in range(i):
            s = 0.0
            for m in range(j, i):
                s -= chol[i, m] * inv_l[m, j]
            inv_l[i, j] = s / chol[i, i]
    for i in range(k):
        for j in range(k):
            s = 0.0
            for m in range(max(i, j), k):
                s += inv_l[m, i] * inv_l[m, j]
            out[i, j] = s


@jit
def _first_fit(
    row: FloatArray,
    qt: FloatArray,
    need_std: bool,  # noqa: FBT001
    mask: bool,  # noqa: FBT001
    coef: FloatArray,
    base: FloatArray,
    res: FloatArray,
    sw: FloatArray,
    gram_inv: FloatArray,
) -> tuple[float, float]:
    """The unmasked least-squares fit of one spectrum, its residual mean and std, and the mask.

    ``coef = Qᵀ row``, ``base = Q coef``; the residual's mean and population std (np.std's
    two-pass formula) when ``need_std`` (else 0, 0); with ``mask`` the points above
    ``base + std`` get weight 0 (``sw``, else ones) and ``gram_inv = (Qᵀ diag(sw) Q)⁻¹``, the
    fit that the iterations use. ``res`` is scratch.
    """
    k, p = qt.shape
    for c in range(k):
        coef[c] = _dot(qt[c], row)
    for j in range(p):
        s = 0.0
        for c in range(k):
            s += qt[c, j] * coef[c]
        base[j] = s
    if not need_std:
        return 0.0, 0.0
    for j in range(p):
        res[j] = row[j] - base[j]
        sw[j] = 1.0
    m = _dot(res, sw) / p
    for j in range(p):
        res[j] -= m
    deviation = np.sqrt(_dot(res, res) / p)
    if mask:
        for j in range(p):
            sw[j] = 0.0 if base[j] + deviation < row[j] else 1.0
        g = np.empty((k, k))
        for a in range(k):
            for j in range(p):
                res[j] = sw[j] * qt[a, j]
            for b in range(a + 1):
                g[a, b] = g[b, a] = _dot(res, qt[b])
        _spd_inverse(g, gram_inv)
    return m, deviation


@jit
def _clip_modpoly(
    qs: tuple[FloatArray, ...],
    coef: FloatArray,
    y0: FloatArray,
    y: FloatArray,
    sw: FloatArray,
    use_original: bool,  # noqa: FBT001
    acc: FloatArray,
) -> None:
    """ModPoly step of every lane: ``y = min(y0 or y, Q coef)``, ``acc = Qᵀ (sw y)``.

    ``qs`` holds the columns of ``Q`` as a tuple, so that their number is a compile-time
    constant: the loop over them unrolls and the loop over the lanes vectorises.
    """
    p, lanes = y.shape
    k = len(qs)
    acc[:, :] = 0.0
    for j in range(p):
        for ln in range(lanes):
            b = 0.0
            for c in range(k):
                b += qs[c][j] * coef[c, ln]
            # (reading y0 only when asked: a second array aliasing y would make LLVM's
            # run-time overlap test fail and take the scalar loop)
            ref = y0[j, ln] if use_original else y[j, ln]
            v = b if ref > b else ref
            y[j, ln] = v
            v *= sw[j, ln]  # unconditional (ones when unmasked): a branch here stops vectorising
            for c in range(k):
                acc[c, ln] += qs[c][j] * v


@jit
def _clip_imodpoly(
    qs: tuple[FloatArray, ...],
    base: FloatArray,
    bound: FloatArray,
    y0: FloatArray,
    y: FloatArray,
    sw: FloatArray,
    use_original: bool,  # noqa: FBT001
    acc: FloatArray,
) -> None:
    """IModPoly step of every lane: ``y = min(y0 or y, base + bound)``, ``acc = Qᵀ (sw y)``."""
    p, lanes = y.shape
    k = len(qs)
    acc[:, :] = 0.0
    for j in range(p):
        for ln in range(lanes):
            b = base[j, ln] + bound[ln]
            ref = y0[j, ln] if use_original else y[j, ln]
            v = b if ref > b else ref
            y[j, ln] = v
            v *= sw[j, ln]  # unconditional (ones when unmasked): a branch here stops vectorising
            for c in range(k):
                acc[c, ln] += qs[c][j] * v


@jit
def _residual_sums(
    qs: tuple[FloatArray, ...],
    coef: FloatArray,
    y: FloatArray,
    shift: FloatArray,
    base: FloatArray,
    s1: FloatArray,
    s2: FloatArray,
) -> None:
    """``base = Q coef`` of every lane and the sums of ``d = y - base - shift`` and ``d²``."""
    p, lanes = y.shape
    k = len(qs)
    s1[:] = 0.0
    s2[:] = 0.0
    for j in range(p):
        for ln in range(lanes):
            b = 0.0
            for c in range(k):
                b += qs[c][j] * coef[c, ln]
            base[j, ln] = b
            d = (y[j, ln] - b) - shift[ln]
            s1[ln] += d
            s2[ln] += d * d


@jit
def _lane_solve(acc: FloatArray, gram_inv: FloatArray, masked: bool, coef: FloatArray) -> None:  # noqa: FBT001
    """``coef[:, ln] = gram_inv[:, :, ln] @ acc[:, ln]`` (masked fits), else ``coef = acc``."""
    k, lanes = acc.shape
    for a in range(k):
        for ln in range(lanes):
            if masked:
                s = 0.0
                for b in range(k):
                    s += gram_inv[a, b, ln] * acc[b, ln]
                coef[a, ln] = s
            else:
                coef[a, ln] = acc[a, ln]


@jit
def _poly_rows(
    x: FloatArray,
    qt: FloatArray,
    qs: tuple[FloatArray, ...],
    lanes: int,
    tol: float,
    max_iter: int,
    use_original: bool,  # noqa: FBT001
    mask_initial_peaks: bool,  # noqa: FBT001
    improved: bool,  # noqa: FBT001
    num_std: float,
    want_baseline: bool,  # noqa: FBT001
    out: FloatArray,
) -> None:
    """ModPoly / IModPoly of every row of ``x``, ``lanes`` spectra side by side.

    Arrays with a lane axis hold one spectrum per lane (``y[j, ln]``), so every loop over the
    points runs the same operations on all lanes and vectorises across them; a lane whose
    spectrum has converged is refilled with the next one. A spectrum's arithmetic does not
    depend on its lane or on the others, so results do not depend on the batch. The fits use
    the orthonormal basis ``Q`` of the polynomials (``qt = Qᵀ``, ``qs`` its rows; ``Q Qᵀ`` is
    pybaselines' ``V pinv(V)``), so the relative change of the baseline is that of its
    coefficients; a masked fit is ``Q (Qᵀ S Q)⁻¹ Qᵀ S``.
    """
    n, p = x.shape
    k = qt.shape[0]
    row = np.empty(p)
    base1 = np.empty(p)
    res1 = np.empty(p)
    sw1 = np.ones(p)
    coef1 = np.empty(k)
    inv1 = np.zeros((k, k))
    y = np.zeros((p, lanes))
    y0 = np.zeros((p, lanes))
    sw = np.ones((p, lanes))
    base = np.zeros((p, lanes))
    coef = np.zeros((k, lanes))
    old = np.zeros((k, lanes))
    acc = np.zeros((k, lanes))
    gram_inv = np.zeros((k, k, lanes))
    lane_row = np.full(lanes, -1)
    iters = np.zeros(lanes, dtype=np.int64)
    deviation = np.zeros(lanes)
    bound = np.zeros(lanes)
    shift = np.zeros(lanes)
    s1 = np.zeros(lanes)
    s2 = np.zeros(lanes)
    next_row = 0
    while True:
        # -- refill idle lanes: first (unmasked) fit, deviation and mask of the next spectrum
        active = 0
        for ln in range(lanes):
            while lane_row[ln] < 0 and next_row < n:
                r = next_row
                next_row += 1
                has_nan = False
                for j in range(p):
                    row[j] = x[r, j]
                    if np.isnan(row[j]):
                        has_nan = True
                if has_nan:
                    # A NaN row has no baseline; skip the iterations (they would all run).
                    out[r, :] = np.nan
                    continue
                mean, dev = _first_fit(
                    row,
                    qt,
                    improved or mask_initial_peaks,
                    mask_initial_peaks,
                    coef1,
                    base1,
                    res1,
                    sw1,
                    inv1,
                )
                if max_iter == 0:
                    for j in range(p):
                        out[r, j] = base1[j] if want_baseline else row[j] - base1[j]
                    continue
                lane_row[ln] = r
                iters[ln] = 0
                deviation[ln] = dev
                shift[ln] = mean
                for j in range(p):
                    y[j, ln] = row[j]
                # (the others only where used; the output reads x again)
                if use_original:
                    for j in range(p):
                        y0[j, ln] = row[j]
                if mask_initial_peaks:
                    for j in range(p):
                        sw[j, ln] = sw1[j]
                if improved:
                    for j in range(p):
                        base[j, ln] = base1[j]
                for c in range(k):
                    coef[c, ln] = coef1[c]
                    for c2 in range(k):
                        gram_inv[c, c2, ln] = inv1[c, c2]
            # (an idle lane keeps iterating its last spectrum: lanes never mix, so it is harmless)
            if lane_row[ln] >= 0:
                active += 1
        if active == 0:
            break

        # -- one iteration on every lane: clip, refit, exit test
        old[:, :] = coef
        if improved:
            # IModPoly clips to the previous baseline + num_std * std(residual).
            for ln in range(lanes):
                bound[ln] = num_std * deviation[ln]
            _clip_imodpoly(qs, base, bound, y0, y, sw, use_original, acc)
            _lane_solve(acc, gram_inv, mask_initial_peaks, coef)
            # The new baseline and the std of its residual (sums shifted by the last mean).
            _residual_sums(qs, coef, y, shift, base, s1, s2)
        else:
            _clip_modpoly(qs, coef, y0, y, sw, use_original, acc)
            _lane_solve(acc, gram_inv, mask_initial_peaks, coef)
        for ln in range(lanes):
            if lane_row[ln] < 0:
                continue
            iters[ln] += 1
            if improved:
                dm = s1[ln] / p
                new_deviation = np.sqrt(max(s2[ln] / p - dm * dm, 0.0))
                shift[ln] += dm
                # pybaselines: relative_difference(new_deviation, deviation), the new value as
                # the denominator.
                diff = abs(deviation[ln] - new_deviation) / max(abs(new_deviation), _MIN_FLOAT)
                deviation[ln] = new_deviation
            else:
                # ||Q (new - old)|| / ||Q old|| = ||new - old|| / ||old|| (Q orthonormal)
                num = 0.0
                den = 0.0
                for c in range(k):
                    d = coef[c, ln] - old[c, ln]
                    num += d * d
                    den += old[c, ln] * old[c, ln]
                diff = np.sqrt(num) / max(np.sqrt(den), _MIN_FLOAT)
            if diff < tol or iters[ln] >= max_iter:
                r = lane_row[ln]
                for j in range(p):
                    b = base[j, ln] if improved else 0.0
                    if not improved:
                        for c in range(k):
                            b += qt[c, j] * coef[c, ln]
                    out[r, j] = b if want_baseline else float(x[r, j]) - b
                lane_row[ln] = -1


#: Spectra fitted side by side: LLVM's vector loop over the lanes needs at least 32 of them
#: (8 per AVX-512 register, 4 registers per iteration); 64 amortise the loop overheads.
LANES = 64


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
    qt = np.ascontiguousarray(_basis(arr.shape[1], poly_order).T)
    out64 = np.empty(arr.shape, dtype=np.float64)
    _poly_rows(
        arr,
        qt,
        tuple(qt),
        max(1, min(LANES, arr.shape[0])),
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
