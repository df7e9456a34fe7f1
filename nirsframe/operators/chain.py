"""Apply a chain of row-wise operators as one expression that runs block by block.

``nf.chain("spectra", [snv, savgol])`` is ``savgol.to_expr(snv.to_expr("spectra"))``: nested
spectral expressions fuse into one elementwise UDF (:func:`nirsframe._bridge.map_spectra`) that
pushes each block of rows (~512 KiB, see :data:`nirsframe._bridge.BLOCK_BYTES`) through every
step while it is cache resident, so the spectra are read from main memory once and the result
written once. Results are identical to applying the steps one by one (same kernels on the same
rows). A step whose expression is not built by ``map_spectra`` (a wavelet transform without a fit,
which learns its width per batch) ends one fused UDF and starts the next.

Examples
--------
>>> import numpy as np, polars as pl
>>> from nirsframe.operators import SavitzkyGolay, StandardNormalVariate
>>> df = pl.DataFrame({"spectra": np.array([[1.0, 2.0, 4.0, 7.0, 11.0]])})
>>> steps = [StandardNormalVariate(), SavitzkyGolay(window_length=3, polyorder=1)]
>>> fused = df.select(chain("spectra", steps)).item()
>>> nested = df.select(steps[1].to_expr(steps[0].to_expr("spectra"))).item()
>>> fused.equals(nested)
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nirsframe.exceptions import InvalidParameterError
from nirsframe.operators._base import IntoSpectra, SpectralOperator, as_expr

if TYPE_CHECKING:
    from collections.abc import Sequence

    import polars as pl


def chain(expr: IntoSpectra = "spectra", ops: Sequence[SpectralOperator] = ()) -> pl.Expr:
    """Apply the operators ``ops`` in order, fused into as few elementwise UDFs as possible.

    Parameters
    ----------
    expr
        The spectra column (name or expression).
    ops
        Operator instances: stateless ones, or fitted ones after ``fit`` (their learned arrays
        are captured, as in ``to_expr``).

    Returns
    -------
    pl.Expr
        Equal to ``ops[-1].to_expr(... ops[0].to_expr(expr))``.

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> from nirsframe.operators import Normalize, StandardNormalVariate
    >>> df = pl.DataFrame({"spectra": np.array([[1.0, 2.0, 3.0]])})
    >>> steps = [StandardNormalVariate(), Normalize(norm="max")]
    >>> df.select(chain("spectra", steps)).item().to_list()
    [-1.0, 0.0, 1.0]
    """
    out = as_expr(expr)
    for i, op in enumerate(ops):
        if not isinstance(op, SpectralOperator):
            msg = f"'ops' must hold spectral operators; got {type(op).__name__} at position {i}"
            raise InvalidParameterError(msg)
        out = op.to_expr(out)
    return out
