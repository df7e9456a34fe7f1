"""Partial least squares from cross-products, with fast cross-validation.

The model is PLS1/PLS2 on mean-centred ``X`` and ``Y`` without scaling (the convention of R's
``pls`` package and of most chemometrics software). The fit is the improved kernel algorithm of
Dayal & MacGregor (1997) (``pls::kernelpls``, ikpls algorithm 2): it needs only the centred
cross-products ``XᵀX`` (PxP) and ``XᵀY`` (PxT), and one fit yields the regression coefficients of
every component count ``1..A`` at once.

Fast cross-validation reads the data once: each validation block (and the rows always in
training) gives its count, mean and cross-products centred about its own mean, every training
set's centred cross-products are pooled exactly from the other blocks' (Chan, Golub & LeVeque),
and each fold's model predicts its validation rows for every component count. A validation block
never enters its own training model's arithmetic: nothing is subtracted from a total and no
reference is shared, so wild validation spectra cannot move the other folds' predictions.
Because the centred cross-products are linear in the spectra, a linear filter ``D`` applied to
every spectrum (Savitzky-Golay, derivatives...) maps them as ``D·S·Dᵀ``
(:meth:`FoldCrossProducts.transform`) without a new pass over the data.

Models are computed and returned in float64; float32 inputs are widened block by block.

References
----------
Dayal & MacGregor (1997), J. Chemometrics 11(1), 73-85 (improved kernel PLS).
Lindgren, Geladi & Wold (1993), J. Chemometrics 7(1), 45-59 (kernel PLS).
Engstrøm & Jensen (2024), ikpls: fast cross-validation for PLS (algorithm 2).
Chan, Golub & LeVeque (1979), Updating formulae and a pairwise algorithm for computing sample
variances, Stanford CS report STAN-CS-79-773 (pooled moments).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import numpy.typing as npt

from nirskern._validate import FloatArray, check_int

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

Float64Array = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

__all__ = [
    "CentredMoments",
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


class CentredMoments(NamedTuple):
    """Row count, means and mean-centred cross-products of a set of rows (float64).

    Attributes
    ----------
    n : the number of rows.
    x_mean : (P,) and y_mean : (T,) their means (zeros when there is no row).
    xtx : (P, P) ``Σ (x - x̄)(x - x̄)ᵀ`` and xty : (P, T) ``Σ (x - x̄)(y - ȳ)ᵀ``.
    """

    n: int
    x_mean: Float64Array
    y_mean: Float64Array
    xtx: Float64Array
    xty: Float64Array

    @classmethod
    def of(cls, x: npt.ArrayLike, y: npt.ArrayLike) -> CentredMoments:
        """The moments of the rows of ``x`` (N, P) and ``y`` (N,) or (N, T).

        Blocks of rows are widened to float64, centred about their own mean and merged exactly,
        so no offset common to the spectra costs precision.

        >>> x = np.array([[1.0, 2.0], [3.0, 2.0], [5.0, 8.0]]) + 1e9
        >>> m = CentredMoments.of(x, [0.0, 1.0, 2.0])
        >>> m.n, m.xtx.tolist(), m.xty[:, 0].tolist()
        (3, [[8.0, 12.0], [12.0, 24.0]], [4.0, 6.0])
        """
        arr = _as_x(x)
        yy = _as_y(y, arr.shape[0])
        return _moments(arr, yy, np.arange(arr.shape[0]))


#: ``(n, x_mean, y_mean, xtx, xty)`` of one row set, or of stacked groups (a leading axis).
_Moments = tuple[Any, Float64Array, Float64Array, Float64Array, Float64Array]


def _merge(a: _Moments, b: _Moments) -> _Moments:
    """The moments of two disjoint row sets together (Chan, Golub & LeVeque), for one set or
    group by group; an empty set has zero means and sums, and merging it changes nothing."""
    na, xa, ya, ga, gya = a
    nb, xb, yb, gb, gyb = b
    n = na + nb
    share = np.asarray(nb / np.maximum(n, 1), dtype=np.float64)[..., np.newaxis]  # n_b / n
    # S = S_a + S_b + (n_a n_b / n) d dᵀ with d = x̄_b - x̄_a, as the product of one scaled d.
    root = np.sqrt(np.asarray(na)[..., np.newaxis] * share)
    dx, dy = xb - xa, yb - ya
    rx, ry = root * dx, root * dy
    return (
        n,
        xa + share * dx,
        ya + share * dy,
        ga + gb + rx[..., :, np.newaxis] * rx[..., np.newaxis, :],
        gya + gyb + rx[..., :, np.newaxis] * ry[..., np.newaxis, :],
    )


def _pool(
    counts: IntArray,
    x_means: Float64Array,
    y_means: Float64Array,
    xtx_sum: Float64Array,
    xty_sum: Float64Array,
) -> CentredMoments:
    """The moments of the union of row groups, from each group's count and means and the sum of
    their centred cross-products: ``S = Σ S_j + Σ n_j (x̄_j - x̄)(x̄_j - x̄)ᵀ``."""
    n = int(counts.sum())
    w = counts.astype(np.float64)
    x_mean = (w @ x_means) / max(n, 1)
    y_mean = (w @ y_means) / max(n, 1)
    root = np.sqrt(w)[:, np.newaxis]
    dx = root * (x_means - x_mean)
    dy = root * (y_means - y_mean)
    # GEMM on a copy: numpy's syrk path (``a.T @ a``) is ~10x slower for so few rows.
    xtx = dx.T @ dx.copy()
    xtx += xtx_sum
    xty = dx.T @ dy
    xty += xty_sum
    return CentredMoments(n, x_mean, y_mean, xtx, xty)


def _sums_leaving_one_out(
    a: Float64Array, b: Float64Array, a0: Float64Array, b0: Float64Array
) -> Iterator[tuple[Float64Array, Float64Array]]:
    """``(a0 + Σ_{j≠k} a[j], b0 + Σ_{j≠k} b[j])`` for each ``k`` in order, never subtracting.

    Divide and conquer: each half starts from the other half's sum, so the K sums cost
    O(K log K) matrix additions (not K²), in one reused buffer per level. A yielded pair is
    valid until the next one is requested.
    """
    levels = max(a.shape[0] - 1, 0).bit_length()
    bufs = [(np.empty_like(a0), np.empty_like(b0)) for _ in range(levels)]

    def solve(
        lo: int, hi: int, a_out: Float64Array, b_out: Float64Array, level: int
    ) -> Iterator[tuple[Float64Array, Float64Array]]:
        if hi - lo == 1:
            yield a_out, b_out
            return
        mid = (lo + hi) // 2
        a_in, b_in = bufs[level]
        for (start, stop), (other, end) in (((lo, mid), (mid, hi)), ((mid, hi), (lo, mid))):
            np.add(a_out, a[other], out=a_in)
            np.add(b_out, b[other], out=b_in)
            for j in range(other + 1, end):
                a_in += a[j]
                b_in += b[j]
            yield from solve(start, stop, a_in, b_in, level + 1)

    if a.shape[0]:
        yield from solve(0, a.shape[0], a0, b0, 0)


class FoldCrossProducts(NamedTuple):
    """The centred moments of each validation block and of the rows always in training.

    Group ``j < K`` holds the rows of validation fold ``fold_ids[j]``, group ``K`` the rows with
    fold id -1 (always in training; possibly none). Each group's cross-products are centred
    about its own mean (float64); a training set's are pooled exactly from the other groups'
    (:meth:`training_sets`), so a validation block never enters its own training model, and no
    total is ever downdated.

    Attributes
    ----------
    fold_ids : (K,) the validation fold labels (sorted, non-negative).
    counts : (K + 1,) rows per group.
    x_mean, y_mean : (K + 1, P), (K + 1, T) group means (zeros for an empty group).
    xtx, xty : (K + 1, P, P), (K + 1, P, T) per group, ``Σ (x - x̄)(x - x̄)ᵀ``, ``Σ (x - x̄)(y - ȳ)ᵀ``.
    """

    fold_ids: IntArray
    counts: IntArray
    x_mean: Float64Array
    y_mean: Float64Array
    xtx: Float64Array
    xty: Float64Array

    @classmethod
    def from_groups(
        cls, fold_ids: npt.ArrayLike, groups: Sequence[CentredMoments]
    ) -> FoldCrossProducts:
        """Stack the moments of the validation blocks (``fold_ids`` order), then of the rows
        always in training.

        >>> rng = np.random.default_rng(0)
        >>> x, y = rng.normal(size=(6, 2)), rng.normal(size=6)
        >>> parts = [CentredMoments.of(x[i::3], y[i::3]) for i in range(3)]
        >>> cp = FoldCrossProducts.from_groups([4, 7], parts)
        >>> cp.counts.tolist(), cp.n_total, cp.xtx.shape
        ([2, 2, 2], 6, (3, 2, 2))
        """
        ids = np.asarray(fold_ids, dtype=np.int64)
        if len(groups) != ids.shape[0] + 1:
            msg = (
                f"'groups' must hold {ids.shape[0] + 1} moments (folds, then -1); got {len(groups)}"
            )
            raise ValueError(msg)
        return cls(
            fold_ids=ids,
            counts=np.array([g.n for g in groups], dtype=np.int64),
            x_mean=np.stack([g.x_mean for g in groups]),
            y_mean=np.stack([g.y_mean for g in groups]),
            xtx=np.stack([g.xtx for g in groups]),
            xty=np.stack([g.xty for g in groups]),
        )

    @property
    def n_total(self) -> int:
        """Rows in all groups."""
        return int(self.counts.sum())

    def total(self) -> CentredMoments:
        """The moments of all rows (every group pooled).

        >>> rng = np.random.default_rng(0)
        >>> x, y = rng.normal(size=(9, 3)), rng.normal(size=9)
        >>> cp = fold_crossproducts(x, y, np.arange(9) % 3)
        >>> bool(np.allclose(cp.total().xtx, CentredMoments.of(x, y).xtx))
        True
        """
        return _pool(self.counts, self.x_mean, self.y_mean, self.xtx.sum(axis=0), self.xty.sum(0))

    def training_sets(self) -> Iterator[CentredMoments]:
        """The moments of each validation block's training rows (every other group), in order.

        Each pools the other groups' moments only; partial sums are shared by divide and
        conquer, so the K sets cost O(K log K) additions of a (P, P) matrix.

        >>> rng = np.random.default_rng(0)
        >>> x, y = rng.normal(size=(9, 3)), rng.normal(size=9)
        >>> folds = np.arange(9) % 3
        >>> train = list(fold_crossproducts(x, y, folds).training_sets())[1]
        >>> direct = CentredMoments.of(x[folds != 1], y[folds != 1])
        >>> train.n, bool(np.allclose(train.xtx, direct.xtx))
        (6, True)
        """
        k = self.fold_ids.shape[0]
        sums = _sums_leaving_one_out(self.xtx[:k], self.xty[:k], self.xtx[k], self.xty[k])
        for i, (xtx, xty) in enumerate(sums):
            keep = np.arange(k + 1) != i
            yield _pool(self.counts[keep], self.x_mean[keep], self.y_mean[keep], xtx, xty)

    def merge(self, other: FoldCrossProducts) -> FoldCrossProducts:
        """The moments of the rows of both (the same folds), group by group.

        >>> rng = np.random.default_rng(0)
        >>> x, y, folds = rng.normal(size=(12, 3)), rng.normal(size=12), np.arange(12) % 3
        >>> halves = [fold_crossproducts(x[s], y[s], folds[s]) for s in (slice(6), slice(6, 12))]
        >>> both = halves[0].merge(halves[1])
        >>> bool(np.allclose(both.xtx, fold_crossproducts(x, y, folds).xtx))
        True
        """
        if not np.array_equal(self.fold_ids, other.fold_ids):
            msg = f"cannot merge the moments of folds {self.fold_ids} and {other.fold_ids}"
            raise ValueError(msg)
        n, x_mean, y_mean, xtx, xty = _merge(self[1:], other[1:])
        return FoldCrossProducts(self.fold_ids, n, x_mean, y_mean, xtx, xty)

    def transform(self, d: npt.ArrayLike) -> FoldCrossProducts:
        """Map the moments through a linear per-spectrum filter ``x -> D x``.

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
        p = self.x_mean.shape[1]
        if dm.ndim != 2 or dm.shape[1] != p:
            msg = f"'d' must be a 2-D (n_out, {p}) matrix; got shape {dm.shape}"
            raise ValueError(msg)
        left = _left_multiplier(dm)
        return self.transform_rows(lambda m: left(np.ascontiguousarray(m.T)).T)

    def transform_rows(self, apply: Callable[[Float64Array], Float64Array]) -> FoldCrossProducts:
        """:meth:`transform` given the filter as a row-wise function ``apply(M) = M @ Dᵀ``.

        A filter kernel that already runs fast on spectra (Savitzky-Golay, detrend) maps each
        (P, P) cross-product in two passes over it, far cheaper than a dense ``D·S·Dᵀ``.

        >>> rng = np.random.default_rng(0)
        >>> x, y = rng.normal(size=(12, 5)), rng.normal(size=12)
        >>> d = np.eye(5)[1:] - np.eye(5)[:-1]
        >>> cp = fold_crossproducts(x, y, np.arange(12) % 3)
        >>> bool(np.allclose(cp.transform_rows(lambda m: m @ d.T).xtx, cp.transform(d).xtx))
        True
        """

        def both_sides(g: Float64Array) -> Float64Array:
            # D S Dᵀ = apply(apply(S)ᵀ)... S is symmetric, and so is the result.
            out: Float64Array = np.ascontiguousarray(apply(np.ascontiguousarray(apply(g).T)).T)
            return out

        def left(m: Float64Array) -> Float64Array:
            # D M for a (P, T) matrix: apply to its columns.
            out: Float64Array = np.ascontiguousarray(apply(np.ascontiguousarray(m.T)).T)
            return out

        return self._replace(
            x_mean=apply(self.x_mean),  # D x̄ is the mean of the filtered rows
            xtx=np.stack([both_sides(g) for g in self.xtx]),
            xty=np.stack([left(gy) for gy in self.xty]),
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


def pls_fit_crossproducts(moments: CentredMoments, n_components: int) -> PLSModel:
    """The model fitted on the rows summarised by ``moments``, without a pass over the data.

    Equal to :func:`pls_fit` on the same rows (to rounding).

    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.normal(size=(15, 4)), rng.normal(size=15)
    >>> a = pls_fit_crossproducts(fold_crossproducts(x, y, np.arange(15) % 3).total(), 3)
    >>> bool(np.allclose(a.coef, pls_fit(x, y, 3).coef))
    True
    """
    n, n_points = moments.n, moments.x_mean.shape[0]
    a_max = check_int(n_components, "n_components", minimum=1)
    if a_max > min(n - 1, n_points):
        msg = (
            "'n_components' must be <= min(n_samples - 1, n_points); "
            f"got n_components={a_max}, n_samples={n}, n_points={n_points}"
        )
        raise ValueError(msg)
    w, p, q, r = pls_core(moments.xtx, moments.xty, a_max)
    return PLSModel(_cumulative_coef(r, q), moments.x_mean, moments.y_mean, w, p, q, r)


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
def _moments(arr: FloatArray, yy: Float64Array, rows: IntArray) -> CentredMoments:
    """The moments of ``rows``: float64 blocks, each centred about its own mean, merged."""
    p, t = arr.shape[1], yy.shape[1]
    out = CentredMoments(0, np.zeros(p), np.zeros(t), np.zeros((p, p)), np.zeros((p, t)))
    for start in range(0, rows.shape[0], _BLOCK_ROWS):
        idx = rows[start : start + _BLOCK_ROWS]
        # A float64 copy of the block (float32 spectra are widened before any arithmetic).
        xb = np.asarray(arr[idx], dtype=np.float64)
        yb = yy[idx]
        x_mean, y_mean = xb.mean(axis=0), yb.mean(axis=0)
        xb -= x_mean
        # numpy maps Aᵀ·A onto a symmetric rank-k update (syrk)
        block = CentredMoments(idx.shape[0], x_mean, y_mean, xb.T @ xb, xb.T @ (yb - y_mean))
        out = block if out.n == 0 else CentredMoments(*_merge(out, block))
    return out


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
    """One pass over ``x``: the centred moments of every validation block and of the rest.

    ``folds`` gives each row's validation fold (ids >= 0) or -1 for rows always in training.
    Rows are visited once, grouped by fold, in float64 blocks.

    >>> rng = np.random.default_rng(0)
    >>> cp = fold_crossproducts(rng.normal(size=(9, 4)), rng.normal(size=9), np.arange(9) % 3)
    >>> cp.xtx.shape, cp.counts.tolist(), cp.n_total
    ((4, 4, 4), [3, 3, 3, 0], 9)
    """
    arr, yy, fid = _prepare_cv(x, y, folds)
    fold_ids, blocks, always = _fold_rows(fid)
    groups = [_moments(arr, yy, rows) for rows in [*blocks, always]]
    return FoldCrossProducts.from_groups(fold_ids, groups)


def _fit_fold(
    train: CentredMoments, n_components: int
) -> tuple[Float64Array, Float64Array, Float64Array, Float64Array]:
    """Training model of one fold: ``(R, Q, x_mean, y_mean)``."""
    if train.n <= n_components:
        msg = (
            f"a training fold has {train.n} rows: too few for n_components={n_components} "
            "(need more than n_components rows)"
        )
        raise ValueError(msg)
    _, _, q, r = pls_core(train.xtx, train.xty, n_components)
    return r, q, train.x_mean, train.y_mean


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
    """Out-of-fold predictions (A, N, T) from precomputed per-fold moments.

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
    n_points = cp.x_mean.shape[1]
    if arr.shape[1] != n_points:
        msg = f"'x' has {arr.shape[1]} points but the cross-products have {n_points}"
        raise ValueError(msg)
    counts = np.array([rows.shape[0] for rows in blocks])
    if not (np.array_equal(fold_ids, cp.fold_ids) and np.array_equal(counts, cp.counts[:-1])):
        msg = "'folds' does not match the folds the cross-products were computed with"
        raise ValueError(msg)
    out = np.full((a_max, arr.shape[0], cp.y_mean.shape[1]), np.nan)
    for rows, train in zip(blocks, cp.training_sets(), strict=True):
        out[:, rows, :] = _predict_block(arr, rows, _fit_fold(train, a_max))
    return out


def _training_sets(
    arr: FloatArray, yy: Float64Array, fid: IntArray, max_groups: int
) -> Iterator[CentredMoments]:
    """:meth:`FoldCrossProducts.training_sets` of the folds ``fid``, holding the moments of at
    most ``max_groups`` groups at once: beyond that, each half of the folds recurses with the
    other half's rows merged into the rows always in training (one more pass per halving)."""
    fold_ids, blocks, always = _fold_rows(fid)

    def solve(lo: int, hi: int, outside: CentredMoments) -> Iterator[CentredMoments]:
        if hi - lo == 1:
            yield outside
        elif hi - lo + 1 <= max_groups:
            groups = [*(_moments(arr, yy, rows) for rows in blocks[lo:hi]), outside]
            yield from FoldCrossProducts.from_groups(fold_ids[lo:hi], groups).training_sets()
        else:
            mid = (lo + hi) // 2
            for a, b, c, d in ((lo, mid, mid, hi), (mid, hi, lo, mid)):
                rest = _moments(arr, yy, np.concatenate(blocks[c:d]))
                yield from solve(a, b, CentredMoments(*_merge(outside, rest)))

    yield from solve(0, len(blocks), _moments(arr, yy, always))


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
    fold's (P, P) block would exceed ``max_bytes`` (e.g. leave-one-out on many rows), the folds
    are split in halves until they fit, each half taking the other's rows from one more pass
    (bounded memory, ``log2`` of the excess more passes).

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
    _, blocks, _ = _fold_rows(fid)
    out = np.full((a_max, arr.shape[0], yy.shape[1]), np.nan)
    max_groups = max_bytes // (8 * arr.shape[1] ** 2)
    for rows, train in zip(blocks, _training_sets(arr, yy, fid, max_groups), strict=True):
        out[:, rows, :] = _predict_block(arr, rows, _fit_fold(train, a_max))
    return out
