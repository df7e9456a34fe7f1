"""The workspace: a directory of Lance datasets with lineage on every commit.

Layout (see ``docs/workspace.md``)::

    <root>/datasets/<name>.lance   ingested datasets, one version per distinct content
    <root>/runs.lance              one row per run, written LAST (a run is visible once it is here)
    <root>/results.lance           metrics, one row per (run, metric, scope, fold, target)
    <root>/predictions.lance       predictions, one row per (run, sample, target, fold)
    <root>/chains/<run_id>/        fitted chains: chain.json + arrays/*.npy (no pickle)
    <root>/.locks/                 lock files serialising dataset creation

Every Lance commit carries ``nirsframe.*`` transaction properties (operation, run id, input
dataset URI/version/hash, pipeline hash and canonical spec, parameters, code version, UTC time,
write token). Appends retry on commit errors and are idempotent: each carries a write token,
and a retry first checks whether rows with that token were already committed.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import random
import re
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import lance
import polars as pl
import pyarrow as pa

from nirsframe.exceptions import DatasetError, WorkspaceError
from nirsframe.io.lance import scan_lance, write_lance
from nirsframe.workspace.chain import FittedChain, read_members, save_chain
from nirsframe.workspace.graph import FittedGraph, fitted_from_members
from nirsframe.workspace.hashing import dataset_hash, spec_hash

if TYPE_CHECKING:
    import os
    from collections.abc import Iterator, Mapping, Sequence

    from nirsframe.dataset import SpectralDataset

__all__ = [
    "PREDICTIONS_SCHEMA",
    "RESULTS_SCHEMA",
    "RUNS_SCHEMA",
    "DatasetRef",
    "Lineage",
    "RunRecord",
    "Workspace",
]

PROP = "nirsframe."
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_STORAGE: Literal["2.0"] = (
    "2.0"  # measured fastest here (DESIGN-NOTES); pinned so files stay readable
)

RUNS_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("write_token", pa.string()),
        ("created_at", pa.timestamp("us", tz="UTC")),
        ("operation", pa.string()),
        ("status", pa.string()),
        ("dataset_name", pa.string()),
        ("dataset_uri", pa.string()),
        ("dataset_version", pa.int64()),
        ("dataset_hash", pa.string()),
        ("pipeline_hash", pa.string()),
        ("spec_json", pa.string()),
        ("parameters_json", pa.string()),
        ("code_version", pa.string()),
        ("chain_hash", pa.string()),
        ("n_results", pa.int64()),
        ("n_predictions", pa.int64()),
        ("results_version", pa.int64()),
        ("predictions_version", pa.int64()),
        ("duration_s", pa.float64()),
        ("origin_json", pa.string()),
    ]
)
RESULTS_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("write_token", pa.string()),
        ("metric", pa.string()),
        ("value", pa.float64()),
        ("scope", pa.string()),
        ("fold", pa.int64()),
        ("target", pa.string()),
        ("variant", pa.int64()),
        ("label", pa.string()),
    ]
)
PREDICTIONS_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("write_token", pa.string()),
        ("row", pa.int64()),
        ("sample_id", pa.string()),
        ("target", pa.string()),
        ("fold", pa.int64()),
        ("scope", pa.string()),
        ("y_true", pa.float64()),
        ("y_pred", pa.float64()),
        ("variant", pa.int64()),
    ]
)


def _code_version() -> str:
    """``nirsframe.__version__`` (the installed distribution's version as a fallback)."""
    import importlib.metadata

    import nirsframe

    version = getattr(nirsframe, "__version__", None)
    return str(version or importlib.metadata.version("nirsframe"))


def _now() -> datetime:
    return datetime.now(UTC)


def _check_name(value: str, what: str) -> str:
    if not isinstance(value, str) or not _NAME.match(value):
        msg = f"{what} must match {_NAME.pattern}; got {value!r}"
        raise WorkspaceError(msg)
    return value


def _json(value: Any, what: str) -> str:
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        msg = f"{what} must be JSON-serialisable (finite numbers, str keys); {exc}"
        raise WorkspaceError(msg) from exc


def _open(uri: str, version: int | str | None = None) -> lance.LanceDataset | None:
    """The Lance dataset at ``uri`` or ``None`` when there is none (yet)."""
    if not Path(uri).is_dir():
        return None
    try:
        return lance.dataset(uri, version=version)
    except ValueError:
        if version is not None:
            raise
        return None


def _properties(ds: lance.LanceDataset, version: int) -> dict[str, str]:
    """The transaction properties of ``version`` (empty once cleaned up)."""
    tx = ds.read_transaction(version)
    props = getattr(tx, "transaction_properties", None) if tx is not None else None
    return dict(props or {})


@dataclass(frozen=True)
class DatasetRef:
    """A dataset version: name, Lance URI, version number and content hash."""

    name: str
    uri: str
    version: int
    hash: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True)
