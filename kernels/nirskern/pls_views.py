"""Many PLS models on row-affine, linearly filtered views of one matrix, in shared passes.

A *view* of a matrix ``X`` (N, P) is the matrix whose row ``i`` is ``D (s_i (x_i - o_i))``: a
per-row scale ``s_i`` and offset ``o_i`` (SNV, MSC against a given reference, or the identity),
then an optional linear filter ``D`` (Savitzky-Golay, detrend...). Each view trains one PLS model
on its own subset of rows (a cross-validation fold's training rows, or all training rows).

:func:`pls_views` fits every view's model at once without forming any view or any ``XᵀX``: the
improved kernel algorithm (:func:`nirskern.pls.pls_core`) needs the centred cross-product only
through products ``XᵀX r``, and those are two skinny matrix products with ``X`` (``t = X r``,
then ``Xᵀ t``). All views advance one component per pass over ``X``, so a search over
preprocessings x folds x 1..A components reads the data ``A + 1`` times, with one GEMM of
``K`` columns (K = the number of views) per block of rows, and holds no copy of it. That is
cheaper than one ``XᵀX`` per preprocessing whenever ``4·K·A`` is below ``P`` per Gram matrix
saved, and it is the only way to share work between per-fold fitted row maps (MSC), whose
per-fold Gram matrices have nothing in common.

The scores ``t = X̃ r`` of every row come out of the same products, so the predictions of any row
(validation or test) cost nothing more.

Examples
--------
>>> rng = np.random.default_rng(0)
>>> x, y = rng.normal(size=(40, 6)), rng.normal(size=40)
>>> train = np.arange(40) % 4 != 0
>>> view = RowView(np.ones(40), np.zeros(40), train, np.flatnonzero(~train), 3)
>>> pred = pls_views(x, y, [view])[0]
>>> from nirskern.pls import pls_fit, pls_predict
>>> m = pls_fit(x[train], y[train], 3)
>>> bool(np.allclose(pred, pls_predict(x[~train], m.coef, m.x_mean, m.y_mean)))
True
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, NamedTuple, TypeVar

import numpy as np
import numpy.typing as npt

from nirskern._jit import jit
from nirskern._reduce import row_sum, row_sumsq_dev
from nirskern._validate import FloatArray, check_int

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

Float64Array = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
T = TypeVar("T")

__all__ = ["RowView", "group_sums", "msc_coefficients", "pls_views", "row_moments"]

#: Rows per block of a pass: the block (8 KiB per row at 1024 float64 points) stays in cache
#: between the two products ``X_b q`` and ``X_bᵀ v`` that read it.
_BLOCK_ROWS = 512

#: As :data:`nirskern.pls._EXHAUSTED`: a view stops when its deflated ``XᵀY`` has shrunk below
#: this fraction of its initial norm (further components would be rounding noise).
_EXHAUSTED = 1e-12


class RowView(NamedTuple):
    """One model's input: rows ``D (scale_i (x_i - offset_i))`` of a shared matrix.

    Attributes
    ----------
    scale, offset : (N,) per-row scale and offset.
    train : (N,) bool, the rows the model learns from.
    predict : (M,) int, the rows whose predictions are returned.
    n_components : components of this view's model (1..A).
    filter : index into ``filters`` of :func:`pls_views` (``-1``: no filter).
    """

    scale: Float64Array
    offset: Float64Array
    train: BoolArray
    predict: IntArray
    n_components: int
    filter: int = -1


#: Blocks per task of a pass. A pass sums each task's blocks in order, then the tasks' partial
#: sums in order: a fixed split, so the result has the same bits on any number of threads.
_TASK_BLOCKS = 8


def _blocks(n: int, size: int = _BLOCK_ROWS) -> list[slice]:
    return [slice(i, min(i + size, n)) for i in range(0, n, size)]


def _tasks(blocks: list[slice]) -> list[list[slice]]:
    return [blocks[i : i + _TASK_BLOCKS] for i in range(0, len(blocks), _TASK_BLOCKS)]


def serial_map(fn: Callable[[Sequence[slice]], T], tasks: Sequence[Sequence[slice]]) -> list[T]:
    """The default ``map_tasks`` of :func:`pls_views`: the tasks one after the other.

    >>> serial_map(len, [[slice(0, 1)], [slice(1, 2), slice(2, 3)]])
    [1, 2]
    """
    return [fn(task) for task in tasks]


def _scores_part(
    arr: FloatArray,
    scale: Float64Array,
    mask: Float64Array,
    offset: Float64Array,
    direction: tuple[Float64Array, Float64Array, Float64Array],
    t_all: Float64Array,
    task: Sequence[slice],
) -> Float64Array:
    """One task of a component pass of :func:`pls_views`: the scores of its rows go into
    ``t_all``; returns ``[Σ_train s t x; Σ_train s t o; Σ_train t]`` of its rows, (P + 2, K)."""
    raw, alpha, beta = direction
    p, k = raw.shape
    part = np.zeros((p + 2, k))
    for rows in task:
        xb = _block(arr, rows)
        s_b, m_b = scale[rows], mask[rows]
        t = s_b * (xb @ raw - offset[rows] * alpha) - beta  # scores of every row
        t_all[rows] = t
        tm = t * m_b
        part[p + 1] += tm.sum(axis=0)
        v_b = tm * s_b
        part[p] += (v_b * offset[rows]).sum(axis=0)
        part[:p] += xb.T @ v_b
    return part


def _total(parts: list[Float64Array]) -> Float64Array:
    """The sum of the tasks' partial sums, added in task order."""
    total = parts[0].copy()
    for part in parts[1:]:
        total += part
    return total


