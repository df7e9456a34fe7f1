"""Normalisation of each spectrum and fitted centring/scaling of each wavelength.

:class:`Normalize` is stateless (row-wise). :class:`MeanCenter`, :class:`Autoscale` and
:class:`ParetoScaling` learn a mean and a scale per wavelength (column-wise) and can be inverted.

References
----------
van den Berg, Hoefsloot, Westerhuis, Smilde & van der Werf (2006), BMC Genomics 7, 142
(autoscaling and Pareto scaling).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

import nirskern
import numpy as np
from pydantic import Field
from sklearn.utils.validation import check_is_fitted

from nirsframe._bridge import FloatMatrix, map_spectra
from nirsframe.exceptions import InvalidParameterError
from nirsframe.operators._base import (
    IntoSpectra,
    KernelCheckedOperator,
    OperatorKind,
    SpectralOperator,
    as_expr,
)
from nirsframe.operators._base import (
    Params as BaseParams,
)
from nirsframe.operators.registry import register_operator

if TYPE_CHECKING:
    import numpy.typing as npt
    import polars as pl


class NormalizeParams(BaseParams):
    """Parameters of :class:`Normalize`."""

    norm: Literal["area", "l1", "l2", "max", "minmax"] = "l2"


class Normalize(KernelCheckedOperator):
    """Divide each spectrum by one of its norms.

    Parameters
    ----------
    norm
        ``"area"``: trapezoidal area with unit spacing (``np.trapezoid``, signed);
        ``"l1"``: sum of absolute values; ``"l2"``: Euclidean norm; ``"max"``: largest absolute
        value (as ``sklearn.preprocessing.normalize(norm="max")``); ``"minmax"``:
        ``(x - min) / (max - min)``, each spectrum spans [0, 1]. A zero norm gives a NaN row.

    Examples
    --------
    >>> import numpy as np
    >>> Normalize(norm="l1").fit_transform(np.array([[1.0, -3.0]])).tolist()
    [[0.25, -0.75]]
    """

    name: ClassVar[str] = "normalize"
    params_model: ClassVar[type[BaseParams]] = NormalizeParams

    def __init__(self, *, norm: str = "l2") -> None:
        self.norm = norm

    def _apply_params(self, x: FloatMatrix, params: BaseParams) -> FloatMatrix:
        assert isinstance(params, NormalizeParams)
        return nirskern.normalize(x, params.norm)

    def _apply_kernel(
        self, x: FloatMatrix, params: BaseParams, out: FloatMatrix, *, reject_inf: bool
    ) -> None:
        assert isinstance(params, NormalizeParams)
        # A row holding inf has a non-finite norm: the kernel looks for inf only then.
        nirskern.normalize(x, params.norm, out=out, reject_inf=reject_inf)


class _ColumnScaler(SpectralOperator):
    """Shared fit/transform/inverse of the column-wise scalers: ``(x - mean_) / scale_``."""

    kind: ClassVar[OperatorKind] = "fitted"
    # The statistics kernel and center_scale find inf in their own passes over X (the row sums
    # they compute anyway): fit_transform reads X twice (mean, then the result) for mean
    # centring, three times with a std, instead of once more for sklearn's finiteness check.
    fit_rejects_inf: ClassVar[bool] = True
    apply_rejects_inf: ClassVar[bool] = True
    #: Whether the fit needs the standard deviation (its second pass over X).
    needs_std: ClassVar[bool] = True

    def _fit(self, x: FloatMatrix, y: FloatMatrix | None, params: BaseParams) -> None:
        ddof = int(getattr(params, "ddof", 0))
        try:
            mean, std = nirskern.column_stats(
                x, ddof=ddof, with_std=self.needs_std, reject_inf=True
            )
        except ValueError as exc:
            if str(exc).startswith("Input X contains infinity"):
                raise
            msg = f"{self.name}: {exc}"
            raise InvalidParameterError(msg) from exc
        self.mean_ = mean
        self._set_scale(mean, std)

    def _set_scale(self, mean: FloatMatrix, std: FloatMatrix) -> None:
        raise NotImplementedError

    @staticmethod
    def _safe(std: FloatMatrix, mean: FloatMatrix) -> FloatMatrix:
        # A constant wavelength has std 0 (or ~1e-16 relative to its mean after rounding): it is
        # left unscaled (divisor 1), as sklearn's StandardScaler does, instead of blowing up.
        constant = std <= 10.0 * np.finfo(np.float64).eps * np.abs(mean)
        return np.where(constant, 1.0, std)

    def _scale(self) -> FloatMatrix:
        return np.ones_like(self.mean_)

    def _apply(self, x: FloatMatrix) -> FloatMatrix:
        return nirskern.center_scale(x, self.mean_, self._scale())

    def _apply_params_into(self, x: FloatMatrix, params: BaseParams, out: FloatMatrix) -> None:
        nirskern.center_scale(x, self.mean_, self._scale(), out=out, reject_inf=True)

    def inverse_transform(self, X: npt.ArrayLike) -> FloatMatrix:
        """Undo :meth:`transform`: ``X * scale_ + mean_`` (same dtype as ``X``)."""
        check_is_fitted(self, "is_fitted_")
        x = self._validate(X, reset=False)
        return nirskern.inverse_center_scale(x, self.mean_, self._scale())


class MeanCenterParams(BaseParams):
    """Parameters of :class:`MeanCenter` (none)."""


class MeanCenter(_ColumnScaler):
    """Subtract the mean training spectrum from each spectrum (column-wise centring).

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,)
        Mean of each wavelength over the training spectra without NaN (float64).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 4.0], [3.0, 8.0]])
    >>> MeanCenter().fit_transform(X).tolist()
    [[-1.0, -2.0], [1.0, 2.0]]
    """

    name: ClassVar[str] = "mean_center"
    params_model: ClassVar[type[BaseParams]] = MeanCenterParams
    fitted_attributes: ClassVar[tuple[str, ...]] = ("mean_",)
    needs_std: ClassVar[bool] = False

    def _set_scale(self, mean: FloatMatrix, std: FloatMatrix) -> None:
        pass


class AutoscaleParams(BaseParams):
    """Parameters of :class:`Autoscale` and :class:`ParetoScaling`."""

    ddof: int = Field(default=0, ge=0, description="delta degrees of freedom of the std")


class Autoscale(_ColumnScaler):
    """Centre each wavelength and divide it by its standard deviation (unit variance scaling).

    Parameters
    ----------
    ddof
        Delta degrees of freedom of the standard deviation: 0 (population std, the default, as
        ``sklearn.preprocessing.StandardScaler``) or 1 (sample std, as MATLAB's ``zscore``).

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,)
        Mean of each wavelength (float64).
    std_ : ndarray of shape (n_features,)
        Standard deviation of each wavelength (float64).
    scale_ : ndarray of shape (n_features,)
        The divisor: ``std_``, with 1 for constant wavelengths.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 4.0], [3.0, 8.0]])
    >>> Autoscale().fit_transform(X).tolist()
    [[-1.0, -1.0], [1.0, 1.0]]
    """

    name: ClassVar[str] = "autoscale"
    params_model: ClassVar[type[BaseParams]] = AutoscaleParams
    fitted_attributes: ClassVar[tuple[str, ...]] = ("mean_", "std_", "scale_")

    def __init__(self, *, ddof: int = 0) -> None:
        self.ddof = ddof

    def _set_scale(self, mean: FloatMatrix, std: FloatMatrix) -> None:
        self.std_ = std
        self.scale_ = self._safe(std, mean)

    def _scale(self) -> FloatMatrix:
        return np.asarray(self.scale_)


class ParetoScaling(Autoscale):
    """Centre each wavelength and divide it by the square root of its standard deviation.

    A compromise between centring and autoscaling: large variations keep more weight than
    under autoscaling, while small (noisy) ones are not inflated as much.

    Parameters
    ----------
    ddof
        Delta degrees of freedom of the standard deviation (0, as chemotools' ``ParetoScaler``).

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,)
        Mean of each wavelength (float64).
    std_ : ndarray of shape (n_features,)
        Standard deviation of each wavelength (float64).
    scale_ : ndarray of shape (n_features,)
        The divisor: ``sqrt(std_)``, with 1 for constant wavelengths.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 0.0], [9.0, 8.0]])
    >>> ParetoScaling().fit_transform(X).tolist()
    [[-2.0, -2.0], [2.0, 2.0]]
    """

    name: ClassVar[str] = "pareto"

    def _set_scale(self, mean: FloatMatrix, std: FloatMatrix) -> None:
        self.std_ = std
        self.scale_ = np.sqrt(self._safe(std, mean))


def _column_vector(value: npt.ArrayLike, name: str) -> npt.NDArray[np.float64]:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim != 1 or not np.all(np.isfinite(arr)):
        msg = f"'{name}' must be a finite 1-D array (one value per point); got shape {arr.shape}"
        raise InvalidParameterError(msg)
    return arr


def _center_scale_expr(
    expr: IntoSpectra, mean: npt.ArrayLike, scale: npt.ArrayLike | None, names: tuple[str, str]
) -> pl.Expr:
    m = _column_vector(mean, names[0])
    s = np.ones_like(m) if scale is None else _column_vector(scale, names[1])
    if s.shape != m.shape:
        msg = (
            f"'{names[0]}' and '{names[1]}' must have the same length; got {m.shape} and {s.shape}"
        )
        raise InvalidParameterError(msg)
    if np.any(s <= 0.0):
        msg = f"'{names[1]}' must be positive"
        raise InvalidParameterError(msg)
    return map_spectra(as_expr(expr), lambda x: nirskern.center_scale(x, m, s))


def normalize(expr: IntoSpectra = "spectra", *, norm: str = "l2") -> pl.Expr:
    """Divide each spectrum by its ``norm`` (``"area" | "l1" | "l2" | "max" | "minmax"``).

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> df = pl.DataFrame({"spectra": np.array([[1.0, 2.0, 3.0]])})
    >>> df.select(normalize(norm="max")).item().round(4).to_list()
    [0.3333, 0.6667, 1.0]
    """
    return Normalize(norm=norm).to_expr(expr)


def mean_center(expr: IntoSpectra = "spectra", *, mean: npt.ArrayLike) -> pl.Expr:
    """Subtract a given ``mean`` spectrum from each spectrum.

    To learn it from training spectra, fit :class:`~nirsframe.operators.MeanCenter` and call
    ``to_expr``.

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> df = pl.DataFrame({"spectra": np.array([[1.0, 4.0]])})
    >>> df.select(mean_center(mean=[2.0, 6.0])).item().to_list()
    [-1.0, -2.0]
    """
    return _center_scale_expr(expr, mean, None, ("mean", "mean"))


def autoscale(expr: IntoSpectra = "spectra", *, mean: npt.ArrayLike, std: npt.ArrayLike) -> pl.Expr:
    """``(x - mean) / std`` per wavelength with given ``mean`` and ``std`` spectra.

    To learn them from training spectra, fit :class:`~nirsframe.operators.Autoscale` and call
    ``to_expr``.

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> df = pl.DataFrame({"spectra": np.array([[1.0, 4.0]])})
    >>> df.select(autoscale(mean=[2.0, 6.0], std=[1.0, 2.0])).item().to_list()
    [-1.0, -1.0]
    """
    return _center_scale_expr(expr, mean, std, ("mean", "std"))


def pareto(expr: IntoSpectra = "spectra", *, mean: npt.ArrayLike, std: npt.ArrayLike) -> pl.Expr:
    """``(x - mean) / sqrt(std)`` per wavelength with given ``mean`` and ``std`` spectra.

    To learn them from training spectra, fit :class:`~nirsframe.operators.ParetoScaling` and
    call ``to_expr``.

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> df = pl.DataFrame({"spectra": np.array([[1.0, 4.0]])})
    >>> df.select(pareto(mean=[2.0, 6.0], std=[1.0, 4.0])).item().to_list()
    [-1.0, -1.0]
    """
    s = _column_vector(std, "std")
    if np.any(s <= 0.0):
        msg = "'std' must be positive"
        raise InvalidParameterError(msg)
    return _center_scale_expr(expr, mean, np.sqrt(s), ("mean", "std"))


register_operator(Normalize, normalize)
register_operator(MeanCenter, mean_center)
register_operator(Autoscale, autoscale)
register_operator(ParetoScaling, pareto)
