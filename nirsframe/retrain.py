"""Retrain a recorded run on new data: the whole search again, or only the model.

>>> import nirsframe as nf
>>> new = nf.retrain("ws", run_id, "batch_2025.parquet", mode="transfer")  # doctest: +SKIP
>>> new.origin["run_id"] == run_id  # doctest: +SKIP
True

``mode="full"``
    Re-runs the recorded pipeline spec (every variant, the same cross-validation scheme) on the
    new data and records the new search: the best variant, its preprocessing and component count
    may all change.
``mode="transfer"``
    Keeps the old run's fitted preprocessing chain exactly as stored (every learned array, e.g.
    the MSC reference spectrum or a mean spectrum, stays the one learned on the *old* data) and
    the model's hyper-parameters (for PLS: the number of components and ``scale``). Only the
    model is refit, on the new training rows after that fixed preprocessing: for PLS the
    centring means, weights, loadings, rotations, coefficients and intercepts. The new data must
    be on the old run's wavelength axis. RMSECV is the cross-validation of that model refit
    alone (the preprocessing has nothing to learn), with the spec's splitter.

    A run stored as a ``y_processing`` or ``tuned`` graph is one chain underneath and transfers
    the same way: its target transforms are kept as stored too (the new model is fitted on the
    new targets through the *old* shifts and scales, and its predictions mapped back), a tuned
    model keeps its selected parameters, and the new run stores a graph of the same kind. Other
    graphs (stacks, separations, multi-source and view models) hold several chains or inputs: a
    :class:`~nirsframe.exceptions.GraphKindError` (retrain them with ``mode="full"``).

Both record a new run whose ``origin`` names the old run (``{"run_id", "operation":
"retrain", "mode", "dataset", "pipeline_hash"}``) and whose operation is ``"retrain"``.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import polars as pl
from sklearn.base import clone

from nirsframe._rundata import labelled_rows
from nirsframe.exceptions import AxisError, GraphKindError, InvalidParameterError
from nirsframe.io.load import load_dataset
from nirsframe.models.pls import PLS
from nirsframe.pipeline.result import scores
from nirsframe.validation.splitters import parse_split
from nirsframe.workspace import FittedChain, FittedGraph, Workspace
from nirsframe.workspace.graph import ModelNode

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from nirsframe.dataset import SpectralDataset
    from nirsframe.io.load import DataLike
    from nirsframe.workspace.store import DatasetRef, RunRecord

__all__ = ["RetrainMode", "retrain"]

RetrainMode = Literal["full", "transfer"]


def _origin(old: RunRecord, mode: str) -> dict[str, Any]:
    return {
        "run_id": old.run_id,
        "operation": "retrain",
        "mode": mode,
        "dataset": old.dataset.to_dict(),
        "pipeline_hash": old.pipeline_hash,
    }


def retrain(
    workspace: Workspace | str | Path,
    run_id: str,
    data: DataLike,
    mode: RetrainMode = "full",
    *,
    dataset_name: str | None = None,
    train_values: Sequence[str] | None = None,
    test_values: Sequence[str] | None = None,
    dataset: SpectralDataset | None = None,
    dataset_ref: DatasetRef | None = None,
    chain: FittedChain | FittedGraph | None = None,
) -> RunRecord:
    """Retrain run ``run_id`` on ``data`` and record the result as a new run.

    Parameters
    ----------
    workspace
        The workspace holding the old run (the new run is recorded there too).
    run_id
        The run to retrain.
    data
        The new data (any :func:`~nirsframe.io.load.load_dataset` input) with the old target.
    mode
        ``"full"`` (re-run the recorded spec) or ``"transfer"`` (keep the fitted preprocessing
        and the component count, refit only the model); see the module docstring.
    dataset_name
        Name under which the new data is ingested (default: the old run's dataset name, so the
        new data becomes a new version of it).
    train_values, test_values
        Split-column values of training/test rows (default: the old run's).
    dataset, dataset_ref, chain
        An already loaded/ingested dataset and the old fitted chain or graph (used by
        sessions).

    Returns
    -------
    RunRecord
        The new run (``record.origin["run_id"] == run_id``).
    """
    if mode not in ("full", "transfer"):
        msg = f"'mode' must be 'full' or 'transfer'; got {mode!r}"
        raise InvalidParameterError(msg)
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    old = ws.run(run_id)
    params = old.parameters
    target = params.get("target")
    if not isinstance(target, str):
        msg = f"run {run_id!r} records no target to retrain"
        raise InvalidParameterError(msg)
    tv = train_values if train_values is not None else params.get("train_values")
    sv = test_values if test_values is not None else params.get("test_values")
    ds = dataset if dataset is not None else load_dataset(data)
    name = dataset_name or old.dataset.name
    if mode == "full":
        return _full(ws, old, ds, target, name, tv, sv, dataset_ref)
    fitted = chain if chain is not None else ws.fitted(run_id)
    return _transfer(ws, old, fitted, ds, target, name, tv, sv, dataset_ref)


def _full(
    ws: Workspace,
    old: RunRecord,
    ds: SpectralDataset,
    target: str,
    name: str,
    train_values: Sequence[str] | None,
    test_values: Sequence[str] | None,
    ref: DatasetRef | None,
) -> RunRecord:
    from nirsframe.api import DEFAULT_SPLIT, record
    from nirsframe.pipeline.candidates import from_spec
    from nirsframe.pipeline.execute import execute
    from nirsframe.pipeline.spec import expand, load_pipeline

    started = time.perf_counter()
    spec = load_pipeline(json.loads(old.spec_json))
    result = execute(
        ds,
        [from_spec(v) for v in expand(spec)],
        target=target,
        splitter=parse_split(spec.split or DEFAULT_SPLIT),
        name=spec.name,
        train_values=train_values,
        test_values=test_values,
    )
    new_id = record(
        ws,
        result,
        ds,
        spec,
        dataset_name=name,
        duration_s=time.perf_counter() - started,
        train_values=train_values,
        test_values=test_values,
        dataset_ref=ref,
        operation="retrain",
        origin=_origin(old, "full"),
    )
    return ws.run(new_id)


def _one_chain(
    stored: FittedChain | FittedGraph, run_id: str
) -> tuple[FittedChain, ModelNode | None]:
    """The chain to transfer and, for a graph, the model node holding it (with its targets).

    >>> _one_chain(FittedChain(()), "r1")
    (FittedChain(steps=(), model=None), None)
    """
    if isinstance(stored, FittedChain):
        return stored, None
    root = stored.root
    chain = root.model_chain() if isinstance(root, ModelNode) else None
    if chain is None or not isinstance(root, ModelNode):
        msg = (
            f"transfer keeps one fitted preprocessing chain and refits its model; run {run_id!r} "
            f"stores a {stored.kind!r} graph, which is not one chain: retrain it with mode='full'"
        )
        raise GraphKindError(msg)
    return chain, root


def _transfer(
    ws: Workspace,
    old: RunRecord,
    stored: FittedChain | FittedGraph,
    ds: SpectralDataset,
    target: str,
    name: str,
    train_values: Sequence[str] | None,
    test_values: Sequence[str] | None,
    ref: DatasetRef | None,
) -> RunRecord:
    from nirsframe.api import DEFAULT_SPLIT

    started = time.perf_counter()
    chain, node = _one_chain(stored, old.run_id)
    targets = node.targets if node is not None else ()
    fitted_axis = ws.open_dataset(old.dataset.name, old.dataset.version).axis
    if ds.axis != fitted_axis:
        msg = (
            f"transfer keeps the fitted preprocessing, so the new data must be on the axis run "
            f"{old.run_id} was fitted on ({fitted_axis!r}); got {ds.axis!r}"
        )
        raise AxisError(msg)
    data = labelled_rows(ds, target, train_values=train_values, test_values=test_values)
    if data.train.size < 3:
        msg = f"transfer needs at least 3 training rows with {target!r}; got {data.train.size}"
        raise InvalidParameterError(msg)
    ops = chain.operators()
    old_model = chain.build_model()
    z = data.x
    for op in ops:  # the stored state is applied, never refit
        z = np.asarray(op.transform(z), dtype=np.float64)
    yt = data.y
    for t in targets:  # so are the stored target transforms
        yt = t.transform(yt)

    def predict(m: Any, rows: np.ndarray) -> np.ndarray:
        y = np.asarray(m.predict(z[rows]), dtype=np.float64).reshape(len(rows), -1)[:, 0]
        for t in reversed(targets):
            y = t.inverse(y)
        return y

    def fresh() -> Any:
        # Same hyper-parameters (PLS: n_components and scale), no learned state.
        if isinstance(old_model, PLS):
            return PLS(n_components=old_model.n_components, scale=old_model.scale)
        return clone(old_model)

    def fit_predict(fit_rows: np.ndarray, pred_rows: np.ndarray) -> np.ndarray:
        return predict(fresh().fit(z[fit_rows], yt[fit_rows]), pred_rows)

    train, test = data.train, data.test
    spec = json.loads(old.spec_json)
    splitter = parse_split(spec.get("split") or DEFAULT_SPLIT)
    folds = np.asarray(splitter.folds(train.size, y=data.y[train], x=data.x[train]), dtype=np.int64)
    oof = np.full(train.size, np.nan)
    for k in np.unique(folds[folds >= 0]):
        val = folds == k
        oof[val] = fit_predict(train[~val], train[val])
    model = fresh().fit(z[train], yt[train])
    head = FittedChain.from_estimators([], model)
    new_model: FittedChain | FittedGraph = FittedChain(chain.steps, head.model)
    if isinstance(stored, FittedGraph) and node is not None:
        new_model = FittedGraph(stored.kind, replace(node, head=head), stored.info)
    fitted = predict(model, np.arange(len(z)))

    best = dict(old.parameters.get("best") or {})
    variant = best.get("variant")
    label = f"{best.get('preprocessing', '')} | {best.get('model', '')}" + (
        f"({best['n_components']})" if best.get("n_components") else ""
    )
    validated = folds >= 0
    cv = scores(data.y[train][validated], oof[validated])
    cal = scores(data.y[train], fitted[train])
    metrics: dict[str, float] = {
        "rmsecv": cv["rmse"], "r2cv": cv["r2"], "bias": cv["bias"], "sep": cv["sep"],
        "rpd": cv["rpd"], "rmsec": cal["rmse"],
    }  # fmt: skip
    if test.size:
        tst = scores(data.y[test], fitted[test])
        metrics.update(rmsep=tst["rmse"], r2p=tst["r2"])
    results = pl.DataFrame(
        [
            {"metric": k, "value": v, "scope": "best", "target": target, "variant": variant,
             "label": label}
            for k, v in metrics.items()
            if np.isfinite(v)
        ]
    )  # fmt: skip

    def frame(rows: np.ndarray, pred: np.ndarray, scope: str, fold: Any) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "sample_id": data.ids[rows].astype(str),
                "fold": fold,
                "variant": variant,
                "y_true": data.y[rows],
                "y_pred": pred,
                "scope": scope,
                "target": target,
            },
            schema_overrides={"fold": pl.Int64, "variant": pl.Int64},
        )

    preds = pl.concat(
        [
            frame(train[validated], oof[validated], "cv", folds[validated]),
            frame(test, fitted[test], "test", -1),
            frame(np.arange(len(z)), fitted, "final", None),
        ],
        how="diagonal_relaxed",
    )
    ref = ref or ws.ingest(ds, name)
    n_components = getattr(model, "n_components", None)
    return ws.record_run(
        dataset=ref,
        spec_json=old.spec_json,
        pipeline_hash=old.pipeline_hash,
        parameters={
            "target": target,
            "mode": "transfer",
            "refit": "model",
            "n_components": n_components,
            "train_values": list(train_values) if train_values else None,
            "test_values": list(test_values) if test_values else None,
            "best": best,
        },
        results=results,
        predictions=preds,
        chain=new_model,
        duration_s=time.perf_counter() - started,
        operation="retrain",
        origin=_origin(old, "transfer"),
    )
