"""``nf.run(spec, "spectra.lance", engine=...)``: a cross-validated PLS search as map-reduce.

PLS needs the spectra only through sums over rows: each fold's row count, means and centred
``XᵀX`` and ``XᵀY`` (:class:`~nirskern.pls.FoldCrossProducts`). The search therefore runs in
two passes over a Lance source, each a map over *units* (row ranges of fragments) executed in
this process (``local``) or as Ray tasks (``ray``), with the same functions
(:mod:`nirsframe.engine.mapreduce`):

1. **Cross-products.** Each unit applies the stateless preprocessing chains to its batches and
   returns per-fold moments; the driver merges them in unit order (so the result does not
   depend on scheduling) and fits, from the merged PxP matrices alone, one PLS model per fold
   (pooled from the other folds' moments) and the final model, for every component count.
   Chains ending in linear filters (Savitzky-Golay, detrend...) reuse the cross-products of
   their prefix mapped through the filter, as the in-memory search does.
2. **Scores.** Each unit predicts its rows: out-of-fold with its fold's model, and with the
   final model; the driver assembles them and ranks the variants like the in-memory search.

A fitted step that learns only a mean spectrum (``msc`` / ``emsc`` with the mean reference,
``mean_center``) adds a pass between the two: each fold's and the final context's mean of the
step's input is known from pass 1's sums, so every context fits its own step and sums its own
training rows after it (K + 1 sums per such chain), as the in-memory search fits per fold.

The driver reads only the small columns (ids, target, split, groups): folds come from them, so
splitters that need the spectra (Kennard-Stone, SPXY) are refused, as are other fitted steps
(autoscale, so ``pls: {scale: true}``...), non-PLS models, target processing, filters,
augmentation, multi-source, stacking, tuning and separation: :class:`UnsupportedOnEngineError`
names the culprit; run those in memory. Both engines give bit-identical results; both match the
in-memory ``nf.run`` to rounding.

Examples
--------
>>> import nirsframe as nf
>>> res = nf.run("pipeline.yaml", "spectra.lance", engine="ray")  # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections import Counter, deque
from dataclasses import dataclass
from functools import reduce
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np
import polars as pl
from nirskern.pls import FoldCrossProducts, pls_fit_crossproducts

from nirsframe.engine.mapreduce import (
    NOT_TRAINING,
    ChainModels,
    MeanFitted,
    SourceRef,
    Unit,
    unit_context_crossproducts,
    unit_crossproducts,
    unit_predictions,
)
from nirsframe.exceptions import DatasetError, InvalidParameterError, SpecError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence
    from pathlib import Path

    import lance
    import numpy.typing as npt

    from nirsframe.axis import SpectralAxis
    from nirsframe.dataset import SpectralDataset
    from nirsframe.engine import EngineName
    from nirsframe.engine.mapreduce import Chain
    from nirsframe.pipeline.candidates import Candidate
    from nirsframe.pipeline.result import SearchResult
    from nirsframe.pipeline.spec import Pipeline
    from nirsframe.validation.splitters import Splitter
    from nirsframe.workspace import Workspace

    MapFn = Callable[[Callable[..., Any], Mapping[str, Any], list[dict[str, Any]]], Iterator[Any]]

__all__ = [
    "DEFAULT_UNIT_ROWS",
    "MAX_FOLD_BYTES",
    "UnsupportedOnEngineError",
    "run_streamed",
    "search_lance",
]

#: Rows per unit (one task): the partition both engines use, so their sums agree bit for bit.
DEFAULT_UNIT_ROWS = 65536
#: Bound on one chain's per-fold cross-products ((K + 1) P x P float64 matrices).
MAX_FOLD_BYTES = 1 << 30
#: Fitted steps whose state is the mean spectrum of their input (a sum: known after pass 1).
_MEAN_FITTED = ("msc", "emsc", "mean_center")
#: Splitters that need the spectra to assign folds.
_SPECTRA_SPLITTERS = ("kennard_stone", "spxy")


class UnsupportedOnEngineError(SpecError):
    """A pipeline element the streamed (local/ray) search does not support; run it in memory."""


@dataclass
class _Rows:
    """The driver's view of the source: small columns, row masks, folds."""

    units: list[Unit]
    usable: npt.NDArray[np.bool_]  # per source row: the target is known
    codes: npt.NDArray[np.int64]  # per source row: fold id, -1 always training, -2 not training
    y: npt.NDArray[np.float64]  # per source row (n_rows, 1), NaN where unknown
    ids: npt.NDArray[Any]  # per usable row
    train: npt.NDArray[np.int64]  # usable-row indices
    test: npt.NDArray[np.int64]
    folds: npt.NDArray[np.int64]  # per training row
    samples: pl.DataFrame | None  # sample_id -> repetition group, when there is one
    rows_without_target: int


