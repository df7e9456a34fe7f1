"""Batch prediction over Lance: one fitted chain, any number of spectra, one commit.

:func:`predict_lance` replays a recorded run's fitted chain over a Lance source and commits the
predictions to a Lance target in ONE new version, with lineage in its transaction properties
(run id, chain hash, pipeline hash, source URI + version + content hash, code version). The
``local`` engine streams in this process in bounded memory; the ``ray`` engine spreads the same
work over a Ray cluster (``pip install 'nirsframe[ray]'``). Both write the same rows, the same
predictions bit for bit, and the same lineage. See ``docs/distributed.md``.

Examples
--------
>>> from nirsframe.engine import ENGINES
>>> ENGINES
('local', 'ray')
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from nirsframe.engine.batch import ChainPredictor, chain_from_payload, chain_payload
from nirsframe.engine.job import PredictJob, WriteMode, prepare_job
from nirsframe.engine.ray import RayUnavailableError
from nirsframe.exceptions import InvalidParameterError

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from nirsframe.workspace import Workspace

__all__ = [
    "ENGINES",
    "ChainPredictor",
    "EngineName",
    "PredictJob",
    "RayUnavailableError",
    "chain_from_payload",
    "chain_payload",
    "predict_lance",
    "prepare_job",
]

EngineName = Literal["local", "ray"]
ENGINES: tuple[EngineName, ...] = ("local", "ray")


def predict_lance(
    workspace: Workspace | str | Path,
    run_id: str,
    source_uri: str,
    out_uri: str,
    *,
    engine: EngineName = "local",
    ray_address: str | None = None,
    source_version: int | str | None = None,
    mode: WriteMode = "append",
    batch_rows: int = 8192,
    file_bytes: int | None = None,
    storage_options: Mapping[str, str] | None = None,
) -> int:
    """Predict every spectrum of a Lance source with run ``run_id``; return the new version.

    The predictions (``row_address`` of the source row, ``sample_id``, ``y_true`` when the
    source has the run's target, ``y_pred``) are committed to ``out_uri`` in exactly one new
    version. If anything fails before that commit, ``out_uri`` stays at its previous version.

    Parameters
    ----------
    workspace
        The workspace holding the run.
    run_id
        The run whose fitted chain predicts (no pickle: rebuilt from its arrays).
    source_uri
        A Lance dataset written by nirsframe (axes and roles in its schema metadata), on the
        same wavelength axis as the run.
    out_uri
        The Lance dataset receiving the predictions (created when absent).
    engine
        ``"local"`` (stream in this process) or ``"ray"`` (needs ``nirsframe[ray]``).
    ray_address
        Ray cluster address (``"auto"``, ``"ray://head:10001"``) when Ray is not yet
        initialised; ignored by the local engine.
    source_version
        Source version number or tag (latest by default), pinned for the whole job.
    mode
        ``"append"`` (default) or ``"overwrite"`` when ``out_uri`` exists.
    batch_rows
        Rows per batch read, predicted and written.
    file_bytes
        Target bytes per written data file (engine default when ``None``).
    storage_options
        Lance object-store options for both source and target (e.g. S3/MinIO credentials and
        endpoint), passed through unchanged.

    Returns
    -------
    int
        The version of ``out_uri`` holding the predictions.

    Examples
    --------
    >>> import nirsframe.engine as ne
    >>> v = ne.predict_lance("ws", run_id, "new.lance", "preds.lance")  # doctest: +SKIP
    >>> v = ne.predict_lance("ws", run_id, "s3://b/new.lance", "s3://b/preds.lance",
    ...                      engine="ray", ray_address="auto")  # doctest: +SKIP
    """
    if engine not in ENGINES:
        msg = f"'engine' must be one of {list(ENGINES)}; got {engine!r}"
        raise InvalidParameterError(msg)
    if engine == "ray":
        from nirsframe.engine.ray import DEFAULT_FILE_BYTES, import_ray, run_ray

        import_ray()  # fail fast, before any work, when the extra is missing
        job = prepare_job(
            workspace,
            run_id,
            source_uri,
            out_uri,
            source_version=source_version,
            mode=mode,
            storage_options=storage_options,
        )
        return run_ray(
            job,
            ray_address=ray_address,
            batch_rows=batch_rows,
            file_bytes=file_bytes or DEFAULT_FILE_BYTES,
        )
    from nirsframe.engine.local import DEFAULT_FILE_BYTES as LOCAL_FILE_BYTES
    from nirsframe.engine.local import run_local

    job = prepare_job(
        workspace,
        run_id,
        source_uri,
        out_uri,
        source_version=source_version,
        mode=mode,
        storage_options=storage_options,
    )
    return run_local(job, batch_rows=batch_rows, file_bytes=file_bytes or LOCAL_FILE_BYTES)
