"""PLS regression estimator (scikit-learn API) holding every component count from one fit.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(30, 3)); y = X[:, 0] - 2 * X[:, 2]
>>> model = PLS(n_components=3).fit(X, y)
>>> model.coef_.shape  # (n_components, n_features, n_targets)
(3, 3, 1)
>>> bool(np.allclose(model.predict(X), y)), model.predict(X, n_components=1).shape
(True, (30,))
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import numpy.typing as npt
from nirskern.pls import pls_fit
from pydantic import Field
from sklearn.base import BaseEstimator, RegressorMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from nirsframe.exceptions import InvalidParameterError
from nirsframe.operators._base import Params, validate_params

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["PLS", "PlsParams"]

Float64Array = npt.NDArray[np.float64]


class PlsParams(Params):
    """Parameters of :class:`PLS`."""

    n_components: int = Field(10, ge=1)
    scale: bool = False


class PLS(TransformerMixin, RegressorMixin, BaseEstimator):  # type: ignore[misc]
    """Partial least squares regression on mean-centred data (R ``pls`` / kernel PLS).

    One fit computes the models of every component count ``1..n_components``;
    ``predict(X, n_components=a)`` uses any of them without refitting. Unlike scikit-learn's
    ``PLSRegression`` the default is ``scale=False`` (the chemometrics convention: spectra are
    only mean-centred). Models are computed in float64 for float32 and float64 input.

    Parameters
    ----------
    n_components
        Largest number of latent variables (at most ``min(n_samples - 1, n_features)``).
    scale
        Divide ``X`` and ``Y`` columns by their standard deviation (``ddof=1``) before fitting,
        as scikit-learn's ``PLSRegression(scale=True)``; coefficients are in original units.

    Attributes
    ----------
    coef_ : ndarray of shape (n_components, n_features, n_targets)
        ``coef_[a - 1]`` holds the coefficients of the ``a``-component model, original units.
    intercept_ : ndarray of shape (n_components, n_targets)
        Intercepts: ``y = X @ coef_[a - 1] + intercept_[a - 1]``.
    x_mean_, y_mean_, x_scale_, y_scale_ : ndarray
        Centring and scaling (scales are ones when ``scale=False``).
    x_weights_, x_loadings_, x_rotations_ : ndarray of shape (n_features, n_components)
        ``W``, ``P`` and ``R = W (PᵀW)⁻¹`` in the (scaled) fitting space.
    y_loadings_ : ndarray of shape (n_targets, n_components)
        ``Q``.

    References
    ----------
    Dayal & MacGregor (1997), J. Chemometrics 11(1), 73-85.
    Mevik & Wehrens (2007), J. Stat. Softw. 18(2) (the R ``pls`` package).
    """

    name: ClassVar[str] = "pls"
    params_model: ClassVar[type[Params]] = PlsParams
    fitted_attributes: ClassVar[tuple[str, ...]] = (
        "coef_",
        "intercept_",
        "x_mean_",
        "y_mean_",
        "x_scale_",
        "y_scale_",
        "x_weights_",
        "x_loadings_",
        "x_rotations_",
        "y_loadings_",
    )

    def __init__(self, n_components: int = 10, *, scale: bool = False) -> None:
        self.n_components = n_components
        self.scale = scale

    def params(self) -> PlsParams:
        """The validated hyper-parameters (raises :class:`InvalidParameterError`)."""
        return validate_params(PlsParams, self.get_params(deep=False), self.name)

    # -- fitting --------------------------------------------------------------------------------
    def fit(self, X: npt.ArrayLike, y: npt.ArrayLike) -> PLS:
        """Fit the models with ``1..n_components`` components; ``y`` is (N,) or (N, T)."""
        params = self.params()
        x, yy = validate_data(
            self, X, y, dtype=[np.float64, np.float32], multi_output=True, y_numeric=True
        )
        x = np.asarray(x)
        y2 = np.asarray(yy, dtype=np.float64)
        self._y_1d_ = y2.ndim == 1
        if y2.ndim == 1:
            y2 = y2[:, np.newaxis]
        n, p = x.shape
        a_max = params.n_components
        if a_max > min(n - 1, p):
            msg = (
                "the 'n_components' parameter of pls must be <= min(n_samples - 1, n_features)"
                f"; got n_components={a_max}, n_samples={n}, n_features={p}"
            )
            raise InvalidParameterError(msg)
        if params.scale:
            # Zero-variance columns keep scale 1 (as scikit-learn): they carry no information.
            x_scale = x.std(axis=0, ddof=1, dtype=np.float64)
            x_scale[x_scale == 0.0] = 1.0
            y_scale = y2.std(axis=0, ddof=1)
            y_scale[y_scale == 0.0] = 1.0
            model = pls_fit(x / x_scale, y2 / y_scale, a_max)
        else:
            x_scale, y_scale = np.ones(p), np.ones(y2.shape[1])
            model = pls_fit(x, y2, a_max)
        coef = model.coef * (
            y_scale[np.newaxis, np.newaxis, :] / x_scale[np.newaxis, :, np.newaxis]
        )
        x_mean = model.x_mean * x_scale
        y_mean = model.y_mean * y_scale
        self.coef_ = coef
        self.intercept_ = y_mean - np.einsum("p,apt->at", x_mean, coef)
        self.x_mean_, self.y_mean_ = x_mean, y_mean
        self.x_scale_, self.y_scale_ = x_scale, y_scale
        self.x_weights_, self.x_loadings_ = model.x_weights, model.x_loadings
        self.x_rotations_, self.y_loadings_ = model.x_rotations, model.y_loadings
        return self

    # -- prediction -----------------------------------------------------------------------------
    def _components(self, n_components: int | None) -> int:
        check_is_fitted(self, "coef_")
        a_max = int(self.coef_.shape[0])
        a = a_max if n_components is None else n_components
        if isinstance(a, bool) or not isinstance(a, int | np.integer) or not 1 <= a <= a_max:
            msg = f"'n_components' must be an integer in [1, {a_max}]; got {n_components!r}"
            raise InvalidParameterError(msg)
        return int(a)

    def _input(self, X: npt.ArrayLike) -> Float64Array:
        check_is_fitted(self, "coef_")
        x = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        return np.asarray(x, dtype=np.float64)

    def predict(self, X: npt.ArrayLike, n_components: int | None = None) -> Float64Array:
        """Predict with ``n_components`` components (default: all): (N,) or (N, T)."""
        a = self._components(n_components)
        x = self._input(X)
        pred: Float64Array = x @ self.coef_[a - 1] + self.intercept_[a - 1]
        return pred[:, 0] if self._y_1d_ else pred

    def predict_all(self, X: npt.ArrayLike) -> Float64Array:
        """Predictions of every component count at once: (n_components, N, T)."""
        x = self._input(X)
        a_max, p, t = self.coef_.shape
        flat = x @ self.coef_.transpose(1, 0, 2).reshape(p, a_max * t)
        out: Float64Array = flat.reshape(x.shape[0], a_max, t).transpose(1, 0, 2)
        out = out + np.asarray(self.intercept_)[:, np.newaxis, :]
        return out

    def transform(self, X: npt.ArrayLike, n_components: int | None = None) -> Float64Array:
        """X scores ``((X - x_mean) / x_scale) @ R``: (N, n_components)."""
        a = self._components(n_components)
        x = self._input(X)
        scores: Float64Array = ((x - self.x_mean_) / self.x_scale_) @ self.x_rotations_[:, :a]
        return scores

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags

    # -- fitted state ---------------------------------------------------------------------------
    def fitted_arrays(self) -> dict[str, npt.NDArray[Any]]:
        """Learned arrays by attribute name, for storage without pickle.

        >>> m = PLS(n_components=1).fit([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]], [1.0, 2.0, 4.0])
        >>> sorted(m.fitted_arrays())[:3]
        ['coef_', 'intercept_', 'n_features_in_']
        """
        check_is_fitted(self, "coef_")
        arrays = {name: np.asarray(getattr(self, name)) for name in self.fitted_attributes}
        arrays["n_features_in_"] = np.asarray(self.n_features_in_)
        arrays["y_1d_"] = np.asarray(self._y_1d_)
        return arrays

    @classmethod
    def from_fitted(cls, params: Mapping[str, Any], arrays: Mapping[str, npt.NDArray[Any]]) -> PLS:
        """Rebuild a fitted model from its parameters and :meth:`fitted_arrays`.

        >>> m = PLS(n_components=1).fit([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]], [1.0, 2.0, 4.0])
        >>> r = PLS.from_fitted(m.get_params(), m.fitted_arrays())
        >>> bool(np.array_equal(r.predict([[1.0, 1.0]]), m.predict([[1.0, 1.0]])))
        True
        """
        model = cls(**params)
        checked = model.params()
        for name in (*cls.fitted_attributes, "n_features_in_", "y_1d_"):
            if name not in arrays:
                msg = f"fitted state of pls lacks array {name!r}"
                raise InvalidParameterError(msg)
        for name in cls.fitted_attributes:
            setattr(model, name, np.asarray(arrays[name], dtype=np.float64))
        if model.coef_.ndim != 3 or model.coef_.shape[0] != checked.n_components:
            msg = (
                f"fitted state of pls has coef_ of shape {model.coef_.shape}; expected "
                f"({checked.n_components}, n_features, n_targets)"
            )
            raise InvalidParameterError(msg)
        model.n_features_in_ = int(arrays["n_features_in_"])
        model._y_1d_ = bool(arrays["y_1d_"])
        return model
