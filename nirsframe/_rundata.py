"""The labelled rows a recorded run was fitted and scored on, as arrays.

Shared by :mod:`nirsframe.explain`, :mod:`nirsframe.report` and :mod:`nirsframe.session`: the
same row selection as :func:`nirsframe.api.fit_best` (rows with a finite target, split into
training and test rows by the run's recorded ``train_values`` / ``test_values``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from nirsframe._bridge import series_to_matrix
from nirsframe.exceptions import DatasetError
from nirsframe.pipeline.execute import split_rows

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy.typing as npt

    from nirsframe.axis import SpectralAxis
    from nirsframe.dataset import SpectralDataset
    from nirsframe.workspace.store import RunRecord, Workspace

__all__ = ["RunData", "labelled_rows", "run_data"]


@dataclass(frozen=True)
class RunData:
    """Labelled rows of a dataset: spectra, target, ids and the train/test row indices.

    Attributes
    ----------
    x : ndarray of shape (n_rows, n_points), float64
    y : ndarray of shape (n_rows,)
    ids : ndarray of shape (n_rows,), str
    train, test : int64 index arrays into the rows
    axis : the wavelength axis of ``x``
    target : the target column name
    columns : the other columns asked for (e.g. a separation column), by name
    """

    x: npt.NDArray[np.float64]
    y: npt.NDArray[np.float64]
    ids: npt.NDArray[Any]
    train: npt.NDArray[np.int64]
    test: npt.NDArray[np.int64]
    axis: SpectralAxis
    target: str
    columns: dict[str, npt.NDArray[Any]] = field(default_factory=dict)


def labelled_rows(
    dataset: SpectralDataset,
    target: str,
    *,
    train_values: Sequence[str] | None = None,
    test_values: Sequence[str] | None = None,
    columns: Sequence[str] = (),
) -> RunData:
    """The rows of ``dataset`` whose ``target`` is finite, with their train/test indices (and
    the values of ``columns``)."""
    if target not in dataset.frame.collect_schema():
        msg = f"target {target!r} is not a column of the dataset"
        raise DatasetError(msg)
    roles = dataset.roles
    cols = [c for c in (roles.id, dataset.spectra_column, target, roles.split, *columns) if c]
    df = dataset.frame.select(list(dict.fromkeys(cols))).collect()
    df = df.filter(pl.col(target).is_not_null() & pl.col(target).cast(pl.Float64).is_not_nan())
    if df.height == 0:
        msg = f"target {target!r} has no usable rows"
        raise DatasetError(msg)
    x, _ = series_to_matrix(df[dataset.spectra_column])
    train, test = split_rows(df, roles.split, train_values=train_values, test_values=test_values)
    ids = df[roles.id].cast(pl.String).to_numpy() if roles.id else np.arange(df.height).astype(str)
    return RunData(
        x=np.ascontiguousarray(x, dtype=np.float64),
        y=df[target].cast(pl.Float64).to_numpy(),
        ids=ids,
        train=train,
        test=test,
        axis=dataset.axis,
        target=target,
        columns={c: df[c].to_numpy() for c in columns},
    )


def run_data(
    ws: Workspace,
    record: RunRecord,
    dataset: SpectralDataset | None = None,
    columns: Sequence[str] = (),
) -> RunData:
    """The labelled rows of the dataset version run ``record`` used (opened from ``ws``)."""
    params = record.parameters
    target = params.get("target")
    if not isinstance(target, str):
        msg = f"run {record.run_id!r} records no target"
        raise DatasetError(msg)
    ds = dataset or ws.open_dataset(record.dataset.name, record.dataset.version)
    return labelled_rows(
        ds,
        target,
        train_values=params.get("train_values"),
        test_values=params.get("test_values"),
        columns=columns,
    )
