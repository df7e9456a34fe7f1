"""Generated blocks as a bounded stream of Arrow record batches.

Blocks are computed by a small thread pool (the numba kernel and numpy's normal sampler release
the GIL) and handed out in order, at most ``2 * threads`` blocks ahead of the consumer; batches
are then re-cut to ``batch_rows`` rows. Neither setting changes a single byte of the data.

>>> from nirsframe.synthetic.config import GeneratorConfig
>>> from nirsframe.synthetic.synth import Plan
>>> [b.num_rows for b in iter_batches(Plan.build(GeneratorConfig()), 5, batch_rows=2)]
[2, 2, 1]
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

import pyarrow as pa

from nirsframe.synthetic.synth import BLOCK_SAMPLES, Plan, make_block

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

__all__ = ["iter_batches", "iter_blocks"]


def iter_blocks(plan: Plan, n_samples: int, *, threads: int = 1) -> Iterator[pa.RecordBatch]:
    """One record batch per random block, in order (``threads`` blocks computed at once)."""
    n_blocks = -(-n_samples // BLOCK_SAMPLES)
    sizes = [min(BLOCK_SAMPLES, n_samples - b * BLOCK_SAMPLES) for b in range(n_blocks)]
    if threads <= 1:
        for b, size in enumerate(sizes):
            yield make_block(plan, b, size)
        return
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="nirsframe-generate") as pool:
        pending: deque[Future[pa.RecordBatch]] = deque()
        for b, size in enumerate(sizes):
            pending.append(pool.submit(make_block, plan, b, size))
            # Bounded look-ahead keeps memory at a few blocks however large the data set.
            if len(pending) >= 2 * threads:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def iter_batches(
    plan: Plan,
    n_samples: int,
    *,
    batch_rows: int | None = None,
    threads: int = 1,
    progress: Callable[[int], None] | None = None,
) -> Iterator[pa.RecordBatch]:
    """Record batches of exactly ``batch_rows`` rows (the last may be shorter).

    ``None`` hands out each random block as it is (no copy). ``progress`` is called with the
    number of rows of each batch handed out.
    """
    if batch_rows is None:
        for block in iter_blocks(plan, n_samples, threads=threads):
            yield _emit([block], plan.schema, progress)
        return
    buffer: list[pa.RecordBatch] = []
    buffered = 0
    for block in iter_blocks(plan, n_samples, threads=threads):
        start = 0
        while start < block.num_rows:
            take = min(batch_rows - buffered, block.num_rows - start)
            buffer.append(block.slice(start, take))
            buffered += take
            start += take
            if buffered == batch_rows:
                yield _emit(buffer, plan.schema, progress)
                buffer, buffered = [], 0
    if buffered:
        yield _emit(buffer, plan.schema, progress)


def _emit(
    parts: list[pa.RecordBatch], schema: pa.Schema, progress: Callable[[int], None] | None
) -> pa.RecordBatch:
    batch = parts[0] if len(parts) == 1 else pa.concat_batches(parts)
    if progress is not None:
        progress(batch.num_rows)
    return batch.cast(schema) if batch.schema != schema else batch
