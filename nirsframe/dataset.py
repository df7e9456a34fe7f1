"""A spectral dataset: a lazy Polars frame, the axis of each spectra column, and column roles.

Polars drops Arrow field and schema metadata, so the axes and roles travel beside the frame in
this object, and in the schema metadata of the Parquet and Lance files written from it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict, ValidationError

from nirsframe._bridge import check_spectra_dtype, series_to_matrix
from nirsframe.axis import SpectralAxis
from nirsframe.exceptions import DatasetError, SpectralShapeError, TargetTypeError

if TYPE_CHECKING:
    from collections.abc import Mapping

    import numpy.typing as npt

EngineName = Literal["auto", "in-memory", "streaming"]
AXES_KEY = "nirsframe.axes"
ROLES_KEY = "nirsframe.roles"


class DatasetRoles(BaseModel):
    """What each column of a dataset is for.

    ``repetition`` names the column identifying the physical sample: rows sharing its value are
    repeated scans, kept in one fold and aggregated in the metrics. ``group`` names a column for
    group-wise splitters. ``split`` holds train/test labels.

    >>> DatasetRoles(id="sample_id", targets=("fat",)).spectra
    ('spectra',)
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str | None = None
    spectra: tuple[str, ...] = ("spectra",)
    targets: tuple[str, ...] = ()
    group: str | None = None
    repetition: str | None = None
    split: str | None = None
    metadata: tuple[str, ...] = ()

    def columns(self) -> list[str]:
        """Every column named by a role, without duplicates, in a stable order."""
        named = [self.id, *self.spectra, *self.targets, self.group, self.repetition, self.split]
        out: list[str] = []
        for c in [*named, *self.metadata]:
            if c is not None and c not in out:
                out.append(c)
        return out


def parse_roles(text: str | bytes) -> DatasetRoles:
    """Roles from their JSON form, with a :class:`DatasetError` if malformed."""
    try:
        return DatasetRoles.model_validate_json(text)
    except ValidationError as exc:
        msg = f"stored dataset roles are invalid: {exc.errors()[0]['msg']}"
        raise DatasetError(msg) from exc


def axes_to_json(axes: Mapping[str, SpectralAxis]) -> str:
    """``{column: {"unit": ..., "values": [...]}}`` as JSON."""
    return json.dumps({c: a.to_dict() for c, a in axes.items()})


def axes_from_json(text: str | bytes) -> dict[str, SpectralAxis]:
    """Inverse of :func:`axes_to_json`."""
    return {c: SpectralAxis.from_dict(d) for c, d in json.loads(text).items()}


