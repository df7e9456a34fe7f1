"""PLS groups whose chains are row-affine views of one matrix, fitted together in shared passes.

A chain ``prefix | [snv or msc] | linear steps`` (the prefix stateless, the linear steps exactly
``x -> D x``) turns each spectrum into ``D (s_i (x_i - o_i))`` of the prefix's matrix: SNV with
the row's mean and standard deviation, MSC with the intercept and slope of the row against the
context's reference (the training-fold mean, so a different ``(o_i, s_i)`` per fold). Every such
group of a search, every fold and the final context become *views* of that one matrix, and
:func:`nirskern.pls_views.pls_views` fits all their PLS models together: ``A + 1`` passes over
the data, no transformed matrix, no fold submatrix, no ``XᵀX`` (see its docstring for when this
beats per-chain cross-products). The results equal a per-fold refit of each chain (to rounding):
MSC still learns its reference from each fold's training rows only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from nirskern.pls_views import RowView, group_sums, msc_coefficients, pls_views, row_moments

from nirsframe._bridge import map_tasks
from nirsframe.pipeline.tree import FINAL

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy.typing as npt

    from nirsframe.axis import SpectralAxis
    from nirsframe.pipeline.candidates import Step
    from nirsframe.pipeline.tree import PrefixCache

    Float64Array = npt.NDArray[np.float64]

#: ``"auto"``: use shared views where :func:`worthwhile`; ``"always"`` / ``"never"`` force the
#: choice (tests compare both paths).
MODE: Literal["auto", "always", "never"] = "auto"

#: Row-affine steps and the parameter values this module reproduces exactly.
_AFFINE = {"snv": {"ddof"}, "msc": {"reference"}}


@dataclass(frozen=True)
class ViewPlan:
    """A chain as ``prefix`` (stateless, computed once) | ``affine`` step | ``linear`` steps."""

    prefix: tuple[Step, ...]
    affine: Step | None
    linear: tuple[Step, ...]
    width: int  # points at the end of the chain


def _affine_ok(step: Step) -> bool:
    params = step.params
    if step.op not in _AFFINE or not set(params) <= _AFFINE[step.op]:
        return False
    if step.op == "msc":
        return bool(params.get("reference", "mean") == "mean")
    return True


def plan(cache: PrefixCache, steps: tuple[Step, ...]) -> ViewPlan | None:
    """How ``steps`` maps onto views of a stateless prefix's matrix (``None``: it does not)."""
    axes: list[SpectralAxis] = [cache.get(()).axis]
    kinds, linear = [], []
    for step in steps:
        op = step.build(axes[-1])
        if op.kind != "stateless" and not _affine_ok(step):
            return None  # a fitted step (its output axis may depend on the fit)
        kinds.append(op.kind)
        linear.append(op.kind == "stateless" and op.linear)
        axes.append(op.output_axis(axes[-1]))
    for i in range(len(steps) + 1):
        if any(k != "stateless" for k in kinds[:i]):
            return None
        j = i + 1 if i < len(steps) and _affine_ok(steps[i]) else i
        if all(linear[j:]):
            affine = steps[i] if j > i else None
            return ViewPlan(steps[:i], affine, steps[j:], len(axes[-1].values))
    return None


def worthwhile(plans: Sequence[ViewPlan], a_max: int, n_contexts: int, width: int) -> bool:
    """Whether shared passes beat per-chain cross-products (flop estimate, per row of data).

    Views: 2 products of ``K`` columns per component and row (``4·K·(A+1)·P`` flops).
    Cross-products: one ``XᵀX`` (``P²`` per row) per distinct stateless base, one per context for
    MSC. Their per-context ``(P, P)`` work (``D·G·Dᵀ``, PLS cores), which does not shrink with the
    rows, is left out: it only ever favours views.
    """
    k = len(plans) * n_contexts
    views = 4.0 * k * (a_max + 1) * width
    bases = {(p.prefix, p.affine) for p in plans}
    grams = sum(n_contexts if b[1] is not None and b[1].op == "msc" else 1 for b in bases)
    return views < grams * float(width) ** 2


def _filter(cache: PrefixCache, plan_: ViewPlan) -> Float64Array | None:
    """``D`` (P_out, P) of the plan's linear steps, or ``None``."""
    if not plan_.linear:
        return None
    axis = cache.get(plan_.prefix).axis
    d: Float64Array | None = None
    for step in plan_.linear:
        op = step.build(axis)
        m = np.asarray(op.linear_matrix(len(axis.values)), dtype=np.float64)
        d = m if d is None else m @ d
        axis = op.output_axis(axis)
    return d


def _count(cache: PrefixCache, plans: Sequence[ViewPlan]) -> None:
    """Record one application per distinct node, as :class:`PrefixCache` does."""
    nodes: set[tuple[Step, ...]] = set()
    for p in plans:
        full = (*p.prefix, *((p.affine,) if p.affine else ()), *p.linear)
        nodes.update(full[:i] for i in range(len(p.prefix) + 1, len(full) + 1))
    for node in nodes:
        cache.applications[node[-1].op] += 1


