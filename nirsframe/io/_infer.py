"""Role and axis inference for files written by other tools (shared Parquet, CSV)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import polars as pl

from nirsframe.axis import SpectralAxis
from nirsframe.dataset import DatasetRoles
from nirsframe.exceptions import AxisError, DatasetError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path


def infer_roles(
    schema: pl.Schema,
    *,
    spectra: str | Sequence[str] | None,
    id_column: str | None,
    targets: str | Sequence[str] | None,
    split: str | None,
    group: str | None = None,
    repetition: str | None = None,
) -> DatasetRoles:
    """Roles of a foreign file: given names win; otherwise list/array columns are spectra,
    ``sample_id`` the id, ``split`` the split, float columns the targets, the rest metadata."""
    names = schema.names()
    if spectra is None:
        spec = tuple(c for c in names if isinstance(schema[c], pl.List | pl.Array))
        if not spec:
            msg = f"no spectra column found (a list or array column); columns: {names}"
            raise DatasetError(msg)
    else:
        spec = (spectra,) if isinstance(spectra, str) else tuple(spectra)
    ident = id_column if id_column is not None else ("sample_id" if "sample_id" in names else None)
    spl = split if split is not None else ("split" if "split" in names else None)
    taken = {*spec, ident, spl, group, repetition}
    if targets is None:
        tgt = tuple(c for c in names if c not in taken and schema[c].is_float())
    else:
        tgt = (targets,) if isinstance(targets, str) else tuple(targets)
    meta = tuple(c for c in names if c not in taken and c not in tgt)
    return DatasetRoles(
        id=ident,
        spectra=spec,
        targets=tgt,
        group=group,
        repetition=repetition,
        split=spl,
        metadata=meta,
    )


def axis_from_metadata(metadata: Mapping[bytes, bytes] | None) -> SpectralAxis | None:
    """The ``wavelengths`` schema-metadata axis of the shared data files, if present."""
    if not metadata or b"wavelengths" not in metadata:
        return None
    try:
        return SpectralAxis.from_dict(json.loads(metadata[b"wavelengths"]))
    except json.JSONDecodeError as exc:
        msg = f"schema metadata 'wavelengths' is not valid JSON: {exc}"
        raise AxisError(msg) from exc


def axis_from_sidecar(path: Path) -> SpectralAxis | None:
    """The axis in ``NAME.wavelengths.json`` beside ``NAME.parquet``, if present."""
    side = path.with_name(path.name.removesuffix(path.suffix) + ".wavelengths.json")
    if not side.exists():
        return None
    return SpectralAxis.from_json(side.read_text())
