"""Checked conversion of list columns into fixed-width spectra columns."""

from __future__ import annotations

import numpy as np
import polars as pl

from nirsframe.exceptions import SpectralShapeError


def to_spectra_column(
    expr: str | pl.Expr, width: int, dtype: type[pl.DataType] | pl.DataType = pl.Float64
) -> pl.Expr:
    """Cast a ``list[float]`` column to ``pl.Array(dtype, width)``, lazily and checked.

    A row whose length differs from ``width`` raises :class:`SpectralShapeError` giving its
    length (the check runs per batch, so row numbers would not be global). Null rows stay null.

    >>> df = pl.DataFrame({"s": [[1.0, 2.0], [3.0, 4.0]]})
    >>> df.select(to_spectra_column("s", 2)).schema["s"]
    Array(Float64, shape=(2,))
    """
    e = pl.col(expr) if isinstance(expr, str) else expr
    target = pl.Array(dtype, width)

    def check(s: pl.Series) -> pl.Series:
        if isinstance(s.dtype, pl.Array):
            if s.dtype.size != width:
                msg = f"column {s.name!r} has spectra of width {s.dtype.size}; expected {width}"
                raise SpectralShapeError(msg)
            return s.cast(target)
        if not isinstance(s.dtype, pl.List):
            msg = f"column {s.name!r} must hold lists of numbers; got {s.dtype}"
            raise SpectralShapeError(msg)
        lengths = s.list.len().to_numpy()
        bad = np.flatnonzero((lengths != width) & ~s.is_null().to_numpy())
        if bad.size:
            msg = (
                f"spectra in column {s.name!r} are ragged: a row has {lengths[bad[0]]} points, "
                f"expected {width}"
            )
            raise SpectralShapeError(msg)
        return s.cast(pl.List(dtype)).list.to_array(width)

    return e.map_batches(check, return_dtype=target, is_elementwise=True)
