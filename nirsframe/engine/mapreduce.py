"""The map side of a cross-validated PLS search over Lance: what one task does to its rows.

A *unit* is a contiguous row range of one Lance fragment. Both passes of
:func:`nirsframe.engine.search.search_lance` call the functions here once per unit, in this
process (``local``) or in a Ray task (``ray``), so both engines compute the same numbers from
the same rows in the same order:

* :func:`unit_crossproducts` applies stateless preprocessing chains to each batch and returns
  the unit's per-fold moments of the training rows (count, mean, centred cross-products:
  :class:`~nirskern.pls.FoldCrossProducts`), merged batch by batch, then on the driver unit by
  unit, in order, by :meth:`~nirskern.pls.FoldCrossProducts.merge`;
* :func:`unit_context_crossproducts` (chains with a fold-wise fitted step, :class:`MeanFitted`)
  does the same for each context's training rows after that context's own fitted step;
* :func:`unit_predictions` applies the chains again and predicts each row with the PLS model
  of its fold (out-of-fold) and with the final model.

Everything shipped to a task is plain data: the chains as declarative steps, fold codes and
targets as arrays, fitted steps as their mean spectra, models as coefficient arrays (never a
pickled estimator).

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> x, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 1))
>>> codes = np.array([0, 1, 0, 1, -1, -2])
>>> cp = partial_crossproducts(x, y, codes, np.array([0, 1]))
>>> cp.counts.tolist(), cp.n_total
([2, 2, 1], 5)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import lance
import numpy as np
from nirskern.pls import CentredMoments, FoldCrossProducts, pls_predict

from nirsframe.exceptions import DatasetError

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

    import numpy.typing as npt
    import pyarrow as pa

    from nirsframe.axis import SpectralAxis
    from nirsframe.pipeline.candidates import Step

__all__ = [
    "ChainModels",
    "MeanFitted",
    "SourceRef",
    "Unit",
    "context_transform",
    "partial_crossproducts",
    "training_codes",
    "unit_batches",
    "unit_context_crossproducts",
    "unit_crossproducts",
    "unit_predictions",
]

#: Fold code of a row that no model learns from (test rows, rows without a target).
NOT_TRAINING = -2

Chain = tuple["Step", ...]


@dataclass(frozen=True)
class SourceRef:
    """Where the spectra are: a Lance URI pinned to one version, and the spectra column."""

    uri: str
    version: int
    spectra_column: str
    axis: SpectralAxis
    storage_options: Mapping[str, str]

    def open(self) -> lance.LanceDataset:
        """The dataset at the pinned version."""
        return lance.dataset(
            self.uri, version=self.version, storage_options=dict(self.storage_options) or None
        )


@dataclass(frozen=True)
class Unit:
    """Rows ``start..stop-1`` of fragment ``fragment_id``; ``first`` is the global row index of
    ``start`` (rows are numbered fragment by fragment, in the order of ``get_fragments``)."""

    fragment_id: int
    start: int
    stop: int
    first: int


class MeanFitted(NamedTuple):
    """A chain ``prefix -> step -> suffix`` whose one fitted ``step`` learns only a mean.

    MSC and EMSC with the mean reference, and mean centring, learn the mean spectrum of the
    prefix's output over a context's training rows: a sum, known after the first pass.
    ``means[i]`` is that mean for context ``i`` (the folds in order, then the final context);
    ``axis`` is the prefix's output axis.
    """

    prefix: Chain
    step: Step
    suffix: Chain
    axis: SpectralAxis
    means: tuple[npt.NDArray[np.float64], ...]


class ChainModels(NamedTuple):
    """The PLS models of one preprocessing chain, restricted to the wanted component counts.

    ``folds[k]`` and ``final`` are ``(coef (A', P, T), x_mean (P,), y_mean (T,))``; ``fitted``
    holds the chain's fold-wise fitted step, if any.
    """

    chain: Chain
    fold_ids: tuple[int, ...]
    folds: tuple[tuple[npt.NDArray[np.float64], ...], ...]
    final: tuple[npt.NDArray[np.float64], ...]
    fitted: MeanFitted | None = None


def _spectra(batch: pa.RecordBatch, column: str, first: int) -> npt.NDArray[np.floating]:
    arr = batch.column(column)
    if arr.null_count:
        bad = first + int(np.flatnonzero(arr.is_null().to_numpy(zero_copy_only=False))[0])
        msg = f"spectra column {column!r} has a null spectrum (row {bad}); drop it first"
        raise DatasetError(msg)
    width = arr.type.list_size
    x: npt.NDArray[np.floating] = arr.flatten().to_numpy().reshape(len(arr), width)
    return x


def unit_batches(
    source: SourceRef, unit: Unit, batch_rows: int
) -> Iterator[tuple[int, npt.NDArray[np.floating]]]:
    """``(offset in the unit, spectra)`` of each batch of exactly ``batch_rows`` rows."""
    fragment = source.open().get_fragment(unit.fragment_id)
    if fragment is None:
        msg = f"fragment {unit.fragment_id} of {source.uri!r} v{source.version} is gone"
        raise DatasetError(msg)
    offset = 0
    for batch in fragment.to_batches(
        columns=[source.spectra_column],
        batch_size=batch_rows,
        offset=unit.start,
        limit=unit.stop - unit.start,
        strict_batch_size=True,
    ):
        yield offset, _spectra(batch, source.spectra_column, unit.first + offset)
        offset += batch.num_rows


def apply_chains(
    x: npt.NDArray[np.floating], axis: SpectralAxis, chains: Sequence[Chain]
) -> dict[Chain, npt.NDArray[np.floating]]:
    """Every chain applied to ``x``, each shared prefix computed once (stateless steps only).

    >>> import numpy as np
    >>> from nirsframe.axis import SpectralAxis
    >>> from nirsframe.pipeline.candidates import Step
    >>> out = apply_chains(np.ones((2, 5)), SpectralAxis.index(5), [(Step.of("snv"),)])
    >>> out[(Step.of("snv"),)].shape
    (2, 5)
    """
    values: dict[Chain, tuple[npt.NDArray[np.floating], SpectralAxis]] = {(): (x, axis)}

    def get(chain: Chain) -> tuple[npt.NDArray[np.floating], SpectralAxis]:
        if chain not in values:
            parent, parent_axis = get(chain[:-1])
            op = chain[-1].build(parent_axis)
            values[chain] = (op.transform(parent), op.output_axis(parent_axis))
        return values[chain]

    return {chain: get(chain)[0] for chain in chains}


def context_transform(
    px: npt.NDArray[np.floating], fitted: MeanFitted, context: int
) -> npt.NDArray[np.floating]:
    """The prefix's output ``px`` through context ``context``'s fitted step and the suffix.

    The step is fitted on one row, the context's mean spectrum: for these steps the same
    state as fitting on the context's training rows (the mean of one row is that row).
    """
    op = fitted.step.build(fitted.axis)
    op.fit(fitted.means[context][np.newaxis, :].astype(px.dtype))
    out = op.transform(px)
    axis = op.output_axis(fitted.axis)
    for step in fitted.suffix:
        nxt = step.build(axis)
        out, axis = nxt.transform(out), nxt.output_axis(axis)
    return out


def training_codes(codes: npt.NDArray[np.int64], fold_id: int | None) -> npt.NDArray[np.int64]:
    """``-1`` for the rows a context learns from (training rows outside fold ``fold_id``;
    every training row for the final context, ``None``), ``-2`` elsewhere.

    >>> training_codes(np.array([0, 1, -1, -2]), 0).tolist()
    [-2, -1, -1, -2]
    """
    learn = codes >= -1 if fold_id is None else (codes >= -1) & (codes != fold_id)
    return np.where(learn, -1, NOT_TRAINING)


def partial_crossproducts(
    x: npt.NDArray[np.floating],
    y: npt.NDArray[np.float64],
    codes: npt.NDArray[np.int64],
    fold_ids: npt.NDArray[np.int64],
) -> FoldCrossProducts:
    """The moments of the training rows of ``x`` (codes >= -1), group by group.

    Validation block ``k`` holds the rows whose code is ``fold_ids[k]``, the last group the rows
    coded -1; rows coded -2 count nowhere. Each group is centred about its own mean in float64,
    as in :func:`nirskern.pls.fold_crossproducts`.
    """
    groups = [
        CentredMoments.of(x[rows], y[rows])
        for rows in (np.flatnonzero(codes == code) for code in [*fold_ids.tolist(), -1])
    ]
    return FoldCrossProducts.from_groups(fold_ids, groups)


def _width(axis: SpectralAxis, steps: Chain) -> int:
    """Points at the end of ``steps`` applied to spectra on ``axis``."""
    for step in steps:
        axis = step.build(axis).output_axis(axis)
    return len(axis)


def unit_crossproducts(
    source: SourceRef,
    unit: Unit,
    chains: Sequence[Chain],
    codes: npt.NDArray[np.int64],
    y: npt.NDArray[np.float64],
    fold_ids: npt.NDArray[np.int64],
    batch_rows: int,
) -> list[FoldCrossProducts]:
    """Pass 1 on one unit: per chain, its batches' moments merged in batch order.

    ``codes`` and ``y`` cover the unit's rows (fold code, target).
    """
    out: list[FoldCrossProducts | None] = [None] * len(chains)
    for offset, x in unit_batches(source, unit, batch_rows):
        rows = slice(offset, offset + x.shape[0])
        if not np.any(codes[rows] >= -1):
            continue
        _check_finite(x, codes[rows] >= -1, unit.first + offset)
        values = apply_chains(x, source.axis, chains)
        for i, chain in enumerate(chains):
            part = partial_crossproducts(values[chain], y[rows], codes[rows], fold_ids)
            prev = out[i]
            out[i] = part if prev is None else prev.merge(part)
    return [
        cp if cp is not None else _empty(fold_ids, _width(source.axis, chain), y.shape[1])
        for cp, chain in zip(out, chains, strict=True)
    ]


def unit_context_crossproducts(
    source: SourceRef,
    unit: Unit,
    fitted: Sequence[MeanFitted],
    codes: npt.NDArray[np.int64],
    y: npt.NDArray[np.float64],
    fold_ids: npt.NDArray[np.int64],
    batch_rows: int,
) -> list[list[FoldCrossProducts]]:
    """The pass of chains with a fitted step, on one unit.

    Per chain and context (folds, then final): the moments of the context's training rows after
    its own fitted step (a single group: the rows always in training).
    """
    contexts: list[int | None] = [*(int(k) for k in fold_ids), None]
    none = np.zeros(0, dtype=np.int64)
    out: list[list[FoldCrossProducts | None]] = [[None] * len(contexts) for _ in fitted]
    for offset, x in unit_batches(source, unit, batch_rows):
        rows = slice(offset, offset + x.shape[0])
        if not np.any(codes[rows] >= -1):
            continue
        _check_finite(x, codes[rows] >= -1, unit.first + offset)
        values = apply_chains(x, source.axis, [f.prefix for f in fitted])
        for i, f in enumerate(fitted):
            for c, fold_id in enumerate(contexts):
                learn = training_codes(codes[rows], fold_id)
                keep = np.flatnonzero(learn == -1)
                if keep.size == 0:  # the whole batch is in this context's validation fold
                    continue
                xt = context_transform(values[f.prefix][keep], f, c)
                part = partial_crossproducts(xt, y[rows][keep], learn[keep], none)
                prev = out[i][c]
                out[i][c] = part if prev is None else prev.merge(part)
    return [
        [
            cp if cp is not None else _empty(none, _width(f.axis, (f.step, *f.suffix)), y.shape[1])
            for cp in per_context
        ]
        for f, per_context in zip(fitted, out, strict=True)
    ]


def _empty(fold_ids: npt.NDArray[np.int64], width: int, n_targets: int) -> FoldCrossProducts:
    none = np.full(0, NOT_TRAINING, dtype=np.int64)
    return partial_crossproducts(np.zeros((0, width)), np.zeros((0, n_targets)), none, fold_ids)


def _check_finite(x: npt.NDArray[np.floating], used: npt.NDArray[np.bool_], first: int) -> None:
    bad = used & ~np.isfinite(x).all(axis=1)
    if bad.any():
        msg = (
            f"spectra contain NaN or infinite values (first at source row "
            f"{first + int(np.flatnonzero(bad)[0])}); clean or drop them first"
        )
        raise DatasetError(msg)


def unit_predictions(
    source: SourceRef,
    unit: Unit,
    models: Sequence[ChainModels],
    codes: npt.NDArray[np.int64],
    usable: npt.NDArray[np.bool_],
    batch_rows: int,
) -> list[tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]]:
    """Pass 2 on one unit: per chain, ``(oof (A', n_val, T), final (A', n_usable, T))``.

    ``oof`` holds the unit's validated rows (code >= 0) in row order, each predicted by its
    fold's model; ``final`` every usable row (a target is known), predicted by the final model.
    """
    oof: list[list[npt.NDArray[np.float64]]] = [[] for _ in models]
    final: list[list[npt.NDArray[np.float64]]] = [[] for _ in models]
    for offset, x in unit_batches(source, unit, batch_rows):
        rows = slice(offset, offset + x.shape[0])
        code, keep = codes[rows], usable[rows]
        if not keep.any():
            continue
        _check_finite(x, keep, unit.first + offset)
        values = apply_chains(x, source.axis, [_read_chain(m) for m in models])
        for i, m in enumerate(models):
            final[i].append(pls_predict(_features(values, m, keep, len(m.folds)), *m.final))
            # Rows in order: each fold predicts its rows, then they are put back in place.
            val = np.flatnonzero(code >= 0)
            part = np.empty((m.final[0].shape[0], val.size, m.final[0].shape[2]))
            for c, (k, fold_model) in enumerate(zip(m.fold_ids, m.folds, strict=True)):
                hit = code[val] == k
                if hit.any():
                    part[:, hit] = pls_predict(_features(values, m, val[hit], c), *fold_model)
            oof[i].append(part)
    return [(_cat(o, m), _cat(f, m)) for o, f, m in zip(oof, final, models, strict=True)]


def _read_chain(m: ChainModels) -> Chain:
    """What pass 2 computes for every row: the chain, or the prefix of its fitted step."""
    return m.chain if m.fitted is None else m.fitted.prefix


def _features(
    values: Mapping[Chain, npt.NDArray[np.floating]],
    m: ChainModels,
    rows: npt.NDArray[np.bool_] | npt.NDArray[np.intp],
    context: int,
) -> npt.NDArray[np.floating]:
    """The model input of ``rows`` in ``context`` (fold index, or the number of folds: final)."""
    if m.fitted is None:
        return values[m.chain][rows]
    return context_transform(values[m.fitted.prefix][rows], m.fitted, context)


def _cat(parts: list[npt.NDArray[np.float64]], m: ChainModels) -> npt.NDArray[np.float64]:
    if parts:
        return np.concatenate(parts, axis=1)
    return np.zeros((m.final[0].shape[0], 0, m.final[0].shape[2]))
