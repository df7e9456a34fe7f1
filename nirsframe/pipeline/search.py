"""Run every variant of a search with leakage-free cross-validation, sharing all common work.

* Preprocessing prefixes are computed once (:class:`~nirsframe.pipeline.tree.SourceCaches`).
* Variants that differ only in the PLS component count share one fit: every count ``1..A``
  comes from the same model, and a stateless chain uses fast cross-validation from per-fold
  cross-products (:func:`nirskern.pls.pls_cv`).
* Fitted steps, target processing and models learn from each fold's training rows only.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from nirskern.pls import cv_from_crossproducts, pls_fit, pls_fit_crossproducts, pls_predict

from nirsframe.exceptions import DatasetError, SpecError
from nirsframe.pipeline import rowviews
from nirsframe.pipeline.tree import FINAL, SourceCaches

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy.typing as npt

    from nirsframe.pipeline.candidates import Candidate, ModelChoice, Step, YStep
    from nirsframe.pipeline.targets import TargetTransform
    from nirsframe.pipeline.tree import Sources


@dataclass(frozen=True)
class GroupKey:
    """Variants that share everything but the PLS component count."""

    steps: tuple[Step, ...]
    model_kind: str
    model_params: str
    y_processing: tuple[YStep, ...]
    sources: Sources = ()
    merge: str = "concat"
    filters: tuple[tuple[str, str], ...] = ()
    augmentation: str = ""


@dataclass
class CandidatePredictions:
    """Predictions of one variant: out-of-fold on training rows, refit on all training rows."""

    variant: Candidate
    n_components: int | None
    oof: npt.NDArray[np.float64]  # (n_train, T), NaN where never validated
    fitted: npt.NDArray[np.float64]  # (n_all, T): final model on every row (train and test)
    #: Final-context outlier flags over every row: ``excluded`` and ``tag:<filter>`` masks.
    flags: dict[str, npt.NDArray[np.bool_]] = field(default_factory=dict)


def group_variants(variants: Sequence[Candidate]) -> dict[GroupKey, list[Candidate]]:
    """Group variants that differ only by ``n_components`` of a PLS model."""
    groups: dict[GroupKey, list[Candidate]] = defaultdict(list)
    for v in variants:
        params = {k: p for k, p in v.model.params.items() if k != "n_components"}
        key = GroupKey(
            v.steps,
            v.model.kind,
            repr(sorted(params.items())),
            v.y_processing,
            v.sources,
            v.merge,
            v.filters,
            v.augmentation,
        )
        groups[key].append(v)
    return groups


def n_components_of(model: ModelChoice) -> int:
    """The component count of a PLS model step (default 10)."""
    n = model.params.get("n_components", 10)
    if not isinstance(n, int) or n < 1:
        msg = f"'n_components' of pls must be a positive integer; got {n!r}"
        raise SpecError(msg)
    return n


def _y_fit_transform(
    steps: tuple[YStep, ...], y: npt.NDArray[np.float64]
) -> tuple[list[TargetTransform], npt.NDArray[np.float64]]:
    ops = []
    out: npt.NDArray[np.float64] = y
    for step in steps:
        op = step.build().fit(out)
        out = op.transform(out)
        ops.append(op)
    return ops, out


def _y_inverse(ops: list[TargetTransform], y: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    for op in reversed(ops):
        y = op.inverse_transform(y)
    return np.asarray(y, dtype=np.float64)


def model_rows(
    filters: tuple[tuple[str, str], ...],
    x: npt.NDArray[np.floating],
    y: npt.NDArray[np.float64],
    rows: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.int64], dict[str, npt.NDArray[np.bool_]]]:
    """Training rows left after ``exclude`` filters fitted on ``rows``, and every filter's flags
    over all rows (``excluded`` marks the training rows left out)."""
    from nirsframe.filters import parse_filter

    keep = np.ones(rows.shape[0], dtype=bool)
    flags: dict[str, npt.NDArray[np.bool_]] = {}
    for action, spec_json in filters:
        spec = json.loads(spec_json)
        flt = parse_filter(spec).fit(x[rows], y[rows, 0])
        scored = flt.score(x, y[:, 0]).outlier
        flags[f"{action}:{next(iter(spec))}"] = np.asarray(scored, dtype=bool)
        if action == "exclude":
            keep &= ~scored[rows]
    if not keep.any():
        msg = "the exclude filters flag every training row; loosen them"
        raise DatasetError(msg)
    excluded = np.zeros(x.shape[0], dtype=bool)
    excluded[rows[~keep]] = True
    flags["excluded"] = excluded
    return rows[keep], flags


def training_data(
    augmentation: str,
    x: npt.NDArray[np.floating],
    y: npt.NDArray[np.float64],
    rows: npt.NDArray[np.int64],
    context: int,
) -> tuple[npt.NDArray[np.floating], npt.NDArray[np.float64]]:
    """The model's training data of one context: its rows plus their seeded augmented copies.

    Only training rows are ever augmented; each context draws from its own seed
    (``seed + context``) so that folds do not share augmented spectra.
    """
    xr, yr = x[rows], y[rows]
    if not augmentation:
        return xr, yr
    from nirsframe.operators import get_operator

    spec = json.loads(augmentation)
    seed = int(spec["seed"]) + 1009 * (context + 1)
    xs, ys = [xr], [yr]
    if spec["balance"]:
        labels, counts = np.unique(yr[:, 0], return_counts=True)
        groups = [
            (np.flatnonzero(yr[:, 0] == c), int(counts.max() - n))
            for c, n in zip(labels, counts, strict=True)
        ]
    else:
        groups = [(np.arange(xr.shape[0]), xr.shape[0] * int(spec["count"]))]
    for j, op_spec in enumerate(spec["ops"]):
        ((name, params),) = op_spec.items()
        op = get_operator(name).estimator(**params)
        for idx, needed in groups:
            if needed <= 0 or idx.size == 0:
                continue
            copies = -(-needed // idx.size)
            xa, ya = op.augment(xr[idx], yr[idx], n_copies=copies, random_state=seed + j)
            xs.append(xa[:needed])
            ys.append(np.asarray(ya, dtype=np.float64).reshape(-1, yr.shape[1])[:needed])
    return np.concatenate(xs), np.concatenate(ys)


def _pls_group(
    cache: SourceCaches, key: GroupKey, y: npt.NDArray[np.float64], a_max: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """OOF predictions (A, n_train, T) and final-model predictions (A, n_all, T)."""
    ctx = cache.contexts
    node = cache.node(key.steps, key.sources, key.merge)
    n_all = y.shape[0]
    excludes = any(action == "exclude" for action, _ in key.filters)
    if node.shared is not None and not key.y_processing and not excludes and not key.augmentation:
        x = node.shared
        cp = cache.crossproducts(key.steps, key.sources, key.merge)
        oof = cv_from_crossproducts(cp, x[ctx.train], ctx.folds, a_max)
        model = pls_fit_crossproducts(cp.total(), a_max)
        return oof, pls_predict(x, model.coef, model.x_mean, model.y_mean)
    oof = np.full((a_max, ctx.train.shape[0], y.shape[1]), np.nan)
    position = {int(r): i for i, r in enumerate(ctx.train)}
    final = np.empty((a_max, n_all, y.shape[1]))
    for c in [*ctx.fold_ids, FINAL]:
        x = node.matrix(c)
        rows, _ = model_rows(key.filters, x, y, ctx.fit_rows(c))
        x_fit, y_fit = training_data(key.augmentation, x, y, rows, c)
        y_ops, y_fit = _y_fit_transform(key.y_processing, y_fit)
        model = pls_fit(x_fit, y_fit, a_max)
        if c == FINAL:
            pred = pls_predict(x, model.coef, model.x_mean, model.y_mean)
            final = np.stack([_y_inverse(y_ops, p) for p in pred])
        else:
            val = ctx.val_rows(c)
            pred = pls_predict(x[val], model.coef, model.x_mean, model.y_mean)
            idx = [position[int(r)] for r in val]
            oof[:, idx, :] = np.stack([_y_inverse(y_ops, p) for p in pred])
    return oof, final


def _rank_limit(cache: SourceCaches, n_points: int) -> int:
    ctx = cache.contexts
    smallest = min(ctx.fit_rows(c).shape[0] for c in [*ctx.fold_ids, FINAL])
    return int(max(1, min(smallest - 1, n_points)))


def run_variants(
    cache: SourceCaches,
    variants: Sequence[Candidate],
    y: npt.NDArray[np.float64],
) -> tuple[list[CandidatePredictions], list[tuple[Candidate, str]]]:
    """Predictions of every variant, and the variants skipped with the reason."""
    out: list[CandidatePredictions] = []
    skipped: list[tuple[Candidate, str]] = []
    groups = list(group_variants(variants).items())
    batched = _view_groups(cache, groups, y)
    for done, (key, members) in enumerate(groups):
        # Only the inputs of the groups still to run stay in memory.
        cache.retain([(k.steps, k.sources, k.merge) for k, _ in groups[done:]])
        if key.model_kind == "plsda":
            out.extend(_plsda_group(cache, key, members, y))
            continue
        if key.model_kind != "pls":
            for v in members:
                out.append(_sklearn_variant(cache, v, y))
            continue
        if key in batched:
            width = batched[key][0]
        else:
            width = cache.node(key.steps, key.sources, key.merge).axis.values.shape[0]
        limit = _rank_limit(cache, width)
        wanted = {v: n_components_of(v.model) for v in members}
        ok = {v: n for v, n in wanted.items() if n <= limit}
        for v, n in wanted.items():
            if n > limit:
                skipped.append((v, f"n_components={n} exceeds the rank limit {limit}"))
        if not ok:
            continue
        if key in batched:
            oof, final = batched.pop(key)[1:]
            flags: dict[str, npt.NDArray[np.bool_]] = {}
        else:
            oof, final = _pls_group(cache, key, y, max(ok.values()))
            flags = _final_flags(cache, key, y)
        for v, n in ok.items():
            out.append(CandidatePredictions(v, n, oof[n - 1], final[n - 1], flags))
    return out, skipped


def _view_groups(
    cache: SourceCaches, groups: list[tuple[GroupKey, list[Candidate]]], y: npt.NDArray[np.float64]
) -> dict[GroupKey, tuple[int, npt.NDArray[np.float64], npt.NDArray[np.float64]]]:
    """``(width, oof, final)`` of the PLS groups fitted together as row-affine views of a shared
    matrix (:mod:`nirsframe.pipeline.rowviews`), where that is cheaper than cross-products."""
    plans: dict[GroupKey, tuple[rowviews.ViewPlan, int]] = {}
    for key, members in groups:
        plain = not (key.y_processing or key.filters or key.augmentation or key.sources)
        if key.model_kind != "pls" or not plain or rowviews.MODE == "never":
            continue
        p = rowviews.plan(cache.primary, key.steps)
        if p is None:
            continue
        limit = _rank_limit(cache, p.width)
        counts = [n for n in (n_components_of(v.model) for v in members) if n <= limit]
        if counts:
            plans[key] = (p, max(counts))
    by_prefix: dict[tuple[Step, ...], list[GroupKey]] = defaultdict(list)
    for key, (p, _) in plans.items():
        by_prefix[p.prefix].append(key)
    n_contexts = len(cache.contexts.fold_ids) + 1
    chosen = {}
    for prefix, keys in by_prefix.items():
        width = cache.primary.get(prefix).axis.values.shape[0]
        a_max = max(plans[k][1] for k in keys)
        ps = [plans[k][0] for k in keys]
        if rowviews.MODE == "always" or rowviews.worthwhile(ps, a_max, n_contexts, width):
            chosen.update({k: plans[k] for k in keys})
    if not chosen:
        return {}
    # With test rows, the final model (whose test predictions are reported, and which a recorded
    # run replays) is refit directly, as the per-context path does: its predictions then equal a
    # refit of the chain to the last bits, not only to the ~1e-11 of a different summation order.
    direct = cache.contexts.train.shape[0] < y.shape[0]
    done = rowviews.run_views(cache.primary, chosen, y, final=not direct)
    if done is None:
        return {}
    out = {}
    others = [(k.steps, k.sources, k.merge) for k, _ in groups if k not in chosen]
    pending = list(done)
    for key, (oof, final) in done.items():
        if final is None:
            # Only the matrices of the refits still to come (and of the other groups) stay.
            pending.remove(key)
            cache.retain([*others, *((k.steps, k.sources, k.merge) for k in (key, *pending))])
            final = _final_refit(cache, key, y, chosen[key][1])
        out[key] = (chosen[key][0].width, oof, final)
    return out


def _final_refit(
    cache: SourceCaches, key: GroupKey, y: npt.NDArray[np.float64], a_max: int
) -> npt.NDArray[np.float64]:
    """Predictions (A, n_all, T) of the final context's model, refit on its matrix."""
    x = cache.node(key.steps, key.sources, key.merge).matrix(FINAL)
    rows = cache.contexts.fit_rows(FINAL)
    model = pls_fit(x[rows], y[rows], a_max)
    return pls_predict(x, model.coef, model.x_mean, model.y_mean)