def _block(x: FloatArray, rows: slice) -> Float64Array:
    out: Float64Array = np.asarray(x[rows], dtype=np.float64)  # a view for float64 x
    return out


@jit
def _row_moments(x: FloatArray, mean: Float64Array, ss: Float64Array) -> None:
    p = x.shape[1]
    for i in range(x.shape[0]):
        m = row_sum(x[i]) / p
        mean[i] = m
        ss[i] = row_sumsq_dev(x[i], m)


def row_moments(x: npt.ArrayLike) -> tuple[Float64Array, Float64Array]:
    """Each row's mean and centred sum of squares (float64, two passes over each row, the
    second from cache; the sums of :mod:`nirskern._reduce`).

    >>> m, ss = row_moments(np.array([[1.0, 2.0, 3.0]]))
    >>> m.tolist(), ss.tolist()
    ([2.0], [2.0])
    """
    arr = np.asarray(x)
    if arr.ndim != 2 or arr.dtype not in (np.float32, np.float64):
        msg = f"'x' must be a 2-D float32/float64 array; got {arr.dtype} of shape {arr.shape}"
        raise ValueError(msg)
    mean = np.empty(arr.shape[0])
    ss = np.empty(arr.shape[0])
    _row_moments(arr, mean, ss)
    return mean, ss


def group_sums(x: npt.ArrayLike, labels: npt.ArrayLike, n_groups: int) -> Float64Array:
    """Column sums of the rows of each group (labels ``0..n_groups-1``; others ignored), (G, P).

    >>> group_sums(np.arange(6.0).reshape(3, 2), np.array([0, 1, 0]), 2).tolist()
    [[4.0, 6.0], [2.0, 3.0]]
    """
    arr = np.asarray(x)
    lab = np.asarray(labels)
    out = np.zeros((arr.shape[1], n_groups))
    groups = np.arange(n_groups)
    for rows in _blocks(arr.shape[0], 4 * _BLOCK_ROWS):
        onehot = (lab[rows, np.newaxis] == groups).astype(np.float64)
        out += _block(arr, rows).T @ onehot
    result: Float64Array = out.T.copy()
    return result


