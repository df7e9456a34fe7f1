"""Parquet: the shared-data layout (``list<double>`` spectra + ``wavelengths`` metadata) and ours
(``fixed_size_list`` spectra + ``nirsframe.axes`` / ``nirsframe.roles`` metadata)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import pyarrow.parquet as pq

from nirsframe.axis import SpectralAxis
from nirsframe.dataset import AXES_KEY, ROLES_KEY, SpectralDataset, axes_from_json, parse_roles
from nirsframe.exceptions import AxisError, DatasetError
from nirsframe.io._infer import axis_from_metadata, axis_from_sidecar, infer_roles
from nirsframe.io.columns import to_spectra_column

if TYPE_CHECKING:
    from collections.abc import Sequence


def scan_parquet(
    path: str | Path,
    *,
    spectra: str | Sequence[str] | None = None,
    axis: SpectralAxis | None = None,
    id_column: str | None = None,
    targets: str | Sequence[str] | None = None,
    split: str | None = None,
    group: str | None = None,
    repetition: str | None = None,
) -> SpectralDataset:
    """A lazy dataset over a Parquet file (projection and filters push down into the scan).

    Axis, in order: ``axis=``, nirsframe's own metadata, the ``wavelengths`` schema metadata,
    a ``NAME.wavelengths.json`` sidecar, else channel indices. List spectra are converted to
    ``pl.Array`` lazily, with a :class:`SpectralShapeError` naming the first ragged row.

    >>> ds = scan_parquet("tecator.parquet")  # doctest: +SKIP
    """
    path = Path(path)
    if not path.exists():
        msg = f"no such Parquet file: {path}"
        raise DatasetError(msg)
    meta = pq.read_schema(path).metadata or {}
    frame = pl.scan_parquet(path)
    schema = frame.collect_schema()
    if AXES_KEY.encode() in meta and ROLES_KEY.encode() in meta:
        axes = axes_from_json(meta[AXES_KEY.encode()])
        roles = parse_roles(meta[ROLES_KEY.encode()])
        if axis is not None:
            axes = {**axes, roles.spectra[0]: axis}
        return SpectralDataset(frame, axes, roles)
    roles = infer_roles(
        schema,
        spectra=spectra,
        id_column=id_column,
        targets=targets,
        split=split,
        group=group,
        repetition=repetition,
    )
    if len(roles.spectra) != 1 and axis is not None:
        msg = "axis= applies to one spectra column; this file has several: " + str(roles.spectra)
        raise AxisError(msg)
    col = roles.spectra[0]
    ax = axis or axis_from_metadata(meta) or axis_from_sidecar(path)
    if ax is None:
        width = frame.select(pl.col(col).drop_nulls().first().list.len()).collect().item()
        ax = SpectralAxis.index(int(width or 0))
    if isinstance(schema[col], pl.List):
        frame = frame.with_columns(to_spectra_column(col, len(ax)))
    return SpectralDataset(frame, {col: ax}, roles)


def read_parquet(path: str | Path, **kwargs: object) -> SpectralDataset:
    """:func:`scan_parquet`, materialised and validated (non-empty, unique ids, widths)."""
    return scan_parquet(path, **kwargs).collect().validate()  # type: ignore[arg-type]


def write_parquet(dataset: SpectralDataset, path: str | Path) -> Path:
    """Write ``dataset`` with its axes and roles in the schema metadata; returns the path."""
    path = Path(path)
    table = dataset.frame.collect().to_arrow()
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), **dataset.metadata()})
    pq.write_table(table, path)
    return path