def _final_flags(
    cache: SourceCaches, key: GroupKey, y: npt.NDArray[np.float64]
) -> dict[str, npt.NDArray[np.bool_]]:
    """Outlier flags of the final context (fitted on all training rows), for the report."""
    if not key.filters:
        return {}
    node = cache.node(key.steps, key.sources, key.merge)
    return model_rows(key.filters, node.matrix(FINAL), y, cache.contexts.fit_rows(FINAL))[1]


def is_classifier(kind: str) -> bool:
    """Whether a model kind (``pls``, ``plsda`` or a scikit-learn class path) classifies."""
    if kind in ("pls", "plsda"):
        return kind == "plsda"
    from sklearn.base import is_classifier as sk_is_classifier

    from nirsframe.models.sklearn_models import resolve_estimator_class

    return bool(sk_is_classifier(resolve_estimator_class(kind)()))


def _plsda_group(
    cache: SourceCaches, key: GroupKey, members: list[Candidate], y: npt.NDArray[np.float64]
) -> list[CandidatePredictions]:
    """PLS-DA for every component count of the group from one fit per context."""
    from nirsframe.models.plsda import PLSDA

    ctx = cache.contexts
    node = cache.node(key.steps, key.sources, key.merge)
    wanted = {v: n_components_of(v.model) for v in members}
    a_max = max(wanted.values())
    params = {k: p for k, p in members[0].model.params.items() if k != "n_components"}
    position = {int(r): i for i, r in enumerate(ctx.train)}
    oof = {v: np.full((ctx.train.shape[0], 1), np.nan) for v in members}
    final = {v: np.full((y.shape[0], 1), np.nan) for v in members}
    for c in [*ctx.fold_ids, FINAL]:
        x = node.matrix(c)
        rows, _ = model_rows(key.filters, x, y, ctx.fit_rows(c))
        x_fit, y_fit = training_data(key.augmentation, x, y, rows, c)
        model = PLSDA(n_components=a_max, **params).fit(x_fit, y_fit[:, 0])
        target_rows = np.arange(y.shape[0]) if c == FINAL else ctx.val_rows(c)
        for v, n in wanted.items():
            pred = np.asarray(model.predict(x[target_rows], n_components=n), dtype=np.float64)
            if c == FINAL:
                final[v][:, 0] = pred
            else:
                oof[v][[position[int(r)] for r in target_rows], 0] = pred
    flags = _final_flags(cache, key, y)
    return [CandidatePredictions(v, n, oof[v], final[v], flags) for v, n in wanted.items()]


