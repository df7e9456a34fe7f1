"""Target (y) outlier filters: Tukey's IQR fences, the z-score and the MAD-based robust z-score.

Each statistic is a distance from the training centre in units of the training spread, so one
rule, ``statistic > threshold``, covers all three:

* :class:`IQRFilter`: ``max(q1 - y, y - q3, 0) / IQR`` against ``k`` (Tukey's fences, k = 1.5).
* :class:`ZScoreFilter`: ``|y - mean| / std`` (``ddof`` stated) against ``threshold = 3``.
* :class:`MADFilter`: ``|y - median| / (1.4826 MAD)`` against ``threshold = 3.5`` (Iglewicz &
  Hoaglin's modified z-score; 1.4826 = 1 / Phi^-1(3/4) makes the MAD a normal-consistent std).

A training spread of zero is an error (the statistic would be 0/0 or infinite for every row).
Rows whose y is NaN score NaN and are never flagged.

References
----------
Tukey, J. W. (1977). *Exploratory Data Analysis*. Addison-Wesley.
Iglewicz, B. & Hoaglin, D. C. (1993). *How to Detect and Handle Outliers*. ASQC Quality Press.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

import numpy as np
from pydantic import Field

from nirsframe.exceptions import DatasetError
from nirsframe.filters._base import OutlierFilter, P, as_target
from nirsframe.operators._base import Params

if TYPE_CHECKING:
    import numpy.typing as npt

    from nirsframe.filters._base import FloatVector

__all__ = [
    "MAD_SCALE",
    "IQRFilter",
    "IQRParams",
    "MADFilter",
    "MADParams",
    "ZScoreFilter",
    "ZScoreParams",
]

#: 1 / Phi^-1(0.75): the MAD of a normal sample times this estimates its standard deviation.
MAD_SCALE = 1.4826


class IQRParams(Params):
    """Parameters of :class:`IQRFilter`."""

    k: float = Field(default=1.5, gt=0.0, description="fence distance in IQRs beyond q1 / q3")


class ZScoreParams(Params):
    """Parameters of :class:`ZScoreFilter`."""

    threshold: float = Field(default=3.0, gt=0.0, description="limit on |y - mean| / std")
    ddof: int = Field(default=1, ge=0, description="delta degrees of freedom of the std")


class MADParams(Params):
    """Parameters of :class:`MADFilter`."""

    threshold: float = Field(default=3.5, gt=0.0, description="limit on the robust z-score")


class _TargetFilter(OutlierFilter[P]):
    """Shared plumbing: a training centre/spread and ``|y - centre| / spread``-like statistics."""

    uses: ClassVar[Literal["X", "y", "X+y"]] = "y"

    def _target(
        self, X: npt.ArrayLike | None, y: npt.ArrayLike | None, *, training: bool
    ) -> FloatVector:
        n_rows = None if X is None else int(np.shape(X)[0])
        return as_target(y, self.owner, training=training, n_rows=n_rows)

    def _check_spread(self, spread: float, what: str, y: FloatVector) -> None:
        if not spread > 0.0:
            msg = (
                f"{self.owner}: the training target 'y' has zero {what} "
                f"({y.size} values, median {float(np.median(y))!r}); the filter cannot scale it"
            )
            raise DatasetError(msg)


class IQRFilter(_TargetFilter[IQRParams]):
    """Tukey's fences on y: outside ``[q1 - k IQR, q3 + k IQR]`` of the training targets.

    Quartiles use numpy's default (linear interpolation, type 7 of Hyndman & Fan, R's default).

    Attributes
    ----------
    q1_, q3_ : float
        Training quartiles.
    threshold_ : float
        Equal to ``k``; the statistic is the distance beyond the nearer quartile in IQRs.

    Examples
    --------
    >>> f = IQRFilter().fit(None, [1.0, 2.0, 3.0, 4.0, 5.0])
    >>> f.score(None, [3.0, 6.0, 9.1]).outlier.tolist()
    [False, False, True]
    """

    name: ClassVar[str] = "iqr"
    params_model: ClassVar[type[Params]] = IQRParams
    fitted_attributes: ClassVar[tuple[str, ...]] = ("q1_", "q3_", "threshold_")

    def _fit(self, X: npt.ArrayLike | None, y: npt.ArrayLike | None) -> None:
        t = self._target(X, y, training=True)
        q1, q3 = np.percentile(t, [25.0, 75.0])
        self._check_spread(float(q3 - q1), "interquartile range", t)
        self.q1_, self.q3_ = float(q1), float(q3)
        self.threshold_ = float(self.params.k)

    def _statistic(self, X: npt.ArrayLike | None, y: npt.ArrayLike | None) -> FloatVector:
        t = self._target(X, y, training=False)
        beyond = np.maximum(np.maximum(self.q1_ - t, t - self.q3_), 0.0)
        return beyond / (self.q3_ - self.q1_)


class ZScoreFilter(_TargetFilter[ZScoreParams]):
    """``|y - mean| / std`` of the training targets above ``threshold`` (default 3).

    Attributes
    ----------
    mean_, std_ : float
    threshold_ : float

    Examples
    --------
    >>> f = ZScoreFilter(threshold=2.0).fit(None, [1.0, 2.0, 3.0, 4.0, 5.0])
    >>> f.score(None, [3.0, 7.0]).outlier.tolist()
    [False, True]
    """

    name: ClassVar[str] = "zscore"
    params_model: ClassVar[type[Params]] = ZScoreParams
    fitted_attributes: ClassVar[tuple[str, ...]] = ("mean_", "std_", "threshold_")

    def _fit(self, X: npt.ArrayLike | None, y: npt.ArrayLike | None) -> None:
        t = self._target(X, y, training=True)
        if t.size <= self.params.ddof:
            msg = (
                f"{self.owner}: the 'ddof' parameter must be smaller than the number of training "
                f"targets ({t.size}); got ddof={self.params.ddof}"
            )
            raise DatasetError(msg)
        std = float(t.std(ddof=self.params.ddof))
        self._check_spread(std, "standard deviation", t)
        self.mean_, self.std_ = float(t.mean()), std
        self.threshold_ = float(self.params.threshold)

    def _statistic(self, X: npt.ArrayLike | None, y: npt.ArrayLike | None) -> FloatVector:
        t = self._target(X, y, training=False)
        return np.abs(t - self.mean_) / self.std_


class MADFilter(_TargetFilter[MADParams]):
    """Robust z-score ``|y - median| / (1.4826 MAD)`` above ``threshold`` (default 3.5).

    Attributes
    ----------
    median_ : float
    scale_ : float
        ``1.4826 * median(|y - median|)`` on the training targets.
    threshold_ : float

    Examples
    --------
    >>> f = MADFilter().fit(None, [1.0, 2.0, 3.0, 4.0, 100.0])
    >>> f.score(None, [2.5, 100.0]).outlier.tolist()
    [False, True]
    """

    name: ClassVar[str] = "mad"
    params_model: ClassVar[type[Params]] = MADParams
    fitted_attributes: ClassVar[tuple[str, ...]] = ("median_", "scale_", "threshold_")

    def _fit(self, X: npt.ArrayLike | None, y: npt.ArrayLike | None) -> None:
        t = self._target(X, y, training=True)
        median = float(np.median(t))
        scale = MAD_SCALE * float(np.median(np.abs(t - median)))
        self._check_spread(scale, "median absolute deviation", t)
        self.median_, self.scale_ = median, scale
        self.threshold_ = float(self.params.threshold)

    def _statistic(self, X: npt.ArrayLike | None, y: npt.ArrayLike | None) -> FloatVector:
        t = self._target(X, y, training=False)
        return np.abs(t - self.median_) / self.scale_
