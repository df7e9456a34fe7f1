"""Scatter corrections: SNV, robust and local SNV, MSC and extended MSC.

References
----------
Barnes, Dhanoa & Lister (1989), Appl. Spectrosc. 43(5), 772-777.
Geladi, MacDougall & Martens (1985), Appl. Spectrosc. 39(3), 491-500.
Martens & Stark (1991), J. Pharm. Biomed. Anal. 9(8), 625-635 (EMSC).
Afseth & Kohler (2012), Chemom. Intell. Lab. Syst. 117, 92-99 (EMSC tutorial).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal

import nirskern
import numpy as np
from pydantic import Field

from nirsframe._bridge import FloatMatrix, map_spectra
from nirsframe.exceptions import InvalidParameterError
from nirsframe.operators._base import (
    IntoSpectra,
    OperatorKind,
    SpectralOperator,
    as_expr,
    reject_inf,
)
from nirsframe.operators._base import Params as BaseParams
from nirsframe.operators.registry import register_operator

if TYPE_CHECKING:
    import numpy.typing as npt
    import polars as pl


class SnvParams(BaseParams):
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
    params_model: ClassVar[type[BaseParams]] = SnvParams

    def __init__(self, *, ddof: int = 0) -> None:
        self.ddof = ddof

    def _apply_params(self, x: FloatMatrix, params: BaseParams) -> FloatMatrix:
        assert isinstance(params, SnvParams)
        return nirskern.snv(x, ddof=params.ddof)

    def _apply_params_into(self, x: FloatMatrix, params: BaseParams, out: FloatMatrix) -> None:
        assert isinstance(params, SnvParams)
        nirskern.snv(x, ddof=params.ddof, out=out)


class MscParams(BaseParams):
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
    params_model: ClassVar[type[BaseParams]] = MscParams
    kind: ClassVar[OperatorKind] = "fitted"
    fitted_attributes: ClassVar[tuple[str, ...]] = ("reference_",)
    fit_rejects_inf: ClassVar[bool] = True

    def __init__(self, *, reference: str = "mean") -> None:
        self.reference = reference

    def _fit(self, x: FloatMatrix, y: FloatMatrix | None, params: BaseParams) -> None:
        assert isinstance(params, MscParams)
        if params.reference == "mean":
            # One pass over X (fit_rejects_inf): float64 column sums of the rows without NaN
            # (same additions, in the same order, as np.mean(rows, axis=0, dtype=np.float64)),
            # and inf found by the row sums the kernel makes to spot NaN rows.
            try:
                ref, _ = nirskern.column_stats(x, with_std=False, reject_inf=True)
            except ValueError as exc:
                if str(exc).startswith("Input X contains infinity"):
                    raise
                msg = "msc needs at least one spectrum without NaN to learn its reference"
                raise InvalidParameterError(msg) from exc
        else:
            reject_inf(x)
            # A NaN row sum means a NaN in the row (no inf): no (n, p) mask, and no copy of X
            # when every row is complete (the common case).
            nan_rows = np.isnan(x.sum(axis=1, dtype=np.float64))
            rows = x[~nan_rows] if nan_rows.any() else x
            if rows.shape[0] == 0:
                msg = "msc needs at least one spectrum without NaN to learn its reference"
                raise InvalidParameterError(msg)
            ref = np.median(rows.astype(np.float64, copy=False), axis=0)
        # Accumulated in float64 whatever the input dtype, stored in the input dtype.
        self.reference_ = ref.astype(x.dtype)

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


class RnvParams(BaseParams):
    """Parameters of :class:`RobustNormalVariate` (none)."""


class RobustNormalVariate(SpectralOperator):
    """Robust normal variate: each spectrum minus its median, divided by ``1.4826 * MAD``.

    ``MAD`` is the median absolute deviation from the median; the factor
    ``1 / Phi^-1(3/4) = 1.482602218505602`` makes it estimate the standard deviation of normal
    data, so RNV approximates SNV on Gaussian noise but ignores a few extreme points (spikes).

    This is not chemotools' ``RobustNormalVariate``, which implements Guo, Wu & Massart (1999):
    ``(x - P) / std(x[x <= P])`` with ``P`` the 25th percentile of each spectrum. The two give
    different values; the median/MAD form is the one specified for nirsframe.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 2.0, 3.0, 4.0, 100.0]])
    >>> RobustNormalVariate().fit_transform(X).round(4).tolist()
    [[-1.349, -0.6745, 0.0, 0.6745, 65.4255]]
    """

    name: ClassVar[str] = "rnv"
    params_model: ClassVar[type[BaseParams]] = RnvParams

    def _apply_params_into(self, x: FloatMatrix, params: BaseParams, out: FloatMatrix) -> None:
        nirskern.rnv(x, out=out)


class LocalSnvParams(BaseParams):
    """Parameters of :class:`LocalStandardNormalVariate`."""

    window_length: int = Field(default=31, ge=3, description="odd number of points per window")
    ddof: int = Field(default=0, ge=0, description="delta degrees of freedom of the std")


class LocalStandardNormalVariate(SpectralOperator):
    """SNV in a moving window of ``window_length`` points (local centring and scaling).

    Every point is centred by the mean and divided by the standard deviation of the
    ``window_length`` points around it. At the edges the window is shifted inward (not truncated),
    so all points use exactly ``window_length`` points: the first ``window_length // 2`` points
    share the window ``x[:window_length]``, the last ones ``x[-window_length:]``.

    Parameters
    ----------
    window_length
        Odd number of points of each window, at least 3 and at most the number of points.
    ddof
        Delta degrees of freedom of the standard deviation (0: population std).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 2.0, 4.0, 8.0]])
    >>> LocalStandardNormalVariate(window_length=3).fit_transform(X).round(4).tolist()
    [[-1.069, -0.2673, -0.2673, 1.3363]]
    """

    name: ClassVar[str] = "local_snv"
    params_model: ClassVar[type[BaseParams]] = LocalSnvParams
    example: ClassVar[dict[str, Any]] = {"window_length": 11}

    def __init__(self, *, window_length: int = 31, ddof: int = 0) -> None:
        self.window_length = window_length
        self.ddof = ddof

    def _apply_params(self, x: FloatMatrix, params: BaseParams) -> FloatMatrix:
        assert isinstance(params, LocalSnvParams)
        try:
            return nirskern.local_snv(x, window_length=params.window_length, ddof=params.ddof)
        except ValueError as exc:
            raise InvalidParameterError(str(exc)) from exc


class EmscParams(BaseParams):
    """Parameters of :class:`ExtendedMultiplicativeScatterCorrection`."""

    order: int = Field(default=2, ge=0, description="degree of the polynomial baseline")
    reference: Literal["mean", "median"] = "mean"
    interferents: tuple[tuple[float, ...], ...] | None = Field(
        default=None, description="spectra (k, n_points) of known interferents to remove"
    )
    x_axis: tuple[float, ...] | None = Field(
        default=None, description="wavelengths of the points (the point index when None)"
    )


class ExtendedMultiplicativeScatterCorrection(SpectralOperator):
    """Extended multiplicative scatter correction (EMSC) against the mean training spectrum.

    Each spectrum is regressed on a polynomial of degree ``order`` of the spectral axis, the
    reference spectrum and optional interferent spectra; the polynomial and interferent parts
    are subtracted and the result divided by the reference coefficient. The model and the
    correction are those of chemotools' ``ExtendedMultiplicativeScatterCorrection`` (equal to
    ~1e-12 in the tests); the least squares use a thin QR of the design instead of ``lstsq``.

    Parameters
    ----------
    order
        Degree of the polynomial baseline (0: offset, 1: offset and slope, 2: curvature...).
    reference
        ``"mean"`` or ``"median"`` of the training spectra (rows with NaN ignored).
    interferents
        Optional spectra of shape ``(k, n_features)`` of known interferents (water, CO2...).
    x_axis
        Optional wavelengths of the points: the polynomial is in the (rescaled) axis, which only
        matters for unevenly spaced axes. The point index is used when None.

    Attributes
    ----------
    reference_ : ndarray of shape (n_features,)
        The learned reference spectrum.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 2.0, 4.0, 3.0, 5.0], [3.0, 5.0, 9.0, 7.0, 11.0]])
    >>> op = ExtendedMultiplicativeScatterCorrection(order=1).fit(X)
    >>> op.transform(X).round(6).tolist()[0] == op.reference_.round(6).tolist()
    True
    """

    name: ClassVar[str] = "emsc"
    params_model: ClassVar[type[BaseParams]] = EmscParams
    kind: ClassVar[OperatorKind] = "fitted"
    fitted_attributes: ClassVar[tuple[str, ...]] = ("reference_",)

    def __init__(
        self,
        *,
        order: int = 2,
        reference: str = "mean",
        interferents: npt.ArrayLike | None = None,
        x_axis: npt.ArrayLike | None = None,
    ) -> None:
        self.order = order
        self.reference = reference
        self.interferents = interferents
        self.x_axis = x_axis

    def _fit(self, x: FloatMatrix, y: FloatMatrix | None, params: BaseParams) -> None:
        assert isinstance(params, EmscParams)
        rows = x[~np.isnan(x).any(axis=1)]
        if rows.shape[0] == 0:
            msg = "emsc needs at least one spectrum without NaN to learn its reference"
            raise InvalidParameterError(msg)
        stat = np.mean if params.reference == "mean" else np.median
        reference = stat(rows.astype(np.float64), axis=0)
        # Check the model now (shapes, rank) so that transform cannot fail on it later.
        try:
            nirskern.emsc(reference, reference, **self._model(params))
        except ValueError as exc:
            raise InvalidParameterError(str(exc)) from exc
        self.reference_ = reference.astype(x.dtype)

    @staticmethod
    def _model(params: EmscParams) -> dict[str, Any]:
        return {
            "order": params.order,
            "interferents": None if params.interferents is None else np.array(params.interferents),
            "x_axis": None if params.x_axis is None else np.array(params.x_axis),
        }

    def _apply(self, x: FloatMatrix) -> FloatMatrix:
        params = self.params()
        assert isinstance(params, EmscParams)
        # The reference is kept in float64 for the fit of float32 spectra too.
        return nirskern.emsc(x, self.reference_.astype(np.float64), **self._model(params))


def rnv(expr: IntoSpectra = "spectra") -> pl.Expr:
    """Robust normal variate of each spectrum: ``(x - median) / (1.4826 * MAD)``.

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> df = pl.DataFrame({"spectra": np.array([[1.0, 2.0, 3.0, 4.0, 100.0]])})
    >>> df.select(rnv()).item().round(4).to_list()
    [-1.349, -0.6745, 0.0, 0.6745, 65.4255]
    """
    return RobustNormalVariate().to_expr(expr)


def local_snv(expr: IntoSpectra = "spectra", *, window_length: int = 31, ddof: int = 0) -> pl.Expr:
    """SNV of each point within a moving window of ``window_length`` points.

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> df = pl.DataFrame({"spectra": np.array([[1.0, 2.0, 4.0, 8.0]])})
    >>> df.select(local_snv(window_length=3)).item().round(4).to_list()
    [-1.069, -0.2673, -0.2673, 1.3363]
    """
    return LocalStandardNormalVariate(window_length=window_length, ddof=ddof).to_expr(expr)


def emsc(
    expr: IntoSpectra = "spectra",
    *,
    reference: npt.ArrayLike,
    order: int = 2,
    interferents: npt.ArrayLike | None = None,
    x_axis: npt.ArrayLike | None = None,
) -> pl.Expr:
    """Extended multiplicative scatter correction against a given ``reference`` spectrum.

    To learn the reference from training spectra, fit
    :class:`~nirsframe.operators.ExtendedMultiplicativeScatterCorrection` and call ``to_expr``.

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> df = pl.DataFrame({"spectra": np.array([[3.0, 5.0, 9.0, 7.0]])})
    >>> df.select(emsc(reference=[1.0, 2.0, 4.0, 3.0], order=0)).item().round(12).to_list()
    [1.0, 2.0, 4.0, 3.0]
    """
    ref = np.asarray(reference, dtype=np.float64)
    itf = None if interferents is None else np.asarray(interferents, dtype=np.float64)
    axis = None if x_axis is None else np.asarray(x_axis, dtype=np.float64)
    try:  # validate now, not at collect time
        nirskern.emsc(ref, ref, order=order, interferents=itf, x_axis=axis)
    except (ValueError, TypeError) as exc:
        raise InvalidParameterError(str(exc)) from exc
    return map_spectra(
        as_expr(expr),
        lambda x: nirskern.emsc(x, ref, order=order, interferents=itf, x_axis=axis),
    )


register_operator(RobustNormalVariate, rnv)
register_operator(LocalStandardNormalVariate, local_snv)
register_operator(ExtendedMultiplicativeScatterCorrection, emsc)
