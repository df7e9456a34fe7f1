"""Typed free functions returning Polars expressions: the documented face of every operator.

``nf.snv("spectra")`` is the same as ``pl.col("spectra").nirs.snv()`` and as
``StandardNormalVariate().to_expr("spectra")``.

>>> import numpy as np, polars as pl
>>> import nirsframe as nf
>>> df = pl.DataFrame({"spectra": np.array([[1.0, 2.0, 3.0]])})
>>> df.select(nf.snv("spectra")).item().round(4).to_list()
[-1.2247, 0.0, 1.2247]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import nirskern

from nirsframe._bridge import map_spectra
from nirsframe.exceptions import InvalidParameterError
from nirsframe.operators import Detrend, SavitzkyGolay, StandardNormalVariate
from nirsframe.operators._base import IntoSpectra, as_expr

if TYPE_CHECKING:
    import numpy.typing as npt
    import polars as pl


def snv(expr: IntoSpectra = "spectra", *, ddof: int = 0) -> pl.Expr:
    """Standard normal variate of each spectrum.

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> df = pl.DataFrame({"spectra": np.array([[2.0, 4.0]])})
    >>> df.select(snv()).item().to_list()
    [-1.0, 1.0]
    """
    return StandardNormalVariate(ddof=ddof).to_expr(expr)


def savgol(
    expr: IntoSpectra = "spectra",
    *,
    window_length: int = 11,
    polyorder: int = 2,
    deriv: int = 0,
    delta: float = 1.0,
) -> pl.Expr:
    """Savitzky-Golay filter of each spectrum (scipy's ``mode="interp"`` edges).

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> df = pl.DataFrame({"spectra": np.array([[1.0, 4.0, 9.0, 16.0]])})
    >>> df.select(savgol(window_length=3, polyorder=2, deriv=1)).item().to_list()
    [2.0, 4.0, 6.0, 8.0]
    """
    op = SavitzkyGolay(window_length=window_length, polyorder=polyorder, deriv=deriv, delta=delta)
    return op.to_expr(expr)


def detrend(expr: IntoSpectra = "spectra", *, order: int = 1) -> pl.Expr:
    """Remove the least-squares polynomial of degree ``order`` from each spectrum.

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> df = pl.DataFrame({"spectra": np.array([[1.0, 3.0, 6.0]])})
    >>> df.select(detrend(order=0)).item().round(6).to_list()
    [-2.333333, -0.333333, 2.666667]
    """
    return Detrend(order=order).to_expr(expr)


def msc(expr: IntoSpectra = "spectra", *, reference: npt.ArrayLike) -> pl.Expr:
    """Multiplicative scatter correction against a given ``reference`` spectrum.

    To learn the reference from training spectra, fit
    :class:`~nirsframe.operators.MultiplicativeScatterCorrection` and call its ``to_expr``.

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> df = pl.DataFrame({"spectra": np.array([[3.0, 5.0, 9.0]])})
    >>> df.select(msc(reference=[1.0, 2.0, 4.0])).item().to_list()
    [1.0, 2.0, 4.0]
    """
    ref = np.asarray(reference, dtype=np.float64)
    if ref.ndim != 1 or not np.all(np.isfinite(ref)) or np.ptp(ref) == 0:
        msg = f"'reference' must be a finite, non-constant 1-D spectrum; got shape {ref.shape}"
        raise InvalidParameterError(msg)
    return map_spectra(as_expr(expr), lambda x: nirskern.msc(x, ref.astype(x.dtype)))
