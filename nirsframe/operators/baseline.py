"""Baseline removal: polynomial detrend."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import nirskern
from pydantic import Field

from nirsframe.operators._base import IntoSpectra, Params, SpectralOperator
from nirsframe.operators.registry import register_operator

if TYPE_CHECKING:
    import polars as pl

    from nirsframe._bridge import FloatMatrix


class DetrendParams(Params):
    """Parameters of :class:`Detrend`."""

    order: int = Field(default=1, ge=0)


class Detrend(SpectralOperator):
    """Subtract the least-squares polynomial of degree ``order`` from each spectrum.

    Orders 0 and 1 equal ``scipy.signal.detrend`` (``"constant"``, ``"linear"``).

    Examples
    --------
    >>> import numpy as np
    >>> Detrend(order=1).fit_transform(np.array([[1.0, 3.0, 5.0]])).round(12).tolist()
    [[0.0, 0.0, 0.0]]
    """

    linear: ClassVar[bool] = True
    name: ClassVar[str] = "detrend"
    params_model: ClassVar[type[Params]] = DetrendParams

    def __init__(self, *, order: int = 1) -> None:
        self.order = order

    def _apply_params(self, x: FloatMatrix, params: Params) -> FloatMatrix:
        assert isinstance(params, DetrendParams)
        return nirskern.detrend(x, params.order)


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


register_operator(Detrend, detrend)
