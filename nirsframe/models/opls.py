"""Orthogonal projections to latent structures (OPLS) for one response (Trygg & Wold 2002).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(30, 6)); y = X[:, 0] + 0.5 * X[:, 1] + 0.01 * rng.normal(size=30)
>>> model = OPLS(n_orthogonal=2).fit(X, y)
>>> t_o = model.orthogonal_scores(X)
>>> bool(np.all(np.abs(t_o.T @ (y - y.mean())) < 1e-10))
True
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

__all__ = ["OPLS", "OplsParams"]

Float64Array = npt.NDArray[np.float64]

#: An orthogonal weight vector shorter than this fraction of ``‖p‖`` means no y-orthogonal
#: variation is left (the loading is already parallel to the predictive weight).
_EXHAUSTED = 1e-10


class OplsParams(Params):
    """Parameters of :class:`OPLS`."""

    n_orthogonal: int = Field(1, ge=0, description="y-orthogonal components removed")
    n_components: int = Field(1, ge=1, description="predictive components")


class OPLS(TransformerMixin, RegressorMixin, BaseEstimator):  # type: ignore[misc]
    """OPLS regression of one response: y-orthogonal variation removed, then PLS.

    On the mean-centred training spectra ``X`` and response ``y``, the predictive weight is
    ``w = Xᵀy / ‖Xᵀy‖``. Each orthogonal component takes the loading ``p = Xᵀt / tᵀt`` of
    ``t = X w``, keeps its part orthogonal to ``w`` (``w_o = p - (wᵀp) w``, normalised), and
    removes ``t_o pₒᵀ`` with ``t_o = X w_o`` and ``p_o = Xᵀt_o / t_oᵀt_o`` from ``X``. Because
    ``t_oᵀy = w_oᵀXᵀy ∝ w_oᵀw = 0`` the orthogonal scores are uncorrelated with ``y`` and ``Xᵀy``
    is unchanged. The filtered spectra are then modelled by PLS with ``n_components``
    predictive components (the first one has weight ``w``). New spectra are centred, deflated by
    the same ``(w_o, p_o)`` in turn and predicted.

    With one predictive component its predictions equal those of PLS with
    ``1 + n_orthogonal`` components (Trygg & Wold 2002; Verron et al. 2004): OPLS rotates the
    PLS model to separate y-orthogonal variation, for interpretation, without changing it.

    Parameters
    ----------
    n_orthogonal
        Number of y-orthogonal components removed (0 gives plain PLS).
    n_components
        Number of predictive components (one suffices for one response).

    Attributes
    ----------
    x_mean_ : ndarray of shape (n_features,)
    y_mean_ : float array of shape ()
    orthogonal_weights_, orthogonal_loadings_ : ndarray of shape (n_orthogonal, n_features)
        ``w_o`` and ``p_o`` of each orthogonal component, in removal order.
    x_rotations_ : ndarray of shape (n_features, n_components)
        Predictive rotations ``R``: scores of filtered, centred spectra are ``X_f R``.
    y_loadings_ : ndarray of shape (n_components,)
        Predictive ``q``: ``y = y_mean + X_f R q``.
    coef_ : ndarray of shape (n_features,)
        The equivalent linear model: ``y = (x - x_mean) @ coef_ + y_mean``.

    References
    ----------
    Trygg, J. & Wold, S. (2002). Orthogonal projections to latent structures (O-PLS).
    J. Chemometrics 16, 119-128.
    Verron, T., Sabatier, R. & Joffre, R. (2004). Some theoretical properties of the O-PLS method.
    J. Chemometrics 18, 62-68.
    """

    name: ClassVar[str] = "opls"
    params_model: ClassVar[type[Params]] = OplsParams
    fitted_attributes: ClassVar[tuple[str, ...]] = (
        "x_mean_",
        "y_mean_",
        "orthogonal_weights_",
        "orthogonal_loadings_",
        "x_rotations_",
        "y_loadings_",
        "coef_",
    )

    def __init__(self, n_orthogonal: int = 1, *, n_components: int = 1) -> None:
        self.n_orthogonal = n_orthogonal
        self.n_components = n_components

    def params(self) -> OplsParams:
        """The validated hyper-parameters (raises :class:`InvalidParameterError`)."""
        return validate_params(OplsParams, self.get_params(deep=False), self.name)

    # -- fitting --------------------------------------------------------------------------------
    def fit(self, X: npt.ArrayLike, y: npt.ArrayLike) -> OPLS:
        """Fit on spectra ``X`` (N, P) and one response ``y`` (N,)."""
        params = self.params()
        x, yy = validate_data(self, X, y, dtype=[np.float64, np.float32], y_numeric=True)
        xc = np.array(x, dtype=np.float64)  # a float64 copy, deflated in place
        yv = np.asarray(yy, dtype=np.float64)
        n, p = xc.shape
        k, a = params.n_orthogonal, params.n_components
        if k + a > min(n - 1, p):
            msg = (
                "'n_orthogonal' + 'n_components' of opls must be <= min(n_samples - 1, "
                f"n_features); got n_orthogonal={k}, n_components={a}, n_samples={n}, "
                f"n_features={p}"
            )
            raise InvalidParameterError(msg)
        x_mean = xc.mean(axis=0)
        y_mean = float(yv.mean())
        xc -= x_mean
        yc = yv - y_mean
        xty = xc.T @ yc
        norm = float(np.linalg.norm(xty))
        if norm == 0.0:
            msg = "opls found no covariance between X and y (Xᵀy = 0): y is constant or unrelated"
            raise InvalidParameterError(msg)
        w = xty / norm
        w_orth = np.empty((k, p))
        p_orth = np.empty((k, p))
        for c in range(k):
            t = xc @ w
            load = xc.T @ t / (t @ t)
            wo = load - (w @ load) * w
            size = float(np.linalg.norm(wo))
            if not size > _EXHAUSTED * float(np.linalg.norm(load)):
                msg = (
                    f"opls found no y-orthogonal variation left for orthogonal component {c + 1};"
                    f" reduce n_orthogonal (got n_orthogonal={k})"
                )
                raise InvalidParameterError(msg)
            wo /= size
            to = xc @ wo
            po = xc.T @ to / (to @ to)
            xc -= np.outer(to, po)
            w_orth[c], p_orth[c] = wo, po
        # Predictive part: PLS on the filtered (already centred) spectra; its first weight is w.
        model = pls_fit(xc, yc, a)
        self.x_mean_ = x_mean
        self.y_mean_ = np.asarray(y_mean)
        self.orthogonal_weights_ = w_orth
        self.orthogonal_loadings_ = p_orth
        self.x_rotations_ = model.x_rotations
        self.y_loadings_ = model.y_loadings[0]
        self.coef_ = self._effective_coef(p)
        return self

    def _effective_coef(self, p: int) -> Float64Array:
        # Filtering is linear, so the whole model is one coefficient vector: filter the identity.
        filtered = self._filter(np.eye(p))
        coef: Float64Array = filtered @ (self.x_rotations_ @ self.y_loadings_)
        return coef

    # -- prediction -----------------------------------------------------------------------------
    def _filter(self, xc: Float64Array) -> Float64Array:
        """Remove the orthogonal components from centred spectra, in fitting order."""
        out = np.array(xc, dtype=np.float64)
        for wo, po in zip(self.orthogonal_weights_, self.orthogonal_loadings_, strict=True):
            out -= np.outer(out @ wo, po)
        return out

    def _centred(self, X: npt.ArrayLike) -> Float64Array:
        check_is_fitted(self, "coef_")
        x = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        out: Float64Array = np.asarray(x, dtype=np.float64) - self.x_mean_
        return out

    def predict(self, X: npt.ArrayLike) -> Float64Array:
        """Predicted response (N,)."""
        xc = self._centred(X)
        pred: Float64Array = xc @ self.coef_ + float(self.y_mean_)
        return pred

    def orthogonal_scores(self, X: npt.ArrayLike) -> Float64Array:
        """Scores ``t_o`` of the y-orthogonal components, (N, n_orthogonal)."""
        xc = self._centred(X)
        k = self.orthogonal_weights_.shape[0]
        scores = np.empty((xc.shape[0], k))
        for c in range(k):
            scores[:, c] = xc @ self.orthogonal_weights_[c]
            xc -= np.outer(scores[:, c], self.orthogonal_loadings_[c])
        return scores

    def transform(self, X: npt.ArrayLike) -> Float64Array:
        """Predictive scores of the filtered spectra, (N, n_components)."""
        scores: Float64Array = self._filter(self._centred(X)) @ self.x_rotations_
        return scores

    def remove_orthogonal(self, X: npt.ArrayLike) -> Float64Array:
        """Spectra with the y-orthogonal variation removed, in original units (N, P)."""
        out: Float64Array = self._filter(self._centred(X)) + self.x_mean_
        return out

    # -- fitted state ---------------------------------------------------------------------------
    def fitted_arrays(self) -> dict[str, npt.NDArray[Any]]:
        """Learned arrays by attribute name, for storage without pickle.

        >>> m = OPLS(0).fit([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]], [1.0, 2.0, 4.0])
        >>> sorted(m.fitted_arrays())[:2]
        ['coef_', 'n_features_in_']
        """
        check_is_fitted(self, "coef_")
        arrays = {name: np.asarray(getattr(self, name)) for name in self.fitted_attributes}
        arrays["n_features_in_"] = np.asarray(self.n_features_in_)
        return arrays

    @classmethod
    def from_fitted(cls, params: Mapping[str, Any], arrays: Mapping[str, npt.NDArray[Any]]) -> OPLS:
        """Rebuild a fitted model from its parameters and :meth:`fitted_arrays`.

        >>> m = OPLS(0).fit([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]], [1.0, 2.0, 4.0])
        >>> r = OPLS.from_fitted(m.get_params(), m.fitted_arrays())
        >>> bool(np.array_equal(r.predict([[1.0, 1.0]]), m.predict([[1.0, 1.0]])))
        True
        """
        model = cls(**params)
        checked = model.params()
        for name in (*cls.fitted_attributes, "n_features_in_"):
            if name not in arrays:
                msg = f"fitted state of opls lacks array {name!r}"
                raise InvalidParameterError(msg)
        for name in cls.fitted_attributes:
            setattr(model, name, np.asarray(arrays[name], dtype=np.float64))
        p = int(arrays["n_features_in_"])
        expected = {
            "orthogonal_weights_": (checked.n_orthogonal, p),
            "orthogonal_loadings_": (checked.n_orthogonal, p),
            "x_rotations_": (p, checked.n_components),
            "coef_": (p,),
        }
        for name, shape in expected.items():
            if getattr(model, name).shape != shape:
                msg = (
                    f"fitted state of opls has {name} of shape {getattr(model, name).shape}; "
                    f"expected {shape}"
                )
                raise InvalidParameterError(msg)
        model.n_features_in_ = p
        return model
