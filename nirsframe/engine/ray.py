"""The Ray engine: the same job as the local engine, spread over a Ray cluster.

``lance_ray.read_lance`` turns the source's fragments into read tasks (pinned to the job's
source version, projection pushed down, row addresses attached); ``map_batches`` runs ONE
importable callable class, :class:`~nirsframe.engine.batch.ChainPredictor`, in a pool of actors
that each rebuild the chain from its plain arrays and compile their numba kernels once, in
``__init__``; a Lance datasink writes the data files from the workers, and the driver commits
them all in ONE transaction carrying the job's transaction properties. Until that commit nothing
is visible: a failed task fails the job and the target stays at its previous version.

Choices measured in ``DESIGN-NOTES.md`` (Ray section):

- The chain travels as plain dicts and ndarrays in ``fn_constructor_kwargs`` (Ray passes object
  refs there unresolved, and a pickled estimator is ~15x larger than its arrays).
- The actor pool stays below the CPU count; on small nodes each actor takes a fraction of a CPU
  so that the read and write tasks are never starved (a pool taking every CPU hangs).
- Files are sized in bytes, not rows: ``min_rows_per_file`` is derived from the row size.

Ray is imported lazily; without it, :func:`run_ray` raises :class:`RayUnavailableError`, which
names the ``nirsframe[ray]`` extra.

Examples
--------
>>> actor_pool(2.0)
(2, 0.5)
>>> actor_pool(16.0)
(15, 1.0)
"""

from __future__ import annotations

import importlib
import json
from typing import TYPE_CHECKING, Any

from nirsframe.engine.batch import ChainPredictor, row_bytes
from nirsframe.engine.job import STORAGE_VERSION, commit_fragments
from nirsframe.exceptions import InvalidParameterError, NirsframeError

if TYPE_CHECKING:
    from types import ModuleType

    from nirsframe.engine.job import PredictJob

__all__ = [
    "DEFAULT_BATCH_ROWS",
    "DEFAULT_FILE_BYTES",
    "RayUnavailableError",
    "actor_pool",
    "import_ray",
    "run_ray",
]

DEFAULT_BATCH_ROWS = 8192
#: Target bytes per written data file; Ray buffers a task's output up to this before writing.
DEFAULT_FILE_BYTES = 64 * 1024 * 1024
_INSTALL_HINT = "install the extra: pip install 'nirsframe[ray]' (ray[data] and lance-ray)"


class RayUnavailableError(NirsframeError, ImportError):
    """``engine="ray"`` was asked for but Ray Data or lance-ray is not installed."""


def import_ray() -> tuple[ModuleType, ModuleType]:
    """``(ray, lance_ray)``, or a :class:`RayUnavailableError` naming ``nirsframe[ray]``."""
    try:
        ray = importlib.import_module("ray")
        importlib.import_module("ray.data")
        lance_ray = importlib.import_module("lance_ray")
    except ImportError as exc:
        msg = f"engine='ray' needs Ray Data and lance-ray ({exc.name} is missing): {_INSTALL_HINT}"
        raise RayUnavailableError(msg) from exc
    return ray, lance_ray


def actor_pool(total_cpus: float) -> tuple[int, float]:
    """``(actors, cpus_per_actor)`` for a cluster with ``total_cpus`` CPUs.

    Large clusters keep one CPU free for read and write tasks; on nodes with fewer than four
    CPUs each actor gets a fraction of a CPU so that at least one CPU stays schedulable for
    the read tasks (a pool that takes every CPU starves them and the job hangs).
    """
    if total_cpus >= 4:
        return int(total_cpus) - 1, 1.0
    n = max(1, int(total_cpus))
    return n, max(0.25, (total_cpus - 1.0) / n)


