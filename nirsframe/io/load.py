"""One entry point from whatever a user has to a :class:`SpectralDataset`.

>>> import numpy as np
>>> load_dataset((np.ones((3, 4)), np.arange(3.0))).roles.targets
('y',)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from nirsframe.axis import SpectralAxis
from nirsframe.dataset import SpectralDataset
from nirsframe.exceptions import DatasetError
from nirsframe.io._infer import infer_roles
from nirsframe.io.csv import read_csv, read_nirs4all_folder
from nirsframe.io.lance import scan_lance
from nirsframe.io.parquet import read_parquet

DataLike = SpectralDataset | str | Path | pl.DataFrame | pl.LazyFrame | tuple[Any, ...]


def load_dataset(data: DataLike, *, axis: SpectralAxis | None = None) -> SpectralDataset:
    """A dataset from a path (Parquet, CSV, Lance, nirs4all folder), a Polars frame with one
    ``pl.Array`` spectra column, a ``(X, y)`` / ``(X, y, axis)`` tuple, or a dataset."""
    if isinstance(data, SpectralDataset):
        return data
    if isinstance(data, tuple):
        if len(data) not in (2, 3):
            msg = f"array data must be (X, y) or (X, y, axis); got a tuple of {len(data)}"
            raise DatasetError(msg)
        ax = axis if axis is not None else (data[2] if len(data) == 3 else None)
        return SpectralDataset.from_numpy(np.asarray(data[0]), data[1], axis=ax)
    if isinstance(data, pl.DataFrame | pl.LazyFrame):
        frame = data.lazy()
        roles = infer_roles(
            frame.collect_schema(), spectra=None, id_column=None, targets=None, split=None
        )
        width = frame.collect_schema()[roles.spectra[0]]
        if not isinstance(width, pl.Array):
            msg = f"column {roles.spectra[0]!r} must be pl.Array; got {width}"
            raise DatasetError(msg)
        ax = axis or SpectralAxis.index(int(width.size))
        return SpectralDataset(frame, {roles.spectra[0]: ax}, roles)
    path = Path(data)
    if path.is_dir() and (path / "Xcal.csv").exists():
        return read_nirs4all_folder(path)
    if path.suffix == ".lance":
        return scan_lance(path)
    if path.suffix == ".parquet":
        return read_parquet(path, axis=axis)
    if path.suffix == ".csv":
        return read_csv(path)
    msg = f"cannot read {path}: expected .parquet, .csv, .lance or a nirs4all folder"
    raise DatasetError(msg)
