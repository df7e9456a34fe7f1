"""Scatter corrections: SNV and MSC.

References
----------
Barnes, Dhanoa & Lister (1989), Appl. Spectrosc. 43(5), 772-777.
Geladi, MacDougall & Martens (1985), Appl. Spectrosc. 39(3), 491-500.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import nirskern
from pydantic import Field

from nirsframe._bridge import FloatMatrix
from nirsframe.exceptions import InvalidParameterError
from nirsframe.operators._base import OperatorKind, Params, SpectralOperator
from nirsframe.operators.registry import register_operator


class SnvParams(Params):
    """Parameters of :class:`StandardNormalVariate`."""

    ddof: int = Field(default=0, ge=0, description="delta degrees of freedom of the std")


@register_operator
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


@register_operator
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