def _sklearn_variant(
    cache: SourceCaches, v: Candidate, y: npt.NDArray[np.float64]
) -> CandidatePredictions:
    from nirsframe.models.sklearn_models import build_estimator

    ctx = cache.contexts
    node = cache.node(v.steps, v.sources, v.merge)
    key = GroupKey(
        v.steps, v.model.kind, "", v.y_processing, v.sources, v.merge, v.filters, v.augmentation
    )
    oof = np.full((ctx.train.shape[0], y.shape[1]), np.nan)
    position = {int(r): i for i, r in enumerate(ctx.train)}
    final = np.empty((y.shape[0], y.shape[1]))
    for c in [*ctx.fold_ids, FINAL]:
        x = node.matrix(c)
        rows, _ = model_rows(v.filters, x, y, ctx.fit_rows(c))
        x_fit, y_aug = training_data(v.augmentation, x, y, rows, c)
        y_ops, y_fit = _y_fit_transform(key.y_processing, y_aug)
        est = build_estimator(v.model.kind, v.model.params)
        est.fit(x_fit, y_fit[:, 0] if y_fit.shape[1] == 1 else y_fit)
        target = x if c == FINAL else x[ctx.val_rows(c)]
        pred = _y_inverse(
            y_ops, np.asarray(est.predict(target), dtype=np.float64).reshape(target.shape[0], -1)
        )
        if c == FINAL:
            final = pred
        else:
            oof[[position[int(r)] for r in ctx.val_rows(c)]] = pred
    return CandidatePredictions(v, None, oof, final, _final_flags(cache, key, y))
