"""A batch-prediction job: what to read, what to apply, where to commit, with which lineage.

:func:`prepare_job` does everything that must be the same whichever engine runs the job: it
resolves the run and its chain, pins the source Lance dataset to one version, checks its axis
against the run's, takes the source's content hash, and builds the transaction properties of
the single commit. The engines (:mod:`nirsframe.engine.local`, :mod:`nirsframe.engine.ray`) only
move batches; the lineage they write is the job's, so it is identical across engines.

Examples
--------
>>> from nirsframe.engine.job import PREDICT_OPERATION
>>> PREDICT_OPERATION
'predict'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import lance
import polars as pl

from nirsframe.dataset import AXES_KEY, ROLES_KEY, SpectralDataset, axes_from_json, parse_roles
from nirsframe.engine.batch import ChainPredictor, chain_payload
from nirsframe.exceptions import AxisError, DatasetError, InvalidParameterError
from nirsframe.io.lance import SCAN_BATCH_ROWS
from nirsframe.workspace.graph import FittedGraph
from nirsframe.workspace.hashing import dataset_hash
from nirsframe.workspace.store import PROP, Workspace, _code_version, _now

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    import pyarrow as pa

__all__ = [
    "PREDICT_OPERATION",
    "PredictJob",
    "WriteMode",
    "commit_fragments",
    "open_spectral_source",
    "open_target",
    "prepare_job",
]

PREDICT_OPERATION = "predict"
WriteMode = Literal["append", "overwrite"]
#: The data storage version of written predictions (the workspace's pinned one).
STORAGE_VERSION: Literal["2.0"] = "2.0"


@dataclass(frozen=True)
class PredictJob:
    """Everything an engine needs; plain data only (it is shipped to Ray workers as is).

    ``properties`` are the commit's transaction properties; ``mode`` is ``create`` when the
    target does not exist yet, else ``append`` or ``overwrite``.
    """

    run_id: str
    chain_hash: str
    payload: Mapping[str, Any]
    source_uri: str
    source_version: int
    out_uri: str
    mode: Literal["create", "append", "overwrite"]
    read_version: int | None
    spectra_column: str
    id_column: str | None
    target_column: str | None
    n_points: int
    schema: pa.Schema
    properties: Mapping[str, str]
    storage_options: Mapping[str, str] = field(default_factory=dict)
    #: Further columns a fitted graph reads (other sources, a separation column).
    extra_columns: tuple[str, ...] = ()

    def predictor_kwargs(self) -> dict[str, Any]:
        """Constructor keyword arguments of :class:`ChainPredictor` (plain dicts and ndarrays)."""
        return {
            "payload": dict(self.payload),
            "chain_hash": self.chain_hash,
            "n_points": self.n_points,
            "spectra_column": self.spectra_column,
            "id_column": self.id_column,
            "target_column": self.target_column,
        }

    def read_columns(self) -> list[str]:
        """Source columns an engine must read (the row address comes with the scan)."""
        cols = [self.spectra_column, *self.extra_columns, self.id_column, self.target_column]
        return list(dict.fromkeys(c for c in cols if c is not None))

    def open_source(self) -> lance.LanceDataset:
        """The source dataset pinned at :attr:`source_version`."""
        return lance.dataset(
            self.source_uri,
            version=self.source_version,
            storage_options=dict(self.storage_options) or None,
        )


def commit_fragments(
    uri: str,
    fragments: list[Any],
    *,
    schema: pa.Schema,
    mode: Literal["create", "append", "overwrite"],
    read_version: int | None,
    properties: Mapping[str, str],
    storage_options: Mapping[str, str] | None = None,
) -> int:
    """Commit data files written by workers as ONE version with ``properties``; return it.

    ``create`` and ``overwrite`` commit an ``Overwrite`` of ``schema`` (its metadata included),
    ``append`` an ``Append`` on top of ``read_version``.
    """
    if mode == "append":
        op: Any = lance.LanceOperation.Append(fragments)
    else:
        op = lance.LanceOperation.Overwrite(schema, fragments)
    tx = lance.Transaction(
        read_version=read_version or 0, operation=op, transaction_properties=dict(properties)
    )
    ds = lance.LanceDataset.commit(uri, tx, storage_options=dict(storage_options or {}) or None)
    return int(ds.version)


def open_target(
    uri: str, storage_options: Mapping[str, str] | None = None
) -> lance.LanceDataset | None:
    """The Lance dataset at ``uri``, or ``None`` when there is none yet.

    >>> open_target("memory://nothing-here") is None
    True
    """
    try:
        return lance.dataset(uri, storage_options=dict(storage_options or {}) or None)
    except (ValueError, OSError, FileNotFoundError):
        return None


def open_spectral_source(
    uri: str, version: int | str | None, storage_options: Mapping[str, str] | None
) -> tuple[lance.LanceDataset, SpectralDataset]:
    """The Lance source at ``version`` and a lazy spectral view of it (axes, roles).

    A :class:`DatasetError` when it cannot be opened or was not written by nirsframe.
    """
    try:
        ds = lance.dataset(
            uri, version=version, storage_options=dict(storage_options or {}) or None
        )
    except (ValueError, OSError) as exc:
        msg = f"cannot open Lance source {uri!r} at version {version!r}: {exc}"
        raise DatasetError(msg) from exc
    meta = ds.schema.metadata or {}
    if AXES_KEY.encode() not in meta or ROLES_KEY.encode() not in meta:
        msg = f"Lance source {uri!r} was not written by nirsframe (no axes/roles metadata)"
        raise DatasetError(msg)
    spectral = SpectralDataset(
        pl.scan_pyarrow_dataset(ds, batch_size=SCAN_BATCH_ROWS),
        axes_from_json(meta[AXES_KEY.encode()]),
        parse_roles(meta[ROLES_KEY.encode()]),
    )
    return ds, spectral


def _content_hash(ds: lance.LanceDataset, spectral: SpectralDataset) -> str:
    """The recorded content hash of this version when nirsframe wrote it, else computed."""
    tx = ds.read_transaction(int(ds.version))
    props = dict(getattr(tx, "transaction_properties", None) or {}) if tx is not None else {}
    stored = props.get(PROP + "content_hash")
    # One streaming pass over the source otherwise: the hash is what makes lineage verifiable.
    return stored or dataset_hash(spectral)


def prepare_job(
    workspace: Workspace | str | Path,
    run_id: str,
    source_uri: str,
    out_uri: str,
    *,
    source_version: int | str | None = None,
    mode: WriteMode = "append",
    storage_options: Mapping[str, str] | None = None,
) -> PredictJob:
    """Resolve run, chain, source version, target mode and lineage into a :class:`PredictJob`.

    Parameters
    ----------
    workspace
        The workspace holding run ``run_id``.
    run_id
        The run whose fitted chain predicts.
    source_uri
        A Lance dataset written by nirsframe (axes and roles in its schema metadata).
    out_uri
        The Lance dataset receiving the predictions (created when absent).
    source_version
        Version number or tag of the source (latest by default); the job pins it.
    mode
        ``append`` (default) or ``overwrite`` when ``out_uri`` exists.
    storage_options
        Passed to Lance for both the source and the target (object-store credentials...).
    """
    if mode not in ("append", "overwrite"):
        msg = f"'mode' must be 'append' or 'overwrite'; got {mode!r}"
        raise InvalidParameterError(msg)
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    record = ws.run(run_id)
    chain = ws.fitted(run_id)
    ds, spectral = open_spectral_source(source_uri, source_version, storage_options)
    if isinstance(chain, FittedGraph):
        # A graph reads every column it names (on the axis it was fitted on), and the metadata
        # column of a separation.
        axes = chain.axes(spectral.spectra_column)
        extra = [*(c for c in axes if c != spectral.spectra_column), *chain.metadata_columns()]
    else:
        axes = {
            spectral.spectra_column: ws.open_dataset(
                record.dataset.name, record.dataset.version
            ).axis
        }
        extra = []
    for col, fitted_axis in axes.items():
        got = spectral.axes.get(col)
        if got != fitted_axis:
            msg = (
                f"source axis {got!r} of column {col!r} differs from the axis run {run_id} was "
                f"fitted on ({fitted_axis!r}); resample the source onto it first"
            )
            raise AxisError(msg)
    target = record.parameters.get("target")
    schema_names = spectral.frame.collect_schema().names()
    target_column = target if isinstance(target, str) and target in schema_names else None
    payload = chain_payload(chain)
    chain_hash = chain.content_hash()
    # Build the predictor once on the driver: checks the chain, learns the output width.
    predictor = ChainPredictor(
        payload,
        chain_hash,
        n_points=spectral.n_points,
        spectra_column=spectral.spectra_column,
        id_column=spectral.roles.id,
        target_column=target_column,
    )
    existing = open_target(out_uri, storage_options)
    if existing is not None and mode == "append" and existing.schema != predictor.schema:
        msg = (
            f"cannot append to {out_uri!r}: its schema {existing.schema} differs from the "
            f"predictions' {predictor.schema}; use mode='overwrite' or another target"
        )
        raise DatasetError(msg)
    lineage = {
        "operation": PREDICT_OPERATION,
        "run_id": run_id,
        "chain_hash": chain_hash,
        "pipeline_hash": record.pipeline_hash,
        "input_uri": source_uri,
        "input_version": str(int(ds.version)),
        "input_hash": _content_hash(ds, spectral),
        "target": target_column or "",
        "code_version": _code_version(),
        "timestamp": _now().isoformat(),
    }
    return PredictJob(
        run_id=run_id,
        chain_hash=chain_hash,
        payload=payload,
        source_uri=source_uri,
        source_version=int(ds.version),
        out_uri=out_uri,
        mode="create" if existing is None else mode,
        read_version=None if existing is None else int(existing.version),
        spectra_column=spectral.spectra_column,
        id_column=spectral.roles.id,
        target_column=target_column,
        n_points=spectral.n_points,
        schema=predictor.schema,
        properties={PROP + k: v for k, v in lineage.items()},
        storage_options=dict(storage_options or {}),
        extra_columns=tuple(extra),
    )