def run_views(
    cache: PrefixCache,
    groups: dict[Any, tuple[ViewPlan, int]],
    y: Float64Array,
    *,
    final: bool = True,
) -> dict[Any, tuple[Float64Array, Float64Array | None]] | None:
    """OOF (A, n_train, T) and final (A, n_all, T) predictions of every group, or ``None`` when a
    row map is degenerate (a flat spectrum, a zero MSC slope): the caller then takes the
    per-context path, which reports the problem. ``final=False`` leaves the final context out
    (``None`` in its place)."""
    ctx = cache.contexts
    contexts = [*ctx.fold_ids, FINAL]
    n_all = y.shape[0]
    out: dict[Any, tuple[Float64Array, Float64Array | None]] = {}
    by_prefix: dict[tuple[Step, ...], list[Any]] = {}
    for key, (p, _) in groups.items():
        by_prefix.setdefault(p.prefix, []).append(key)
    masks = {}
    for c in contexts:
        m = np.zeros(n_all, dtype=bool)
        m[ctx.fit_rows(c)] = True
        masks[c] = m
    predict = {c: (np.arange(n_all) if c == FINAL else ctx.val_rows(c)) for c in contexts}
    fitted = contexts if final else contexts[:-1]
    for prefix, keys in by_prefix.items():
        # float64 only: SNV and MSC of float32 spectra round to float32, which views (computed
        # in float64 throughout) would not reproduce to the per-fold refit's last bits.
        shared = cache.get(prefix).shared
        if shared is None or shared.dtype != np.float64:
            return None
        x: Float64Array = np.asarray(shared, dtype=np.float64)
        maps = _row_maps(x, [groups[k][0].affine for k in keys], contexts, masks)
        if maps is None:
            return None
        filters: list[Float64Array] = []
        filter_of: dict[tuple[Step, ...], int] = {}
        views = []
        for key in keys:
            p, a_max = groups[key]
            if p.linear and p.linear not in filter_of:
                dt = _filter(cache, p)
                assert dt is not None
                filter_of[p.linear] = len(filters)
                filters.append(dt)
            f = filter_of[p.linear] if p.linear else -1
            for c in fitted:
                scale, offset = maps[(p.affine, c)]
                views.append(RowView(scale, offset, masks[c], predict[c], a_max, f))
        preds = pls_views(x, y, views, filters, map_tasks=map_tasks)
        if final:  # otherwise the caller's final refit computes (and counts) the nodes
            _count(cache, [groups[k][0] for k in keys])
        for i, key in enumerate(keys):
            a_max = groups[key][1]
            oof = np.full((a_max, ctx.train.shape[0], y.shape[1]), np.nan)
            out[key] = (oof, None)
            per = preds[i * len(fitted) : (i + 1) * len(fitted)]
            for c, pred in zip(fitted, per, strict=True):
                if c == FINAL:
                    out[key] = (oof, pred)
                else:
                    oof[:, ctx.folds == c, :] = pred
    return out


def _row_maps(
    x: Float64Array,
    affines: Sequence[Step | None],
    contexts: list[int],
    masks: dict[int, npt.NDArray[np.bool_]],
) -> dict[tuple[Step | None, int], tuple[Float64Array, Float64Array]] | None:
    """Per (affine step, context): each row's ``(scale, offset)``."""
    n, p = x.shape
    maps: dict[tuple[Step | None, int], tuple[Float64Array, Float64Array]] = {}
    ones, zeros = np.ones(n), np.zeros(n)
    moments: tuple[Float64Array, Float64Array] | None = None
    msc_steps = [a for a in dict.fromkeys(affines) if a is not None and a.op == "msc"]
    for step in dict.fromkeys(affines):
        if step is None:
            for c in contexts:
                maps[(None, c)] = (ones, zeros)
            continue
        if moments is None:
            moments = row_moments(x)
        mean, ss = moments
        if step.op == "snv":
            ddof = int(step.params.get("ddof", 0))
            if ddof >= p or not np.all(ss > 0.0):
                return None
            scale = 1.0 / np.sqrt(ss / (p - ddof))
            for c in contexts:
                maps[(step, c)] = (scale, mean)
    if msc_steps:
        assert moments is not None
        # Each context's reference: the mean of its training rows, from per-group column sums
        # (group j: validation rows of fold j; the last group: training rows never validated;
        # rows outside training, such as test rows, in no group).
        label = np.full(n, -1)
        label[masks[FINAL]] = len(contexts) - 1
        for j, c in enumerate(contexts[:-1]):
            label[~masks[c] & masks[FINAL]] = j
        sums = group_sums(x, label, len(contexts))
        train_sum = sums.sum(axis=0)
        refs = [
            (train_sum - (sums[j] if c != FINAL else 0.0)) / masks[c].sum()
            for j, c in enumerate(contexts)
        ]
        ref = np.array(refs)
        if not np.all(np.ptp(ref, axis=1) > 0.0):
            return None
        a, b = msc_coefficients(x, moments[0], ref)
        if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b)) and np.all(b != 0.0)):
            return None
        for step in msc_steps:
            for j, c in enumerate(contexts):
                maps[(step, c)] = (1.0 / b[:, j], a[:, j])
    return maps