def _refuse(what: str) -> NoReturn:
    msg = (
        f"{what}: the streamed search (engine='local'/'ray') handles stateless preprocessing "
        "and PLS regression; leave engine unset to run this pipeline in memory"
    )
    raise UnsupportedOnEngineError(msg)


def fitted_position(chain: Chain, axis: SpectralAxis) -> int | None:
    """Index of the chain's fold-wise fitted step (``None`` when every step is stateless).

    One fitted step is supported when it learns only a mean spectrum (``msc`` and ``emsc``
    with the mean reference, ``mean_center``); any other, or a second one, is refused.
    """
    found = None
    for i, step in enumerate(chain):
        op = step.build(axis)
        if op.kind != "stateless":
            if found is not None:
                _refuse(f"step {step.label!r} is a second fitted step in the chain")
            if step.op not in _MEAN_FITTED or step.params.get("reference", "mean") != "mean":
                _refuse(
                    f"step {step.label!r} is fitted on the training rows (fitted steps learnt "
                    f"from a mean only: {', '.join(_MEAN_FITTED)} with the mean reference)"
                )
            found = i
        axis = op.output_axis(axis)
    return found


def check_candidates(candidates: Sequence[Candidate], axis: SpectralAxis) -> None:
    """Refuse, naming it, the first pipeline element the streamed search cannot run."""
    for c in candidates:
        if c.model.kind != "pls":
            _refuse(f"model {c.model.kind!r} is not PLS")
        for name, value in (
            ("y_processing", c.y_processing),
            ("sources", c.sources),
            ("filters", c.filters),
            ("augmentation", c.augmentation),
        ):
            if value:
                _refuse(f"{name} is not supported")
        fitted_position(c.steps, axis)


def candidates_of(spec: Pipeline) -> list[Candidate]:
    """The plain candidates of ``spec``; stacking, tuning and separation are refused."""
    from nirsframe.pipeline.candidates import finetune_from_spec, from_spec, stack_from_spec
    from nirsframe.pipeline.spec import expand

    if spec.separate_by is not None:
        _refuse("separate_by is not supported")
    variants = expand(spec)
    for v in variants:
        if finetune_from_spec(v) is not None:
            _refuse("finetune is not supported")
        if stack_from_spec(v) is not None:
            _refuse("stacking is not supported")
    return [from_spec(v) for v in variants]


def _units(ds: lance.LanceDataset, unit_rows: int) -> list[Unit]:
    units, first = [], 0
    for fragment in ds.get_fragments():
        n = int(fragment.count_rows())
        for start in range(0, n, unit_rows):
            stop = min(n, start + unit_rows)
            units.append(Unit(int(fragment.fragment_id), start, stop, first + start))
        first += n
    return units


def _read_rows(
    ds: lance.LanceDataset,
    dataset: SpectralDataset,
    target: str,
    splitter: Splitter,
    units: list[Unit],
    train_values: Sequence[str] | None,
    test_values: Sequence[str] | None,
) -> _Rows:
    """Small columns, fragment by fragment (the row order of the units); folds from them."""
    from nirsframe.pipeline.execute import sample_folds, split_rows

    roles = dataset.roles
    group_column = getattr(splitter, "column", None) or roles.group
    rep = roles.repetition
    cols = list(dict.fromkeys(c for c in (roles.id, target, roles.split, group_column, rep) if c))
    names = dataset.frame.collect_schema().names()
    if target not in names:
        msg = f"target {target!r} is not a column of the source; columns: {names}"
        raise DatasetError(msg)
    parts = [pl.from_arrow(f.to_table(columns=cols)) for f in ds.get_fragments()]
    df = pl.concat([p for p in parts if isinstance(p, pl.DataFrame)], how="vertical")
    y_all = df[target].cast(pl.Float64).fill_null(np.nan).to_numpy()
    usable = np.isfinite(y_all)
    kept = df.filter(pl.Series(usable))
    if kept.height < 3:
        msg = f"target {target!r} has {kept.height} usable rows; a search needs at least 3"
        raise DatasetError(msg)
    ids = (
        kept[roles.id].cast(pl.String).to_numpy()
        if roles.id
        else np.arange(kept.height).astype(str)
    )
    y = y_all[usable]
    train, test = split_rows(kept, roles.split, train_values=train_values, test_values=test_values)
    groups = kept[group_column].to_numpy()[train] if group_column else None
    no_x = np.zeros((train.shape[0], 0))  # folds are assigned without the spectra
    if rep is None:
        folds = np.asarray(
            splitter.folds(train.shape[0], y=y[train], x=no_x, groups=groups), dtype=np.int64
        )
    else:
        folds = sample_folds(splitter, kept[rep].to_numpy()[train], no_x, y[train], groups)
    codes = np.full(df.height, NOT_TRAINING, dtype=np.int64)
    codes[np.flatnonzero(usable)[train]] = folds
    samples = None
    if rep is not None and roles.id:
        samples = kept.select(
            pl.col(roles.id).cast(pl.String).alias("sample_id"), pl.col(rep).alias("_rep")
        )
    return _Rows(
        units=units,
        usable=usable,
        codes=codes,
        y=y_all.reshape(-1, 1),
        ids=ids,
        train=train,
        test=test,
        folds=folds,
        samples=samples,
        rows_without_target=int(df.height - kept.height),
    )


