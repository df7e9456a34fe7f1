"""The shared-prefix plan: variants that start with the same steps compute them once.

Stateless steps before the first fitted step run once on every row. From the first fitted step
on, a node holds one matrix per fitting context (each cross-validation fold, fitted on that fold's
training rows only, plus the final context fitted on all training rows): no step ever sees the
rows it is validated on.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from nirskern.pls import FoldCrossProducts, fold_crossproducts

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy.typing as npt

    from nirsframe.axis import SpectralAxis
    from nirsframe.operators._base import SpectralOperator
    from nirsframe.pipeline.candidates import Step

FINAL = -1  # the context fitted on all training rows


@dataclass
class Contexts:
    """Where the rows are: training rows, their fold ids, and the folds."""

    train: npt.NDArray[np.int64]  # indices (into all rows) of training rows
    folds: npt.NDArray[np.int64]  # fold id of each training row (-1: never validated)

    @property
    def fold_ids(self) -> list[int]:
        """The validation folds, sorted."""
        return [int(k) for k in np.unique(self.folds[self.folds >= 0])]

    def fit_rows(self, context: int) -> npt.NDArray[np.int64]:
        """Rows a step or model of ``context`` may learn from."""
        rows: npt.NDArray[np.int64] = (
            self.train if context == FINAL else self.train[self.folds != context]
        )
        return rows

    def val_rows(self, context: int) -> npt.NDArray[np.int64]:
        """Rows ``context`` is validated on (none for the final context)."""
        rows: npt.NDArray[np.int64] = self.train[self.folds == context]
        return rows


@dataclass
class NodeValue:
    """The output of a chain prefix: one matrix for all rows, or one per context.

    Per-context outputs of a fitted step are not kept: the node holds each context's fitted
    operator (a few learned arrays) and recomputes ``matrix(context)`` from its parent when
    asked, so a search holds at most one context's matrices at a time.
    """

    axis: SpectralAxis
    shared: npt.NDArray[np.floating] | None = None
    per_context: dict[int, npt.NDArray[np.floating]] = field(default_factory=dict)
    parent: NodeValue | None = None
    fitted: dict[int, SpectralOperator] = field(default_factory=dict)

    def matrix(self, context: int) -> npt.NDArray[np.floating]:
        """The matrix seen by ``context``."""
        if self.shared is not None:
            return self.shared
        if context in self.per_context:
            return self.per_context[context]
        if self.parent is None:  # pragma: no cover - nodes are built with one or the other
            msg = f"context {context} has no matrix"
            raise KeyError(msg)
        out: npt.NDArray[np.floating] = self.fitted[context].transform(self.parent.matrix(context))
        return out


class PrefixCache:
    """Computes chain prefixes once and counts how often each step ran.

    >>> from nirsframe.axis import SpectralAxis
    >>> from nirsframe.pipeline.candidates import Step
    >>> x = np.random.default_rng(0).normal(size=(6, 20))
    >>> ctx = Contexts(np.arange(6), np.arange(6) % 2)
    >>> cache = PrefixCache(x, SpectralAxis.index(20), ctx)
    >>> a = cache.get((Step.of("snv"), Step.of("detrend")))
    >>> b = cache.get((Step.of("snv"), Step.of("savgol", {"window_length": 5})))
    >>> cache.applications["snv"]
    1
    """

    def __init__(
        self,
        x: npt.NDArray[np.floating],
        axis: SpectralAxis,
        contexts: Contexts,
        y: npt.NDArray[np.float64] | None = None,
    ) -> None:
        self.contexts = contexts
        self.y = y
        self.applications: Counter[str] = Counter()
        self.passes = 0  # cross-product passes over the data
        self._values: dict[tuple[Step, ...], NodeValue] = {(): NodeValue(axis, shared=x)}
        self._crossproducts: dict[tuple[Step, ...], FoldCrossProducts] = {}

    def get(self, chain: tuple[Step, ...]) -> NodeValue:
        """The value of ``chain`` (computing missing prefixes, each once)."""
        if chain in self._values:
            return self._values[chain]
        parent = self.get(chain[:-1])
        value = self._apply(parent, chain[-1])
        self._values[chain] = value
        return value

    def retain(self, chains: list[tuple[Step, ...]]) -> None:
        """Forget computed matrices that no chain in ``chains`` still needs (their prefixes are
        kept; cross-products, which are small, are kept too). Bounds memory to the chains in
        flight instead of every node of the search."""
        needed = {chain[:i] for chain in chains for i in range(len(chain) + 1)}
        for key in [k for k in self._values if k and k not in needed]:
            del self._values[key]

    def crossproducts(self, chain: tuple[Step, ...]) -> FoldCrossProducts:
        """Per-fold PLS cross-products of a stateless chain's training rows, computed once.

        A chain ending in linear steps (Savitzky-Golay, detrend...) reuses the cross-products of
        the chain without them, mapped through the steps' matrix ``D`` (``D·G·Dᵀ``): one pass
        over the data serves every linear variant built on the same prefix.
        """
        if chain in self._crossproducts:
            return self._crossproducts[chain]
        node = self.get(chain)
        if node.shared is None or self.y is None:
            msg = "cross-products exist only for stateless chains with a target"
            raise ValueError(msg)
        base = len(chain)
        while base > 0 and self._is_linear(chain[: base - 1], chain[base - 1]):
            base -= 1
        if base < len(chain):
            # The linear suffix's own kernels map the cross-products: M -> M Dᵀ row by row.
            ops = [chain[i].build(self.get(chain[:i]).axis) for i in range(base, len(chain))]

            def apply(m: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
                out: npt.NDArray[np.floating] = np.ascontiguousarray(m, dtype=np.float64)
                for op in ops:
                    out = op.transform(out)
                return np.asarray(out, dtype=np.float64)

            cp = self.crossproducts(chain[:base]).transform_rows(apply)
        else:
            train = self.contexts.train
            cp = fold_crossproducts(node.shared[train], self.y[train], self.contexts.folds)
            self.passes += 1
        self._crossproducts[chain] = cp
        return cp

    def _is_linear(self, prefix: tuple[Step, ...], step: Step) -> bool:
        return step.build(self.get(prefix).axis).linear

    def _apply(self, parent: NodeValue, step: Step) -> NodeValue:
        probe = step.build(parent.axis)
        self.applications[step.op] += 1
        if probe.kind == "stateless" and parent.shared is not None:
            return NodeValue(probe.output_axis(parent.axis), shared=probe.transform(parent.shared))
        contexts = [*self.contexts.fold_ids, FINAL]
        value = NodeValue(parent.axis, parent=parent)
        for ctx in contexts:
            op = step.build(parent.axis)
            if op.kind == "stateless":
                op.fit(parent.matrix(ctx)[:1])
            else:
                rows = self.contexts.fit_rows(ctx)
                y = self.y[rows] if self.y is not None else None
                op.fit(parent.matrix(ctx)[rows], y)
            value.fitted[ctx] = op
        # A selection's output axis is what it learned: the final context's (each fold's
        # model sees the points its own fold selected).
        value.axis = value.fitted[FINAL].output_axis(parent.axis)
        return value


def fit_chain(
    steps: tuple[Step, ...],
    x: npt.NDArray[np.floating],
    y: npt.NDArray[np.float64] | None,
    axis: SpectralAxis,
) -> tuple[list[SpectralOperator], npt.NDArray[np.floating], SpectralAxis]:
    """Fit ``steps`` in order on ``x`` (training rows); return the fitted operators, the
    transformed matrix and the output axis."""
    ops = []
    for step in steps:
        op = step.build(axis)
        x = op.fit(x, y).transform(x)
        axis = op.output_axis(axis)
        ops.append(op)
    return ops, x, axis


Sources = tuple[tuple[str, tuple["Step", ...]], ...]


class SourceCaches:
    """One :class:`PrefixCache` per spectra column, and the merged inputs of multi-source models.

    Single-source candidates go straight to the primary column's cache. A multi-source
    candidate's input is the concatenation (or the average, for equal widths) of its per-source
    chains, built per context and computed once per distinct combination.
    """

    def __init__(self, caches: dict[str, PrefixCache], primary: str) -> None:
        self.caches = caches
        self.primary = caches[primary]
        self.primary_column = primary
        self.contexts = self.primary.contexts
        self.y = self.primary.y
        self._merged: dict[tuple[Sources, str], NodeValue] = {}
        self._merged_cp: dict[tuple[Sources, str], FoldCrossProducts] = {}
        self._own_passes = 0

    @property
    def applications(self) -> Counter[str]:
        """Step applications over every source."""
        total: Counter[str] = Counter()
        for cache in self.caches.values():
            total.update(cache.applications)
        return total

    @property
    def passes(self) -> int:
        """Cross-product passes over the data, every source included."""
        return self._own_passes + sum(c.passes for c in self.caches.values())

    def retain(self, pending: list[tuple[tuple[Step, ...], Sources, str]]) -> None:
        """Forget matrices no pending ``(steps, sources, merge)`` input still needs."""
        per_column: dict[str, list[tuple[Step, ...]]] = {c: [] for c in self.caches}
        for steps, sources, _ in pending:
            if sources:
                for col, chain in sources:
                    per_column[col].append(chain)
            else:
                per_column[self.primary_column].append(steps)
        for col, cache in self.caches.items():
            cache.retain(per_column[col])
        keep = {(src, merge) for _, src, merge in pending if src}
        for key in [k for k in self._merged if k not in keep]:
            del self._merged[key]

    def _cache(self, column: str) -> PrefixCache:
        if column not in self.caches:
            msg = f"no spectra column {column!r}; sources: {sorted(self.caches)}"
            raise KeyError(msg)
        return self.caches[column]

    def node(
        self, steps: tuple[Step, ...], sources: Sources = (), merge: str = "concat"
    ) -> NodeValue:
        """The model input of a candidate (per context when any source chain is fitted)."""
        if not sources:
            return self.primary.get(steps)
        key = (sources, merge)
        if key in self._merged:
            return self._merged[key]
        parts = [self._cache(col).get(chain) for col, chain in sources]
        join = _merger(merge, [p.axis for p in parts])
        from nirsframe.axis import SpectralAxis

        width = sum(len(p.axis) for p in parts) if merge == "concat" else len(parts[0].axis)
        axis = SpectralAxis.index(width)
        if all(p.shared is not None for p in parts):
            value = NodeValue(axis, shared=join([p.shared for p in parts]))  # type: ignore[misc]
        else:
            value = NodeValue(axis)
            for ctx in [*self.contexts.fold_ids, FINAL]:
                value.per_context[ctx] = join([p.matrix(ctx) for p in parts])
        self._merged[key] = value
        return value

    def crossproducts(
        self, steps: tuple[Step, ...], sources: Sources = (), merge: str = "concat"
    ) -> FoldCrossProducts:
        """Per-fold cross-products of a stateless candidate's input, computed once."""
        if not sources:
            return self.primary.crossproducts(steps)
        key = (sources, merge)
        if key not in self._merged_cp:
            node = self.node(steps, sources, merge)
            if node.shared is None or self.y is None:
                msg = "cross-products exist only for stateless inputs with a target"
                raise ValueError(msg)
            train = self.contexts.train
            self._merged_cp[key] = fold_crossproducts(
                node.shared[train], self.y[train], self.contexts.folds
            )
            self._own_passes += 1
        return self._merged_cp[key]


def _merger(
    merge: str, axes: list[SpectralAxis]
) -> Callable[[list[npt.NDArray[np.floating]]], npt.NDArray[np.floating]]:
    if merge == "concat":
        return lambda mats: np.ascontiguousarray(np.hstack(mats))
    if merge == "average":
        widths = {len(a) for a in axes}
        if len(widths) != 1:
            msg = f"merge_sources 'average' needs sources of equal width; got {sorted(widths)}"
            raise ValueError(msg)
        return lambda mats: np.mean(np.stack(mats), axis=0)
    msg = f"merge_sources must be 'concat' or 'average'; got {merge!r}"
    raise ValueError(msg)
