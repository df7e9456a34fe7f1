"""Fuse a chain of row-wise operators into one expression that runs block by block.

``nf.savgol(nf.snv("spectra"), ...)`` is two elementwise UDFs: the first writes a full
intermediate matrix to main memory and the second reads it back. ``nf.chain("spectra", [snv,
savgol])`` is one UDF that pushes each block of rows (~512 KiB, see
:data:`nirsframe._bridge.BLOCK_BYTES`) through every step while it is cache resident, so the
spectra are read from main memory once and the result written once. Results are identical to the
nested expressions (same kernels on the same rows).

Operators whose expression is not the plain row function (those that change the axis or check
the input width, such as ``crop``, ``resample`` or ``wavelet``) keep their own expression: the
chain is fused around them.

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

from nirsframe._bridge import FloatMatrix, map_spectra, run_blocked
from nirsframe.exceptions import InvalidParameterError
from nirsframe.operators._base import IntoSpectra, SpectralOperator, as_expr

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import polars as pl


def _fusable(op: SpectralOperator) -> bool:
    """True when ``op.to_expr`` is the plain map of its row function (width kept)."""
    return type(op).to_expr is SpectralOperator.to_expr


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
    pending: list[Callable[[FloatMatrix], FloatMatrix]] = []

    def flush(current: pl.Expr) -> pl.Expr:
        fns = tuple(pending)
        pending.clear()
        if not fns:
            return current
        if len(fns) == 1:
            return map_spectra(current, fns[0])
        return map_spectra(current, lambda x: run_blocked(x, fns))

    for i, op in enumerate(ops):
        if not isinstance(op, SpectralOperator):
            msg = f"'ops' must hold spectral operators; got {type(op).__name__} at position {i}"
            raise InvalidParameterError(msg)
        if _fusable(op):
            pending.append(op.row_function())
        else:
            out = op.to_expr(flush(out))
    return flush(out)
