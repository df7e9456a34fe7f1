"""Intensity conversions: reflectance <-> absorbance, Kubelka-Munk, logarithm, percentages.

All are stateless and elementwise. Reflectance and transmittance are fractions (0-1]; convert
percentages first with :func:`percent_to_fraction`. Values outside a conversion's domain follow
IEEE semantics without warnings (``R = 0`` gives ``+inf`` absorbance, ``R < 0`` gives NaN), and
so do inf inputs: these operators set ``allow_inf`` (no finiteness pass over the input in
``fit``/``transform``, which cost as much as the conversion itself).

References
----------
Kubelka & Munk (1931), Z. Tech. Phys. 12, 593-601.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar

import nirskern
from pydantic import Field, field_validator

from nirsframe.operators._base import IntoSpectra, SpectralOperator
from nirsframe.operators._base import Params as BaseParams
from nirsframe.operators.registry import register_operator

if TYPE_CHECKING:
    import polars as pl

    from nirsframe._bridge import FloatMatrix


#: One read and one write per value: on the calling thread below 256 MiB (``min_parallel_bytes``),
#: where two workers move no more bytes per second than one and add their dispatch (percent to
#: fraction, medians of 21 interleaved calls: 3.8 against 4.1 ms at 10k x 1024 float64, 0.20
#: against 0.41 ms at 1k).
ONE_PASS_MIN_PARALLEL_BYTES = 1 << 28

#: numpy's log10 costs more than its memory traffic once the data leave the cache: reflectance
#: to absorbance runs on the workers from 16 MiB (medians of 21 interleaved calls, float64 x
#: 1024: 10.4 ms on the calling thread against 6.8 on the workers at 10k rows; 0.82 against
#: 1.04 ms at 1k, where the calling thread wins).
LOG10_MIN_PARALLEL_BYTES = 1 << 24


class ReflectanceToAbsorbanceParams(BaseParams):
    """Parameters of :class:`ReflectanceToAbsorbance` (none)."""


class ReflectanceToAbsorbance(SpectralOperator):
    """Absorbance (pseudo-absorbance) ``log10(1 / R)`` of reflectance or transmittance ``R``.

    Examples
    --------
    >>> import numpy as np
    >>> ReflectanceToAbsorbance().fit_transform(np.array([[0.1, 0.01]])).tolist()
    [[1.0, 2.0]]
    """

    name: ClassVar[str] = "reflectance_to_absorbance"
    allow_inf: ClassVar[bool] = True
    min_parallel_bytes: ClassVar[int] = LOG10_MIN_PARALLEL_BYTES
    params_model: ClassVar[type[BaseParams]] = ReflectanceToAbsorbanceParams

    def _apply_params(self, x: FloatMatrix, params: BaseParams) -> FloatMatrix:
        return nirskern.reflectance_to_absorbance(x)

    def _apply_params_into(self, x: FloatMatrix, params: BaseParams, out: FloatMatrix) -> None:
        nirskern.reflectance_to_absorbance(x, out=out)


class AbsorbanceToReflectanceParams(BaseParams):
    """Parameters of :class:`AbsorbanceToReflectance` (none)."""


class AbsorbanceToReflectance(SpectralOperator):
    """Reflectance ``10 ** -A`` of absorbance ``A`` (inverse of :class:`ReflectanceToAbsorbance`).

    Examples
    --------
    >>> import numpy as np
    >>> AbsorbanceToReflectance().fit_transform(np.array([[1.0, 2.0]])).round(12).tolist()
    [[0.1, 0.01]]
    """

    name: ClassVar[str] = "absorbance_to_reflectance"
    allow_inf: ClassVar[bool] = True
    params_model: ClassVar[type[BaseParams]] = AbsorbanceToReflectanceParams

    def _apply_params(self, x: FloatMatrix, params: BaseParams) -> FloatMatrix:
        return nirskern.absorbance_to_reflectance(x)

    def _apply_params_into(self, x: FloatMatrix, params: BaseParams, out: FloatMatrix) -> None:
        nirskern.absorbance_to_reflectance(x, out=out)


class KubelkaMunkParams(BaseParams):
    """Parameters of :class:`KubelkaMunk` (none)."""


class KubelkaMunk(SpectralOperator):
    """Kubelka-Munk function ``(1 - R)^2 / (2 R)`` of diffuse reflectance ``R`` (a fraction).

    Examples
    --------
    >>> import numpy as np
    >>> KubelkaMunk().fit_transform(np.array([[0.5, 0.25]])).tolist()
    [[0.25, 1.125]]
    """

    name: ClassVar[str] = "kubelka_munk"
    allow_inf: ClassVar[bool] = True
    params_model: ClassVar[type[BaseParams]] = KubelkaMunkParams

    def _apply_params(self, x: FloatMatrix, params: BaseParams) -> FloatMatrix:
        return nirskern.kubelka_munk(x)

    def _apply_params_into(self, x: FloatMatrix, params: BaseParams, out: FloatMatrix) -> None:
        nirskern.kubelka_munk(x, out=out)


class LogarithmParams(BaseParams):
    """Parameters of :class:`Logarithm`."""

    offset: float = Field(default=0.0, description="added before taking the logarithm")

    @field_validator("offset")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            msg = "must be finite"
            raise ValueError(msg)
        return value


class Logarithm(SpectralOperator):
    """Natural logarithm ``ln(x + offset)`` of each value.

    Parameters
    ----------
    offset
        Added before the logarithm, e.g. to shift spectra with values <= 0 (finite).

    Examples
    --------
    >>> import numpy as np
    >>> Logarithm(offset=1.0).fit_transform(np.array([[0.0, np.e - 1.0]])).round(12).tolist()
    [[0.0, 1.0]]
    """

    name: ClassVar[str] = "log"
    allow_inf: ClassVar[bool] = True
    # Not ONE_PASS_MIN_PARALLEL_BYTES: numpy's log costs more than its memory traffic, and the
    # results come from Arrow's pool (no fresh pages to fault in). 10k x 1024 float64, medians
    # of 21 interleaved calls: 9.5 ms on the calling thread, 5.8 on the workers; the same at 1k
    # and 100k.
    params_model: ClassVar[type[BaseParams]] = LogarithmParams

    def __init__(self, *, offset: float = 0.0) -> None:
        self.offset = offset

    def _apply_params(self, x: FloatMatrix, params: BaseParams) -> FloatMatrix:
        assert isinstance(params, LogarithmParams)
        return nirskern.log(x, offset=params.offset)

    def _apply_params_into(self, x: FloatMatrix, params: BaseParams, out: FloatMatrix) -> None:
        assert isinstance(params, LogarithmParams)
        nirskern.log(x, offset=params.offset, out=out)


class PercentToFractionParams(BaseParams):
    """Parameters of :class:`PercentToFraction` (none)."""


class PercentToFraction(SpectralOperator):
    """Divide by 100: percent reflectance or transmittance to a fraction.

    Examples
    --------
    >>> import numpy as np
    >>> PercentToFraction().fit_transform(np.array([[50.0, 100.0]])).tolist()
    [[0.5, 1.0]]
    """

    name: ClassVar[str] = "percent_to_fraction"
    allow_inf: ClassVar[bool] = True
    min_parallel_bytes: ClassVar[int] = ONE_PASS_MIN_PARALLEL_BYTES
    params_model: ClassVar[type[BaseParams]] = PercentToFractionParams

    def _apply_params(self, x: FloatMatrix, params: BaseParams) -> FloatMatrix:
        return nirskern.percent_to_fraction(x)

    def _apply_params_into(self, x: FloatMatrix, params: BaseParams, out: FloatMatrix) -> None:
        nirskern.percent_to_fraction(x, out=out)


class FractionToPercentParams(BaseParams):
    """Parameters of :class:`FractionToPercent` (none)."""


class FractionToPercent(SpectralOperator):
    """Multiply by 100: a fraction to percent.

    Examples
    --------
    >>> import numpy as np
    >>> FractionToPercent().fit_transform(np.array([[0.5, 1.0]])).tolist()
    [[50.0, 100.0]]
    """

    name: ClassVar[str] = "fraction_to_percent"
    allow_inf: ClassVar[bool] = True
    min_parallel_bytes: ClassVar[int] = ONE_PASS_MIN_PARALLEL_BYTES
    params_model: ClassVar[type[BaseParams]] = FractionToPercentParams

    def _apply_params(self, x: FloatMatrix, params: BaseParams) -> FloatMatrix:
        return nirskern.fraction_to_percent(x)

    def _apply_params_into(self, x: FloatMatrix, params: BaseParams, out: FloatMatrix) -> None:
        nirskern.fraction_to_percent(x, out=out)


def reflectance_to_absorbance(expr: IntoSpectra = "spectra") -> pl.Expr:
    """Absorbance ``log10(1 / R)`` of reflectance spectra.

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> df = pl.DataFrame({"spectra": np.array([[0.1, 0.01]])})
    >>> df.select(reflectance_to_absorbance()).item().to_list()
    [1.0, 2.0]
    """
    return ReflectanceToAbsorbance().to_expr(expr)


def absorbance_to_reflectance(expr: IntoSpectra = "spectra") -> pl.Expr:
    """Reflectance ``10 ** -A`` of absorbance spectra.

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> df = pl.DataFrame({"spectra": np.array([[1.0, 2.0]])})
    >>> df.select(absorbance_to_reflectance()).item().round(12).to_list()
    [0.1, 0.01]
    """
    return AbsorbanceToReflectance().to_expr(expr)


def kubelka_munk(expr: IntoSpectra = "spectra") -> pl.Expr:
    """Kubelka-Munk function ``(1 - R)^2 / (2 R)`` of reflectance spectra.

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> df = pl.DataFrame({"spectra": np.array([[0.5, 0.25]])})
    >>> df.select(kubelka_munk()).item().to_list()
    [0.25, 1.125]
    """
    return KubelkaMunk().to_expr(expr)


def log(expr: IntoSpectra = "spectra", *, offset: float = 0.0) -> pl.Expr:
    """Natural logarithm ``ln(x + offset)`` of each value.

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> df = pl.DataFrame({"spectra": np.array([[1.0, np.e]])})
    >>> df.select(log()).item().round(12).to_list()
    [0.0, 1.0]
    """
    return Logarithm(offset=offset).to_expr(expr)


def percent_to_fraction(expr: IntoSpectra = "spectra") -> pl.Expr:
    """Divide by 100 (percent to fraction).

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> df = pl.DataFrame({"spectra": np.array([[50.0, 100.0]])})
    >>> df.select(percent_to_fraction()).item().to_list()
    [0.5, 1.0]
    """
    return PercentToFraction().to_expr(expr)


def fraction_to_percent(expr: IntoSpectra = "spectra") -> pl.Expr:
    """Multiply by 100 (fraction to percent).

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> df = pl.DataFrame({"spectra": np.array([[0.5, 1.0]])})
    >>> df.select(fraction_to_percent()).item().to_list()
    [50.0, 100.0]
    """
    return FractionToPercent().to_expr(expr)


register_operator(ReflectanceToAbsorbance, reflectance_to_absorbance)
register_operator(AbsorbanceToReflectance, absorbance_to_reflectance)
register_operator(KubelkaMunk, kubelka_munk)
register_operator(Logarithm, log)
register_operator(PercentToFraction, percent_to_fraction)
register_operator(FractionToPercent, fraction_to_percent)