def _sink(job: PredictJob, min_rows: int) -> Any:
    """A lance-ray datasink that commits once with the job's transaction properties."""
    from lance_ray.datasink import LanceDatasink

    class _CommitOnce(LanceDatasink):
        # lance-ray's own commit takes no transaction properties: commit here instead, with
        # the same Append/Overwrite operation and the read version pinned by the job.
        committed_version: int | None = None

        def on_write_start(self, schema: Any = None) -> None:
            self.read_version = job.read_version

        def write(self, blocks: Any, ctx: Any) -> list[tuple[str, None]]:
            # Workers report their fragments as JSON (lance-ray's own datasink pickles them;
            # nothing in nirsframe unpickles, not even between its own processes).
            from lance_ray.fragment import write_fragment

            written = write_fragment(
                blocks,
                self.uri,
                schema=self.schema,
                max_rows_per_file=self.max_rows_per_file,
                data_storage_version=self.data_storage_version,
                storage_options=self.storage_options,
            )
            return [(json.dumps(fragment.to_json()), None) for fragment, _ in written]

        def on_write_complete(self, write_result: Any) -> None:
            from lance.fragment import FragmentMetadata

            results = getattr(write_result, "write_returns", write_result) or []
            self.committed_version = commit_fragments(
                job.out_uri,
                [FragmentMetadata.from_json(f) for batch in results for f, _ in batch],
                schema=job.schema,
                mode=job.mode,
                read_version=job.read_version,
                properties=job.properties,
                storage_options=job.storage_options,
            )

    return _CommitOnce(
        job.out_uri,
        schema=job.schema,
        mode=job.mode,
        min_rows_per_file=min_rows,
        max_rows_per_file=max(min_rows, 64 * 1024 * 1024),
        data_storage_version=STORAGE_VERSION,
        storage_options=dict(job.storage_options) or None,
    )


def run_ray(
    job: PredictJob,
    *,
    ray_address: str | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    file_bytes: int = DEFAULT_FILE_BYTES,
    actors: int | None = None,
    cpus_per_actor: float | None = None,
) -> int:
    """Run ``job`` on Ray; return the target's new version (one commit).

    Parameters
    ----------
    job
        From :func:`nirsframe.engine.job.prepare_job`.
    ray_address
        Cluster to connect to when Ray is not initialised yet (``"auto"``, ``"ray://..."``);
        ``None`` connects to ``RAY_ADDRESS`` or starts a local Ray.
    batch_rows
        Rows per ``map_batches`` call (and per read batch).
    file_bytes
        Target bytes per written data file.
    actors, cpus_per_actor
        Override the actor pool (default: :func:`actor_pool` of the cluster's CPUs).
    """
    for name, value in (("batch_rows", batch_rows), ("file_bytes", file_bytes)):
        if not isinstance(value, int) or value < 1:
            msg = f"'{name}' must be a positive integer; got {value!r}"
            raise InvalidParameterError(msg)
    ray, lance_ray = import_ray()
    if not ray.is_initialized():
        ray.init(address=ray_address)
    n_default, cpus_default = actor_pool(float(ray.cluster_resources().get("CPU", 1.0)))
    n_actors = actors if actors is not None else n_default
    cpus = cpus_per_actor if cpus_per_actor is not None else cpus_default
    if n_actors < 1 or cpus <= 0:
        msg = f"'actors' and 'cpus_per_actor' must be positive; got {n_actors!r}, {cpus!r}"
        raise InvalidParameterError(msg)
    storage = dict(job.storage_options) or None
    source = lance_ray.read_lance(
        job.source_uri,
        columns=job.read_columns(),
        storage_options=storage,
        dataset_options={"version": job.source_version},
        scanner_options={"batch_size": batch_rows},
        with_metadata=True,
    )
    predicted = source.map_batches(
        ChainPredictor,
        fn_constructor_kwargs=job.predictor_kwargs(),
        batch_format="pyarrow",
        batch_size=batch_rows,
        compute=ray.data.ActorPoolStrategy(size=n_actors),
        num_cpus=cpus,
    )
    sink = _sink(job, min_rows=max(1, file_bytes // row_bytes(job.schema)))
    predicted.write_datasink(sink)
    version: int | None = sink.committed_version
    if version is None:  # pragma: no cover - Ray returned without calling on_write_complete
        msg = f"the Ray job finished without committing to {job.out_uri!r}"
        raise NirsframeError(msg)
    return version