@dataclass(frozen=True)
class SpectralDataset:
    """Spectra (``pl.Array`` columns) with their axes and column roles, over a lazy frame.

    Construction checks the schema (columns present, spectra width == axis length, numeric
    targets) without reading data; :meth:`validate` also checks the rows (non-empty, unique ids).

    >>> import numpy as np
    >>> ds = SpectralDataset.from_numpy(np.ones((3, 4)), y=[1.0, 2.0, 3.0])
    >>> ds.roles.targets, ds.axis.unit, ds.n_points
    (('y',), 'index', 4)
    """

    frame: pl.LazyFrame
    axes: Mapping[str, SpectralAxis]
    roles: DatasetRoles

    def __post_init__(self) -> None:
        if isinstance(self.frame, pl.DataFrame):
            object.__setattr__(self, "frame", self.frame.lazy())
        schema = self.frame.collect_schema()
        missing = [c for c in self.roles.columns() if c not in schema]
        if missing:
            msg = (
                f"dataset roles name columns that are absent: {missing}; columns: {schema.names()}"
            )
            raise DatasetError(msg)
        if not self.roles.spectra:
            msg = "a dataset needs at least one spectra column"
            raise DatasetError(msg)
        for col in self.roles.spectra:
            width, _ = check_spectra_dtype(schema[col], col)
            if col not in self.axes:
                msg = f"spectra column {col!r} has no axis; axes given for {list(self.axes)}"
                raise DatasetError(msg)
            self.axes[col].check_width(width, col)
        for col in self.roles.targets:
            if not schema[col].is_numeric():
                msg = f"target column {col!r} must be numeric; got {schema[col]}"
                raise TargetTypeError(msg)

    # -- construction ---------------------------------------------------------------------------
    @classmethod
    def from_numpy(
        cls,
        x: npt.ArrayLike,
        y: npt.ArrayLike | None = None,
        *,
        axis: SpectralAxis | npt.ArrayLike | None = None,
        ids: npt.ArrayLike | None = None,
        target_names: tuple[str, ...] | None = None,
    ) -> SpectralDataset:
        """A dataset from an ``(n, P)`` matrix, optional targets ``(n,)`` / ``(n, T)`` and axis."""
        xa = np.asarray(x)
        if xa.ndim != 2:
            msg = f"spectra must be a 2-D (n_samples, n_points) array; got shape {xa.shape}"
            raise SpectralShapeError(msg)
        if xa.dtype not in (np.float32, np.float64):
            xa = xa.astype(np.float64)
        n, p = xa.shape
        ax = (
            axis
            if isinstance(axis, SpectralAxis)
            else SpectralAxis.index(p)
            if axis is None
            else SpectralAxis(axis)
        )
        ax.check_width(p)
        cols: dict[str, Any] = {
            "sample_id": np.asarray(ids).astype(str)
            if ids is not None
            else np.arange(n).astype(str)
        }
        cols["spectra"] = np.ascontiguousarray(xa)
        names: tuple[str, ...] = ()
        if y is not None:
            ya = np.asarray(y, dtype=np.float64)
            if ya.ndim == 1:
                ya = ya[:, np.newaxis]
            if ya.ndim != 2 or ya.shape[0] != n:
                msg = f"y must have one row per spectrum; got shape {np.shape(y)} for {n} spectra"
                raise SpectralShapeError(msg)
            default = ("y",) if ya.shape[1] == 1 else tuple(f"y{i}" for i in range(ya.shape[1]))
            names = target_names or default
            if len(names) != ya.shape[1]:
                msg = f"target_names has {len(names)} names for {ya.shape[1]} target columns"
                raise DatasetError(msg)
            for i, name in enumerate(names):
                cols[name] = ya[:, i]
        frame = pl.DataFrame(cols)
        return cls(frame.lazy(), {"spectra": ax}, DatasetRoles(id="sample_id", targets=names))

    # -- accessors ------------------------------------------------------------------------------
    @property
    def spectra_column(self) -> str:
        """The (first) spectra column."""
        return self.roles.spectra[0]

    @property
    def axis(self) -> SpectralAxis:
        """The axis of the (first) spectra column."""
        return self.axes[self.spectra_column]

    @property
    def n_points(self) -> int:
        """Number of points per spectrum of the (first) spectra column."""
        return len(self.axis)

    def with_frame(
        self,
        frame: pl.LazyFrame | pl.DataFrame,
        *,
        axes: Mapping[str, SpectralAxis] | None = None,
        roles: DatasetRoles | None = None,
    ) -> SpectralDataset:
        """The same dataset over another frame (optionally new axes or roles)."""
        return SpectralDataset(frame.lazy(), dict(axes or self.axes), roles or self.roles)

    def collect(self, *, engine: EngineName = "auto") -> SpectralDataset:
        """Execute the plan once; the result wraps the materialised frame."""
        return self.with_frame(self.frame.collect(engine=engine))

    def validate(self) -> SpectralDataset:
        """Check the rows: at least one row and, when there is an id column, unique ids."""
        ids = self.roles.id
        aggs = [pl.len().alias("n")]
        if ids is not None:
            aggs += [pl.col(ids).n_unique().alias("u"), pl.col(ids).null_count().alias("z")]
        stats = self.frame.select(aggs).collect().row(0, named=True)
        if stats["n"] == 0:
            msg = "dataset is empty: the frame has no rows"
            raise DatasetError(msg)
        if ids is not None and stats["z"]:
            msg = f"id column {ids!r} has {stats['z']} null values"
            raise DatasetError(msg)
        if ids is not None and stats["u"] != stats["n"]:
            dup = (
                self.frame.group_by(ids)
                .len()
                .filter(pl.col("len") > 1)
                .sort(ids)
                .head(3)
                .collect()[ids]
                .to_list()
            )
            msg = f"id column {ids!r} has duplicate values, e.g. {dup}"
            raise DatasetError(msg)
        return self

    def matrix(self, column: str | None = None) -> npt.NDArray[np.floating]:
        """The spectra of ``column`` as an ``(n, P)`` matrix (NaN rows for nulls)."""
        col = column or self.spectra_column
        s = self.frame.select(col).collect().to_series()
        x, _ = series_to_matrix(s)
        return x

    def target(self, names: str | tuple[str, ...] | None = None) -> npt.NDArray[np.float64]:
        """Target values as ``(n,)`` for one name or ``(n, T)`` for several."""
        sel = names if names is not None else self.roles.targets
        if isinstance(sel, str):
            sel = (sel,)
        if not sel:
            msg = "dataset has no target column; name one with target=..."
            raise DatasetError(msg)
        schema = self.frame.collect_schema()
        for name in sel:
            if name not in schema:
                msg = f"target column {name!r} is absent; columns: {schema.names()}"
                raise DatasetError(msg)
            if not schema[name].is_numeric():
                msg = f"target column {name!r} must be numeric; got {schema[name]}"
                raise TargetTypeError(msg)
        y = self.frame.select([pl.col(c).cast(pl.Float64) for c in sel]).collect().to_numpy()
        return y[:, 0] if len(sel) == 1 else y

    def metadata(self) -> dict[str, str]:
        """Schema metadata (axes and roles as JSON) for Parquet and Lance files."""
        return {AXES_KEY: axes_to_json(self.axes), ROLES_KEY: self.roles.model_dump_json()}
