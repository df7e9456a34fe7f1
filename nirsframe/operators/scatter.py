"""Scatter corrections: SNV and MSC.

References
----------
Barnes, Dhanoa & Lister (1989), Appl. Spectrosc. 43(5), 772-777.
Geladi, MacDougall & Martens (1985), Appl. Spectrosc. 39(3), 491-500.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np
import nirskern
from pydantic import Field

from nirsframe._bridge import FloatMatrix
from nirsframe.exceptions import InvalidParameterError
from nirsframe._bridge import map_spectra
from nirsframe.operators._base import IntoSpectra, as_expr, OperatorKind, Params, SpectralOperator
from nirsframe.operators.registry import register_operator

if TYPE_CHECKING:
    import polars as pl
    import numpy.typing as npt


class SnvParams(Params):
    """Parameters of :class:`StandardNormalVariate`."""

    ddof: int = Field(default=0, ge=0, description="delta degrees of freedom of the std")


class StandardNormalVariate(SpectralOperator):
    """Standard normal variate: each spectrum centred and scaled to unit standard deviation.

    Parameters
    ----------
    ddof
        Delta degrees of freedom of the standard deviation (0: population std, as chemotools).

    Examples
    --------
    >>> import numpy as np
    >>> StandardNormalVariate().fit_transform(np.array([[1.0, 2.0, 3.0]])).round(4).tolist()
    [[-1.2247, 0.0, 1.2247]]
    """

    name: ClassVar[str] = "snv"
    Params: ClassVar[type[Params]] = SnvParams

    def __init__(self, *, ddof: int = 0) -> None:
        self.ddof = ddof

    def _apply_params(self, x: FloatMatrix, params: Params) -> FloatMatrix:
        assert isinstance(params, SnvParams)
        return nirskern.snv(x, ddof=params.ddof)


class MscParams(Params):
    """Parameters of :class:`MultiplicativeScatterCorrection`."""

    reference: str = Field(default="mean", pattern="^(mean|median)$")


class MultiplicativeScatterCorrection(SpectralOperator):
    """Multiplicative scatter correction against the mean (or median) training spectrum.

    Parameters
    ----------
    reference
        ``"mean"`` or ``"median"`` of the training spectra (NaN rows ignored).

    Attributes
    ----------
    reference_ : ndarray of shape (n_features,)
        The learned reference spectrum.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 2.0, 4.0], [3.0, 5.0, 9.0]])
    >>> MultiplicativeScatterCorrection().fit(X).reference_.tolist()
    [2.0, 3.5, 6.5]
    """

    name: ClassVar[str] = "msc"
    Params: ClassVar[type[Params]] = MscParams
    kind: ClassVar[OperatorKind] = "fitted"
    fitted_attributes: ClassVar[tuple[str, ...]] = ("reference_",)

    def __init__(self, *, reference: str = "mean") -> None:
        self.reference = reference

    def _fit(self, x: FloatMatrix, y: FloatMatrix | None, params: Params) -> None:
        assert isinstance(params, MscParams)
        rows = x[~np.isnan(x).any(axis=1)]
        if rows.shape[0] == 0:
            msg = "msc needs at least one spectrum without NaN to learn its reference"
            raise InvalidParameterError(msg)
        # Accumulate in float64 whatever the input dtype, then store in the input dtype.
        stat = np.mean if params.reference == "mean" else np.median
        self.reference_ = stat(rows.astype(np.float64), axis=0).astype(x.dtype)

    def _apply(self, x: FloatMatrix) -> FloatMatrix:
        return nirskern.msc(x, self.reference_.astype(x.dtype))


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


register_operator(StandardNormalVariate, snv)
register_operator(MultiplicativeScatterCorrection, msc)
