"""Spectra columns <-> ndarrays, and the one ``map_batches`` wrapper every spectral expression uses.

A spectra column is ``pl.Array(Float32 | Float64, P)``; its values buffer is a C-contiguous
``(n, P)`` matrix, read without a copy. Null rows arrive as NaN rows and leave as nulls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa

from nirsframe.exceptions import SpectralShapeError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

FloatMatrix = npt.NDArray[np.floating]
SPECTRA_DTYPES = (pl.Float32, pl.Float64)


def check_spectra_dtype(dtype: pl.DataType, column: str) -> tuple[int, Any]:
    """Return ``(width, inner dtype)`` of a spectra column dtype or raise.

    >>> check_spectra_dtype(pl.Array(pl.Float64, 4), "spectra")
    (4, Float64)
    """
    if not isinstance(dtype, pl.Array) or dtype.inner not in SPECTRA_DTYPES:
        hint = (
            " (a list column: convert it with nf.to_spectra_column(), which checks the widths)"
            if isinstance(dtype, pl.List)
            else ""
        )
        msg = f"column {column!r} must be pl.Array(Float32 | Float64, P); got {dtype}{hint}"
        raise SpectralShapeError(msg)
    return int(dtype.size), dtype.inner


def series_to_matrix(s: pl.Series) -> tuple[FloatMatrix, npt.NDArray[np.bool_] | None]:
    """The ``(n, P)`` matrix of a spectra series (a read-only view when possible) and its null mask.

    >>> x, nulls = series_to_matrix(pl.Series("s", np.ones((2, 3))))
    >>> x.shape, nulls
    ((2, 3), None)
    """
    check_spectra_dtype(s.dtype, s.name)
    if s.n_chunks() > 1:
        s = s.rechunk()
    nulls = s.is_null().to_numpy() if s.null_count() else None
    x = s.to_numpy()
    if x.ndim != 2:  # zero rows of an Array column may come back 1-D
        width, _ = check_spectra_dtype(s.dtype, s.name)
        x = x.reshape(len(s), width)
    return x, nulls


def matrix_to_series(
    name: str, x: FloatMatrix, nulls: npt.NDArray[np.bool_] | None = None
) -> pl.Series:
    """A spectra series over ``x`` (no copy), with ``nulls`` rows set to null.

    >>> matrix_to_series("s", np.ones((2, 3)), np.array([False, True])).null_count()
    1
    """
    if x.ndim != 2:
        msg = f"spectra must be a 2-D matrix; got shape {x.shape}"
        raise SpectralShapeError(msg)
    x = np.ascontiguousarray(x)
    n, p = x.shape
    values = pa.array(x.reshape(-1))
    mask = pa.array(nulls) if nulls is not None and nulls.any() else None
    arr = pa.FixedSizeListArray.from_arrays(values, p, mask=mask)
    s = pl.Series(name, arr)
    if len(s) != n:  # pragma: no cover - guards a pyarrow contract
        msg = f"internal error: expected {n} rows, got {len(s)}"
        raise SpectralShapeError(msg)
    return s


def map_spectra(
    expr: pl.Expr,
    fn: Callable[[FloatMatrix], FloatMatrix],
    *,
    width: int | None = None,
) -> pl.Expr:
    """Apply a row-wise matrix function to a spectra expression, elementwise.

    ``fn`` takes an ``(n, P)`` matrix and returns an ``(n, P')`` matrix of the same dtype whose
    row ``i`` depends only on input row ``i``: that is what makes ``is_elementwise=True`` safe and
    lets the streaming engine call it per morsel. ``width`` is ``P'`` when it differs from ``P``.

    >>> df = pl.DataFrame({"s": np.array([[1.0, 2.0]])})
    >>> df.select(map_spectra(pl.col("s"), lambda x: 2 * x)).item().to_list()
    [2.0, 4.0]
    """

    def batch(s: pl.Series) -> pl.Series:
        x, nulls = series_to_matrix(s)
        if x.shape[0] == 0:
            out = np.empty((0, width if width is not None else x.shape[1]), dtype=x.dtype)
        else:
            out = fn(x)
        if out.dtype != x.dtype:
            out = out.astype(x.dtype)
        return matrix_to_series(s.name, out, nulls)

    dtype = (
        pl.self_dtype()
        if width is None
        else pl.self_dtype().inner_dtype().wrap_in_array(width=width)
    )
    return expr.map_batches(batch, return_dtype=dtype, is_elementwise=True)


#: Bytes of input rows per block in :func:`run_blocked`: a block and the intermediate results of
#: a few steps stay in the L2 cache (512 KiB-1 MiB per core here), so a chain of row-wise steps
#: reads the matrix from main memory once and writes the result once, instead of once per step.
BLOCK_BYTES = 1 << 19


def block_rows(n_points: int, itemsize: int, block_bytes: int | None = None) -> int:
    """Rows per block of :func:`run_blocked` for spectra of ``n_points`` values
    (``block_bytes`` defaults to :data:`BLOCK_BYTES`).

    >>> block_rows(1024, 8)
    64
    """
    size = BLOCK_BYTES if block_bytes is None else block_bytes
    return max(1, size // max(1, n_points * itemsize))


def run_blocked(
    x: FloatMatrix,
    fns: Sequence[Callable[[FloatMatrix], FloatMatrix]],
    *,
    rows: int | None = None,
) -> FloatMatrix:
    """Apply the row-wise functions ``fns`` in order to ``x``, ``rows`` rows at a time.

    Equal to ``fns[-1](...fns[0](x))`` for row-wise functions (row ``i`` of each result depends
    only on row ``i`` of its input), but each block of rows runs through every step while it is
    cache resident: one pass over main memory instead of one per step. The result has the dtype
    of ``x`` (as :func:`map_spectra`); its width is the last step's.

    >>> x = np.arange(6.0).reshape(3, 2)
    >>> run_blocked(x, [lambda a: a + 1, lambda a: 2 * a], rows=2).tolist()
    [[2.0, 4.0], [6.0, 8.0], [10.0, 12.0]]
    """
    n = x.shape[0]
    step = rows if rows is not None else block_rows(x.shape[1], x.dtype.itemsize)
    out: FloatMatrix | None = None
    for start in range(0, n, step):
        y = x[start : start + step]
        for fn in fns:
            y = fn(y)
        if out is None:
            out = np.empty((n, y.shape[1]), dtype=x.dtype)
        out[start : start + y.shape[0]] = y
    if out is None:  # zero rows: run the steps once on the empty matrix for the output width
        y = x
        for fn in fns:
            y = fn(y)
        out = np.empty((0, y.shape[1]), dtype=x.dtype)
    return out
