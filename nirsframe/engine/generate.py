"""``nf.generate(..., engine="ray")``: synthetic blocks computed and written by Ray tasks.

Block ``b`` of a generator config is deterministic from ``(config, b)``
(:func:`nirsframe.synthetic.synth.make_block`), so the blocks can be made anywhere. The job
cuts the blocks into contiguous runs sized by bytes (``file_bytes`` per data file), and one Ray
task per run rebuilds the :class:`~nirsframe.synthetic.synth.Plan` from the config's JSON,
makes its blocks in order and writes them with ``lance_ray.fragment.write_fragment``, returning
only fragment metadata (JSON). The driver commits every fragment **in block order** in ONE
transaction, with the schema (axes and roles in its metadata) and the transaction properties of
the local path: the same rows in the same order, bit for bit. A failing task fails the job
before the commit, so the target stays at its previous version.

Examples
--------
>>> from nirsframe.synthetic import GeneratorConfig, Plan
>>> blocks_per_task(Plan.build(GeneratorConfig()), 64 * 1024 * 1024)
7
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from nirsframe.engine.batch import row_bytes
from nirsframe.engine.job import STORAGE_VERSION, commit_fragments, open_target
from nirsframe.exceptions import InvalidParameterError, NirsframeError
from nirsframe.synthetic.synth import BLOCK_SAMPLES, Plan

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    import pyarrow as pa

__all__ = ["DEFAULT_FILE_BYTES", "GenerateJob", "blocks_per_task", "run_generate_ray"]

#: Target bytes per written data file (one Ray task writes about this much).
DEFAULT_FILE_BYTES = 64 * 1024 * 1024
#: lance-ray's commit-message key, so a Ray commit reads like a ``lance.write_dataset`` one.
_COMMIT_MESSAGE = "__lance_commit_message"


@dataclass(frozen=True)
class GenerateJob:
    """Plain data for one generation job (shipped to the tasks as is).

    ``schema`` carries the axes and roles metadata; ``mode`` is ``create`` for a new target.
    """

    config_json: str
    n_samples: int
    uri: str
    schema: pa.Schema
    mode: Literal["create", "append", "overwrite"]
    read_version: int | None
    properties: Mapping[str, str]
    file_bytes: int = DEFAULT_FILE_BYTES
    storage_options: Mapping[str, str] = field(default_factory=dict)

    @property
    def n_blocks(self) -> int:
        """Random blocks of :data:`BLOCK_SAMPLES` samples (the last may be partial)."""
        return -(-self.n_samples // BLOCK_SAMPLES)


def blocks_per_task(plan: Plan, file_bytes: int) -> int:
    """Whole blocks per task so that a task writes about ``file_bytes`` (at least one block)."""
    block_bytes = BLOCK_SAMPLES * plan.config.repetitions * row_bytes(plan.schema)
    return max(1, file_bytes // block_bytes)


def _blocks(plan: Plan, n_samples: int, first: int, stop: int) -> Iterator[pa.Table]:
    import pyarrow as pa

    from nirsframe.synthetic.synth import make_block

    for b in range(first, stop):
        size = min(BLOCK_SAMPLES, n_samples - b * BLOCK_SAMPLES)
        yield pa.Table.from_batches([make_block(plan, b, size)])


def write_blocks(job: GenerateJob, first: int, stop: int) -> list[str]:
    """Make blocks ``first..stop-1`` and write them as data files; their fragments as JSON."""
    from lance_ray.fragment import write_fragment

    from nirsframe.synthetic.config import GeneratorConfig

    plan = Plan.build(GeneratorConfig.model_validate_json(job.config_json))
    written = write_fragment(
        _blocks(plan, job.n_samples, first, stop),
        job.uri,
        schema=job.schema,
        max_bytes_per_file=job.file_bytes,
        data_storage_version=STORAGE_VERSION,
        storage_options=dict(job.storage_options) or None,
    )
    return [json.dumps(fragment.to_json()) for fragment, _ in written]


def prepare_generate(
    plan: Plan,
    n_samples: int,
    uri: str,
    *,
    mode: Literal["create", "append", "overwrite"],
    properties: Mapping[str, str],
    commit_message: str,
    file_bytes: int = DEFAULT_FILE_BYTES,
    storage_options: Mapping[str, str] | None = None,
) -> GenerateJob:
    """The job of writing ``n_samples`` samples of ``plan`` to ``uri`` (checks the target).

    ``properties`` and ``commit_message`` are committed as ``lance.write_dataset`` would.
    """
    from nirsframe.io.lance import check_append, with_spectral_metadata

    if not isinstance(file_bytes, int) or file_bytes < 1:
        msg = f"'file_bytes' must be a positive integer; got {file_bytes!r}"
        raise InvalidParameterError(msg)
    existing = open_target(uri, storage_options)
    if existing is None and mode == "append":
        msg = f"cannot append to {uri!r}: there is no Lance dataset there"
        raise InvalidParameterError(msg)
    if existing is not None and mode == "create":
        msg = f"a Lance dataset already exists at {uri!r}; use mode='append' or 'overwrite'"
        raise InvalidParameterError(msg)
    if mode == "append":
        check_append(uri, plan.axes, plan.roles)
    schema = with_spectral_metadata(plan.schema, plan.axes, plan.roles)
    return GenerateJob(
        config_json=plan.config.model_dump_json(),
        n_samples=n_samples,
        uri=uri,
        schema=schema if mode != "append" or existing is None else existing.schema,
        mode=mode if existing is not None else "create",
        read_version=None if existing is None else int(existing.version),
        properties={**properties, _COMMIT_MESSAGE: commit_message},
        file_bytes=file_bytes,
        storage_options=dict(storage_options or {}),
    )


def run_generate_ray(
    job: GenerateJob, *, blocks_per_task: int, ray_address: str | None = None
) -> int:
    """Run ``job`` as Ray tasks and commit once; return the new version.

    The fragments are committed in block order whatever the order the tasks finish in.
    """
    from lance.fragment import FragmentMetadata

    from nirsframe.engine.ray import import_ray

    ray, _ = import_ray()
    if not ray.is_initialized():
        ray.init(address=ray_address)
    task: Any = ray.remote(write_blocks)
    job_ref = ray.put(job)
    step = max(1, blocks_per_task)
    refs = [
        task.remote(job_ref, first, min(first + step, job.n_blocks))
        for first in range(0, job.n_blocks, step)
    ]
    # ray.get keeps the order of the refs: block order, however the tasks were scheduled.
    fragments = [FragmentMetadata.from_json(f) for part in ray.get(refs) for f in part]
    if not fragments:  # pragma: no cover - n_samples >= 1 always makes a block
        msg = f"the Ray generation job wrote nothing to {job.uri!r}"
        raise NirsframeError(msg)
    return commit_fragments(
        job.uri,
        fragments,
        schema=job.schema,
        mode=job.mode,
        read_version=job.read_version,
        properties=job.properties,
        storage_options=job.storage_options,
    )
