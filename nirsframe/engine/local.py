"""The local engine: stream a Lance source through a fitted chain into ONE Lance commit.

Batches are read with pylance's scanner (projection pushed down, row addresses attached),
predicted one at a time by :class:`~nirsframe.engine.batch.ChainPredictor`, and handed to
``lance.write_dataset`` as a ``RecordBatchReader``: Lance writes data files as batches arrive
and commits once at the end, with the job's transaction properties. Memory stays bounded by a
few batches whatever the size of the source. An exception in any batch aborts the write before
the commit, so the target stays at its previous version (the data files already written are
unreferenced; ``cleanup_old_versions(..., delete_unverified=True)`` removes them).

Examples
--------
>>> from nirsframe.engine.local import DEFAULT_BATCH_ROWS
>>> DEFAULT_BATCH_ROWS
8192
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import lance
import pyarrow as pa

from nirsframe.engine.batch import ChainPredictor, row_bytes
from nirsframe.engine.job import STORAGE_VERSION
from nirsframe.exceptions import InvalidParameterError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from nirsframe.engine.job import PredictJob

__all__ = ["DEFAULT_BATCH_ROWS", "DEFAULT_FILE_BYTES", "predicted_batches", "run_local"]

#: Rows per batch: 8192 spectra of 1024 float64 points are 64 MiB, a few of which are in flight.
DEFAULT_BATCH_ROWS = 8192
#: Target size of a written data file (Lance rolls over to a new file past it).
DEFAULT_FILE_BYTES = 256 * 1024 * 1024


def predicted_batches(job: PredictJob, *, batch_rows: int) -> Iterator[pa.RecordBatch]:
    """The job's predictions, one record batch per source batch, in source order."""
    predictor = ChainPredictor(**job.predictor_kwargs())
    scanner = job.open_source().scanner(
        columns=job.read_columns(), batch_size=batch_rows, with_row_address=True
    )
    for batch in scanner.to_batches():
        yield from predictor(batch).to_batches()


def run_local(
    job: PredictJob,
    *,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    file_bytes: int = DEFAULT_FILE_BYTES,
) -> int:
    """Run ``job`` in this process; return the target's new version (one commit).

    Parameters
    ----------
    job
        From :func:`nirsframe.engine.job.prepare_job`.
    batch_rows
        Rows read, predicted and written at a time.
    file_bytes
        Target bytes per written data file.
    """
    for name, value in (("batch_rows", batch_rows), ("file_bytes", file_bytes)):
        if not isinstance(value, int) or value < 1:
            msg = f"'{name}' must be a positive integer; got {value!r}"
            raise InvalidParameterError(msg)
    failure: list[BaseException] = []

    def batches() -> Iterator[pa.RecordBatch]:
        # Lance re-raises an error of the reader as an OSError of its own: keep the original.
        try:
            yield from predicted_batches(job, batch_rows=batch_rows)
        except BaseException as exc:
            failure.append(exc)
            raise

    reader = pa.RecordBatchReader.from_batches(job.schema, batches())
    try:
        ds = lance.write_dataset(
            reader,
            job.out_uri,
            schema=job.schema,
            mode=job.mode,
            data_storage_version=STORAGE_VERSION,
            # A prediction row is ~40 bytes: size files by bytes (rows from the row size; Lance's
            # own byte limit is only checked once pages are flushed, so it alone is too coarse).
            max_bytes_per_file=file_bytes,
            max_rows_per_file=max(1, file_bytes // row_bytes(job.schema)),
            storage_options=dict(job.storage_options) or None,
            transaction_properties=dict(job.properties),
        )
    except OSError:
        if failure:
            raise failure[0] from None
        raise
    return int(ds.version)
