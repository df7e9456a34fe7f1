"""Savitzky-Golay smoothing and derivatives.

References
----------
Savitzky & Golay (1964), Anal. Chem. 36(8), 1627-1639.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import nirskern
from pydantic import Field, model_validator

from nirsframe._bridge import FloatMatrix
from nirsframe.operators._base import IntoSpectra, Params, SpectralOperator
from nirsframe.operators.registry import register_operator

if TYPE_CHECKING:
    import polars as pl


class SavgolParams(Params):
    """Parameters of :class:`SavitzkyGolay` (scipy's names and edge mode)."""

    window_length: int = Field(default=11, ge=1)
    polyorder: int = Field(default=2, ge=0)
    deriv: int = Field(default=0, ge=0)
    delta: float = Field(default=1.0, gt=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _window(self) -> SavgolParams:
        if self.window_length % 2 == 0:
            msg = f"'window_length' must be odd; got window_length={self.window_length}"
            raise ValueError(msg)
        if self.polyorder >= self.window_length:
            msg = (
                "'polyorder' must be less than 'window_length'; "
                f"got polyorder={self.polyorder}, window_length={self.window_length}"
            )
            raise ValueError(msg)
        return self


class SavitzkyGolay(SpectralOperator):
    """Savitzky-Golay filter (smoothing or derivative), equal to ``scipy.signal.savgol_filter``.

    Edges use scipy's default ``mode="interp"`` (a polynomial fitted to the first and last
    windows); chemotools defaults to ``mode="nearest"``, which differs near the edges.

    Parameters
    ----------
    window_length
        Odd number of points in the moving window.
    polyorder
        Degree of the fitted polynomial, ``< window_length``.
    deriv
        Order of the derivative (0: smoothing).
    delta
        Spacing of the points; derivatives are divided by ``delta**deriv``.

    Examples
    --------
    >>> import numpy as np
    >>> SavitzkyGolay(window_length=3, polyorder=2, deriv=1).fit_transform(
    ...     np.array([[1.0, 4.0, 9.0, 16.0]])
    ... ).tolist()
    [[2.0, 4.0, 6.0, 8.0]]
    """

    name: ClassVar[str] = "savgol"
    Params: ClassVar[type[Params]] = SavgolParams

    def __init__(
        self, *, window_length: int = 11, polyorder: int = 2, deriv: int = 0, delta: float = 1.0
    ) -> None:
        self.window_length = window_length
        self.polyorder = polyorder
        self.deriv = deriv
        self.delta = delta

    def _apply_params(self, x: FloatMatrix, params: Params) -> FloatMatrix:
        assert isinstance(params, SavgolParams)
        return nirskern.savgol(
            x, params.window_length, params.polyorder, deriv=params.deriv, delta=params.delta
        )


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


register_operator(SavitzkyGolay, savgol)
