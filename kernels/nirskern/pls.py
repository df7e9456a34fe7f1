"""Partial least squares from cross-products, with fast cross-validation.

The model is PLS1/PLS2 on mean-centred ``X`` and ``Y`` without scaling (the convention of R's
``pls`` package and of most chemometrics software). The fit is the improved kernel algorithm of
Dayal & MacGregor (1997) (``pls::kernelpls``, ikpls algorithm 2): it needs only the centred
cross-products ``XᵀX`` (PxP) and ``XᵀY`` (PxT), and one fit yields the regression coefficients of
every component count ``1..A`` at once.

Fast cross-validation reads the data once: the cross-products of each validation block are
accumulated about a reference spectrum, every training fold's centred cross-products are derived by
subtraction from the totals, and each fold's model predicts its validation rows for every
component count. Because the per-fold cross-products are linear in the spectra, a linear filter
``D`` applied to every spectrum (Savitzky-Golay, derivatives...) maps them as ``D·G·Dᵀ``
(:meth:`FoldCrossProducts.transform`) without a new pass over the data.

Models are computed and returned in float64; float32 inputs are widened block by block.

References
----------
Dayal & MacGregor (1997), J. Chemometrics 11(1), 73-85 (improved kernel PLS).
Lindgren, Geladi & Wold (1993), J. Chemometrics 7(1), 45-59 (kernel PLS).
Engstrøm & Jensen (2024), ikpls: fast cross-validation for PLS (algorithm 2).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import numpy.typing as npt

from nirskern._validate import FloatArray, check_int

if TYPE_CHECKING:
    from collections.abc import Callable

Float64Array = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

__all__ = [
    "FoldCrossProducts",
    "PLSModel",
    "cv_from_crossproducts",
    "fold_crossproducts",
    "pls_core",
    "pls_cv",
    "pls_fit",
    "pls_fit_crossproducts",
    "pls_predict",
]

#: Rows per block when accumulating cross-products: large enough for BLAS efficiency (the
#: PxP update dominates), small enough that the float64 copy of a block stays a few tens of MB.
_BLOCK_ROWS = 2048

#: A component is numerically absent when the deflated ``XᵀY`` has shrunk below this fraction of
#: its initial norm (rank exhausted: further directions would be rounding noise).
_EXHAUSTED = 1e-12


class PLSModel(NamedTuple):
    """A fitted PLS model holding every component count ``1..A``.

    Attributes
    ----------
    coef : (A, P, T) regression coefficients; ``coef[a - 1]`` is the model with ``a`` components.
    x_mean : (P,) training mean spectrum.
    y_mean : (T,) training mean response.
    x_weights : (P, A) ``W``, unit-norm weight vectors.
    x_loadings : (P, A) ``P`` loadings.
    y_loadings : (T, A) ``Q`` loadings.
    x_rotations : (P, A) ``R = W (PᵀW)⁻¹``: scores of new rows are ``(x - x_mean) @ R``.
    """

    coef: Float64Array
    x_mean: Float64Array
    y_mean: Float64Array
    x_weights: Float64Array
    x_loadings: Float64Array
    y_loadings: Float64Array
    x_rotations: Float64Array


class FoldCrossProducts(NamedTuple):
    """Cross-products of each validation block and of all rows, about reference vectors.

    Every sum is over rows ``x - x_ref`` and ``y - y_ref`` (float64). Subtracting a reference
    close to the mean before accumulating keeps the later downdates (``total - fold``) and the
    centring (``G - s sᵀ / n``) free of catastrophic cancellation, also for float32 spectra.

    Attributes
    ----------
    fold_ids : (K,) the validation fold labels (sorted, non-negative).
    counts : (K,) rows in each validation block.
    xtx, xty, x_sum, y_sum : per validation block, shapes (K, P, P), (K, P, T), (K, P), (K, T).
    n_total, xtx_total, xty_total, x_sum_total, y_sum_total : the same over all rows (including
        rows with fold id -1, which are always in training).
    x_ref : (P,) and y_ref : (T,) the references subtracted before accumulating.
    """

    fold_ids: IntArray
    counts: IntArray
    xtx: Float64Array
    xty: Float64Array
    x_sum: Float64Array
    y_sum: Float64Array
    n_total: int
    xtx_total: Float64Array
    xty_total: Float64Array
    x_sum_total: Float64Array
    y_sum_total: Float64Array
    x_ref: Float64Array
    y_ref: Float64Array

    def transform(self, d: npt.ArrayLike) -> FoldCrossProducts:
        """Map the cross-products through a linear per-spectrum filter ``x -> D x``.

        ``D`` has shape (P_out, P). The result equals :func:`fold_crossproducts` of the filtered
        spectra ``x @ D.T`` (to rounding), at a cost independent of the number of rows.

        >>> rng = np.random.default_rng(0)
        >>> x, y = rng.normal(size=(12, 5)), rng.normal(size=12)
        >>> folds = np.arange(12) % 3
        >>> d = np.eye(5)[1:] - np.eye(5)[:-1]  # first difference, 4 outputs
        >>> a = fold_crossproducts(x, y, folds).transform(d)
        >>> b = fold_crossproducts(x @ d.T, y, folds)
        >>> bool(np.allclose(cv_from_crossproducts(a, x @ d.T, folds, 2),
        ...                  cv_from_crossproducts(b, x @ d.T, folds, 2)))
        True
        """
        dm = np.asarray(d, dtype=np.float64)
        p = self.x_ref.shape[0]
        if dm.ndim != 2 or dm.shape[1] != p:
            msg = f"'d' must be a 2-D (n_out, {p}) matrix; got shape {dm.shape}"
            raise ValueError(msg)
        left = _left_multiplier(dm)
        return self.transform_rows(lambda m: left(np.ascontiguousarray(m.T)).T)

    def transform_rows(self, apply: Callable[[Float64Array], Float64Array]) -> FoldCrossProducts:
        """:meth:`transform` given the filter as a row-wise function ``apply(M) = M @ Dᵀ``.

        A filter kernel that already runs fast on spectra (Savitzky-Golay, detrend) maps each
        (P, P) cross-product in two passes over it, far cheaper than a dense ``D·G·Dᵀ``.

        >>> rng = np.random.default_rng(0)
        >>> x, y = rng.normal(size=(12, 5)), rng.normal(size=12)
        >>> d = np.eye(5)[1:] - np.eye(5)[:-1]
        >>> cp = fold_crossproducts(x, y, np.arange(12) % 3)
        >>> bool(np.allclose(cp.transform_rows(lambda m: m @ d.T).xtx, cp.transform(d).xtx))
        True
        """

        def both_sides(g: Float64Array) -> Float64Array:
            # D G Dᵀ = apply(apply(G)ᵀ)ᵀ... G is symmetric, and so is the result.
            out: Float64Array = np.ascontiguousarray(apply(np.ascontiguousarray(apply(g).T)).T)
            return out

        def left(m: Float64Array) -> Float64Array:
            # D M for a (P, T) matrix: apply to its columns.
            out: Float64Array = np.ascontiguousarray(apply(np.ascontiguousarray(m.T)).T)
            return out

        def vec(v: Float64Array) -> Float64Array:
            out: Float64Array = apply(v[np.newaxis, :])[0]
            return out

        return self._replace(
            xtx=np.stack([both_sides(g) for g in self.xtx]),
            xty=np.stack([left(gy) for gy in self.xty]),
            x_sum=apply(self.x_sum),
            xtx_total=both_sides(self.xtx_total),
            xty_total=left(self.xty_total),
            x_sum_total=vec(self.x_sum_total),
            x_ref=vec(self.x_ref),
        )


def _left_multiplier(d: Float64Array) -> Callable[[Float64Array], Float64Array]:
    """``m -> d @ m``, exploiting a banded/sparse ``d`` (Savitzky-Golay, finite differences).

    A filter with at most ``w`` non-zero taps per output point costs ``w`` row-gathers of ``m``
    (``O(w·P²)``) instead of a dense ``O(P³)`` product: the difference between milliseconds and
    a second per fold at 1024 points.
    """
    nnz = np.count_nonzero(d, axis=1)
    width = int(nnz.max()) if nnz.size else 0
    if width == 0 or width * 8 > d.shape[1]:
        return lambda m: d @ m
    # Per output row: the columns of its non-zero taps (padded with weight-0 column 0).
    cols = np.zeros((d.shape[0], width), dtype=np.int64)
    vals = np.zeros((d.shape[0], width))
    rows, nz = np.nonzero(d)  # row-major: each row's taps in column order
    start = np.concatenate([[0], np.cumsum(nnz)[:-1]])
    slot = np.arange(rows.shape[0]) - start[rows]
    cols[rows, slot] = nz
    vals[rows, slot] = d[rows, nz]

    def apply(m: Float64Array) -> Float64Array:
        out = vals[:, 0, np.newaxis] * m[cols[:, 0]]
        for k in range(1, width):
            out += vals[:, k, np.newaxis] * m[cols[:, k]]
        return out

    return apply


def _as_x(x: npt.ArrayLike, name: str = "x") -> FloatArray:
    arr = np.asarray(x)
    if arr.dtype not in (np.float32, np.float64):
        if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
            msg = f"'{name}' must be a numeric array, not dtype {arr.dtype}"
            raise TypeError(msg)
        arr = arr.astype(np.float64)
    if arr.ndim != 2:
        msg = f"'{name}' must be 2-D (n_samples, n_points); got shape {arr.shape}"
        raise ValueError(msg)
    return arr


def _as_y(y: npt.ArrayLike, n: int) -> Float64Array:
    arr = np.asarray(y, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, np.newaxis]
    if arr.ndim != 2 or arr.shape[0] != n:
        msg = f"'y' must have shape ({n},) or ({n}, n_targets) to match x; got shape {arr.shape}"
        raise ValueError(msg)
    if not np.all(np.isfinite(arr)):
        msg = "'y' must be finite (drop rows with a missing reference value before fitting)"
        raise ValueError(msg)
    return arr


def _check_finite(x: FloatArray, name: str) -> None:
    if not np.all(np.isfinite(x)):
        bad = int(np.flatnonzero(~np.all(np.isfinite(x), axis=1))[0])
        msg = f"'{name}' must be finite to fit a PLS model; row {bad} has NaN or inf"
        raise ValueError(msg)


def _as_folds(folds: npt.ArrayLike, n: int) -> IntArray:
    arr = np.asarray(folds)
    if arr.ndim != 1 or arr.shape[0] != n:
        msg = f"'folds' must be 1-D with one fold id per row ({n}); got shape {arr.shape}"
        raise ValueError(msg)
    if not np.issubdtype(arr.dtype, np.integer):
        msg = f"'folds' must hold integers (fold id, -1 = always training), not {arr.dtype}"
        raise TypeError(msg)
    out = arr.astype(np.int64)
    if out.size and out.min() < -1:
        msg = f"'folds' ids must be >= -1; got {int(out.min())}"
        raise ValueError(msg)
    if not np.any(out >= 0):
        msg = "'folds' must assign at least one row to a validation fold (id >= 0)"
        raise ValueError(msg)
    return out


# -- the PLS core --------------------------------------------------------------------------------
def pls_core(
    xtx: npt.ArrayLike, xty: npt.ArrayLike, n_components: int
) -> tuple[Float64Array, Float64Array, Float64Array, Float64Array]:
    """Improved kernel PLS from centred cross-products: return ``(W, P, Q, R)``.

    ``xtx`` is the centred (P, P) ``XᵀX``, ``xty`` the centred (P, T) ``XᵀY``. The coefficients of
    ``a`` components are ``R[:, :a] @ Q[:, :a].T``. When the response information is exhausted
    (rank reached) the remaining components are zero columns, so coefficients stop changing.

    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(20, 4)); y = x @ [1.0, -2.0, 0.5, 0.0]
    >>> xc, yc = x - x.mean(0), (y - y.mean())[:, None]
    >>> w, p, q, r = pls_core(xc.T @ xc, xc.T @ yc, 4)
    >>> np.round(r @ q.T, 10).ravel().tolist()
    [1.0, -2.0, 0.5, 0.0]
    """
    c = np.asarray(xtx, dtype=np.float64)
    cy = np.array(xty, dtype=np.float64, copy=True)  # deflated in place below
    if cy.ndim == 1:
        cy = cy[:, np.newaxis]
    n_points, n_targets = cy.shape
    if c.shape != (n_points, n_points):
        msg = f"'xtx' must be ({n_points}, {n_points}) to match 'xty' {cy.shape}; got {c.shape}"
        raise ValueError(msg)
    a_max = check_int(n_components, "n_components", minimum=1)
    w_all = np.zeros((n_points, a_max))
    p_all = np.zeros((n_points, a_max))
    q_all = np.zeros((n_targets, a_max))
    r_all = np.zeros((n_points, a_max))
    norm0 = float(np.linalg.norm(cy))
    for a in range(a_max):
        if norm0 == 0.0 or np.linalg.norm(cy) <= _EXHAUSTED * norm0:
            break
        if n_targets == 1:
            w = cy[:, 0].copy()
        elif n_targets < n_points:
            # Dominant eigenvector of the small (T, T) matrix (XᵀY)ᵀ(XᵀY), as in pls::kernelpls.
            _, vecs = np.linalg.eigh(cy.T @ cy)
            w = cy @ vecs[:, -1]
        else:
            _, vecs = np.linalg.eigh(cy @ cy.T)
            w = vecs[:, -1].copy()
        w /= np.linalg.norm(w)
        # r_a = w_a - sum_j (p_jᵀ w_a) r_j makes scores t = X r computable from the raw X.
        r = w - r_all[:, :a] @ (p_all[:, :a].T @ w)
        cr = c @ r
        tt = float(r @ cr)
        if not tt > 0.0:
            break
        p = cr / tt
        q = (r @ cy) / tt
        # Deflate XᵀY only (Dayal & MacGregor): XᵀX never needs deflating.
        cy -= tt * np.outer(p, q)
        w_all[:, a], p_all[:, a], q_all[:, a], r_all[:, a] = w, p, q, r
    return w_all, p_all, q_all, r_all


def _cumulative_coef(r: Float64Array, q: Float64Array) -> Float64Array:
    # B_a = sum_{j<=a} r_j q_jᵀ for every a: (A, P, T).
    out: Float64Array = np.cumsum(r.T[:, :, np.newaxis] * q.T[:, np.newaxis, :], axis=0)
    return out


def pls_fit(x: npt.ArrayLike, y: npt.ArrayLike, n_components: int) -> PLSModel:
    """Fit PLS with ``1..n_components`` components on mean-centred ``x`` (N, P) and ``y``.

    ``y`` is (N,) for PLS1 or (N, T) for PLS2. ``n_components`` must not exceed ``min(N - 1, P)``.

    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(30, 6)); y = x @ [1.0, 2.0, 0.0, 0.0, -1.0, 0.5] + 3.0
    >>> model = pls_fit(x, y, 6)
    >>> model.coef.shape, (np.round(model.coef[-1, :, 0], 8) + 0.0).tolist()
    ((6, 6, 1), [1.0, 2.0, 0.0, 0.0, -1.0, 0.5])
    """
    arr = _as_x(x)
    _check_finite(arr, "x")
    n, n_points = arr.shape
    yy = _as_y(y, n)
    a_max = check_int(n_components, "n_components", minimum=1)
    if a_max > min(n - 1, n_points):
        msg = (
            "'n_components' must be <= min(n_samples - 1, n_points); "
            f"got n_components={a_max}, n_samples={n}, n_points={n_points}"
        )
        raise ValueError(msg)
    x_mean = arr.mean(axis=0, dtype=np.float64)
    y_mean = yy.mean(axis=0)
    xc = arr - x_mean  # float64 (x_mean is float64)
    yc = yy - y_mean
    w, p, q, r = pls_core(xc.T @ xc, xc.T @ yc, a_max)
    return PLSModel(_cumulative_coef(r, q), x_mean, y_mean, w, p, q, r)


def pls_fit_crossproducts(cp: FoldCrossProducts, n_components: int) -> PLSModel:
    """The model fitted on all rows of ``cp`` (``n_total``), without another pass over the data.

    Equal to :func:`pls_fit` on the same rows (to rounding).

    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.normal(size=(15, 4)), rng.normal(size=15)
    >>> a = pls_fit_crossproducts(fold_crossproducts(x, y, np.arange(15) % 3), 3)
    >>> bool(np.allclose(a.coef, pls_fit(x, y, 3).coef))
    True
    """
    n = cp.n_total
    a_max = check_int(n_components, "n_components", minimum=1)
    if a_max > min(n - 1, cp.x_ref.shape[0]):
        msg = (
            "'n_components' must be <= min(n_samples - 1, n_points); "
            f"got n_components={a_max}, n_samples={n}, n_points={cp.x_ref.shape[0]}"
        )
        raise ValueError(msg)
    s, sy = cp.x_sum_total, cp.y_sum_total
    c = cp.xtx_total - np.outer(s, s) / n
    cy = cp.xty_total - np.outer(s, sy) / n
    w, p, q, r = pls_core(c, cy, a_max)
    return PLSModel(_cumulative_coef(r, q), cp.x_ref + s / n, cp.y_ref + sy / n, w, p, q, r)


def pls_predict(
    x: npt.ArrayLike,
    coef: npt.ArrayLike,
    x_mean: npt.ArrayLike,
    y_mean: npt.ArrayLike,
) -> Float64Array:
    """Predict ``x`` (N, P) with stacked coefficients ``coef`` (A, P, T): returns (A, N, T).

    NaN rows of ``x`` give NaN predictions; other rows are unaffected.

    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(10, 3)); y = x @ [1.0, 2.0, 3.0]
    >>> m = pls_fit(x, y, 3)
    >>> bool(np.allclose(pls_predict(x, m.coef, m.x_mean, m.y_mean)[-1, :, 0], y))
    True
    """
    arr = _as_x(x)
    b = np.asarray(coef, dtype=np.float64)
    if b.ndim != 3 or b.shape[1] != arr.shape[1]:
        msg = f"'coef' must be (A, {arr.shape[1]}, T) to match x {arr.shape}; got {b.shape}"
        raise ValueError(msg)
    a_max, n_points, n_targets = b.shape
    xc = arr - np.asarray(x_mean, dtype=np.float64)
    # One GEMM for every component count: (N, P) @ (P, A*T).
    flat = xc @ b.transpose(1, 0, 2).reshape(n_points, a_max * n_targets)
    out: Float64Array = flat.reshape(arr.shape[0], a_max, n_targets).transpose(1, 0, 2)
    return out + np.asarray(y_mean, dtype=np.float64)


# -- fast cross-validation -----------------------------------------------------------------------
def _block_crossproducts(
    x: FloatArray, y: Float64Array, rows: IntArray, x_ref: Float64Array, y_ref: Float64Array
) -> tuple[Float64Array, Float64Array, Float64Array, Float64Array]:
    """``(XᵀX, XᵀY, ΣX, ΣY)`` of ``rows`` about the references, in float64 blocks."""
    p, t = x.shape[1], y.shape[1]
    g = np.zeros((p, p))
    gy = np.zeros((p, t))
    s = np.zeros(p)
    sy = np.zeros(t)
    for start in range(0, rows.shape[0], _BLOCK_ROWS):
        idx = rows[start : start + _BLOCK_ROWS]
        # Widen to float64 *before* subtracting the reference: float32 blocks then carry no
        # float32 rounding into the sums, and the subtraction removes the large common offset.
        xb = np.subtract(x[idx], x_ref, dtype=np.float64)
        yb = y[idx] - y_ref
        g += xb.T @ xb  # numpy maps Aᵀ·A onto a symmetric rank-k update (syrk)
        gy += xb.T @ yb
        s += xb.sum(axis=0)
        sy += yb.sum(axis=0)
    return g, gy, s, sy


def _fold_rows(folds: IntArray) -> tuple[IntArray, list[IntArray], IntArray]:
    fold_ids = np.unique(folds[folds >= 0])
    order = np.argsort(folds, kind="stable")
    bounds = np.searchsorted(folds[order], np.concatenate([fold_ids, [fold_ids[-1] + 1]]))
    blocks = [order[bounds[k] : bounds[k + 1]] for k in range(fold_ids.shape[0])]
    always = order[: bounds[0]]
    return fold_ids, blocks, always


def _prepare_cv(
    x: npt.ArrayLike, y: npt.ArrayLike, folds: npt.ArrayLike
) -> tuple[FloatArray, Float64Array, IntArray]:
    arr = _as_x(x)
    _check_finite(arr, "x")
    yy = _as_y(y, arr.shape[0])
    return arr, yy, _as_folds(folds, arr.shape[0])


def fold_crossproducts(
    x: npt.ArrayLike, y: npt.ArrayLike, folds: npt.ArrayLike
) -> FoldCrossProducts:
    """One pass over ``x``: the cross-products of every validation block and of all rows.

    ``folds`` gives each row's validation fold (ids >= 0) or -1 for rows always in training.
    Rows are visited once, grouped by fold, in float64 blocks about the mean spectrum.

    >>> rng = np.random.default_rng(0)
    >>> cp = fold_crossproducts(rng.normal(size=(9, 4)), rng.normal(size=9), np.arange(9) % 3)
    >>> cp.xtx.shape, cp.counts.tolist(), bool(np.allclose(cp.xtx.sum(0), cp.xtx_total))
    ((3, 4, 4), [3, 3, 3], True)
    """
    arr, yy, fid = _prepare_cv(x, y, folds)
    return _crossproducts(arr, yy, fid)


def _crossproducts(arr: FloatArray, yy: Float64Array, fid: IntArray) -> FoldCrossProducts:
    # Column means in float64 (numpy's pairwise summation): a cheap O(N·P) pre-pass whose result
    # makes every later subtraction well conditioned.
    x_ref = arr.mean(axis=0, dtype=np.float64)
    y_ref = yy.mean(axis=0)
    fold_ids, blocks, always = _fold_rows(fid)
    parts = [_block_crossproducts(arr, yy, rows, x_ref, y_ref) for rows in blocks]
    g0, gy0, s0, sy0 = _block_crossproducts(arr, yy, always, x_ref, y_ref)
    xtx = np.stack([part[0] for part in parts])
    xty = np.stack([part[1] for part in parts])
    x_sum = np.stack([part[2] for part in parts])
    y_sum = np.stack([part[3] for part in parts])
    return FoldCrossProducts(
        fold_ids=fold_ids.astype(np.int64),
        counts=np.array([rows.shape[0] for rows in blocks], dtype=np.int64),
        xtx=xtx,
        xty=xty,
        x_sum=x_sum,
        y_sum=y_sum,
        n_total=arr.shape[0],
        xtx_total=g0 + xtx.sum(axis=0),
        xty_total=gy0 + xty.sum(axis=0),
        x_sum_total=s0 + x_sum.sum(axis=0),
        y_sum_total=sy0 + y_sum.sum(axis=0),
        x_ref=x_ref,
        y_ref=y_ref,
    )


def _fit_fold(
    total: tuple[Float64Array, Float64Array, Float64Array, Float64Array, int],
    block: tuple[Float64Array, Float64Array, Float64Array, Float64Array, int],
    refs: tuple[Float64Array, Float64Array],
    n_components: int,
) -> tuple[Float64Array, Float64Array, Float64Array, Float64Array]:
    """Training model of one fold: ``(R, Q, x_mean, y_mean)`` from total minus block."""
    g_t, gy_t, s_t, sy_t, n_t = total
    g_v, gy_v, s_v, sy_v, n_v = block
    n_tr = n_t - n_v
    if n_tr <= n_components:
        msg = (
            f"a training fold has {n_tr} rows: too few for n_components={n_components} "
            "(need more than n_components rows)"
        )
        raise ValueError(msg)
    s = s_t - s_v
    sy = sy_t - sy_v
    # Centring by sums: Σ(x - x̄)(x - x̄)ᵀ = Σ(x - ref)(x - ref)ᵀ - s sᵀ / n with s = Σ(x - ref).
    c = (g_t - g_v) - np.outer(s, s) / n_tr
    cy = (gy_t - gy_v) - np.outer(s, sy) / n_tr
    _, _, q, r = pls_core(c, cy, n_components)
    return r, q, refs[0] + s / n_tr, refs[1] + sy / n_tr


def _predict_block(
    x: FloatArray,
    rows: IntArray,
    model: tuple[Float64Array, Float64Array, Float64Array, Float64Array],
) -> Float64Array:
    r, q, x_mean, y_mean = model
    scores = np.subtract(x[rows], x_mean, dtype=np.float64) @ r  # (n_v, A)
    # Prediction with a components: y_mean + Σ_{j<a} t_j q_jᵀ, for every a at once.
    contrib = np.cumsum(scores[:, :, np.newaxis] * q.T[np.newaxis, :, :], axis=1)
    out: Float64Array = (contrib + y_mean).transpose(1, 0, 2)
    return out


def cv_from_crossproducts(
    cp: FoldCrossProducts, x: npt.ArrayLike, folds: npt.ArrayLike, n_components: int
) -> Float64Array:
    """Out-of-fold predictions (A, N, T) from precomputed per-fold cross-products.

    ``x`` are the spectra in the space of ``cp`` (after the same linear filter, if
    :meth:`FoldCrossProducts.transform` was used); only validation rows are read. Rows with fold
    id -1 get NaN predictions.

    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.normal(size=(12, 5)), rng.normal(size=12)
    >>> folds = np.arange(12) % 4
    >>> cv_from_crossproducts(fold_crossproducts(x, y, folds), x, folds, 3).shape
    (3, 12, 1)
    """
    arr = _as_x(x)
    fid = _as_folds(folds, arr.shape[0])
    a_max = check_int(n_components, "n_components", minimum=1)
    fold_ids, blocks, _ = _fold_rows(fid)
    if arr.shape[1] != cp.x_ref.shape[0]:
        msg = f"'x' has {arr.shape[1]} points but the cross-products have {cp.x_ref.shape[0]}"
        raise ValueError(msg)
    counts = np.array([rows.shape[0] for rows in blocks])
    if not (np.array_equal(fold_ids, cp.fold_ids) and np.array_equal(counts, cp.counts)):
        msg = "'folds' does not match the folds the cross-products were computed with"
        raise ValueError(msg)
    n_targets = cp.y_ref.shape[0]
    out = np.full((a_max, arr.shape[0], n_targets), np.nan)
    total = (cp.xtx_total, cp.xty_total, cp.x_sum_total, cp.y_sum_total, cp.n_total)
    for k, rows in enumerate(blocks):
        block = (cp.xtx[k], cp.xty[k], cp.x_sum[k], cp.y_sum[k], int(cp.counts[k]))
        model = _fit_fold(total, block, (cp.x_ref, cp.y_ref), a_max)
        out[:, rows, :] = _predict_block(arr, rows, model)
    return out


def pls_cv(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    folds: npt.ArrayLike,
    n_components: int,
    *,
    max_bytes: int = 1 << 30,
) -> Float64Array:
    """Fast cross-validated PLS: out-of-fold predictions (A, N, T) for every component count.

    ``folds`` holds each row's validation fold id (>= 0) or -1 (always training; NaN output).
    Equivalent to refitting PLS on each training fold and predicting its validation rows, but the
    data is read once for the cross-products and once for the predictions. When storing every
    fold's (P, P) block would exceed ``max_bytes`` (e.g. leave-one-out on many rows), each fold's
    block is recomputed from its rows instead (twice the arithmetic, bounded memory).

    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(30, 4)); y = x[:, 0] - x[:, 1]
    >>> pred = pls_cv(x, y, np.arange(30) % 5, 4)
    >>> pred.shape, bool(np.sqrt(np.mean((pred[-1, :, 0] - y) ** 2)) < 1e-8)
    ((4, 30, 1), True)
    """
    arr, yy, fid = _prepare_cv(x, y, folds)
    a_max = check_int(n_components, "n_components", minimum=1)
    if a_max > arr.shape[1]:
        msg = f"'n_components' must be <= n_points={arr.shape[1]}; got n_components={a_max}"
        raise ValueError(msg)
    n_folds = np.unique(fid[fid >= 0]).shape[0]
    if n_folds * arr.shape[1] ** 2 * 8 <= max_bytes:
        return cv_from_crossproducts(_crossproducts(arr, yy, fid), arr, fid, a_max)
    x_ref = arr.mean(axis=0, dtype=np.float64)
    y_ref = yy.mean(axis=0)
    _, blocks, _ = _fold_rows(fid)
    all_rows = np.arange(arr.shape[0])
    total = (*_block_crossproducts(arr, yy, all_rows, x_ref, y_ref), arr.shape[0])
    out = np.full((a_max, arr.shape[0], yy.shape[1]), np.nan)
    for rows in blocks:
        block = (*_block_crossproducts(arr, yy, rows, x_ref, y_ref), rows.shape[0])
        model = _fit_fold(total, block, (x_ref, y_ref), a_max)
        out[:, rows, :] = _predict_block(arr, rows, model)
    return out
