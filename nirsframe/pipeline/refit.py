"""The final fit of a search's best model, as the workspace stores and replays it.

Every run kind refits exactly what the search's final context fitted, on every training row:

* a plain variant: its chain (:class:`~nirsframe.workspace.FittedChain`);
* multi-source / view variants and variants with ``y_processing``: a model node (one chain per
  input, merged, the model, the target transforms);
* a stacked run: its best-ranked model; the stack itself is its bases (nested stacks
  recursively) and the meta-model on the bases' inner out-of-fold predictions over the training
  rows (the nested CV of :func:`~nirsframe.pipeline.stacking.stack`'s final model);
* a tuned model: the chain with the parameters selected on all training rows;
* a separation: one model node per value of the column.

>>> fit_final  # doctest: +ELLIPSIS
<function fit_final at ...>
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from nirsframe._bridge import series_to_matrix
from nirsframe.exceptions import SpecError
from nirsframe.models.pls import PLS
from nirsframe.models.plsda import PLSDA
from nirsframe.models.sklearn_models import build_estimator
from nirsframe.pipeline.candidates import ModelChoice, Stack, stack_from_spec
from nirsframe.pipeline.execute import resolve_sources, split_rows
from nirsframe.pipeline.search import model_rows, n_components_of, training_data
from nirsframe.pipeline.spec import expand
from nirsframe.pipeline.stacking import inner_and_outer
from nirsframe.pipeline.tree import FINAL, fit_chain
from nirsframe.workspace.chain import FittedChain
from nirsframe.workspace.graph import (
    FittedGraph,
    ModelNode,
    SeparateNode,
    SourceInput,
    StackNode,
    TargetStep,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy.typing as npt

    from nirsframe.dataset import SpectralDataset
    from nirsframe.pipeline.candidates import Candidate
    from nirsframe.pipeline.result import SearchResult
    from nirsframe.pipeline.spec import Pipeline

__all__ = ["fit_final", "fit_model", "fit_node", "fit_stack"]


def fit_model(
    choice: ModelChoice, x: npt.NDArray[Any], y: npt.NDArray[np.float64], n_components: int | None
) -> Any:
    """A fresh model of ``choice`` fitted on ``(x, y)`` (PLS / PLS-DA with ``n_components``)."""
    if choice.kind == "pls":
        return PLS(n_components=n_components or 10).fit(x, y)
    if choice.kind == "plsda":
        params = {k: v for k, v in choice.params.items() if k != "n_components"}
        return PLSDA(n_components=n_components or 10, **params).fit(x, y)
    return build_estimator(choice.kind, choice.params).fit(x, y)


def fit_node(
    dataset: SpectralDataset,
    candidate: Candidate,
    target: str,
    n_components: int | None = None,
    *,
    train_values: Sequence[str] | None = None,
    test_values: Sequence[str] | None = None,
) -> ModelNode:
    """``candidate`` fitted on every training row of ``dataset``, as the search's final context.

    Each input chain learns from the training rows; the model learns from the rows left after
    the ``exclude`` filters plus the augmented copies, on targets passed through the
    ``y_processing`` transforms (which PLS-DA ignores, as in the search).
    """
    resolved = resolve_sources(dataset, [candidate])[0]
    chains = [steps for _, steps in resolved.sources] or [resolved.steps]
    columns = [col for col, _ in resolved.sources] or [dataset.spectra_column]
    # A model reading only the primary column reads the data's primary column at replay (as a
    # FittedChain does); a multi-source model reads its columns by name.
    primary = set(columns) == {dataset.spectra_column}
    cols = [*columns, target, dataset.roles.split]
    df = dataset.frame.select(list(dict.fromkeys(c for c in cols if c))).collect()
    df = df.filter(pl.col(target).is_not_null() & pl.col(target).cast(pl.Float64).is_not_nan())
    train, _ = split_rows(
        df, dataset.roles.split, train_values=train_values, test_values=test_values
    )
    y = df[target].cast(pl.Float64).to_numpy()[train]
    inputs, mats = [], []
    for steps, column in zip(chains, columns, strict=True):
        x, _ = series_to_matrix(df[column])
        axis = dataset.axes[column]
        ops, xt, _ = fit_chain(steps, np.ascontiguousarray(x[train]), y, axis)
        chain = FittedChain.from_estimators(ops)
        inputs.append(SourceInput(column, axis, chain, primary=primary))
        mats.append(xt)
    # The search's merges (nirsframe.pipeline.tree._merger), so the model sees the same bits.
    if resolved.merge == "concat":
        xt = np.ascontiguousarray(np.hstack(mats))
    else:
        xt = np.mean(np.stack(mats), axis=0)
    y2 = y.reshape(-1, 1)
    rows, _ = model_rows(resolved.filters, xt, y2, np.arange(xt.shape[0]))
    xt, y2 = training_data(resolved.augmentation, xt, y2, rows, FINAL)
    targets = []
    if resolved.model.kind != "plsda":
        for step in resolved.y_processing:
            t = step.build().fit(y2)
            y2 = t.transform(y2)
            shift, scale = np.asarray(t.shift_).tolist(), np.asarray(t.scale_).tolist()
            targets.append(TargetStep(t.method, tuple(shift), tuple(scale)))
    if n_components is None and resolved.model.kind in ("pls", "plsda"):
        n_components = n_components_of(resolved.model)
    model = fit_model(resolved.model, xt, y2[:, 0], n_components)
    head = FittedChain.from_estimators([], model)
    return ModelNode(tuple(inputs), head, resolved.merge, tuple(targets))


def fit_final(
    result: SearchResult,
    dataset: SpectralDataset,
    spec: Pipeline,
    *,
    splitter: Any,
    train_values: Sequence[str] | None = None,
    test_values: Sequence[str] | None = None,
) -> FittedChain | FittedGraph:
    """The best model of ``result`` refit on all training rows: a chain for a plain variant,
    else a :class:`~nirsframe.workspace.graph.FittedGraph` of the run's kind."""
    kw: dict[str, Any] = {"train_values": train_values, "test_values": test_values}
    target = result.target
    extra = result.extra
    if "tuned_final" in extra:
        base = result.variants[0]
        params = dict(extra["tuned_final"])
        tuned = replace(
            base, model=ModelChoice.of(base.model.kind, {**base.model.params, **params})
        )
        return FittedGraph("tuned", fit_node(dataset, tuned, target, **kw), {"params": params})
    if "separated_by" in extra:
        return FittedGraph("separated", _separate(dataset, result, extra["separated_by"], kw))
    best: Candidate | Stack = (
        result.best_variant if "stack" not in extra else _stack_best(result, spec)
    )
    if isinstance(best, Stack):
        stacked = fit_stack(dataset, best.base, best.meta, target=target, splitter=splitter, **kw)
        return FittedGraph("stack", stacked)
    node = fit_node(dataset, best, target, result.best["n_components"], **kw)
    chain = node.as_chain()
    if chain is not None:
        return chain
    if best.sources:
        views = all(i.primary for i in node.inputs)
        return FittedGraph("views" if views else "sources", node)
    return FittedGraph("y_processing", node)


