"""Derivatives: Savitzky-Golay, finite differences (np.gradient) and Norris-Williams gap-segment.

References
----------
Savitzky & Golay (1964), Anal. Chem. 36(8), 1627-1639.
Norris & Williams (1984), Cereal Chem. 61(2), 158-165.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, ClassVar, Literal

import nirskern
from pydantic import Field, field_validator, model_validator

from nirsframe.exceptions import InvalidParameterError
from nirsframe.operators._base import IntoSpectra, KernelCheckedOperator, Params, SpectralOperator
from nirsframe.operators.axis_ops import AxisValues, check_axis_values, source_axis
from nirsframe.operators.registry import register_operator

if TYPE_CHECKING:
    import polars as pl

    from nirsframe._bridge import FloatMatrix


class SavgolParams(Params):
    """Parameters of :class:`SavitzkyGolay` (scipy's names and edge mode)."""

    window_length: int = Field(default=11, ge=1)
    polyorder: int = Field(default=2, ge=0)
    deriv: int = Field(default=0, ge=0)
    delta: Annotated[float, Field(gt=0, allow_inf_nan=False)] | Literal["axis"] = 1.0
    x_axis: AxisValues | None = Field(
        default=None, description="axis values; used only by delta='axis' (mean spacing)"
    )

    @field_validator("x_axis")
    @classmethod
    def _axis(cls, value: AxisValues | None) -> AxisValues | None:
        return check_axis_values(value)

    @model_validator(mode="after")
    def _window(self) -> SavgolParams:
        if self.delta == "axis" and self.x_axis is None:
            msg = "delta='axis' needs 'x_axis' (the pipeline fills it from the dataset axis)"
            raise ValueError(msg)
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


class SavitzkyGolay(KernelCheckedOperator):
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
        Spacing of the points; derivatives are divided by ``delta**deriv``. ``"axis"``: the mean
        spacing of ``x_axis``, ``|x_axis[-1] - x_axis[0]| / (n - 1)``.
    x_axis
        Axis values, one per point; only read when ``delta="axis"``.

    Examples
    --------
    >>> import numpy as np
    >>> SavitzkyGolay(window_length=3, polyorder=2, deriv=1).fit_transform(
    ...     np.array([[1.0, 4.0, 9.0, 16.0]])
    ... ).round(12).tolist()
    [[2.0, 4.0, 6.0, 8.0]]
    """

    linear: ClassVar[bool] = True
    name: ClassVar[str] = "savgol"
    params_model: ClassVar[type[Params]] = SavgolParams

    def __init__(
        self,
        *,
        window_length: int = 11,
        polyorder: int = 2,
        deriv: int = 0,
        delta: float | Literal["axis"] = 1.0,
        x_axis: AxisValues | None = None,
    ) -> None:
        self.window_length = window_length
        self.polyorder = polyorder
        self.deriv = deriv
        self.delta = delta
        self.x_axis = x_axis

    def _apply_kernel(
        self, x: FloatMatrix, params: Params, out: FloatMatrix, *, reject_inf: bool
    ) -> None:
        # The kernel checks each row for inf right after reading it (no pass of its own).
        assert isinstance(params, SavgolParams)
        delta = params.delta
        if delta == "axis":
            axis = source_axis(params.x_axis, x.shape[1], self.name)
            delta = (
                float(abs(axis[-1] - axis[0]) / (axis.shape[0] - 1)) if axis.shape[0] > 1 else 1.0
            )
        nirskern.savgol(
            x,
            params.window_length,
            params.polyorder,
            deriv=params.deriv,
            delta=delta,
            out=out,
            reject_inf=reject_inf,
        )


def savgol(
    expr: IntoSpectra = "spectra",
    *,
    window_length: int = 11,
    polyorder: int = 2,
    deriv: int = 0,
    delta: float | Literal["axis"] = 1.0,
    x_axis: AxisValues | None = None,
) -> pl.Expr:
    """Savitzky-Golay filter of each spectrum (scipy's ``mode="interp"`` edges).

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> df = pl.DataFrame({"spectra": np.array([[1.0, 4.0, 9.0, 16.0]])})
    >>> df.select(savgol(window_length=3, polyorder=2, deriv=1)).item().round(12).to_list()
    [2.0, 4.0, 6.0, 8.0]
    """
    op = SavitzkyGolay(
        window_length=window_length, polyorder=polyorder, deriv=deriv, delta=delta, x_axis=x_axis
    )
    return op.to_expr(expr)


class DerivativeParams(Params):
    """Parameters of :class:`Derivative`."""

    deriv: int = Field(default=1, ge=1, le=2)
    edge_order: int = Field(default=1, ge=1, le=2)
    x_axis: AxisValues | None = Field(
        default=None, description="axis values (unit spacing if None)"
    )

    @field_validator("x_axis")
    @classmethod
    def _axis(cls, value: AxisValues | None) -> AxisValues | None:
        return check_axis_values(value)


class Derivative(SpectralOperator):
    """First or second derivative by finite differences, honouring a non-uniform axis.

    ``deriv=1`` equals ``np.gradient(X, x_axis, axis=-1, edge_order=edge_order)``: second-order
    accurate central differences inside, one-sided differences at the ends; ``deriv=2`` applies
    it twice. No smoothing: pair it with a smoother or use :class:`SavitzkyGolay` on noisy data.

    Parameters
    ----------
    deriv
        1 or 2.
    edge_order
        Accuracy order of the one-sided end differences (1 or 2).
    x_axis
        Axis values, one per point (unit spacing when None). Derivatives are per axis unit.

    Examples
    --------
    >>> import numpy as np
    >>> Derivative(x_axis=(0.0, 1.0, 3.0)).fit_transform(np.array([[0.0, 1.0, 9.0]])).tolist()
    [[1.0, 2.0, 4.0]]
    """

    name: ClassVar[str] = "derivative"
    params_model: ClassVar[type[Params]] = DerivativeParams

    def __init__(
        self, *, deriv: int = 1, edge_order: int = 1, x_axis: AxisValues | None = None
    ) -> None:
        self.deriv = deriv
        self.edge_order = edge_order
        self.x_axis = x_axis

    def _apply_params_into(self, x: FloatMatrix, params: Params, out: FloatMatrix) -> None:
        assert isinstance(params, DerivativeParams)
        axis = source_axis(params.x_axis, x.shape[1], self.name)
        try:
            nirskern.derivative(
                x, deriv=params.deriv, x_axis=axis, edge_order=params.edge_order, out=out
            )
        except ValueError as exc:
            raise InvalidParameterError(str(exc)) from exc


class NorrisWilliamsParams(Params):
    """Parameters of :class:`NorrisWilliams`."""

    segment: int = Field(default=5, ge=1, description="odd smoothing segment, in points")
    gap: int = Field(default=5, ge=1, description="gap between differenced points, in points")
    deriv: int = Field(default=1, ge=1, le=2)
    delta: float = Field(default=1.0, gt=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _odd(self) -> NorrisWilliamsParams:
        if self.segment % 2 == 0:
            msg = f"'segment' must be odd; got segment={self.segment}"
            raise ValueError(msg)
        return self


class NorrisWilliams(KernelCheckedOperator):
    """Norris-Williams gap-segment derivative.

    Per derivative order: a centred moving average over ``segment`` points, then the gap
    difference ``(s[j + gap] - s[j - gap]) / (2 * gap * delta)``, edge points repeated beyond the
    ends; ``deriv=2`` applies both steps twice. This is nirs4all's ``NorrisWilliams``.

    Parameters
    ----------
    segment
        Odd number of points of the smoothing segment (1: none).
    gap
        Distance in points from the centre to each differenced point.
    deriv
        1 or 2.
    delta
        Spacing of the points (each derivative order is divided by it).

    References
    ----------
    Norris, K. H. & Williams, P. C. (1984). Optimization of mathematical treatments of raw
    near-infrared signal in the measurement of protein in hard red spring wheat. I. Influence of
    particle size. Cereal Chemistry 61(2), 158-165.

    Examples
    --------
    >>> import numpy as np
    >>> NorrisWilliams(segment=1, gap=1).fit_transform(np.array([[0.0, 2.0, 4.0, 6.0]])).tolist()
    [[1.0, 2.0, 2.0, 1.0]]
    """

    name: ClassVar[str] = "norris_williams"
    params_model: ClassVar[type[Params]] = NorrisWilliamsParams

    def __init__(
        self, *, segment: int = 5, gap: int = 5, deriv: int = 1, delta: float = 1.0
    ) -> None:
        self.segment = segment
        self.gap = gap
        self.deriv = deriv
        self.delta = delta

    def _apply_kernel(
        self, x: FloatMatrix, params: Params, out: FloatMatrix, *, reject_inf: bool
    ) -> None:
        # The kernel checks each row for inf right after reading it (no pass of its own).
        assert isinstance(params, NorrisWilliamsParams)
        nirskern.norris_williams(
            x,
            segment=params.segment,
            gap=params.gap,
            deriv=params.deriv,
            delta=params.delta,
            out=out,
            reject_inf=reject_inf,
        )


def derivative(
    expr: IntoSpectra = "spectra",
    *,
    deriv: int = 1,
    edge_order: int = 1,
    x_axis: AxisValues | None = None,
) -> pl.Expr:
    """Finite-difference derivative of each spectrum (``np.gradient`` along ``x_axis``).

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> df = pl.DataFrame({"spectra": np.array([[0.0, 1.0, 9.0]])})
    >>> df.select(derivative(x_axis=(0.0, 1.0, 3.0))).item().to_list()
    [1.0, 2.0, 4.0]
    """
    return Derivative(deriv=deriv, edge_order=edge_order, x_axis=x_axis).to_expr(expr)


def norris_williams(
    expr: IntoSpectra = "spectra",
    *,
    segment: int = 5,
    gap: int = 5,
    deriv: int = 1,
    delta: float = 1.0,
) -> pl.Expr:
    """Norris-Williams gap-segment derivative of each spectrum.

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> df = pl.DataFrame({"spectra": np.array([[0.0, 2.0, 4.0, 6.0]])})
    >>> df.select(norris_williams(segment=1, gap=1)).item().to_list()
    [1.0, 2.0, 2.0, 1.0]
    """
    op = NorrisWilliams(segment=segment, gap=gap, deriv=deriv, delta=delta)
    return op.to_expr(expr)


register_operator(SavitzkyGolay, savgol)
register_operator(Derivative, derivative)
register_operator(NorrisWilliams, norris_williams)
