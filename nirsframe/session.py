"""A session: one open workspace with caches shared by ``run``/``predict``/``explain``/``report``.

>>> import nirsframe as nf
>>> with nf.session("ws") as s:  # doctest: +SKIP
...     result = s.run("pipeline.yaml", "tecator.parquet")
...     preds = s.predict(result.run_id, "new.parquet")
...     s.report(result.run_id, "report.html")

What is cached, and by what key:

* **Ingested datasets, by content hash.** A dataset is hashed once and ingested at most once
  per (content hash, dataset name); a file path is remembered by ``(path, mtime, size)`` and an
  in-memory ``DataFrame``/``SpectralDataset`` by identity (the session keeps a reference), so
  passing the same input again neither re-reads nor re-hashes it. Lazy inputs are collected
  into memory first (their source could change between calls).
* **Fitted chains, by run id** (a run's chain never changes once recorded).
* **Opened dataset versions, by (name, version)** (versions are immutable).

The caches live until the ``with`` block ends (:meth:`Session.close`).
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from nirsframe.exceptions import WorkspaceError
from nirsframe.io.load import load_dataset
from nirsframe.workspace import FittedGraph, Workspace, dataset_hash

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

    from nirsframe.dataset import SpectralDataset
    from nirsframe.explain import Explanation
    from nirsframe.io.load import DataLike
    from nirsframe.pipeline.result import SearchResult
    from nirsframe.pipeline.spec import Pipeline
    from nirsframe.retrain import RetrainMode
    from nirsframe.workspace import FittedChain
    from nirsframe.workspace.store import DatasetRef, RunRecord

__all__ = ["Session", "session"]


class Session:
    """One open :class:`~nirsframe.workspace.Workspace` plus caches (see the module docstring).

    Use :func:`session` (a context manager) rather than building it directly.

    Attributes
    ----------
    workspace : Workspace
    stats : dict
        Cache hits and misses (``dataset_hits``, ``dataset_misses``, ``ingests``,
        ``chain_hits``, ``chain_misses``).
    """

    def __init__(self, workspace: Workspace | str | Path) -> None:
        self.workspace = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
        self._by_source: dict[Any, tuple[Any, str]] = {}
        self._by_hash: dict[str, SpectralDataset] = {}
        self._refs: dict[tuple[str, str], DatasetRef] = {}
        self._chains: dict[str, FittedChain | FittedGraph] = {}
        self._versions: dict[tuple[str, int], SpectralDataset] = {}
        self._closed = False
        self.stats = dict.fromkeys(
            ("dataset_hits", "dataset_misses", "ingests", "chain_hits", "chain_misses"), 0
        )

    # -- caches -------------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            msg = "this session is closed"
            raise WorkspaceError(msg)

    @staticmethod
    def _source_key(data: Any) -> Any:
        if isinstance(data, str | Path):
            p = Path(data).resolve()
            try:
                st = p.stat()
            except OSError:
                return None
            # A Lance or nirs4all folder changes inside: key directories by their newest entry.
            mtime = max((c.stat().st_mtime_ns for c in p.rglob("*")), default=st.st_mtime_ns)
            return ("path", str(p), mtime, st.st_size)
        if isinstance(data, pl.DataFrame):
            return ("object", id(data))
        return None  # lazy inputs: their source may change between calls

    def dataset(self, data: DataLike) -> tuple[SpectralDataset, str]:
        """``(dataset in memory, content hash)`` of ``data``, loaded and hashed at most once."""
        self._check_open()
        key = self._source_key(data)
        if key is not None and key in self._by_source:
            _, digest = self._by_source[key]
            self.stats["dataset_hits"] += 1
            return self._by_hash[digest], digest
        ds = load_dataset(data).collect()
        digest = dataset_hash(ds)
        if digest in self._by_hash:
            self.stats["dataset_hits"] += 1
            ds = self._by_hash[digest]
        else:
            self.stats["dataset_misses"] += 1
            self._by_hash[digest] = ds
        if key is not None:
            self._by_source[key] = (data, digest)  # keeps in-memory objects alive (stable id)
        return ds, digest

    def ingest(self, data: DataLike, name: str) -> tuple[SpectralDataset, DatasetRef]:
        """The dataset and its stored version, ingested at most once per (content, name)."""
        ds, digest = self.dataset(data)
        ref = self._refs.get((digest, name))
        if ref is None:
            ref = self.workspace.ingest(ds, name)
            self.stats["ingests"] += 1
            self._refs[(digest, name)] = ref
        return ds, ref

    def fitted(self, run_id: str) -> FittedChain | FittedGraph:
        """The fitted chain or graph of ``run_id`` (loaded and hash-checked once)."""
        self._check_open()
        chain = self._chains.get(run_id)
        if chain is None:
            self.stats["chain_misses"] += 1
            chain = self.workspace.fitted(run_id)
            self._chains[run_id] = chain
        else:
            self.stats["chain_hits"] += 1
        return chain

    def chain(self, run_id: str) -> FittedChain:
        """The fitted chain of ``run_id``; a run stored as a graph is a :class:`WorkspaceError`."""
        chain = self.fitted(run_id)
        if isinstance(chain, FittedGraph):
            msg = (
                f"run {run_id!r} stores a fitted {chain.kind!r} graph, not one chain; "
                "read it with Session.fitted()"
            )
            raise WorkspaceError(msg)
        return chain

    def open_dataset(self, name: str, version: int) -> SpectralDataset:
        """A stored dataset version, read into memory once."""
        self._check_open()
        key = (name, int(version))
        if key not in self._versions:
            self._versions[key] = self.workspace.open_dataset(name, version).collect()
        return self._versions[key]

    def _run_dataset(self, run_id: str) -> SpectralDataset:
        ref = self.workspace.run(run_id).dataset
        return self.open_dataset(ref.name, ref.version)

    # -- verbs --------------------------------------------------------------------------------
    def run(
        self,
        pipeline: Pipeline | Mapping[str, Any] | str | Path,
        data: DataLike,
        *,
        target: str | None = None,
        dataset_name: str | None = None,
        train_values: Sequence[str] | None = None,
        test_values: Sequence[str] | None = None,
    ) -> SearchResult:
        """:func:`nirsframe.api.run` recorded in this session's workspace."""
        from nirsframe.api import DEFAULT_SPLIT, record
        from nirsframe.pipeline.candidates import from_spec
        from nirsframe.pipeline.execute import execute
        from nirsframe.pipeline.spec import expand, load_pipeline
        from nirsframe.validation.splitters import parse_split

        self._check_open()
        spec = load_pipeline(pipeline)
        ds, ref = self.ingest(data, dataset_name or spec.name)
        self._versions.setdefault((ref.name, ref.version), ds)
        tgt = target or (spec.target if isinstance(spec.target, str) else spec.target[0])
        started = time.perf_counter()
        result = execute(
            ds,
            [from_spec(v) for v in expand(spec)],
            target=tgt,
            splitter=parse_split(spec.split or DEFAULT_SPLIT),
            name=spec.name,
            train_values=train_values,
            test_values=test_values,
        )
        record(
            self.workspace,
            result,
            ds,
            spec,
            duration_s=time.perf_counter() - started,
            train_values=train_values,
            test_values=test_values,
            dataset_ref=ref,
        )
        return result

    def predict(self, run_id: str, data: DataLike, *, resample: bool = False) -> pl.DataFrame:
        """:func:`nirsframe.api.predict` with the cached chain (or graph) and dataset."""
        from nirsframe.api import on_axes, replay_frame

        record = self.workspace.run(run_id)
        fitted = self.fitted(run_id)
        ds, _ = self.dataset(data)
        if isinstance(fitted, FittedGraph):
            axes = fitted.axes(ds.spectra_column)
        else:
            axes = {ds.spectra_column: self._run_dataset(run_id).axis}
        ds = on_axes(ds, axes, run_id, resample=resample)
        best = record.parameters.get("best") or {}
        return replay_frame(fitted, ds, best.get("variant"), record.parameters.get("target"))

    def explain(self, run_id: str, **kwargs: Any) -> Explanation:
        """:func:`nirsframe.explain.explain` with the cached chain and dataset."""
        from nirsframe.explain import explain

        self._check_open()
        return explain(
            self.workspace,
            run_id,
            chain=self.fitted(run_id),
            dataset=self._run_dataset(run_id),
            **kwargs,
        )

    def explain_nodes(self, run_id: str, **kwargs: Any) -> dict[str, Explanation]:
        """:func:`nirsframe.explain.explain_nodes` with the cached chain (or graph) and dataset."""
        from nirsframe.explain import explain_nodes

        self._check_open()
        return explain_nodes(
            self.workspace,
            run_id,
            chain=self.fitted(run_id),
            dataset=self._run_dataset(run_id),
            **kwargs,
        )

    def report(self, run_id: str, out: str | Path = "report.html") -> Path:
        """:func:`nirsframe.report.report` with the cached chain and dataset."""
        from nirsframe.report import report

        self._check_open()
        return report(
            self.workspace,
            run_id,
            out,
            chain=self.fitted(run_id),
            dataset=self._run_dataset(run_id),
        )

    def retrain(
        self,
        run_id: str,
        data: DataLike,
        mode: RetrainMode = "full",
        *,
        dataset_name: str | None = None,
        train_values: Sequence[str] | None = None,
        test_values: Sequence[str] | None = None,
    ) -> RunRecord:
        """:func:`nirsframe.retrain.retrain` with the cached data and chain."""
        from nirsframe.retrain import retrain

        old = self.workspace.run(run_id)
        ds, ref = self.ingest(data, dataset_name or old.dataset.name)
        return retrain(
            self.workspace,
            run_id,
            data,
            mode,
            train_values=train_values,
            test_values=test_values,
            dataset=ds,
            dataset_ref=ref,
            chain=self.fitted(run_id) if mode == "transfer" else None,
        )

    def close(self) -> None:
        """Drop every cache; later calls raise :class:`WorkspaceError`."""
        self._by_source.clear()
        self._by_hash.clear()
        self._refs.clear()
        self._chains.clear()
        self._versions.clear()
        self._closed = True


@contextlib.contextmanager
def session(workspace: Workspace | str | Path) -> Iterator[Session]:
    """A :class:`Session` on ``workspace``, closed when the ``with`` block ends.

    Examples
    --------
    >>> import tempfile
    >>> with session(tempfile.mkdtemp()) as s:
    ...     s.stats["ingests"]
    0
    """
    s = Session(workspace)
    try:
        yield s
    finally:
        s.close()
