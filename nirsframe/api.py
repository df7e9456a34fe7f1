"""The Python surface: ``nf.run`` searches a pipeline on data and keeps the run in a workspace.

>>> import nirsframe as nf
>>> result = nf.run("pipeline.yaml", "tecator.parquet", workspace="ws")  # doctest: +SKIP
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from nirsframe._bridge import series_to_matrix
from nirsframe.axis import SpectralAxis
from nirsframe.exceptions import AxisError, SpecError
from nirsframe.io.load import DataLike, load_dataset
from nirsframe.models.pls import PLS
from nirsframe.models.plsda import PLSDA
from nirsframe.models.sklearn_models import build_estimator
from nirsframe.operators.axis_ops import Resample
from nirsframe.pipeline.candidates import finetune_from_spec, from_spec, stack_from_spec
from nirsframe.pipeline.execute import execute, split_rows
from nirsframe.pipeline.finetune import Tuning, finetune
from nirsframe.pipeline.search import model_rows, training_data
from nirsframe.pipeline.separation import separate
from nirsframe.pipeline.spec import canonical_json, expand, load_pipeline, pipeline_hash
from nirsframe.pipeline.stacking import as_search_result, stack
from nirsframe.pipeline.tree import FINAL, fit_chain
from nirsframe.validation.splitters import parse_split
from nirsframe.workspace import FittedChain, Workspace

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    from nirsframe.dataset import SpectralDataset
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
) -> SearchResult:
    """Expand ``pipeline``, cross-validate every variant on ``data``, rank them, refit the best.

    ``target`` overrides the spec's; rows of a split column valued ``test`` (or one of
    ``test_values``) are held out and scored as RMSEP. With a ``workspace``, the dataset is
    ingested (a new version only when its content changed) and the run is recorded with its
    lineage, every variant's metrics and predictions, and the best fitted chain.
    """
    spec = load_pipeline(pipeline)
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


def replayable(result: SearchResult) -> bool:
    """Whether the best variant is one fitted chain (not a stack, tuned, separated or
    multi-source model), so it can be stored and replayed."""
    special = ("stack", "tuned_final", "separated_by")
    return not any(k in result.extra for k in special) and not result.best_variant.sources


def fit_best(
    dataset: SpectralDataset,
    candidate: Candidate,
    target: str,
    n_components: int | None,
    *,
    train_values: Sequence[str] | None = None,
    test_values: Sequence[str] | None = None,
) -> FittedChain:
    """The candidate's chain and model fitted on every training row (for storage and replay)."""
    cols = [c for c in (dataset.spectra_column, target, dataset.roles.split) if c]
    df = dataset.frame.select(list(dict.fromkeys(cols))).collect()
    df = df.filter(pl.col(target).is_not_null() & pl.col(target).cast(pl.Float64).is_not_nan())
    train, _ = split_rows(
        df, dataset.roles.split, train_values=train_values, test_values=test_values
    )
    x, _ = series_to_matrix(df[dataset.spectra_column])
    y = df[target].cast(pl.Float64).to_numpy()[train]
    ops, xt, _ = fit_chain(candidate.steps, np.ascontiguousarray(x[train]), y, dataset.axis)
    # The model learns exactly what the search's final context learned: rows left after the
    # exclude filters, plus the augmented copies.
    y2 = y.reshape(-1, 1)
    rows, _ = model_rows(candidate.filters, xt, y2, np.arange(xt.shape[0]))
    xt, y2 = training_data(candidate.augmentation, xt, y2, rows, FINAL)
    y = y2[:, 0]
    model: Any
    if candidate.model.kind == "pls":
        model = PLS(n_components=n_components or 10).fit(xt, y)
    elif candidate.model.kind == "plsda":
        params = {k: v for k, v in candidate.model.params.items() if k != "n_components"}
        model = PLSDA(n_components=n_components or 10, **params).fit(xt, y)
    else:
        model = build_estimator(candidate.model.kind, candidate.model.params).fit(xt, y)
    return FittedChain.from_estimators(ops, model)


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
    # A multi-source model's inputs are several columns: its chain is not storable as one
    # FittedChain yet, so such runs keep metrics and predictions but no replayable chain.
    chain = (
        None
        if not replayable(result)
        else fit_best(
            dataset,
            result.best_variant,
            result.target,
            best["n_components"],
            train_values=train_values,
            test_values=test_values,
        )
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
    if chain is not None:
        final = replay_frame(chain, dataset, best["variant"], result.target)
        parts.append(final.with_columns(pl.lit("final").alias("scope")))
    preds = (
        pl.concat(parts, how="diagonal_relaxed")
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
    chain: FittedChain, dataset: SpectralDataset, variant: int | None, target: str | None
) -> pl.DataFrame:
    """Predictions of ``chain`` for every row of ``dataset`` (``sample_id``, ``y``, ``y_pred``)."""
    roles = dataset.roles
    cols = [c for c in (roles.id, dataset.spectra_column) if c]
    if target is not None and target in dataset.frame.collect_schema():
        cols.append(target)
    df = dataset.frame.select(list(dict.fromkeys(cols))).collect()
    x, _ = series_to_matrix(df[dataset.spectra_column])
    y_pred = np.asarray(chain.predict(x), dtype=np.float64).reshape(df.height, -1)[:, 0]
    ids = df[roles.id].cast(pl.String) if roles.id else pl.Series(np.arange(df.height).astype(str))
    out = pl.DataFrame({"sample_id": ids, "variant": variant, "y_pred": y_pred})
    if target is not None and target in df.columns:
        out = out.with_columns(df[target].cast(pl.Float64).alias("y"))
    return out


def predict(
    workspace: Workspace | str | Path,
    run_id: str,
    data: DataLike,
    *,
    resample: bool = False,
) -> pl.DataFrame:
    """Replay run ``run_id``'s fitted chain on ``data`` (bit for bit on the run's own data).

    ``data`` must have the wavelength axis the run was fitted on; ``resample=True`` resamples
    it linearly onto that axis instead of refusing.
    """
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    record_ = ws.run(run_id)
    # The axis travels with the run record (and so with bundles imported elsewhere).
    stored_axis = record_.parameters.get("axis")
    fitted_axis = (
        SpectralAxis.from_dict(stored_axis)
        if stored_axis
        else ws.open_dataset(record_.dataset.name, record_.dataset.version).axis
    )
    ds = load_dataset(data)
    if ds.axis != fitted_axis:
        if not resample:
            msg = (
                f"data axis {ds.axis!r} differs from the axis run {run_id} was fitted on "
                f"({fitted_axis!r}); pass resample=True to resample onto it"
            )
            raise AxisError(msg)
        col = ds.spectra_column
        op = Resample(target=tuple(fitted_axis.values), x_axis=tuple(ds.axis.values))
        ds = ds.with_frame(ds.frame.with_columns(op.to_expr(col)), axes={col: fitted_axis})
    target = record_.parameters.get("target")
    best = record_.parameters.get("best") or {}
    return replay_frame(ws.chain(run_id), ds, best.get("variant"), target)


def _label(row: Mapping[str, Any]) -> str:
    n = f"({row['n_components']})" if row["n_components"] is not None else ""
    return f"{row['preprocessing']} | {row['model']}{n}"


# The user's surface beyond search and replay (imported last: these modules use the above).
from nirsframe.explain import explain as explain  # noqa: E402
from nirsframe.report import report as report  # noqa: E402
from nirsframe.retrain import retrain as retrain  # noqa: E402
from nirsframe.session import session as session  # noqa: E402
