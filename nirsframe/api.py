"""The Python surface: ``nf.run`` searches a pipeline on data and keeps the run in a workspace.

>>> import nirsframe as nf
>>> result = nf.run("pipeline.yaml", "tecator.parquet", workspace="ws")  # doctest: +SKIP
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, overload

import numpy as np
import polars as pl

from nirsframe._bridge import series_to_matrix
from nirsframe.axis import SpectralAxis
from nirsframe.exceptions import AxisError, InvalidParameterError, SpecError
from nirsframe.io.load import DataLike, load_dataset
from nirsframe.operators.axis_ops import Resample
from nirsframe.pipeline.candidates import finetune_from_spec, from_spec, stack_from_spec
from nirsframe.pipeline.execute import execute
from nirsframe.pipeline.finetune import Tuning, finetune
from nirsframe.pipeline.refit import fit_final, fit_node
from nirsframe.pipeline.separation import separate
from nirsframe.pipeline.spec import canonical_json, expand, load_pipeline, pipeline_hash
from nirsframe.pipeline.stacking import as_search_result, stack
from nirsframe.validation.splitters import parse_split
from nirsframe.workspace import FittedChain, FittedGraph, Workspace

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    from nirsframe.dataset import SpectralDataset
    from nirsframe.engine import EngineName
    from nirsframe.pipeline.candidates import Candidate
    from nirsframe.pipeline.result import SearchResult
    from nirsframe.pipeline.spec import Pipeline, Variant
    from nirsframe.workspace.store import DatasetRef

DEFAULT_SPLIT = {"kfold": {"n_splits": 5}}
#: Ranking columns that describe a variant rather than score it.
LABEL_COLUMNS = ("variant", "preprocessing", "model", "n_components")


def run(
    pipeline: Pipeline | Mapping[str, Any] | str | Path,
    data: DataLike,
    *,
    target: str | None = None,
    workspace: Workspace | str | Path | None = None,
    dataset_name: str | None = None,
    train_values: Sequence[str] | None = None,
    test_values: Sequence[str] | None = None,
    engine: EngineName | None = None,
    ray_address: str | None = None,
    storage_options: Mapping[str, str] | None = None,
) -> SearchResult:
    """Expand ``pipeline``, cross-validate every variant on ``data``, rank them, refit the best.

    ``target`` overrides the spec's; rows of a split column valued ``test`` (or one of
    ``test_values``) are held out and scored as RMSEP. With a ``workspace``, the dataset is
    ingested (a new version only when its content changed) and the run is recorded with its
    lineage, every variant's metrics and predictions, and the best fitted chain.

    ``engine`` (``"local"`` or ``"ray"``, with ``ray_address`` / ``storage_options``) streams a
    Lance source through a two-pass map-reduce instead of loading it: stateless preprocessing
    and PLS only (:func:`nirsframe.engine.search.search_lance`, ``docs/distributed.md``).
    """
    spec = load_pipeline(pipeline)
    if engine is not None:
        from nirsframe.engine.search import run_streamed

        return run_streamed(
            spec, data, engine=engine, target=target, workspace=workspace,
            dataset_name=dataset_name, train_values=train_values, test_values=test_values,
            ray_address=ray_address, storage_options=storage_options,
        )  # fmt: skip
    variants = expand(spec)
    ds = load_dataset(data)
    tgt = target or (spec.target if isinstance(spec.target, str) else spec.target[0])
    splitter = parse_split(spec.split or DEFAULT_SPLIT)
    started = time.perf_counter()
    result = _search(ds, spec, variants, tgt, splitter, train_values, test_values)
    if workspace is not None:
        ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
        record(
            ws,
            result,
            ds,
            spec,
            dataset_name=dataset_name,
            duration_s=time.perf_counter() - started,
            train_values=train_values,
            test_values=test_values,
        )
    return result


def _search(
    ds: SpectralDataset,
    spec: Pipeline,
    variants: list[Variant],
    tgt: str,
    splitter: Any,
    train_values: Sequence[str] | None,
    test_values: Sequence[str] | None,
) -> SearchResult:
    """Dispatch to the plain search, tuning, separation or stacking."""
    tunings = [finetune_from_spec(v) for v in variants]
    if any(t is not None for t in tunings):
        if len(tunings) != 1 or tunings[0] is None:
            msg = "a pipeline with 'finetune' must expand to that single pipeline"
            raise SpecError(msg)
        tuned, step = tunings[0]
        tuning = Tuning(
            space=step.space,
            search=step.search,
            n_trials=step.n_trials,
            seed=step.seed,
            inner_splitter=parse_split(step.inner_split) if step.inner_split else None,
        )
        return finetune(
            ds,
            tuned,
            tuning,
            target=tgt,
            splitter=splitter,
            name=spec.name,
            train_values=train_values,
            test_values=test_values,
        )
    if spec.separate_by is not None:
        return separate(
            ds,
            [from_spec(v) for v in variants],
            spec.separate_by,
            target=tgt,
            splitter=splitter,
            name=spec.name,
            train_values=train_values,
            test_values=test_values,
        )
    stacks = [stack_from_spec(v) for v in variants]
    if any(s is not None for s in stacks):
        if len(stacks) != 1 or stacks[0] is None:
            msg = "a pipeline with a stack (branch + merge) must expand to that single stack"
            raise SpecError(msg)
        base, meta = stacks[0]
        stacked = stack(
            ds,
            base,
            meta,
            target=tgt,
            splitter=splitter,
            train_values=train_values,
            test_values=test_values,
        )
        return as_search_result(stacked, spec.name, tgt, base, meta)
    return execute(
        ds,
        [from_spec(v) for v in variants],
        target=tgt,
        splitter=splitter,
        name=spec.name,
        train_values=train_values,
        test_values=test_values,
    )


def fit_best(
    dataset: SpectralDataset,
    candidate: Candidate,
    target: str,
    n_components: int | None,
    *,
    train_values: Sequence[str] | None = None,
    test_values: Sequence[str] | None = None,
) -> FittedChain:
    """The candidate's chain and model fitted on every training row (for storage and replay).

    Only a plain candidate is one chain; :func:`~nirsframe.pipeline.refit.fit_final` refits
    any run's best model (multi-source, target processing, stacks...).
    """
    node = fit_node(
        dataset,
        candidate,
        target,
        n_components,
        train_values=train_values,
        test_values=test_values,
    )
    chain = node.as_chain()
    if chain is None:
        msg = (
            f"variant {candidate.preprocessing!r} is not one chain (several inputs or "
            "y_processing); refit it with nirsframe.pipeline.refit.fit_final"
        )
        raise InvalidParameterError(msg)
    return chain


def record(
    ws: Workspace,
    result: SearchResult,
    dataset: SpectralDataset,
    spec: Pipeline,
    *,
    dataset_name: str | None = None,
    duration_s: float | None = None,
    train_values: Sequence[str] | None = None,
    test_values: Sequence[str] | None = None,
    dataset_ref: DatasetRef | None = None,
    operation: str = "run",
    origin: Mapping[str, Any] | None = None,
) -> str:
    """Ingest the dataset, store the run (metrics, predictions, best chain); return the run id.

    ``dataset_ref`` skips the ingest (the caller already stored ``dataset``); ``operation``
    and ``origin`` are recorded as is (``nf.retrain`` names the run it retrains).
    """
    ref = dataset_ref or ws.ingest(dataset, dataset_name or spec.name)
    best = result.best
    chain = fit_final(
        result,
        dataset,
        spec,
        splitter=parse_split(spec.split or DEFAULT_SPLIT),
        train_values=train_values,
        test_values=test_values,
    )
    metrics = [c for c in result.ranking.columns if c not in LABEL_COLUMNS]
    rows = [
        {
            "metric": m,
            "value": r[m],
            "scope": "best" if r["variant"] == best["variant"] else "variant",
            "target": result.target,
            "variant": r["variant"],
            "label": _label(r),
        }
        for r in result.ranking.iter_rows(named=True)
        for m in metrics
        if r[m] is not None
    ]
    parts = [
        result.oof.with_columns(pl.lit("cv").alias("scope")),
        result.test_predictions.with_columns(pl.lit("test").alias("scope")),
    ]
    final = replay_frame(chain, dataset, best["variant"], result.target)
    parts.append(final.with_columns(pl.lit("final").alias("scope")))
    preds = (
        pl.concat(parts, how="diagonal_relaxed")
        .drop("group", strict=False)  # a separation's group: the spec names its column
        .rename({"y": "y_true"})
        .with_columns(pl.lit(result.target).alias("target"))
    )
    record_ = ws.record_run(
        dataset=ref,
        spec_json=canonical_json(spec),
        pipeline_hash=pipeline_hash(spec),
        parameters={
            "target": result.target,
            "axis": dataset.axis.to_dict(),
            "n_variants": len(result.variants),
            "train_values": list(train_values) if train_values else None,
            "test_values": list(test_values) if test_values else None,
            "best": {k: best[k] for k in ("variant", "preprocessing", "model", "n_components")},
        },
        results=pl.DataFrame(rows),
        predictions=preds,
        chain=chain,
        run_id=result.run_id,
        duration_s=duration_s,
        operation=operation,
        origin=origin,
    )
    result.run_id = record_.run_id
    return record_.run_id


def replay_frame(
    chain: FittedChain | FittedGraph,
    dataset: SpectralDataset,
    variant: int | None,
    target: str | None,
) -> pl.DataFrame:
    """Predictions of ``chain`` (or fitted graph) for every row of ``dataset`` (``sample_id``,
    ``y``, ``y_pred``)."""
    roles = dataset.roles
    primary = dataset.spectra_column
    read = [primary]
    if isinstance(chain, FittedGraph):
        read = [*chain.axes(primary), *chain.metadata_columns()]
    cols = [c for c in (roles.id, *read) if c]
    if target is not None and target in dataset.frame.collect_schema():
        cols.append(target)
    df = dataset.frame.select(list(dict.fromkeys(cols))).collect()
    if isinstance(chain, FittedGraph):
        pred = chain.predict(df, primary=primary)
    else:
        pred = chain.predict(series_to_matrix(df[primary])[0])
    y_pred = np.asarray(pred, dtype=np.float64).reshape(df.height, -1)[:, 0]
    ids = df[roles.id].cast(pl.String) if roles.id else pl.Series(np.arange(df.height).astype(str))
    out = pl.DataFrame({"sample_id": ids, "variant": variant, "y_pred": y_pred})
    if target is not None and target in df.columns:
        out = out.with_columns(df[target].cast(pl.Float64).alias("y"))
    return out


@overload
def predict(
    workspace: Workspace | str | Path,
    run_id: str,
    data: DataLike,
    *,
    resample: bool = ...,
    out: None = ...,
    engine: EngineName = ...,
    ray_address: str | None = ...,
    storage_options: Mapping[str, str] | None = ...,
) -> pl.DataFrame: ...
@overload
def predict(
    workspace: Workspace | str | Path,
    run_id: str,
    data: DataLike,
    *,
    resample: bool = ...,
    out: str | Path,
    engine: EngineName = ...,
    ray_address: str | None = ...,
    storage_options: Mapping[str, str] | None = ...,
) -> int: ...
def predict(
    workspace: Workspace | str | Path,
    run_id: str,
    data: DataLike,
    *,
    resample: bool = False,
    out: str | Path | None = None,
    engine: EngineName = "local",
    ray_address: str | None = None,
    storage_options: Mapping[str, str] | None = None,
) -> pl.DataFrame | int:
    """Replay run ``run_id``'s fitted chain on ``data`` (bit for bit on the run's own data).

    ``data`` must have the wavelength axis the run was fitted on; ``resample=True`` resamples
    it linearly onto that axis instead of refusing. With ``out`` (a Lance URI), ``data`` must be
    a Lance source URI: the predictions are streamed into ``out`` in one commit by ``engine``
    (``"local"`` or ``"ray"``, see :func:`nirsframe.engine.predict_lance`) and the new version
    is returned. ``engine="ray"`` without ``out`` is an :class:`EngineRoutingError`.
    """
    if out is not None or engine != "local":
        from nirsframe.engine.route import predict_to_lance

        return predict_to_lance(
            workspace, run_id, data, out, engine=engine, resample=resample,
            ray_address=ray_address, storage_options=storage_options,
        )  # fmt: skip
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    record_ = ws.run(run_id)
    fitted = ws.fitted(run_id)
    ds = load_dataset(data)
    if isinstance(fitted, FittedGraph):
        # A graph carries the axis of every column it reads.
        axes = fitted.axes(ds.spectra_column)
    else:
        # The axis travels with the run record (and so with bundles imported elsewhere).
        stored_axis = record_.parameters.get("axis")
        axes = {
            ds.spectra_column: SpectralAxis.from_dict(stored_axis)
            if stored_axis
            else ws.open_dataset(record_.dataset.name, record_.dataset.version).axis
        }
    ds = on_axes(ds, axes, run_id, resample=resample)
    target = record_.parameters.get("target")
    best = record_.parameters.get("best") or {}
    return replay_frame(fitted, ds, best.get("variant"), target)


def on_axes(
    ds: SpectralDataset, axes: Mapping[str, SpectralAxis], run_id: str, *, resample: bool
) -> SpectralDataset:
    """``ds`` with every column of ``axes`` on its fitted axis (resampled when allowed), else
    an :class:`AxisError` naming the column."""
    for col, fitted_axis in axes.items():
        if col not in ds.axes:
            msg = f"run {run_id} reads spectra column {col!r}; the data has {list(ds.axes)}"
            raise AxisError(msg)
        axis = ds.axes[col]
        if axis == fitted_axis:
            continue
        if not resample:
            msg = (
                f"data axis {axis!r} of column {col!r} differs from the axis run {run_id} was "
                f"fitted on ({fitted_axis!r}); pass resample=True to resample onto it"
            )
            raise AxisError(msg)
        op = Resample(target=tuple(fitted_axis.values), x_axis=tuple(axis.values))
        frame = ds.frame.with_columns(op.to_expr(col))
        ds = ds.with_frame(frame, axes={**ds.axes, col: fitted_axis})
    return ds


def _label(row: Mapping[str, Any]) -> str:
    n = f"({row['n_components']})" if row["n_components"] is not None else ""
    return f"{row['preprocessing']} | {row['model']}{n}"


# The user's surface beyond search and replay (imported last: these modules use the above).
from nirsframe.explain import explain as explain  # noqa: E402
from nirsframe.explain import explain_nodes as explain_nodes  # noqa: E402
from nirsframe.report import report as report  # noqa: E402
from nirsframe.retrain import retrain as retrain  # noqa: E402
from nirsframe.session import session as session  # noqa: E402
