"""The ``nirs`` expression namespace: ``pl.col("spectra").nirs.snv()``.

Each method forwards to the typed free function of the same name in :mod:`nirsframe.functions`
(mypy cannot see registered namespaces, so the free functions are the typed API).

>>> import numpy as np, polars as pl
>>> import nirsframe  # registers the namespace
>>> df = pl.DataFrame({"spectra": np.array([[2.0, 4.0]])})
>>> df.select(pl.col("spectra").nirs.snv()).item().to_list()
[-1.0, 1.0]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from nirsframe import functions as F

if TYPE_CHECKING:
    import numpy.typing as npt


@pl.api.register_expr_namespace("nirs")
class NirsNamespace:
    """Spectral operations on a ``pl.Array(Float32 | Float64, P)`` column."""

    def __init__(self, expr: pl.Expr) -> None:
        self._expr = expr

    def snv(self, *, ddof: int = 0) -> pl.Expr:
        """See :func:`nirsframe.functions.snv`."""
        return F.snv(self._expr, ddof=ddof)

    def savgol(
        self, *, window_length: int = 11, polyorder: int = 2, deriv: int = 0, delta: float = 1.0
    ) -> pl.Expr:
        """See :func:`nirsframe.functions.savgol`."""
        return F.savgol(
            self._expr, window_length=window_length, polyorder=polyorder, deriv=deriv, delta=delta
        )

    def detrend(self, *, order: int = 1) -> pl.Expr:
        """See :func:`nirsframe.functions.detrend`."""
        return F.detrend(self._expr, order=order)

    def msc(self, *, reference: npt.ArrayLike) -> pl.Expr:
        """See :func:`nirsframe.functions.msc`."""
        return F.msc(self._expr, reference=reference)