def msc_coefficients(
    x: npt.ArrayLike, row_mean: npt.ArrayLike, references: npt.ArrayLike
) -> tuple[Float64Array, Float64Array]:
    """MSC intercepts and slopes ``(a, b)``, each (N, R), of every row against every reference.

    Row ``i`` regressed on reference ``r`` by least squares is ``x_i = a + b r``; the corrected
    row is ``(x_i - a) / b`` (:func:`nirskern.msc`). ``row_mean`` is each row's mean.

    >>> r = np.array([1.0, 2.0, 4.0])
    >>> x = np.array([3.0 + 2.0 * r])
    >>> a, b = msc_coefficients(x, x.mean(axis=1), r[np.newaxis, :])
    >>> round(float(a[0, 0]), 12), round(float(b[0, 0]), 12)
    (3.0, 2.0)
    """
    arr = np.asarray(x)
    refs = np.asarray(references, dtype=np.float64)
    xm = np.asarray(row_mean, dtype=np.float64)
    rmean = refs.mean(axis=1)
    rc = refs - rmean[:, np.newaxis]  # (R, P) centred references
    rss = np.einsum("ij,ij->i", rc, rc)
    sxy = np.empty((arr.shape[0], refs.shape[0]))
    rc_sum = rc.sum(axis=1)
    for rows in _blocks(arr.shape[0], 4 * _BLOCK_ROWS):
        # (x - x̄)·rc without centring the block: x·rc - x̄ Σrc (Σrc is ~0 but not exactly).
        sxy[rows] = _block(arr, rows) @ rc.T - xm[rows, np.newaxis] * rc_sum
    b = sxy / rss
    a = xm[:, np.newaxis] - b * rmean
    return a, b


def _directions(
    cy: Float64Array, r_all: Float64Array, p_all: Float64Array, a: int, active: BoolArray
) -> Float64Array:
    """Each view's next rotation ``r`` (K, P) from its deflated ``XᵀY`` (as ``pls_core``)."""
    n_targets = cy.shape[2]
    if n_targets == 1:
        w = cy[:, :, 0].copy()
    else:
        w = np.zeros(cy.shape[:2])
        for v in np.flatnonzero(active):
            c = cy[v]
            if n_targets < c.shape[0]:
                _, vecs = np.linalg.eigh(c.T @ c)
                w[v] = c @ vecs[:, -1]
            else:
                _, vecs = np.linalg.eigh(c @ c.T)
                w[v] = vecs[:, -1]
    norm = np.linalg.norm(w, axis=1)
    w[active] /= norm[active, np.newaxis]
    w[~active] = 0.0
    if a == 0:
        return w
    # r = w - R (Pᵀ w), for every view at once (batched matrix products).
    coef = np.matmul(w[:, np.newaxis, :], p_all[:, :, :a])  # (K, 1, a)
    r: Float64Array = w - np.matmul(r_all[:, :, :a], coef.transpose(0, 2, 1))[:, :, 0]
    r[~active] = 0.0
    return r


def _gather(
    out_idx: IntArray, in_idx: IntArray, vals: Float64Array, n_out: int
) -> Callable[[Float64Array], Float64Array]:
    """``m -> S m`` for the sparse ``S`` of triplets ``(out_idx, in_idx, vals)`` (grouped by
    ``out_idx``), as ``w`` padded row gathers of ``m`` (``w``: the most taps of an output row)."""
    counts = np.bincount(out_idx, minlength=n_out)
    width = int(counts.max())
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    slot = np.arange(out_idx.shape[0]) - start[out_idx]
    idx = np.zeros((n_out, width), dtype=np.int64)  # padding: weight 0 on row 0
    w = np.zeros((n_out, width))
    idx[out_idx, slot] = in_idx
    w[out_idx, slot] = vals

    def apply(m: Float64Array) -> Float64Array:
        out: Float64Array = w[:, 0, np.newaxis] * m[idx[:, 0]]
        for j in range(1, width):
            out += w[:, j, np.newaxis] * m[idx[:, j]]
        return out

    return apply


def _filter_pair(
    d: Float64Array,
) -> tuple[Callable[[Float64Array], Float64Array], Callable[[Float64Array], Float64Array]]:
    """``(m -> D m, m -> Dᵀ m)``: a few row gathers for a banded ``D`` (Savitzky-Golay, finite
    differences: ``O(w·P·K)``), dense products otherwise. One scan of ``D``, no transposed copy."""
    rows, cols = np.nonzero(d)
    most = int(np.bincount(rows, minlength=d.shape[0]).max()) if rows.size else 0
    if rows.size == 0 or most * 8 > d.shape[1]:
        return (lambda m: d @ m), (lambda m: d.T @ m)
    vals = d[rows, cols]
    order = np.argsort(cols, kind="stable")
    return (
        _gather(rows, cols, vals, d.shape[0]),
        _gather(cols[order], rows[order], vals[order], d.shape[1]),
    )


