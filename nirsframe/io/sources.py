"""Multi-source datasets: several spectral columns (one per instrument), each with its axis.

>>> import numpy as np
>>> from nirsframe.dataset import SpectralDataset
>>> a = SpectralDataset.from_numpy(np.ones((3, 4)), [1.0, 2.0, 3.0])
>>> b = SpectralDataset.from_numpy(np.zeros((3, 6)), [1.0, 2.0, 3.0])
>>> ds = join_sources({"nir": a, "mir": b})
>>> ds.roles.spectra, [len(ds.axes[c]) for c in ds.roles.spectra]
(('spectra_nir', 'spectra_mir'), [4, 6])
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import polars as pl

from nirsframe.dataset import DatasetRoles, SpectralDataset
from nirsframe.exceptions import DatasetError

if TYPE_CHECKING:
    from collections.abc import Mapping


def source_column(name: str) -> str:
    """The spectra column of source ``name``."""
    return f"spectra_{name}"


def join_sources(
    datasets: Mapping[str, SpectralDataset], *, how: Literal["inner", "left", "full"] = "inner"
) -> SpectralDataset:
    """One dataset with a spectra column per source, joined on the id column (rows keep the
    first source's order).

    Targets, split and metadata come from the first source; the others contribute their
    spectra only. Ids present in some sources only are dropped (``how="inner"``).
    """
    if len(datasets) < 2:
        msg = f"join_sources needs at least two sources; got {list(datasets)}"
        raise DatasetError(msg)
    names = list(datasets)
    first = datasets[names[0]]
    ident = first.roles.id
    if ident is None:
        msg = f"source {names[0]!r} has no id column to join on"
        raise DatasetError(msg)
    frame = first.frame.rename({first.spectra_column: source_column(names[0])})
    axes = {source_column(names[0]): first.axis}
    for name in names[1:]:
        ds = datasets[name]
        if ds.roles.id is None:
            msg = f"source {name!r} has no id column to join on"
            raise DatasetError(msg)
        col = source_column(name)
        other = ds.frame.select(
            pl.col(ds.roles.id).cast(pl.String).alias(ident), pl.col(ds.spectra_column).alias(col)
        )
        frame = frame.with_columns(pl.col(ident).cast(pl.String)).join(
            other,
            on=ident,
            how=how,
            maintain_order="left",
        )
        axes[col] = ds.axis
    roles = first.roles.model_copy(update={"spectra": tuple(axes)})
    return SpectralDataset(frame, axes, roles)


def pivot_sources(dataset: SpectralDataset, source: str) -> SpectralDataset:
    """Rows of several instruments (a ``source`` column) as one row per sample with a spectra
    column per instrument (all instruments share the dataset's axis).

    Targets and other roles come from the first instrument's rows.
    """
    roles = dataset.roles
    if roles.id is None:
        msg = "pivot_sources needs an id column (the sample shared by the instruments)"
        raise DatasetError(msg)
    df = dataset.frame.collect()
    names = df[source].unique(maintain_order=True).cast(pl.String).to_list()
    parts = {
        str(n): SpectralDataset(
            df.filter(pl.col(source) == n).drop(source).lazy(),
            {dataset.spectra_column: dataset.axis},
            DatasetRoles(
                id=roles.id,
                spectra=(dataset.spectra_column,),
                targets=roles.targets,
                split=roles.split,
                group=roles.group,
                metadata=tuple(m for m in roles.metadata if m != source),
            ),
        )
        for n in names
    }
    return join_sources(parts)
