"""Smoothing: Gaussian filter (and Gaussian derivatives) and moving average.

Both equal their ``scipy.ndimage`` counterparts (``gaussian_filter1d``, ``uniform_filter1d``) with
the same edge modes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

import nirskern
from pydantic import Field

from nirsframe.operators._base import IntoSpectra, KernelCheckedOperator, Params
from nirsframe.operators.registry import register_operator

if TYPE_CHECKING:
    import polars as pl

    from nirsframe._bridge import FloatMatrix

Mode = Literal[
    "reflect", "constant", "nearest", "mirror", "wrap", "grid-mirror", "grid-constant", "grid-wrap"
]


class GaussianParams(Params):
    """Parameters of :class:`GaussianFilter` (scipy.ndimage's names)."""

    sigma: float = Field(default=2.0, gt=0, allow_inf_nan=False)
    order: int = Field(default=0, ge=0, description="derivative order of the Gaussian")
    mode: Mode = "reflect"
    cval: float = Field(default=0.0, allow_inf_nan=False)
    truncate: float = Field(default=4.0, ge=0, allow_inf_nan=False)


class GaussianFilter(KernelCheckedOperator):
    """Gaussian smoothing (or Gaussian derivative) of each spectrum.

    Equal to ``scipy.ndimage.gaussian_filter1d(X, sigma, axis=-1, order=order, mode=mode,
    cval=cval, truncate=truncate)``.

    Parameters
    ----------
    sigma
        Standard deviation of the Gaussian, in points.
    order
        Derivative order of the Gaussian (0: smoothing), per point (unit spacing).
    mode
        Edge extension: ``"reflect"``, ``"constant"``, ``"nearest"``, ``"mirror"``, ``"wrap"``
        (and scipy's ``grid-`` synonyms).
    cval
        Value beyond the ends for ``mode="constant"``.
    truncate
        Kernel half-width in standard deviations.

    Examples
    --------
    >>> import numpy as np
    >>> GaussianFilter(sigma=1.0).fit_transform(np.array([[0.0, 0.0, 1.0, 0.0, 0.0]])).round(4)
    array([[0.0584, 0.2421, 0.3989, 0.2421, 0.0584]])
    """

    name: ClassVar[str] = "gaussian"
    params_model: ClassVar[type[Params]] = GaussianParams

    def __init__(
        self,
        *,
        sigma: float = 2.0,
        order: int = 0,
        mode: Mode = "reflect",
        cval: float = 0.0,
        truncate: float = 4.0,
    ) -> None:
        self.sigma = sigma
        self.order = order
        self.mode = mode
        self.cval = cval
        self.truncate = truncate

    def _apply_kernel(
        self, x: FloatMatrix, params: Params, out: FloatMatrix, *, reject_inf: bool
    ) -> None:
        # The kernel checks each row for inf right after reading it (no pass of its own).
        assert isinstance(params, GaussianParams)
        nirskern.gaussian(
            x,
            params.sigma,
            order=params.order,
            mode=params.mode,
            cval=params.cval,
            truncate=params.truncate,
            out=out,
            reject_inf=reject_inf,
        )


class MovingAverageParams(Params):
    """Parameters of :class:`MovingAverage`."""

    window_length: int = Field(default=5, ge=1)
    mode: Mode = "reflect"
    cval: float = Field(default=0.0, allow_inf_nan=False)


class MovingAverage(KernelCheckedOperator):
    """Moving average of ``window_length`` points along each spectrum.

    Equal to ``scipy.ndimage.uniform_filter1d(X, window_length, axis=-1, mode=mode, cval=cval)``;
    an even window covers ``window_length // 2`` points before the centre.

    Parameters
    ----------
    window_length
        Number of points averaged.
    mode
        Edge extension (scipy.ndimage's modes).
    cval
        Value beyond the ends for ``mode="constant"``.

    Examples
    --------
    >>> import numpy as np
    >>> MovingAverage(window_length=3, mode="nearest").fit_transform(
    ...     np.array([[3.0, 0.0, 3.0, 0.0]])
    ... ).tolist()
    [[2.0, 2.0, 1.0, 1.0]]
    """

    name: ClassVar[str] = "moving_average"
    params_model: ClassVar[type[Params]] = MovingAverageParams

    def __init__(
        self, *, window_length: int = 5, mode: Mode = "reflect", cval: float = 0.0
    ) -> None:
        self.window_length = window_length
        self.mode = mode
        self.cval = cval

    def _apply_kernel(
        self, x: FloatMatrix, params: Params, out: FloatMatrix, *, reject_inf: bool
    ) -> None:
        # The kernel checks each row for inf right after reading it (no pass of its own).
        assert isinstance(params, MovingAverageParams)
        nirskern.moving_average(
            x,
            params.window_length,
            mode=params.mode,
            cval=params.cval,
            out=out,
            reject_inf=reject_inf,
        )


def gaussian(
    expr: IntoSpectra = "spectra",
    *,
    sigma: float = 2.0,
    order: int = 0,
    mode: Mode = "reflect",
    cval: float = 0.0,
    truncate: float = 4.0,
) -> pl.Expr:
    """Gaussian smoothing (or derivative) of each spectrum, as ``scipy.ndimage.gaussian_filter1d``.

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> df = pl.DataFrame({"spectra": np.array([[0.0, 0.0, 1.0, 0.0, 0.0]])})
    >>> df.select(gaussian(sigma=1.0)).item().round(4).to_list()
    [0.0584, 0.2421, 0.3989, 0.2421, 0.0584]
    """
    op = GaussianFilter(sigma=sigma, order=order, mode=mode, cval=cval, truncate=truncate)
    return op.to_expr(expr)


def moving_average(
    expr: IntoSpectra = "spectra",
    *,
    window_length: int = 5,
    mode: Mode = "reflect",
    cval: float = 0.0,
) -> pl.Expr:
    """Moving average of each spectrum, as ``scipy.ndimage.uniform_filter1d``.

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> df = pl.DataFrame({"spectra": np.array([[3.0, 0.0, 3.0, 0.0]])})
    >>> df.select(moving_average(window_length=3, mode="nearest")).item().to_list()
    [2.0, 2.0, 1.0, 1.0]
    """
    return MovingAverage(window_length=window_length, mode=mode, cval=cval).to_expr(expr)


register_operator(GaussianFilter, gaussian)
register_operator(MovingAverage, moving_average)