class _Group(NamedTuple):
    """Views sharing one filter: their columns in the pass and ``m -> D m`` / ``m -> Dᵀ m``
    (banded filters applied as a few row gathers), or ``None`` without a filter."""

    cols: IntArray
    d: Callable[[Float64Array], Float64Array] | None
    dt: Callable[[Float64Array], Float64Array] | None


def pls_views(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    views: Sequence[RowView],
    filters: Sequence[npt.ArrayLike] = (),
    *,
    block_rows: int = _BLOCK_ROWS,
    map_tasks: Callable[
        [Callable[[Sequence[slice]], Float64Array], Sequence[Sequence[slice]]],
        list[Float64Array],
    ] = serial_map,
) -> list[Float64Array]:
    """Fit a PLS model on every view; return each view's predictions (A_v, M_v, T).

    ``x`` (N, P) is shared by every view and never copied (float32 blocks are widened one at a
    time). ``y`` is (N,) or (N, T). ``filters[j]`` is the (P_out, P) matrix ``D`` of a linear
    filter (the filtered rows of the identity, transposed). Each view's model equals
    :func:`nirskern.pls.pls_fit` on its training rows of its view, to rounding.

    Each pass runs as tasks of a few blocks, through ``map_tasks`` (e.g. a thread pool: the
    products release the GIL); tasks write disjoint rows and return partial sums that are added
    in task order, so the result does not depend on how the tasks were run.
    """
    arr = np.asarray(x)
    if arr.ndim != 2 or arr.dtype not in (np.float32, np.float64):
        msg = f"'x' must be a 2-D float32/float64 array; got {arr.dtype} of shape {arr.shape}"
        raise ValueError(msg)
    n, p = arr.shape
    yy = np.asarray(y, dtype=np.float64).reshape(n, -1)
    n_targets = yy.shape[1]
    dts = [np.asarray(d, dtype=np.float64) for d in filters]
    for d in dts:
        if d.ndim != 2 or d.shape[1] != p:
            msg = f"each filter must be (P_out, P={p}); got shape {d.shape}"
            raise ValueError(msg)
    k = len(views)
    if k == 0:
        return []
    a_max = max(check_int(v.n_components, "n_components", minimum=1) for v in views)
    a_view = np.array([v.n_components for v in views])
    scale = np.stack([np.asarray(v.scale, dtype=np.float64) for v in views], axis=1)  # (N, K)
    offset = np.stack([np.asarray(v.offset, dtype=np.float64) for v in views], axis=1)
    mask = np.stack([np.asarray(v.train, dtype=bool) for v in views], axis=1).astype(np.float64)
    if not (np.all(np.isfinite(scale)) and np.all(np.isfinite(offset))):
        msg = "row scales and offsets must be finite"
        raise ValueError(msg)
    n_fit = mask.sum(axis=0)
    if np.any(n_fit <= a_view):
        msg = "every view needs more training rows than components"
        raise ValueError(msg)
    groups = [
        _Group(np.flatnonzero([v.filter == j for v in views]), None, None)
        if j < 0
        else _Group(np.flatnonzero([v.filter == j for v in views]), *_filter_pair(dts[j]))
        for j in sorted({v.filter for v in views})
    ]
    blocks = _blocks(n, block_rows)

    # -- one pass: each view's training sums Σ s x and Σ s ỹ x (ỹ = y - ȳ of its rows) ----------
    y_mean = (mask.T @ yy) / n_fit[:, np.newaxis]  # (K, T)
    tiled = np.tile(np.arange(k), 1 + n_targets)

    def sums(task: Sequence[slice]) -> Float64Array:
        acc = np.zeros((p, k * (1 + n_targets)))
        for rows in task:
            xb = _block(arr, rows)
            if not np.all(np.isfinite(xb)):
                msg = "'x' must be finite to fit a PLS model"
                raise ValueError(msg)
            sm = scale[rows] * mask[rows]
            yb = yy[rows]
            wb = np.concatenate(
                [sm] + [sm * (yb[:, t, np.newaxis] - y_mean[:, t]) for t in range(n_targets)],
                axis=1,
            )
            acc += xb.T @ wb
            # Σ w (x - o) = Σ w x - (Σ w o) 1 for each weight column.
            acc -= (wb * offset[rows][:, tiled]).sum(axis=0)
        return acc

    acc = _total(map_tasks(sums, _tasks(blocks)))

    def filtered(g: _Group, m: Float64Array) -> Float64Array:
        out: Float64Array = m if g.d is None else g.d(m)
        return out

    # Per group: z̄ (P_out, k) and the centred XᵀY (k, P_out, T); the state of pls_core.
    zbar, cy = [], []
    for g in groups:
        zbar.append(filtered(g, acc[:, g.cols]) / n_fit[g.cols])
        ys = [filtered(g, acc[:, (1 + t) * k + g.cols]) for t in range(n_targets)]
        cy.append(np.stack(ys, axis=2).transpose(1, 0, 2).copy())
    del acc
    width = [z.shape[0] for z in zbar]
    r_all = [np.zeros((g.cols.shape[0], w, a_max)) for g, w in zip(groups, width, strict=True)]
    p_all = [np.zeros_like(r) for r in r_all]
    q_all = np.zeros((k, n_targets, a_max))
    norm0 = np.concatenate([np.linalg.norm(c, axis=(1, 2)) for c in cy])
    active = norm0 > 0.0
    scores = [np.zeros((v.predict.shape[0], a_max)) for v in views]

    for a in range(a_max):
        active &= a < a_view
        # Next rotation of every view, mapped back to the raw points: t = z·r = s (x - o)·(Dᵀ r).
        rs, raw = [], np.zeros((p, k))
        for gi, g in enumerate(groups):
            ga = active[g.cols].copy()
            ga &= np.linalg.norm(cy[gi], axis=(1, 2)) > _EXHAUSTED * norm0[g.cols]
            active[g.cols] = ga
            r = _directions(cy[gi], r_all[gi], p_all[gi], a, ga)
            rs.append(r)
            raw[:, g.cols] = r.T if g.dt is None else g.dt(r.T)
        if not active.any():
            break
        alpha = raw.sum(axis=0)  # 1·(Dᵀ r) per view
        beta = np.zeros(k)  # z̄·r
        for gi, g in enumerate(groups):
            beta[g.cols] = (zbar[gi].T * rs[gi]).sum(axis=1)
        t_all = np.empty((n, k))
        task = partial(_scores_part, arr, scale, mask, offset, (raw, alpha, beta), t_all)
        total = _total(map_tasks(task, _tasks(blocks)))
        xt, sto, st = total[:p], total[p], total[p + 1]
        # X̃ᵀ t = D (Σ s t (x - o)) - z̄ Σ t, per view; then the pls_core update.
        xt -= sto
        for gi, g in enumerate(groups):
            cr = (filtered(g, xt[:, g.cols]) - zbar[gi] * st[g.cols]).T  # (k_g, P_out)
            r = rs[gi]
            tt = (r * cr).sum(axis=1)
            ga = active[g.cols] & (tt > 0.0)
            active[g.cols] = ga
            tt_safe = np.where(ga, tt, 1.0)
            pa = np.where(ga[:, np.newaxis], cr / tt_safe[:, np.newaxis], 0.0)
            qa = np.matmul(r[:, np.newaxis, :], cy[gi])[:, 0, :] / tt_safe[:, np.newaxis]
            qa[~ga] = 0.0
            cy[gi] -= tt_safe[:, np.newaxis, np.newaxis] * pa[:, :, np.newaxis] * qa[:, np.newaxis]
            r_all[gi][:, :, a] = np.where(ga[:, np.newaxis], r, 0.0)
            p_all[gi][:, :, a] = pa
            q_all[g.cols, :, a] = qa
        for v, view in enumerate(views):
            # A view that stopped at this component contributes nothing for it.
            scores[v][:, a] = t_all[view.predict, v] if active[v] else 0.0
        del t_all

    out = []
    for v in range(k):
        av = int(a_view[v])
        # Prediction with c components: ȳ + Σ_{j<c} t_j q_jᵀ, for every c at once.
        contrib = np.cumsum(scores[v][:, :av, np.newaxis] * q_all[v, :, :av].T, axis=1)
        out.append((contrib + y_mean[v]).transpose(1, 0, 2))
        scores[v] = np.empty((0, 0))  # release as we go
    return out
