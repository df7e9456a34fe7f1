"""CSV: wide files (one row per sample, wavelength headers) and nirs4all folders
(``Xcal.csv``/``Ycal.csv``/``Xval.csv``/``Yval.csv``, ``;`` or ``,``, with or without header)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from nirsframe.axis import SpectralAxis
from nirsframe.dataset import DatasetRoles, SpectralDataset
from nirsframe.exceptions import DatasetError, SpectralShapeError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from nirsframe.axis import AxisUnit


def _as_float(name: str) -> float | None:
    try:
        return float(name)
    except ValueError:
        return None


def _cells(line: str, sep: str) -> list[str]:
    return [c.strip().strip('"') for c in line.strip().split(sep)]


def _looks_like_axis(first: list[str], second: list[str] | None) -> bool:
    """A numeric first line is an axis header when it is a strictly monotonic run of positive
    positions (nm or cm-1) and the next line is not."""
    values = np.array([float(c) for c in first if c])
    if values.size < 2 or np.any(values <= 0):
        return False
    step = np.diff(values)
    if not (np.all(step > 0) or np.all(step < 0)):
        return False
    if second is None:
        return True
    nxt = np.array([_as_float(c) or 0.0 for c in second if c])
    nstep = np.diff(nxt)
    return nxt.size != values.size or not (np.all(nstep > 0) or np.all(nstep < 0))


def _sniff(path: Path) -> tuple[str, bool]:
    """Separator (``;`` or ``,``) and whether the first line is a header (names or an axis)."""
    with path.open() as fh:
        first = fh.readline()
        second = fh.readline()
    if not first.strip():
        msg = f"CSV file is empty: {path}"
        raise DatasetError(msg)
    sep = ";" if first.count(";") > first.count(",") else ","
    cells = _cells(first, sep)
    if any(_as_float(c) is None for c in cells if c):
        return sep, True
    return sep, _looks_like_axis(cells, _cells(second, sep) if second.strip() else None)


def read_csv(
    path: str | Path,
    *,
    id_column: str | None = None,
    targets: str | Sequence[str] = (),
    unit: AxisUnit = "nm",
    separator: str | None = None,
) -> SpectralDataset:
    """A wide CSV: headers that parse as numbers are the axis, the others ids/targets/metadata.

    >>> ds = read_csv("spectra.csv", id_column="sample", targets="protein")  # doctest: +SKIP
    """
    path = Path(path)
    if not path.exists():
        msg = f"no such CSV file: {path}"
        raise DatasetError(msg)
    sep = separator or _sniff(path)[0]
    df = pl.read_csv(path, separator=sep)
    if df.height == 0:
        msg = f"CSV file has no data rows: {path}"
        raise DatasetError(msg)
    spectral = [c for c in df.columns if _as_float(c) is not None]
    if not spectral:
        msg = f"no wavelength columns (numeric headers) in {path}"
        raise SpectralShapeError(msg)
    axis = SpectralAxis([float(c) for c in spectral], unit)
    tgt = (targets,) if isinstance(targets, str) else tuple(targets)
    x = df.select(pl.col(spectral).cast(pl.Float64)).to_numpy()
    others = df.drop(spectral)
    frame = others.with_columns(pl.Series("spectra", np.ascontiguousarray(x)))
    meta = tuple(c for c in others.columns if c != id_column and c not in tgt)
    roles = DatasetRoles(id=id_column, targets=tgt, metadata=meta)
    return SpectralDataset(frame.lazy(), {"spectra": axis}, roles).validate()


def _read_matrix(path: Path) -> tuple[np.ndarray, list[str] | None]:
    sep, header = _sniff(path)
    df = pl.read_csv(path, separator=sep, has_header=header, infer_schema_length=0)
    try:
        x = df.select(pl.all().str.strip_chars().cast(pl.Float64)).to_numpy()
    except pl.exceptions.InvalidOperationError as exc:
        msg = f"{path.name} must hold only numbers: {exc}"
        raise SpectralShapeError(msg) from exc
    return x, df.columns if header else None


def read_nirs4all_folder(path: str | Path, *, unit: AxisUnit = "nm") -> SpectralDataset:
    """A nirs4all data folder: ``Xcal.csv`` (+ ``Ycal.csv``, ``Xval.csv``, ``Yval.csv``).

    Rows of the ``val`` files get ``split = "test"``, the others ``"train"``.
    """
    folder = Path(path)
    parts = []
    axis: SpectralAxis | None = None
    target_names: list[str] | None = None
    for split, stem in (("train", "cal"), ("test", "val")):
        xf = folder / f"X{stem}.csv"
        if not xf.exists():
            if stem == "cal":
                msg = f"nirs4all folder {folder} has no Xcal.csv"
                raise DatasetError(msg)
            continue
        x, header = _read_matrix(xf)
        ax = (
            SpectralAxis([float(h) for h in header], unit)
            if header
            else SpectralAxis.index(x.shape[1])
        )
        if axis is not None and ax != axis:
            msg = f"X{stem}.csv has another axis than Xcal.csv: {ax!r} vs {axis!r}"
            raise SpectralShapeError(msg)
        axis = ax
        cols: dict[str, object] = {"spectra": np.ascontiguousarray(x)}
        yf = folder / f"Y{stem}.csv"
        if yf.exists():
            y, yheader = _read_matrix(yf)
            if y.shape[0] != x.shape[0]:
                msg = f"Y{stem}.csv has {y.shape[0]} rows but X{stem}.csv has {x.shape[0]}"
                raise SpectralShapeError(msg)
            names = yheader or ["y" if y.shape[1] == 1 else f"y{i}" for i in range(y.shape[1])]
            target_names = target_names or list(names)
            for i, name in enumerate(target_names):
                cols[name] = y[:, i]
        df = pl.DataFrame(cols).with_columns(pl.lit(split).alias("split"))
        parts.append(df)
    assert axis is not None
    frame = pl.concat(parts, how="diagonal").with_row_index("sample_id")
    frame = frame.with_columns(pl.col("sample_id").cast(pl.String))
    roles = DatasetRoles(id="sample_id", targets=tuple(target_names or ()), split="split")
    return SpectralDataset(frame.lazy(), {"spectra": axis}, roles).validate()


def write_csv(dataset: SpectralDataset, path: str | Path) -> Path:
    """A wide CSV: role columns then one column per axis value (full float precision)."""
    path = Path(path)
    df = dataset.frame.collect()
    col = dataset.spectra_column
    x, _ = np.asarray(df[col].to_numpy()), None
    wide = pl.DataFrame(x, schema=[repr(float(v)) for v in dataset.axis.values], orient="row")
    df.drop(list(dataset.roles.spectra)).hstack(wide).write_csv(path)
    return path