class RunRecord:
    """One row of ``runs.lance``."""

    run_id: str
    created_at: datetime
    operation: str
    status: str
    dataset: DatasetRef
    pipeline_hash: str
    spec_json: str
    parameters: Mapping[str, Any]
    code_version: str
    chain_hash: str | None
    n_results: int
    n_predictions: int
    results_version: int | None
    predictions_version: int | None
    duration_s: float | None
    origin: Mapping[str, Any] | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> RunRecord:
        """A record from a ``runs.lance`` row (as a dict)."""
        ref = DatasetRef(
            row["dataset_name"],
            row["dataset_uri"],
            int(row["dataset_version"]),
            row["dataset_hash"],
        )
        created = row["created_at"]
        if created.tzinfo is None:
            created = created.replace(tzinfo=UTC)
        return cls(
            run_id=row["run_id"],
            created_at=created,
            operation=row["operation"],
            status=row["status"],
            dataset=ref,
            pipeline_hash=row["pipeline_hash"],
            spec_json=row["spec_json"],
            parameters=json.loads(row["parameters_json"]),
            code_version=row["code_version"],
            chain_hash=row["chain_hash"],
            n_results=int(row["n_results"]),
            n_predictions=int(row["n_predictions"]),
            results_version=row["results_version"],
            predictions_version=row["predictions_version"],
            duration_s=row["duration_s"],
            origin=json.loads(row["origin_json"]) if row["origin_json"] else None,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (timestamps as ISO 8601 UTC)."""
        d = asdict(self)
        d["created_at"] = self.created_at.isoformat()
        d["parameters"] = dict(self.parameters)
        return d


@dataclass(frozen=True)
class Lineage:
    """prediction -> run -> pipeline -> dataset version -> raw data, for one run."""

    run: RunRecord
    predictions: Mapping[str, Any]
    pipeline: Mapping[str, Any]
    dataset: DatasetRef
    dataset_commit: Mapping[str, str] = field(default_factory=dict)
    raw_source: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Nested JSON-ready form, in chain order."""
        return {
            "predictions": dict(self.predictions),
            "run": {
                "run_id": self.run.run_id,
                "created_at": self.run.created_at.isoformat(),
                "code_version": self.run.code_version,
                "parameters": dict(self.run.parameters),
                "chain_hash": self.run.chain_hash,
            },
            "pipeline": dict(self.pipeline),
            "dataset": self.dataset.to_dict(),
            "dataset_commit": dict(self.dataset_commit),
            "raw_source": self.raw_source,
            "origin": dict(self.run.origin) if self.run.origin else None,
        }


def _table(frame: pl.DataFrame, schema: pa.Schema, required: Sequence[str], what: str) -> pa.Table:
    """``frame`` with exactly ``schema``'s columns (missing optional ones as nulls)."""
    allowed = set(schema.names) - {"run_id", "write_token"}
    unknown = sorted(set(frame.columns) - allowed)
    if unknown:
        msg = f"{what} has unknown columns {unknown}; allowed: {sorted(allowed)}"
        raise WorkspaceError(msg)
    missing = [c for c in required if c not in frame.columns]
    if missing:
        msg = f"{what} lacks required columns {missing}"
        raise WorkspaceError(msg)
    arrays = []
    for f in schema:
        if f.name in frame.columns:
            try:
                arrays.append(frame.get_column(f.name).to_arrow().cast(f.type))
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError) as exc:
                msg = f"{what} column {f.name!r} cannot be stored as {f.type}: {exc}"
                raise WorkspaceError(msg) from exc
        else:
            arrays.append(pa.nulls(frame.height, type=f.type))
    return pa.Table.from_arrays(arrays, schema=schema)


