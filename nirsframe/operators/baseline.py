"""Baseline removal: polynomial detrend."""

from __future__ import annotations

from typing import ClassVar

import nirskern
from pydantic import Field

from nirsframe._bridge import FloatMatrix
from nirsframe.operators._base import Params, SpectralOperator
from nirsframe.operators.registry import register_operator


class DetrendParams(Params):
    """Parameters of :class:`Detrend`."""

    order: int = Field(default=1, ge=0)


@register_operator
class Detrend(SpectralOperator):
    """Subtract the least-squares polynomial of degree ``order`` from each spectrum.

    Orders 0 and 1 equal ``scipy.signal.detrend`` (``"constant"``, ``"linear"``).

    Examples
    --------
    >>> import numpy as np
    >>> Detrend(order=1).fit_transform(np.array([[1.0, 3.0, 5.0]])).round(12).tolist()
    [[0.0, 0.0, 0.0]]
    """

    name: ClassVar[str] = "detrend"
    Params: ClassVar[type[Params]] = DetrendParams

    def __init__(self, *, order: int = 1) -> None:
        self.order = order

    def _apply_params(self, x: FloatMatrix, params: Params) -> FloatMatrix:
        assert isinstance(params, DetrendParams)
        return nirskern.detrend(x, params.order)