def _stack_best(result: SearchResult, spec: Pipeline) -> Candidate | Stack:
    """The best-ranked model of a stacked run: the stack (variant 0), a base candidate, or a
    nested stack (variants ``1..B`` are the bases in order)."""
    stacks = [stack_from_spec(v) for v in expand(spec)]
    if len(stacks) != 1 or stacks[0] is None:
        msg = "a stacked run's spec must expand to that single stack"
        raise SpecError(msg)
    base, meta = stacks[0]
    variant = int(result.best["variant"])
    return Stack(tuple(base), meta) if variant == 0 else base[variant - 1]


def _separate(
    dataset: SpectralDataset, result: SearchResult, column: str, kw: dict[str, Any]
) -> SeparateNode:
    """One node per value of ``column`` (as :func:`~nirsframe.pipeline.separation.separate`)."""
    best = result.best_variant
    values = dataset.frame.select(pl.col(column).unique(maintain_order=True)).collect()[column]
    branches = {}
    for value in values.to_list():
        sub = dataset.with_frame(dataset.frame.filter(pl.col(column) == value))
        branches[str(value)] = fit_node(sub, best, result.target, **kw)
    return SeparateNode(column, branches)


def fit_stack(
    dataset: SpectralDataset,
    base: Sequence[Candidate | Stack],
    meta: ModelChoice,
    *,
    target: str,
    splitter: Any,
    train_values: Sequence[str] | None = None,
    test_values: Sequence[str] | None = None,
) -> StackNode:
    """The final model of :func:`~nirsframe.pipeline.stacking.stack`: bases refit on the
    training rows (a nested stack recursively), the meta-model fitted on their inner out-of-fold
    predictions over those rows."""
    kw: dict[str, Any] = {"train_values": train_values, "test_values": test_values}
    roles = dataset.roles
    df = dataset.frame.select([c for c in (roles.id, target, roles.split) if c]).collect()
    usable = (df[target].is_not_null() & df[target].cast(pl.Float64).is_not_nan()).to_numpy()
    ids = df[roles.id].cast(pl.String).to_numpy() if roles.id else np.arange(df.height).astype(str)
    y = df[target].cast(pl.Float64).to_numpy()
    train_all, test_all = split_rows(df, roles.split, **kw)
    train, test = train_all[usable[train_all]], test_all[usable[test_all]]
    inner, _ = inner_and_outer(
        dataset,
        base,
        target=target,
        splitter=splitter,
        fit_rows=train,
        predict_rows=test,
        ids=ids,
    )
    model = build_estimator(meta.kind, meta.params).fit(inner, y[train])
    bases = tuple(
        fit_stack(dataset, c.base, c.meta, target=target, splitter=splitter, **kw)
        if isinstance(c, Stack)
        else fit_node(dataset, c, target, **kw)
        for c in base
    )
    return StackNode(bases, FittedChain.from_estimators([], model))
