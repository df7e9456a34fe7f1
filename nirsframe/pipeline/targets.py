"""Target processing (``y_processing``): affine per-column transforms fitted on training ``y``.

Every method is ``y' = (y - shift) / scale`` per target column, learned from the training rows of
each fold only, and inverted on predictions.

>>> import numpy as np
>>> t = TargetTransform.build("minmax", {"feature_range": (0.0, 1.0)}).fit(np.array([[1.0], [3.0]]))
>>> t.transform(np.array([[2.0]])).tolist(), t.inverse_transform(np.array([[1.0]])).tolist()
([[0.5]], [[3.0]])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from nirsframe.exceptions import InvalidParameterError, NotFittedError

if TYPE_CHECKING:
    from collections.abc import Mapping

    import numpy.typing as npt


@dataclass
class TargetTransform:
    """One fitted-on-training affine target transform (``autoscale``, ``center``, ``standard``,
    ``minmax``)."""

    method: str
    params: dict[str, Any]
    shift_: npt.NDArray[np.float64] | None = None
    scale_: npt.NDArray[np.float64] | None = None

    @classmethod
    def build(cls, method: str, params: Mapping[str, Any]) -> TargetTransform:
        """A new, unfitted transform."""
        if method not in ("autoscale", "center", "standard", "minmax"):
            msg = f"unknown y_processing method {method!r}"
            raise InvalidParameterError(msg)
        return cls(method, dict(params))

    def fit(self, y: npt.NDArray[np.float64]) -> TargetTransform:
        """Learn shift and scale from training targets ``(n, T)``."""
        y = np.asarray(y, dtype=np.float64)
        mean = y.mean(axis=0)
        shift, scale = mean, np.ones_like(mean)
        if self.method == "autoscale":
            scale = y.std(axis=0, ddof=int(self.params.get("ddof", 0)))
        elif self.method == "standard":
            if not self.params.get("with_mean", True):
                shift = np.zeros_like(mean)
            if self.params.get("with_std", True):
                scale = y.std(axis=0)
        elif self.method == "minmax":
            lo, hi = self.params.get("feature_range", (0.0, 1.0))
            span = (y.max(axis=0) - y.min(axis=0)) / (hi - lo)
            scale = span
            shift = y.min(axis=0) - lo * span
        # A constant target column keeps scale 1 (as scikit-learn's scalers do).
        self.scale_ = np.where(scale > 0, scale, 1.0)
        self.shift_ = shift
        return self

    def _fitted(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        if self.shift_ is None or self.scale_ is None:
            msg = f"y_processing {self.method!r} is not fitted yet"
            raise NotFittedError(msg)
        return self.shift_, self.scale_

    def transform(self, y: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """``(y - shift) / scale``."""
        shift, scale = self._fitted()
        out: npt.NDArray[np.float64] = (np.asarray(y, dtype=np.float64) - shift) / scale
        return out

    def inverse_transform(self, y: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """``y * scale + shift``."""
        shift, scale = self._fitted()
        out: npt.NDArray[np.float64] = np.asarray(y, dtype=np.float64) * scale + shift
        return out
