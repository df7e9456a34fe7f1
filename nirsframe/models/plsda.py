"""PLS discriminant analysis: PLS2 on one-hot class indicators, classes by argmax or threshold.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = np.vstack([rng.normal(0.0, 1.0, (20, 4)), rng.normal(3.0, 1.0, (20, 4))])
>>> y = np.repeat(["low", "high"], 20)
>>> model = PLSDA(n_components=2).fit(X, y)
>>> model.classes_.tolist(), float(np.mean(model.predict(X) == y))
(['high', 'low'], 1.0)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import numpy.typing as npt
from pydantic import Field
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from nirsframe.exceptions import InvalidParameterError
from nirsframe.models.pls import PLS
from nirsframe.operators._base import Params, validate_params

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["PLSDA", "PlsdaParams"]

Float64Array = npt.NDArray[np.float64]


class PlsdaParams(Params):
    """Parameters of :class:`PLSDA`."""

    n_components: int = Field(10, ge=1)
    threshold: float | None = Field(
        None, allow_inf_nan=False, description="binary only: score cut-off for the second class"
    )
    scale: bool = False


class PLSDA(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """PLS-DA: a PLS2 regression of one-hot class indicators, classified by the largest score.

    The targets are the indicator matrix ``Y[i, k] = (y[i] == classes_[k])`` (0/1); the model is
    :class:`~nirsframe.models.PLS` (mean-centred, unscaled by default) fitted once, so every
    component count ``1..n_components`` is available via ``n_components=`` in the methods.
    A sample is assigned the class with the largest predicted indicator. With two classes a
    ``threshold`` may be given instead: the second class (``classes_[1]``) is predicted when its
    indicator exceeds ``threshold`` (``None`` is argmax, i.e. a threshold of 0.5, because the two
    predicted indicators sum to 1).

    Parameters
    ----------
    n_components
        Largest number of latent variables.
    threshold
        Binary problems only: the cut-off on the second class's predicted indicator.
    scale
        Autoscale ``X`` (and the indicators) as ``PLSRegression(scale=True)``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Sorted class labels.
    pls_ : PLS
        The fitted PLS2 model of the indicators.

    References
    ----------
    Barker & Rayens (2003), Partial least squares for discrimination, J. Chemometrics 17, 166-173.
    Ståhle & Wold (1987), Partial least squares analysis with cross-validation for the two-class
    problem: a Monte Carlo study, J. Chemometrics 1, 185-196.
    """

    name: ClassVar[str] = "plsda"
    params_model: ClassVar[type[Params]] = PlsdaParams

    def __init__(
        self, n_components: int = 10, *, threshold: float | None = None, scale: bool = False
    ) -> None:
        self.n_components = n_components
        self.threshold = threshold
        self.scale = scale

    def params(self) -> PlsdaParams:
        """The validated hyper-parameters (raises :class:`InvalidParameterError`)."""
        return validate_params(PlsdaParams, self.get_params(deep=False), self.name)

    # -- fitting --------------------------------------------------------------------------------
    def fit(self, X: npt.ArrayLike, y: npt.ArrayLike) -> PLSDA:
        """Learn ``classes_`` and fit PLS2 on the one-hot indicators of ``y``."""
        params = self.params()
        x, yy = validate_data(self, X, y, dtype=[np.float64, np.float32])
        check_classification_targets(yy)
        classes, codes = np.unique(yy, return_inverse=True)
        if classes.size < 2:
            msg = (
                f"plsda needs samples of at least 2 classes; got 1 class ({classes[0]!r}) "
                "in the training labels"
            )
            raise InvalidParameterError(msg)
        if params.threshold is not None and classes.size != 2:
            msg = (
                "the 'threshold' parameter of plsda applies to 2 classes only; "
                f"got threshold={params.threshold} with {classes.size} classes"
            )
            raise InvalidParameterError(msg)
        indicators = np.zeros((codes.shape[0], classes.size))
        indicators[np.arange(codes.shape[0]), codes] = 1.0
        self.pls_ = PLS(params.n_components, scale=params.scale).fit(x, indicators)
        self.classes_ = classes
        return self

    # -- prediction -----------------------------------------------------------------------------
    def _scores(self, X: npt.ArrayLike, n_components: int | None) -> Float64Array:
        check_is_fitted(self, "classes_")
        x = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        scores: Float64Array = self.pls_.predict(x, n_components=n_components)
        return scores

    def class_scores(self, X: npt.ArrayLike, n_components: int | None = None) -> Float64Array:
        """Predicted indicators ``(N, n_classes)`` (not bounded to [0, 1]; rows sum to 1).

        Rows sum to 1 because the training indicators do and PLS predictions are linear.
        """
        return self._scores(X, n_components)

    def decision_function(self, X: npt.ArrayLike, n_components: int | None = None) -> Float64Array:
        """Scores: ``(N, n_classes)`` indicators, or for 2 classes ``(N,)`` score minus cut-off.

        The binary value is positive exactly when ``classes_[1]`` is predicted.
        """
        check_is_fitted(self, "classes_")
        scores = self._scores(X, n_components)
        if self.classes_.size == 2:
            cut = 0.5 if self.threshold is None else float(self.threshold)
            out: Float64Array = scores[:, 1] - cut
            return out
        return scores

    def predict_proba(self, X: npt.ArrayLike, n_components: int | None = None) -> Float64Array:
        """Probability-like memberships ``(N, n_classes)``: the softmax of the indicators.

        These are not calibrated probabilities: they are positive, sum to 1 and rank the classes
        as :meth:`predict` does. For two classes they are ``sigmoid(2 * decision_function)``,
        which equals the softmax when no threshold is set and follows the threshold otherwise.
        """
        check_is_fitted(self, "classes_")
        scores = self._scores(X, n_components)
        if self.classes_.size == 2:
            cut = 0.5 if self.threshold is None else float(self.threshold)
            # softmax(s0, s1) = sigmoid(s1 - s0) = sigmoid(2 (s1 - 0.5)) since s0 + s1 = 1.
            z = 2.0 * (scores[:, 1] - cut)
            p1 = 0.5 * (1.0 + np.tanh(0.5 * z))  # overflow-free sigmoid
            return np.column_stack([1.0 - p1, p1])
        shifted = scores - scores.max(axis=1, keepdims=True)  # stable softmax
        e = np.exp(shifted)
        out: Float64Array = e / e.sum(axis=1, keepdims=True)
        return out

    def predict(self, X: npt.ArrayLike, n_components: int | None = None) -> npt.NDArray[Any]:
        """Class labels: the largest indicator, or the binary threshold rule."""
        check_is_fitted(self, "classes_")
        if self.classes_.size == 2:
            positive = self.decision_function(X, n_components) > 0
            return np.asarray(self.classes_[positive.astype(np.intp)])
        return np.asarray(self.classes_[np.argmax(self._scores(X, n_components), axis=1)])

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        return tags

    # -- fitted state ---------------------------------------------------------------------------
    def fitted_arrays(self) -> dict[str, npt.NDArray[Any]]:
        """Learned arrays for storage without pickle: the PLS state prefixed ``pls_`` + classes.

        Class labels must be numbers or strings (strings are stored as a fixed-width code array).

        >>> m = PLSDA(n_components=1).fit([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]], [0, 1, 1])
        >>> sorted(m.fitted_arrays())[:2]
        ['classes_', 'n_features_in_']
        """
        check_is_fitted(self, "classes_")
        arrays = {f"pls_{k}": v for k, v in self.pls_.fitted_arrays().items()}
        classes = np.asarray(self.classes_)
        if classes.dtype.kind in "US":
            # Strings as a (n_classes, max_len) uint32 matrix of code points (numeric: storable).
            text = classes.astype("U")
            width = max(1, text.dtype.itemsize // 4)
            codes = np.zeros((text.size, width), dtype=np.uint32)
            for i, label in enumerate(text.tolist()):
                codes[i, : len(label)] = [ord(ch) for ch in label]
            arrays["class_codes_"] = codes
        elif classes.dtype.kind in "biuf":
            arrays["classes_"] = classes
        else:
            msg = f"plsda can store numeric or string class labels; got dtype {classes.dtype}"
            raise InvalidParameterError(msg)
        arrays["n_features_in_"] = np.asarray(self.n_features_in_)
        return arrays

    @classmethod
    def from_fitted(
        cls, params: Mapping[str, Any], arrays: Mapping[str, npt.NDArray[Any]]
    ) -> PLSDA:
        """Rebuild a fitted model from its parameters and :meth:`fitted_arrays`.

        >>> m = PLSDA(n_components=1).fit([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]], ["a", "b", "b"])
        >>> PLSDA.from_fitted(m.get_params(), m.fitted_arrays()).predict([[2.0, 2.0]]).tolist()
        ['b']
        """
        model = cls(**params)
        checked = model.params()
        if "classes_" in arrays:
            classes = np.asarray(arrays["classes_"])
        elif "class_codes_" in arrays:
            codes = np.asarray(arrays["class_codes_"], dtype=np.uint32)
            classes = np.array(["".join(chr(c) for c in row if c) for row in codes.tolist()])
        else:
            msg = "fitted state of plsda lacks array 'classes_' (or 'class_codes_')"
            raise InvalidParameterError(msg)
        if "n_features_in_" not in arrays:
            msg = "fitted state of plsda lacks array 'n_features_in_'"
            raise InvalidParameterError(msg)
        pls_arrays = {k.removeprefix("pls_"): v for k, v in arrays.items() if k.startswith("pls_")}
        pls = PLS.from_fitted(
            {"n_components": checked.n_components, "scale": checked.scale}, pls_arrays
        )
        if pls.coef_.shape[2] != classes.size:
            msg = (
                f"fitted state of plsda has {classes.size} classes but coefficients for "
                f"{pls.coef_.shape[2]} indicators"
            )
            raise InvalidParameterError(msg)
        model.pls_ = pls
        model.classes_ = classes
        model.n_features_in_ = int(arrays["n_features_in_"])
        return model