def _axes(chain: Chain, axis: SpectralAxis) -> list[SpectralAxis]:
    """The axis before each step of ``chain`` and after the last one."""
    axes = [axis]
    for step in chain:
        axes.append(step.build(axes[-1]).output_axis(axes[-1]))
    return axes


def _linear_base(chain: Chain, axis: SpectralAxis) -> int:
    """Length of ``chain`` without its trailing linear steps (their cross-products are mapped)."""
    axes = _axes(chain, axis)
    base = len(chain)
    while base > 0 and chain[base - 1].build(axes[base - 1]).linear:
        base -= 1
    return base


def _map_suffix(
    cp: FoldCrossProducts, chain: Chain, base: int, axis: SpectralAxis
) -> FoldCrossProducts:
    """``cp`` of ``chain[:base]`` mapped through the linear steps ``chain[base:]`` (``D G Dᵀ``),
    each applied by its own kernel row by row, as the in-memory search does."""
    if base == len(chain):
        return cp
    axes = _axes(chain, axis)
    ops = [chain[i].build(axes[i]) for i in range(base, len(chain))]

    def apply(m: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        out: npt.NDArray[np.floating] = np.ascontiguousarray(m, dtype=np.float64)
        for op in ops:
            out = op.transform(out)
        return np.asarray(out, dtype=np.float64)

    return cp.transform_rows(apply)


def _local_map(
    fn: Callable[..., Any], shared: Mapping[str, Any], calls: list[dict[str, Any]]
) -> Iterator[Any]:
    """``fn(**shared, **call)`` for every call, here, in order."""
    for call in calls:
        yield fn(**shared, **call)


def _ray_mapper(ray_address: str | None) -> MapFn:
    """The same map as Ray tasks; results come back in call order, however the tasks ran."""
    from nirsframe.engine.ray import import_ray

    ray, _ = import_ray()
    if not ray.is_initialized():
        ray.init(address=ray_address)

    # Tasks in flight: enough to keep every CPU busy, few enough that the partial results
    # waiting for their turn in the ordered reduction stay a bounded amount of memory.
    window = max(2, 2 * int(ray.cluster_resources().get("CPU", 1)))

    def run(
        fn: Callable[..., Any], shared: Mapping[str, Any], calls: list[dict[str, Any]]
    ) -> Iterator[Any]:
        task = ray.remote(fn)
        # What every call shares travels to the object store once (Ray resolves the refs).
        refs = {k: ray.put(v) for k, v in shared.items()}
        pending: deque[Any] = deque()
        for call in calls:
            pending.append(task.remote(**refs, **call))
            if len(pending) >= window:
                yield ray.get(pending.popleft())
        while pending:
            yield ray.get(pending.popleft())

    return run


def _fit_models(cp: FoldCrossProducts, chain: Chain, wanted: list[int]) -> ChainModels:
    """The fold models (pooled from the other folds' moments) and the final model, from the
    moments alone, with the coefficients of the ``wanted`` component counts only."""
    a_max = max(wanted)
    pick = np.asarray(wanted) - 1
    folds = []
    for train in cp.training_sets():
        m = pls_fit_crossproducts(train, a_max)
        folds.append((m.coef[pick], m.x_mean, m.y_mean))
    final = pls_fit_crossproducts(cp.total(), a_max)
    return ChainModels(
        chain,
        tuple(int(k) for k in cp.fold_ids),
        tuple(folds),
        (final.coef[pick], final.x_mean, final.y_mean),
    )


def _fit_context_models(
    contexts: list[FoldCrossProducts],
    fitted: MeanFitted,
    chain: Chain,
    wanted: list[int],
    fold_ids: npt.NDArray[np.int64],
) -> ChainModels:
    """:func:`_fit_models` for a chain with a fitted step: each fold's model from its own
    context's sums (its training rows after its own fitted step), the final one likewise."""
    a_max = max(wanted)
    pick = np.asarray(wanted) - 1
    fits = [pls_fit_crossproducts(cp.total(), a_max) for cp in contexts]
    return ChainModels(
        chain,
        tuple(int(k) for k in fold_ids),
        tuple((m.coef[pick], m.x_mean, m.y_mean) for m in fits[:-1]),
        (fits[-1].coef[pick], fits[-1].x_mean, fits[-1].y_mean),
        fitted,
    )


def search_lance(
    pipeline: Pipeline | Mapping[str, Any] | str | Path,
    uri: str,
    *,
    engine: EngineName = "local",
    target: str | None = None,
    train_values: Sequence[str] | None = None,
    test_values: Sequence[str] | None = None,
    ray_address: str | None = None,
    source_version: int | str | None = None,
    storage_options: Mapping[str, str] | None = None,
    batch_rows: int = 8192,
    unit_rows: int = DEFAULT_UNIT_ROWS,
) -> SearchResult:
    """Cross-validate every variant of ``pipeline`` on the Lance source ``uri`` by map-reduce.

    ``engine="local"`` maps the units in this process, ``"ray"`` as Ray tasks; ``batch_rows``
    and ``unit_rows`` set the partition (the same partition gives the same bits on both).
    The source version is pinned for the whole search (latest by default).

    >>> import nirsframe as nf
    >>> spec = {"name": "s", "target": "fat",
    ...         "steps": [{"snv": {}}, {"model": {"pls": {"n_components": 5}}}]}
    >>> res = search_lance(spec, "spectra.lance", engine="ray")  # doctest: +SKIP
    """
    from nirsframe.api import DEFAULT_SPLIT
    from nirsframe.engine import ENGINES
    from nirsframe.engine.job import open_spectral_source
    from nirsframe.pipeline.spec import load_pipeline
    from nirsframe.validation.splitters import parse_split

    if engine not in ENGINES:
        msg = f"'engine' must be one of {list(ENGINES)}; got {engine!r}"
        raise InvalidParameterError(msg)
    for name, value in (("batch_rows", batch_rows), ("unit_rows", unit_rows)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            msg = f"'{name}' must be a positive integer; got {value!r}"
            raise InvalidParameterError(msg)
    mapper: MapFn = _ray_mapper(ray_address) if engine == "ray" else _local_map
    spec = load_pipeline(pipeline)
    tgt = target or (spec.target if isinstance(spec.target, str) else spec.target[0])
    splitter = parse_split(spec.split or DEFAULT_SPLIT)
    if splitter.name in _SPECTRA_SPLITTERS:
        _refuse(f"splitter {splitter.name!r} needs the spectra to assign folds")
    ds, dataset = open_spectral_source(uri, source_version, storage_options)
    axis = dataset.axis
    candidates = candidates_of(spec)
    check_candidates(candidates, axis)
    started = time.perf_counter()
    units = _units(ds, unit_rows)
    rows = _read_rows(ds, dataset, tgt, splitter, units, train_values, test_values)
    source = SourceRef(uri, int(ds.version), dataset.spectra_column, axis, storage_options or {})
    return _search(spec.name, tgt, candidates, source, rows, mapper, engine, batch_rows, started)


def run_streamed(
    spec: Pipeline,
    data: Any,
    *,
    engine: EngineName,
    target: str | None,
    workspace: Workspace | str | Path | None,
    dataset_name: str | None,
    train_values: Sequence[str] | None,
    test_values: Sequence[str] | None,
    ray_address: str | None,
    storage_options: Mapping[str, str] | None,
) -> SearchResult:
    """``nf.run(..., engine=...)``: :func:`search_lance`, then the usual workspace record.

    Recording ingests the source and refits the best chain on the driver (as ``nf.run`` in
    memory does), so it reads the whole source once more.
    """
    from nirsframe.api import record
    from nirsframe.engine.route import require_lance
    from nirsframe.io.lance import scan_lance
    from nirsframe.workspace import Workspace

    uri = require_lance(data, engine, "nf.run")
    started = time.perf_counter()
    result = search_lance(
        spec,
        uri,
        engine=engine,
        target=target,
        train_values=train_values,
        test_values=test_values,
        ray_address=ray_address,
        storage_options=storage_options,
    )
    if workspace is not None:
        ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
        record(
            ws,
            result,
            scan_lance(uri, version=result.extra["source"]["version"]),
            spec,
            dataset_name=dataset_name,
            duration_s=time.perf_counter() - started,
            train_values=train_values,
            test_values=test_values,
        )
    return result


def _merge_all(a: Any, b: Any) -> Any:
    """Element-wise merge of (nested lists of) moments."""
    if isinstance(a, list):
        return [_merge_all(p, q) for p, q in zip(a, b, strict=True)]
    return a.merge(b)


def _mean_fitted(chain: Chain, pos: int, cp: FoldCrossProducts, axis: SpectralAxis) -> MeanFitted:
    """The fitted step of ``chain`` with each context's mean of its input, from the prefix's
    moments (a fold's training mean pools the other folds' means)."""
    means = [train.x_mean for train in cp.training_sets()]
    means.append(cp.total().x_mean)
    prefix = chain[:pos]
    return MeanFitted(prefix, chain[pos], chain[pos + 1 :], _axes(prefix, axis)[-1], tuple(means))


def _search(
    name: str,
    target: str,
    candidates: list[Candidate],
    source: SourceRef,
    rows: _Rows,
    mapper: MapFn,
    engine: str,
    batch_rows: int,
    started: float,
) -> SearchResult:
    """The passes, the models in between, and the ranked result."""
    from nirsframe.pipeline.search import group_variants

    fold_ids = np.unique(rows.folds[rows.folds >= 0])
    if fold_ids.size == 0:
        msg = "the splitter assigned no training row to a validation fold"
        raise DatasetError(msg)
    width = len(source.axis)
    if (fold_ids.size + 1) * width * width * 8 > MAX_FOLD_BYTES:
        _refuse(
            f"{fold_ids.size} folds of {width}x{width} cross-products exceed "
            f"{MAX_FOLD_BYTES >> 20} MiB per chain (leave-one-out?); use fewer folds"
        )
    groups = list(group_variants(candidates).items())
    chains = list(dict.fromkeys(key.steps for key, _ in groups))
    fitted_at = {c: fitted_position(c, source.axis) for c in chains}
    # Pass 1 sums every stateless chain (through the base its linear tail maps from) and the
    # prefix of every fitted step as is: the step learns from its input as the in-memory
    # search computes it (spectra after the prefix, in their dtype), not mapped through D.
    stateless = [c for c in chains if fitted_at[c] is None]
    base_of = {c: c[: _linear_base(c, source.axis)] for c in stateless}
    prefixes = [c[:pos] for c, pos in fitted_at.items() if pos is not None]
    bases = list(dict.fromkeys([*base_of.values(), *prefixes]))
    common: dict[str, Any] = {"source": source, "fold_ids": fold_ids, "batch_rows": batch_rows}
    calls = [{"unit": u, "codes": rows.codes[_span(u)], "y": rows.y[_span(u)]} for u in rows.units]
    totals = reduce(_merge_all, mapper(unit_crossproducts, {**common, "chains": bases}, calls))
    base_cp = dict(zip(bases, totals, strict=True))
    cps = {c: _map_suffix(base_cp[base_of[c]], c, len(base_of[c]), source.axis) for c in stateless}
    # Pass 1b, for fitted steps: each context's own step (fitted from its mean) and sums.
    fitted = {
        c: _mean_fitted(c, pos, base_cp[c[:pos]], source.axis)
        for c, pos in fitted_at.items()
        if pos is not None
    }
    contexts: dict[Chain, list[FoldCrossProducts]] = {}
    if fitted:
        shared = {**common, "fitted": list(fitted.values())}
        per_chain = reduce(_merge_all, mapper(unit_context_crossproducts, shared, calls))
        contexts = dict(zip(fitted, per_chain, strict=True))
    models, wanted_of, skipped = _models(groups, rows, fold_ids, cps, fitted, contexts)
    # Pass 2: out-of-fold and final predictions of every unit, assembled in unit order.
    calls = [
        {"unit": u, "codes": rows.codes[_span(u)], "usable": rows.usable[_span(u)]}
        for u in rows.units
    ]
    shared = {"source": source, "models": models, "batch_rows": batch_rows}
    parts = list(mapper(unit_predictions, shared, calls))
    result = _assemble(name, target, rows, models, wanted_of, parts, skipped)
    steps = {c[:i] for c in chains for i in range(1, len(c) + 1)}
    result.applications = dict(Counter(p[-1].op for p in steps))
    result.extra.update(
        crossproduct_passes=len(bases) + len(fitted) * (fold_ids.size + 1),
        passes=3 if fitted else 2,
        engine=engine,
        units=len(rows.units),
        source={"uri": source.uri, "version": source.version},
        seconds=time.perf_counter() - started,
    )
    return result


def _span(u: Unit) -> slice:
    """The unit's rows in the driver's per-row arrays."""
    return slice(u.first, u.first + (u.stop - u.start))


def _models(
    groups: list[tuple[Any, list[Candidate]]],
    rows: _Rows,
    fold_ids: npt.NDArray[np.int64],
    cps: Mapping[Chain, FoldCrossProducts],
    fitted: Mapping[Chain, MeanFitted],
    contexts: Mapping[Chain, list[FoldCrossProducts]],
) -> tuple[list[ChainModels], list[dict[Candidate, int]], list[tuple[Candidate, str]]]:
    """Per chain, the fold and final models of the wanted component counts (from the summed
    matrices alone), which component index each variant reads, and the variants skipped."""
    from nirsframe.pipeline.search import n_components_of

    n_train = rows.train.shape[0]
    smallest = n_train - int(np.max([np.count_nonzero(rows.folds == k) for k in fold_ids]))
    models: list[ChainModels] = []
    wanted_of: list[dict[Candidate, int]] = []
    skipped: list[tuple[Candidate, str]] = []
    for key, members in groups:
        chain = key.steps
        width = (contexts[chain][-1] if chain in fitted else cps[chain]).x_mean.shape[1]
        limit = int(max(1, min(smallest - 1, width)))
        wanted = {v: n_components_of(v.model) for v in members}
        for v, n in wanted.items():
            if n > limit:
                skipped.append((v, f"n_components={n} exceeds the rank limit {limit}"))
        ok = {v: n for v, n in wanted.items() if n <= limit}
        if not ok:
            continue
        counts = sorted(set(ok.values()))
        if chain in fitted:
            models.append(
                _fit_context_models(contexts[chain], fitted[chain], chain, counts, fold_ids)
            )
        else:
            models.append(_fit_models(cps[chain], chain, counts))
        wanted_of.append({v: counts.index(n) for v, n in ok.items()})
    if not models:
        reasons = "; ".join(sorted({r for _, r in skipped}))
        msg = f"no variant could run: {reasons}"
        raise DatasetError(msg)
    return models, wanted_of, skipped


def _assemble(
    name: str,
    target: str,
    rows: _Rows,
    models: list[ChainModels],
    wanted_of: list[dict[Candidate, int]],
    parts: list[list[tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]]],
    skipped: list[tuple[Candidate, str]],
) -> SearchResult:
    """The per-unit predictions in row order, ranked as the in-memory search ranks them."""
    from nirsframe.pipeline.execute import add_aggregated_metrics
    from nirsframe.pipeline.result import SearchResult, build_result, flags_frame
    from nirsframe.pipeline.search import CandidatePredictions, n_components_of

    y = rows.y[rows.usable]
    n_train = rows.train.shape[0]
    validated = rows.folds >= 0
    preds = []
    for i, wanted in enumerate(wanted_of):
        oof_all = np.concatenate([p[i][0] for p in parts], axis=1)
        final_all = np.concatenate([p[i][1] for p in parts], axis=1)
        for v, j in wanted.items():
            oof = np.full((n_train, y.shape[1]), np.nan)
            oof[validated] = oof_all[j]
            preds.append(CandidatePredictions(v, n_components_of(v.model), oof, final_all[j]))
    ranking, oof_frame, tests, by_id = build_result(
        name, target, preds, y, rows.ids, rows.train, rows.folds, rows.test
    )
    if rows.samples is not None:
        ranking = add_aggregated_metrics(ranking, oof_frame, tests, rows.samples, "mean")
    return SearchResult(
        name=name,
        target=target,
        ranking=ranking,
        oof=oof_frame,
        test_predictions=tests,
        variants=by_id,
        skipped=skipped,
        flags=flags_frame(preds, rows.ids),
        extra={
            "rows_without_target": rows.rows_without_target,
            "n_train": int(n_train),
            "n_test": int(rows.test.size),
        },
    )