class Workspace:
    """A directory of Lance datasets: ingested data, runs, results, predictions, fitted chains.

    Parameters
    ----------
    root
        The workspace directory (created if absent).
    max_retries
        Attempts per commit before a :class:`WorkspaceError`.

    Examples
    --------
    >>> import numpy as np, tempfile
    >>> from nirsframe.dataset import SpectralDataset
    >>> ws = Workspace(tempfile.mkdtemp())
    >>> ds = SpectralDataset.from_numpy(np.ones((3, 4)), y=[1.0, 2.0, 3.0])
    >>> ref = ws.ingest(ds, "demo")
    >>> ref.version, ws.ingest(ds, "demo").version
    (1, 1)
    >>> rec = ws.record_run(dataset=ref, spec_json='{"steps":[]}', results={"rmse": 0.5})
    >>> ws.runs().height
    1
    """

    def __init__(self, root: str | os.PathLike[str], *, max_retries: int = 20) -> None:
        self.root = Path(root).resolve()
        self.max_retries = max_retries
        for sub in ("datasets", "chains", ".locks"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)

    # -- paths ------------------------------------------------------------------------------
    def dataset_uri(self, name: str) -> str:
        """URI of the Lance dataset ``name``."""
        return str(self.root / "datasets" / f"{_check_name(name, 'dataset name')}.lance")

    @property
    def runs_uri(self) -> str:
        """URI of ``runs.lance``."""
        return str(self.root / "runs.lance")

    @property
    def results_uri(self) -> str:
        """URI of ``results.lance``."""
        return str(self.root / "results.lance")

    @property
    def predictions_uri(self) -> str:
        """URI of ``predictions.lance``."""
        return str(self.root / "predictions.lance")

    def chain_path(self, run_id: str) -> Path:
        """Directory of the fitted chain of ``run_id``."""
        return self.root / "chains" / _check_name(run_id, "run_id")

    @contextlib.contextmanager
    def _lock(self, key: str) -> Iterator[None]:
        """An exclusive inter-process lock (``flock``) on ``.locks/<key>.lock``."""
        with open(self.root / ".locks" / f"{key}.lock", "a+b") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def _properties(self, operation: str, **values: Any) -> dict[str, str]:
        props = {
            "operation": operation,
            "code_version": _code_version(),
            "timestamp": _now().isoformat(),
        }
        props.update({k: "" if v is None else str(v) for k, v in values.items()})
        return {PROP + k: v for k, v in props.items()}

    # -- commits ----------------------------------------------------------------------------
    def _append(self, uri: str, table: pa.Table, props: Mapping[str, str], token: str) -> int:
        """Append ``table`` once (idempotent on ``token``), creating the dataset if needed.

        Returns the version that holds the rows.
        """
        props = {**props, PROP + "write_token": token}
        table = table.set_column(
            table.schema.get_field_index("write_token"),
            "write_token",
            pa.array([token] * table.num_rows, pa.string()),
        )
        last: Exception | None = None
        for attempt in range(self.max_retries):
            try:
                ds = _open(uri)
                if ds is None:
                    # Lance commits a create as an overwrite: serialise creators.
                    with self._lock(Path(uri).name):
                        ds = _open(uri)
                        if ds is None:
                            new = lance.write_dataset(
                                table,
                                uri,
                                mode="create",
                                data_storage_version=_STORAGE,
                                transaction_properties=dict(props),
                            )
                            return int(new.version)
                found = self._token_version(ds, token)
                if found is not None:
                    return found
                new = lance.write_dataset(
                    table, uri, mode="append", transaction_properties=dict(props)
                )
                return int(new.version)
            except (OSError, RuntimeError, ValueError) as exc:
                # Commit conflicts and transient I/O errors: back off with jitter, then check
                # the token again so a commit that did land is never written twice.
                last = exc
                time.sleep(min(0.5, 0.01 * 2**attempt) * (0.5 + random.random()))
        msg = f"cannot commit to {uri} after {self.max_retries} attempts: {last}"
        raise WorkspaceError(msg) from last

    @staticmethod
    def _token_version(ds: lance.LanceDataset, token: str) -> int | None:
        """The version holding rows written with ``token`` (latest if its history is gone)."""
        hit = ds.to_table(columns=["write_token"], filter=f"write_token = '{token}'", limit=1)
        if hit.num_rows == 0:
            return None
        for v in sorted((int(x["version"]) for x in ds.versions()), reverse=True):
            if _properties(ds, v).get(PROP + "write_token") == token:
                return v
        return int(ds.version)

    # -- datasets ---------------------------------------------------------------------------
    def ingest(self, ds: SpectralDataset, name: str, *, source: str | None = None) -> DatasetRef:
        """Store ``ds`` as ``datasets/<name>.lance``; identical content makes no new version.

        Parameters
        ----------
        ds
            The dataset (executed once to hash, once to write).
        name
            Dataset name (letters, digits, ``_.-``).
        source
            Where the raw data came from (a file path or URI), recorded in the lineage.
        """
        uri = self.dataset_uri(name)
        digest = dataset_hash(ds)
        with self._lock(f"dataset-{name}"):
            current = _open(uri)
            if current is not None:
                v = int(current.version)
                stored = _properties(current, v).get(PROP + "content_hash")
                if stored is None:
                    stored = dataset_hash(scan_lance(uri, version=v))
                if stored == digest:
                    return DatasetRef(name, uri, v, digest)
            props = self._properties(
                "ingest",
                content_hash=digest,
                input_uri=source,
                input_version=None,
                input_hash=digest,
                dataset=name,
            )
            version = write_lance(
                ds, uri, mode="create" if current is None else "overwrite", properties=props
            )
        return DatasetRef(name, uri, version, digest)

    def datasets(self) -> list[str]:
        """Names of the ingested datasets."""
        return sorted(
            p.name.removesuffix(".lance")
            for p in (self.root / "datasets").glob("*.lance")
            if _open(str(p)) is not None
        )

    def _dataset(self, name: str, version: int | str | None = None) -> lance.LanceDataset:
        uri = self.dataset_uri(name)
        try:
            ds = _open(uri, version)
        except ValueError as exc:
            msg = f"dataset {name!r} has no version or tag {version!r}: {exc}"
            raise WorkspaceError(msg) from exc
        if ds is None:
            msg = f"no dataset {name!r} in {self.root}; datasets: {self.datasets()}"
            raise WorkspaceError(msg)
        return ds

    def open_dataset(self, name: str, version: int | str | None = None) -> SpectralDataset:
        """A lazy dataset at ``version`` (number or tag; latest by default): time travel."""
        ds = self._dataset(name, version)
        return scan_lance(self.dataset_uri(name), version=int(ds.version))

    def dataset_ref(self, name: str, version: int | str | None = None) -> DatasetRef:
        """The :class:`DatasetRef` of a stored version (hash recomputed if its history is gone)."""
        ds = self._dataset(name, version)
        v = int(ds.version)
        digest = _properties(ds, v).get(PROP + "content_hash")
        if digest is None:
            digest = dataset_hash(scan_lance(self.dataset_uri(name), version=v))
        return DatasetRef(name, self.dataset_uri(name), v, digest)

    def versions(self, name: str) -> list[dict[str, Any]]:
        """Versions of dataset ``name`` with their lineage properties."""
        ds = self._dataset(name)
        out = []
        for info in ds.versions():
            v = int(info["version"])
            out.append({"version": v, "timestamp": info["timestamp"], **_properties(ds, v)})
        return out

    # -- tags -------------------------------------------------------------------------------
    def tag(self, name: str, version: int | None = None, *, dataset: str | None = None) -> int:
        """Tag a version of dataset ``dataset`` (or of ``runs.lance`` when ``dataset`` is None).

        Tagged versions survive :meth:`cleanup`. Returns the tagged version.
        """
        _check_name(name, "tag name")
        ds = self._dataset(dataset) if dataset is not None else _open(self.runs_uri)
        if ds is None:
            msg = "no run recorded yet: nothing to tag"
            raise WorkspaceError(msg)
        v = int(ds.version) if version is None else int(version)
        try:
            ds.tags.create(name, v)
        except (OSError, ValueError, RuntimeError) as exc:
            msg = f"cannot create tag {name!r} at version {v}: {exc}"
            raise WorkspaceError(msg) from exc
        return v

    def cleanup(self, older_than: timedelta = timedelta(days=14)) -> None:
        """Remove untagged versions older than ``older_than`` from every Lance dataset."""
        uris = [self.runs_uri, self.results_uri, self.predictions_uri]
        uris += [self.dataset_uri(n) for n in self.datasets()]
        for uri in uris:
            ds = _open(uri)
            if ds is not None:
                # Lance treats a zero timedelta as "not given": use the smallest positive one.
                ds.cleanup_old_versions(
                    older_than=max(older_than, timedelta(microseconds=1)),
                    error_if_tagged_old_versions=False,
                )

    # -- runs -------------------------------------------------------------------------------
    def record_run(
        self,
        *,
        dataset: DatasetRef,
        spec_json: str,
        pipeline_hash: str | None = None,
        parameters: Mapping[str, Any] | None = None,
        results: Mapping[str, float] | Sequence[Mapping[str, Any]] | pl.DataFrame | None = None,
        predictions: pl.DataFrame | Mapping[str, Any] | None = None,
        chain: FittedChain | FittedGraph | None = None,
        run_id: str | None = None,
        status: str = "completed",
        duration_s: float | None = None,
        operation: str = "run",
        origin: Mapping[str, Any] | None = None,
    ) -> RunRecord:
        """Store one run: chain, results, predictions, then the ``runs.lance`` row LAST.

        A crash at any point leaves no visible partial run (readers list only runs present in
        ``runs.lance``); calling again with the same ``run_id`` completes it without duplicating
        rows, and calling it for a run already recorded returns the stored record.

        Parameters
        ----------
        dataset
            The dataset version the run used (from :meth:`ingest` or :meth:`dataset_ref`).
        spec_json
            The canonical pipeline spec JSON (``nirsframe.pipeline.spec.canonical_json``).
        pipeline_hash
            ``pipeline_hash(spec)``; defaults to the SHA-256 of ``spec_json``.
        parameters
            Run parameters (JSON data: seeds, CV scheme, engine...).
        results
            ``{metric: value}`` or rows with ``metric``, ``value`` and optional ``scope``,
            ``fold``, ``target``.
        predictions
            Columns ``y_pred`` and optional ``row``, ``sample_id``, ``target``, ``fold``,
            ``scope``, ``y_true``.
        chain
            The fitted chain (or fitted graph), stored under ``chains/<run_id>/``.
        run_id
            Identifier (default: a new UUID); reuse it to retry a failed call.
        status, duration_s, operation, origin
            Recorded as is (``origin``: lineage of an imported run).
        """
        run_id = _check_name(run_id or uuid.uuid4().hex, "run_id")
        existing = self._find_run(run_id)
        if existing is not None:
            return existing
        if not isinstance(spec_json, str):
            msg = f"'spec_json' must be the canonical spec JSON string; got {type(spec_json)}"
            raise WorkspaceError(msg)
        phash = pipeline_hash or spec_hash(spec_json)
        params_json = _json(dict(parameters or {}), "parameters")
        origin_json = _json(dict(origin), "origin") if origin is not None else None
        # Validate and shape every table before writing anything.
        res = _table(
            _results_frame(results, run_id), RESULTS_SCHEMA, ("metric", "value"), "results"
        )
        pred_frame = _predictions_frame(predictions)
        pred = _table(pred_frame, PREDICTIONS_SCHEMA, ("y_pred",), "predictions")
        res = res.set_column(0, "run_id", pa.array([run_id] * res.num_rows, pa.string()))
        pred = pred.set_column(0, "run_id", pa.array([run_id] * pred.num_rows, pa.string()))
        lineage = {
            "run_id": run_id,
            "input_uri": dataset.uri,
            "input_version": dataset.version,
            "input_hash": dataset.hash,
            "pipeline_hash": phash,
            "spec": spec_json,
            "parameters": params_json,
        }
        chain_hash = save_chain(chain, self.chain_path(run_id)) if chain is not None else None
        res_v = (
            self._append(
                self.results_uri,
                res,
                self._properties(f"{operation}.results", **lineage),
                f"{run_id}.results",
            )
            if res.num_rows
            else None
        )
        pred_v = (
            self._append(
                self.predictions_uri,
                pred,
                self._properties(f"{operation}.predictions", **lineage),
                f"{run_id}.predictions",
            )
            if pred.num_rows
            else None
        )
        row = {
            "run_id": run_id,
            "write_token": "",
            "created_at": _now(),
            "operation": operation,
            "status": status,
            "dataset_name": dataset.name,
            "dataset_uri": dataset.uri,
            "dataset_version": dataset.version,
            "dataset_hash": dataset.hash,
            "pipeline_hash": phash,
            "spec_json": spec_json,
            "parameters_json": params_json,
            "code_version": _code_version(),
            "chain_hash": chain_hash,
            "n_results": res.num_rows,
            "n_predictions": pred.num_rows,
            "results_version": res_v,
            "predictions_version": pred_v,
            "duration_s": duration_s,
            "origin_json": origin_json,
        }
        table = pa.Table.from_pylist([row], schema=RUNS_SCHEMA)
        props = self._properties(operation, **lineage, chain_hash=chain_hash)
        self._append(self.runs_uri, table, props, f"{run_id}.run")
        record = self._find_run(run_id)
        if record is None:  # pragma: no cover - the append above returned without error
            msg = f"run {run_id!r} was committed but cannot be read back"
            raise WorkspaceError(msg)
        return record

    def runs(self, version: int | str | None = None) -> pl.DataFrame:
        """Every visible run (one row each) at ``version`` of ``runs.lance`` (latest default)."""
        ds = _open(self.runs_uri, version)
        if ds is None:
            return pl.DataFrame(schema=pl.from_arrow(RUNS_SCHEMA.empty_table()).schema)  # type: ignore[union-attr]
        frame = pl.from_arrow(ds.to_table())
        assert isinstance(frame, pl.DataFrame)
        return frame.sort("created_at", "run_id")

    def _find_run(self, run_id: str) -> RunRecord | None:
        ds = _open(self.runs_uri)
        if ds is None:
            return None
        hit = ds.to_table(filter=f"run_id = '{_check_name(run_id, 'run_id')}'", limit=1)
        if hit.num_rows == 0:
            return None
        return RunRecord.from_row(hit.to_pylist()[0])

    def run(self, run_id: str) -> RunRecord:
        """The record of ``run_id`` (a :class:`WorkspaceError` when it is not visible)."""
        record = self._find_run(run_id)
        if record is None:
            msg = f"no run {run_id!r} in {self.root}"
            raise WorkspaceError(msg)
        return record

    def _rows(self, uri: str, run_id: str | None) -> pl.DataFrame:
        ds = _open(uri)
        if run_id is not None:
            self.run(run_id)
            table = ds.to_table(filter=f"run_id = '{run_id}'") if ds is not None else None
        else:
            table = ds.to_table() if ds is not None else None
        schema = RESULTS_SCHEMA if uri == self.results_uri else PREDICTIONS_SCHEMA
        frame = pl.from_arrow(table if table is not None else schema.empty_table())
        assert isinstance(frame, pl.DataFrame)
        visible = self.runs().select("run_id")
        # Rows of crashed, never-committed runs stay invisible.
        return frame.join(visible, on="run_id", how="semi").drop("write_token")

    def results(self, run_id: str | None = None) -> pl.DataFrame:
        """Metrics of one run or of every visible run."""
        return self._rows(self.results_uri, run_id)

    def predictions(self, run_id: str | None = None) -> pl.DataFrame:
        """Predictions of one run or of every visible run."""
        return self._rows(self.predictions_uri, run_id)

    def fitted(self, run_id: str) -> FittedChain | FittedGraph:
        """The fitted chain or graph of ``run_id`` (checked against the hash in its run record).

        A graph replays a stacked, tuned, separated, multi-source or target-processed run.
        """
        record = self.run(run_id)
        if record.chain_hash is None:
            msg = f"run {run_id!r} has no fitted chain"
            raise WorkspaceError(msg)
        fitted = fitted_from_members(read_members(self.chain_path(run_id)))
        if fitted.content_hash() != record.chain_hash:
            msg = f"the chain stored for run {run_id!r} does not match its recorded hash"
            raise WorkspaceError(msg)
        return fitted

    def chain(self, run_id: str) -> FittedChain:
        """The fitted chain of ``run_id``; a run stored as a graph is a :class:`WorkspaceError`
        (use :meth:`fitted`)."""
        fitted = self.fitted(run_id)
        if isinstance(fitted, FittedGraph):
            msg = (
                f"run {run_id!r} stores a fitted {fitted.kind!r} graph, not one chain; "
                "read it with Workspace.fitted()"
            )
            raise WorkspaceError(msg)
        return fitted

    def lineage(self, run_id: str, *, verify: bool = False) -> Lineage:
        """prediction -> run -> pipeline -> dataset version -> raw data for ``run_id``.

        With ``verify=True`` the dataset version is re-hashed and must match the recorded hash.
        """
        record = self.run(run_id)
        ref = record.dataset
        commit: dict[str, str] = {}
        raw: str | None = None
        ds = _open(ref.uri) if Path(ref.uri).is_dir() else None
        if ds is not None:
            commit = _properties(ds, ref.version)
            raw = commit.get(PROP + "input_uri") or None
        if verify:
            if ds is None:
                msg = f"dataset {ref.uri} of run {run_id!r} is not in this workspace"
                raise WorkspaceError(msg)
            try:
                actual = dataset_hash(scan_lance(ref.uri, version=ref.version))
            except DatasetError as exc:
                msg = f"dataset version {ref.version} of {ref.uri} cannot be read: {exc}"
                raise WorkspaceError(msg) from exc
            if actual != ref.hash:
                msg = f"dataset {ref.uri}@{ref.version} hash {actual} != recorded {ref.hash}"
                raise WorkspaceError(msg)
        return Lineage(
            run=record,
            predictions={
                "uri": self.predictions_uri,
                "version": record.predictions_version,
                "n_rows": record.n_predictions,
            },
            pipeline={"hash": record.pipeline_hash, "spec": record.spec_json},
            dataset=ref,
            dataset_commit=commit,
            raw_source=raw,
        )


def _results_frame(
    results: Mapping[str, float] | Sequence[Mapping[str, Any]] | pl.DataFrame | None, run_id: str
) -> pl.DataFrame:
    if results is None:
        return pl.DataFrame({"metric": [], "value": []})
    if isinstance(results, pl.DataFrame):
        return results
    if isinstance(results, dict) or hasattr(results, "items"):
        items = list(results.items())
        return pl.DataFrame(
            {"metric": [str(k) for k, _ in items], "value": [float(v) for _, v in items]}
        )
    rows = list(results)
    if not all(isinstance(r, dict) for r in rows):
        msg = f"results of run {run_id!r} must be a mapping, rows (dicts) or a DataFrame"
        raise WorkspaceError(msg)
    return pl.DataFrame(rows, infer_schema_length=None)


def _predictions_frame(predictions: pl.DataFrame | Mapping[str, Any] | None) -> pl.DataFrame:
    if predictions is None:
        return pl.DataFrame({"y_pred": []})
    if isinstance(predictions, pl.DataFrame):
        return predictions
    return pl.DataFrame(
        {k: list(v) if hasattr(v, "__iter__") else v for k, v in predictions.items()}
    )
