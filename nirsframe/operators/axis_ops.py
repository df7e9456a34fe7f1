"""Operations on the spectral axis: crop to a range and resample onto a new grid.

Both change the width of the spectra: their expressions declare the new width, and
:meth:`output_axis` gives the axis of the result. The source axis is the ``x_axis`` parameter
(filled from the dataset's :class:`~nirsframe.axis.SpectralAxis` by the pipeline); without it the
points are numbered ``0..n_points-1``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, ClassVar, Literal

import nirskern
import numpy as np
from pydantic import Field, field_validator, model_validator

from nirsframe._bridge import RowsInto, map_spectra
from nirsframe.axis import SpectralAxis
from nirsframe.exceptions import AxisError, InvalidParameterError
from nirsframe.operators._base import IntoSpectra, Params, SpectralOperator, as_expr
from nirsframe.operators.registry import register_operator

if TYPE_CHECKING:
    import numpy.typing as npt
    import polars as pl

    from nirsframe._bridge import FloatMatrix

AxisValues = tuple[float, ...]


def check_axis_values(values: AxisValues | None) -> AxisValues | None:
    """Validate an ``x_axis`` parameter: finite and strictly monotonic (None passes).

    >>> check_axis_values((1.0, 2.0))
    (1.0, 2.0)
    """
    if values is None:
        return None
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0 or not np.all(np.isfinite(arr)):
        msg = "'x_axis' must be a non-empty sequence of finite values"
        raise ValueError(msg)
    steps = np.diff(arr)
    if not (np.all(steps > 0) or np.all(steps < 0)):
        msg = "'x_axis' must be strictly increasing or strictly decreasing"
        raise ValueError(msg)
    return values


def source_axis(x_axis: AxisValues | None, n_points: int, owner: str) -> npt.NDArray[np.float64]:
    """The axis values for spectra of ``n_points``: ``x_axis`` as a shared read-only array, or a
    new ``0..n_points-1`` when it is None."""
    if x_axis is None:
        return np.arange(n_points, dtype=np.float64)
    if len(x_axis) != n_points:
        msg = (
            f"the 'x_axis' of {owner} must have one value per point; "
            f"got {len(x_axis)} values for spectra of width {n_points}"
        )
        raise AxisError(msg)
    last_axis, last_array = _LAST_AXIS[0]
    if last_axis is x_axis:  # the same tuple as the previous call: no hashing of 1024 floats
        return last_array
    axis = _axis_array(x_axis)
    _LAST_AXIS[0] = (x_axis, axis)  # one tuple, swapped atomically
    return axis


@lru_cache(maxsize=32)
def _axis_array(x_axis: AxisValues) -> npt.NDArray[np.float64]:
    """``x_axis`` as a read-only array, memoised: an operator needs its axis for every block of
    rows it transforms, and converting 1024 Python floats costs ~10 us each time (hashing them
    for this cache ~8 us: :func:`source_axis` first compares with the last tuple it saw)."""
    axis = np.asarray(x_axis, dtype=np.float64)
    axis.flags.writeable = False
    return axis


#: The last ``(x_axis, array)`` of :func:`source_axis` (holding the tuple keeps its identity).
_LAST_AXIS: list[tuple[AxisValues | None, npt.NDArray[np.float64]]] = [(None, np.empty(0))]


class CropParams(Params):
    """Parameters of :class:`Crop`."""

    lower: float | None = Field(default=None, allow_inf_nan=False, description="None: no bound")
    upper: float | None = Field(default=None, allow_inf_nan=False, description="None: no bound")
    x_axis: AxisValues | None = Field(default=None, description="source axis (index if None)")

    @field_validator("x_axis")
    @classmethod
    def _axis(cls, value: AxisValues | None) -> AxisValues | None:
        return check_axis_values(value)

    @model_validator(mode="after")
    def _range(self) -> CropParams:
        if self.lower is not None and self.upper is not None and self.lower > self.upper:
            msg = f"'lower' must not exceed 'upper'; got lower={self.lower}, upper={self.upper}"
            raise ValueError(msg)
        if self.x_axis is not None:
            nirskern.crop_mask(self.x_axis, *self.bounds())
        return self

    def bounds(self) -> tuple[float, float]:
        """``(lower, upper)`` with None as infinite."""
        lo = -np.inf if self.lower is None else self.lower
        hi = np.inf if self.upper is None else self.upper
        return float(lo), float(hi)


class Crop(SpectralOperator):
    """Keep the points whose axis value lies in ``[lower, upper]`` (in axis order).

    Parameters
    ----------
    lower, upper
        Inclusive bounds in axis units (None: unbounded on that side).
    x_axis
        Source axis values, one per point; the point index when None. Expressions need it (or a
        fitted operator) to know the output width.

    Examples
    --------
    >>> import numpy as np
    >>> op = Crop(lower=902.0, upper=906.0, x_axis=(900.0, 902.0, 904.0, 906.0, 908.0))
    >>> op.fit_transform(np.array([[1.0, 2.0, 3.0, 4.0, 5.0]])).tolist()
    [[2.0, 3.0, 4.0]]
    >>> op.output_axis(SpectralAxis([900.0, 902.0, 904.0, 906.0, 908.0])).values.tolist()
    [902.0, 904.0, 906.0]
    """

    name: ClassVar[str] = "crop"
    params_model: ClassVar[type[Params]] = CropParams
    example: ClassVar[dict[str, object]] = {
        "lower": 1020.0,
        "upper": 1150.0,
        "x_axis": tuple(1000.0 + 2.0 * i for i in range(96)),
    }

    def __init__(
        self,
        *,
        lower: float | None = None,
        upper: float | None = None,
        x_axis: AxisValues | None = None,
    ) -> None:
        self.lower = lower
        self.upper = upper
        self.x_axis = x_axis

    def _mask(self, params: CropParams, n_points: int) -> npt.NDArray[np.bool_]:
        axis = source_axis(params.x_axis, n_points, self.name)
        try:
            return nirskern.crop_mask(axis, *params.bounds())
        except ValueError as exc:
            raise InvalidParameterError(str(exc)) from exc

    def _columns(self, params: CropParams, n_points: int) -> slice:
        """The kept points as a slice: on a strictly monotonic axis they are one run (a copy of
        a slice is a memcpy per row; boolean indexing is ~10x slower)."""
        kept = np.flatnonzero(self._mask(params, n_points))
        return slice(int(kept[0]), int(kept[-1]) + 1)

    def _apply_params(self, x: FloatMatrix, params: Params) -> FloatMatrix:
        assert isinstance(params, CropParams)
        return np.ascontiguousarray(x[:, self._columns(params, x.shape[1])])

    def _apply_params_into(self, x: FloatMatrix, params: Params, out: FloatMatrix) -> None:
        assert isinstance(params, CropParams)
        np.copyto(out, x[:, self._columns(params, x.shape[1])])

    def output_width(self, n_points: int) -> int:
        """The number of points kept."""
        params = self.params()
        assert isinstance(params, CropParams)
        return int(self._mask(params, n_points).sum())

    def to_expr(self, expr: IntoSpectra = "spectra") -> pl.Expr:
        """The crop as an expression declaring the new width (needs ``x_axis`` or a fit)."""
        params = self.params()
        assert isinstance(params, CropParams)
        if params.x_axis is not None:
            n_points = len(params.x_axis)
        elif hasattr(self, "n_features_in_"):
            n_points = int(self.n_features_in_)
        else:
            msg = "crop as an expression needs 'x_axis' (or a fit) to know the output width"
            raise InvalidParameterError(msg)
        columns = self._columns(params, n_points)

        def run(x: FloatMatrix, out: FloatMatrix) -> None:
            if x.shape[1] != n_points:
                source_axis(params.x_axis, x.shape[1], self.name)  # names the axis, if any
                msg = f"crop expects spectra of width {n_points}; got width {x.shape[1]}"
                raise AxisError(msg)
            np.copyto(out, x[:, columns])

        width = columns.stop - columns.start
        return map_spectra(as_expr(expr), RowsInto(run, width), width=width)

    def output_axis(self, axis: SpectralAxis) -> SpectralAxis:
        """The cropped axis."""
        params = self.params()
        assert isinstance(params, CropParams)
        try:
            mask = nirskern.crop_mask(axis.values, *params.bounds())
        except ValueError as exc:
            raise AxisError(str(exc)) from exc
        return SpectralAxis(axis.values[mask], axis.unit)


class ResampleParams(Params):
    """Parameters of :class:`Resample`."""

    target: AxisValues | None = Field(
        default=None,
        validate_default=True,
        description="positions of the output points, in axis units (required)",
    )
    method: Literal["linear", "cubic"] = "linear"
    x_axis: AxisValues | None = Field(default=None, description="source axis (index if None)")

    @field_validator("x_axis")
    @classmethod
    def _axis(cls, value: AxisValues | None) -> AxisValues | None:
        return check_axis_values(value)

    @field_validator("target")
    @classmethod
    def _target(cls, value: AxisValues | None) -> AxisValues:
        if value is None:
            msg = "'target' is required: the positions of the output points"
            raise ValueError(msg)
        if len(value) == 0 or not np.all(np.isfinite(np.asarray(value, dtype=np.float64))):
            msg = "'target' must be a non-empty sequence of finite values"
            raise ValueError(msg)
        return value


class Resample(SpectralOperator):
    """Interpolate each spectrum onto the ``target`` grid (linear or not-a-knot cubic spline).

    ``method="linear"`` equals ``np.interp`` bit for bit; ``"cubic"`` equals
    ``scipy.interpolate.CubicSpline`` (not-a-knot) to ~1e-15. Decreasing axes (cm-1) are handled;
    targets must lie inside the source range.

    Parameters
    ----------
    target
        Output positions, in the units of the axis.
    method
        ``"linear"`` or ``"cubic"``.
    x_axis
        Source axis values, one per point; the point index when None.

    Examples
    --------
    >>> import numpy as np
    >>> op = Resample(target=(901.0, 903.0), x_axis=(900.0, 902.0, 904.0))
    >>> op.fit_transform(np.array([[0.0, 10.0, 20.0]])).tolist()
    [[5.0, 15.0]]
    """

    name: ClassVar[str] = "resample"
    params_model: ClassVar[type[Params]] = ResampleParams
    example: ClassVar[dict[str, object]] = {
        "target": (0.0, 0.25, 0.5, 0.75, 1.0),
        "method": "cubic",
    }

    def __init__(
        self,
        *,
        target: AxisValues | None = None,
        method: Literal["linear", "cubic"] = "linear",
        x_axis: AxisValues | None = None,
    ) -> None:
        self.target = target
        self.method = method
        self.x_axis = x_axis

    def _apply_params_into(self, x: FloatMatrix, params: Params, out: FloatMatrix) -> None:
        assert isinstance(params, ResampleParams)
        axis = source_axis(params.x_axis, x.shape[1], self.name)
        try:
            nirskern.resample(x, axis, self._target(params), method=params.method, out=out)
        except ValueError as exc:
            raise InvalidParameterError(str(exc)) from exc

    def output_width(self, n_points: int) -> int:
        """``len(target)``."""
        params = self.params()
        assert isinstance(params, ResampleParams)
        return len(self._target(params))

    def to_expr(self, expr: IntoSpectra = "spectra") -> pl.Expr:
        """The resampling as an expression declaring the new width ``len(target)``."""
        params = self.params()
        assert isinstance(params, ResampleParams)
        width = len(self._target(params))
        into = RowsInto(lambda x, out: self._apply_params_into(x, params, out), width)
        return map_spectra(as_expr(expr), into, width=width)

    def output_axis(self, axis: SpectralAxis) -> SpectralAxis:
        """The target grid, in the unit of ``axis``."""
        params = self.params()
        assert isinstance(params, ResampleParams)
        return SpectralAxis(self._target(params), axis.unit)

    @staticmethod
    def _target(params: ResampleParams) -> AxisValues:
        assert params.target is not None  # the validator requires it
        return params.target


def crop(
    expr: IntoSpectra = "spectra",
    *,
    lower: float | None = None,
    upper: float | None = None,
    x_axis: AxisValues | None = None,
) -> pl.Expr:
    """Keep the points of each spectrum with ``lower <= x_axis <= upper``.

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> df = pl.DataFrame({"spectra": np.array([[1.0, 2.0, 3.0]])})
    >>> df.select(crop(lower=902.0, x_axis=(900.0, 902.0, 904.0))).item().to_list()
    [2.0, 3.0]
    """
    return Crop(lower=lower, upper=upper, x_axis=x_axis).to_expr(expr)


def resample(
    expr: IntoSpectra = "spectra",
    *,
    target: AxisValues,
    method: Literal["linear", "cubic"] = "linear",
    x_axis: AxisValues | None = None,
) -> pl.Expr:
    """Interpolate each spectrum onto ``target`` (``"linear"`` or ``"cubic"`` spline).

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> df = pl.DataFrame({"spectra": np.array([[0.0, 10.0, 20.0]])})
    >>> df.select(resample(target=(901.0, 903.0), x_axis=(900.0, 902.0, 904.0))).item().to_list()
    [5.0, 15.0]
    """
    return Resample(target=target, method=method, x_axis=x_axis).to_expr(expr)


register_operator(Crop, crop)
register_operator(Resample, resample)
