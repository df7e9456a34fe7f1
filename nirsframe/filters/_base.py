"""What every outlier filter shares: validated parameters, fit on training rows, score any rows.

A filter never drops rows. ``fit`` learns its state from the training rows only; ``score`` returns,
for any rows, the statistic, the threshold fitted on the training rows and the boolean outlier
mask, so the caller (a pipeline's ``tag`` or ``exclude`` keyword) decides what to do with them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeVar, cast

import numpy as np

from nirsframe.exceptions import DatasetError, NotFittedError, SpectralShapeError
from nirsframe.operators._base import Params, validate_params

if TYPE_CHECKING:
    from typing import Self

    import numpy.typing as npt

__all__ = ["FilterScores", "OutlierFilter"]

FloatVector = np.ndarray[tuple[int], np.dtype[np.float64]]
BoolVector = np.ndarray[tuple[int], np.dtype[np.bool_]]
Matrix = np.ndarray[tuple[int, int], np.dtype[np.float64]]
P = TypeVar("P", bound=Params)


@dataclass(frozen=True)
class FilterScores:
    """The result of :meth:`OutlierFilter.score` for ``n`` rows.

    Attributes
    ----------
    statistic : ndarray of shape (n,)
        The filter's statistic per row (NaN where the row cannot be judged: NaN spectrum or y).
    threshold : float
        The limit fitted on the training rows; a row is an outlier when ``statistic > threshold``.
    outlier : ndarray of shape (n,), bool
        ``statistic > threshold`` (False for NaN statistics).
    """

    statistic: FloatVector
    threshold: float
    outlier: BoolVector

    @property
    def n_outliers(self) -> int:
        """Number of flagged rows."""
        return int(self.outlier.sum())


class OutlierFilter(ABC, Generic[P]):
    """Base class: subclasses declare ``name``, ``params_model``, ``uses`` and implement the rest.

    ``uses`` says what the filter reads: ``"X"`` (spectra), ``"y"`` (targets) or ``"X+y"``
    (spectra, with y needed at fit time only); :attr:`requires_y` resolves it per instance.
    Learned state is stored in attributes ending in ``_`` listed in ``fitted_attributes`` (arrays
    or floats), so it can be persisted without pickle.
    """

    name: ClassVar[str]
    params_model: ClassVar[type[Params]]
    uses: ClassVar[Literal["X", "y", "X+y"]]
    fitted_attributes: ClassVar[tuple[str, ...]]

    def __init__(self, **params: Any) -> None:
        self.params: P = cast("P", validate_params(self.params_model, params, self.owner))

    @property
    def owner(self) -> str:
        """How errors name this filter (``"filter 'hotelling_t2'"``)."""
        return f"filter {self.name!r}"

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.model_dump().items())
        return f"{type(self).__name__}({args})"

    def to_spec(self) -> dict[str, dict[str, Any]]:
        """The JSON-ready spec ``{name: params}`` that :func:`parse_filter` reads back."""
        return {self.name: self.params.model_dump(mode="json")}

    @property
    def requires_y(self) -> bool:
        """Whether :meth:`fit` needs ``y`` (target filters, PLS leverage)."""
        return self.uses != "X"

    @property
    def is_fitted(self) -> bool:
        """Whether :meth:`fit` (or :meth:`from_fitted`) has set the learned state."""
        return all(hasattr(self, a) for a in self.fitted_attributes)

    def fit(self, X: npt.ArrayLike | None, y: npt.ArrayLike | None = None) -> Self:
        """Learn the filter's state (centre, loadings, threshold...) from the TRAINING rows only."""
        self._fit(X, y)
        return self

    def score(self, X: npt.ArrayLike | None, y: npt.ArrayLike | None = None) -> FilterScores:
        """Statistic, training threshold and outlier mask for any rows; never refits."""
        if not self.is_fitted:
            msg = f"this {type(self).__name__} instance is not fitted yet; call 'fit' first"
            raise NotFittedError(msg)
        statistic = np.ascontiguousarray(self._statistic(X, y), dtype=np.float64)
        threshold = float(self.threshold_)  # type: ignore[attr-defined]
        with np.errstate(invalid="ignore"):
            outlier = np.asarray(statistic > threshold, dtype=np.bool_)
        return FilterScores(statistic, threshold, outlier)

    def fitted_arrays(self) -> dict[str, npt.NDArray[Any]]:
        """Learned state as named float64 arrays (scalars as 0-d arrays)."""
        if not self.is_fitted:
            msg = f"this {type(self).__name__} instance is not fitted yet; call 'fit' first"
            raise NotFittedError(msg)
        return {a: np.asarray(getattr(self, a), dtype=np.float64) for a in self.fitted_attributes}

    @classmethod
    def from_fitted(cls, params: dict[str, Any], arrays: dict[str, npt.ArrayLike]) -> Self:
        """Rebuild a fitted filter from its parameters and :meth:`fitted_arrays`."""
        obj = cls(**params)
        missing = sorted(set(cls.fitted_attributes) - set(arrays))
        if missing:
            msg = f"{obj.owner}: fitted state is missing {missing}"
            raise DatasetError(msg)
        for a in cls.fitted_attributes:
            arr = np.asarray(arrays[a], dtype=np.float64)
            setattr(obj, a, float(arr) if arr.ndim == 0 else arr)
        return obj

    @abstractmethod
    def _fit(self, X: npt.ArrayLike | None, y: npt.ArrayLike | None) -> None:
        """Set every attribute of ``fitted_attributes`` (including ``threshold_``)."""

    @abstractmethod
    def _statistic(self, X: npt.ArrayLike | None, y: npt.ArrayLike | None) -> FloatVector:
        """The statistic of each row (NaN where the row cannot be judged)."""


def as_matrix(X: npt.ArrayLike | None, owner: str, *, training: bool) -> Matrix:
    """``X`` as a 2-D float64 array; training rows must be finite (other rows may hold NaN)."""
    if X is None:
        msg = f"{owner} needs spectra; got X=None"
        raise SpectralShapeError(msg)
    arr = np.asarray(X, dtype=np.float64)
    if arr.ndim != 2:
        msg = f"{owner}: 'X' must be a 2-D (n_samples, n_points) array; got shape {arr.shape}"
        raise SpectralShapeError(msg)
    if training and not np.isfinite(arr).all():
        bad = np.flatnonzero(~np.isfinite(arr).all(axis=1))
        msg = (
            f"{owner}: the training spectra 'X' must be finite; "
            f"{bad.size} row(s) hold NaN or inf (first: {bad[:5].tolist()})"
        )
        raise DatasetError(msg)
    return cast("Matrix", arr)


def as_target(
    y: npt.ArrayLike | None, owner: str, *, training: bool, n_rows: int | None = None
) -> FloatVector:
    """``y`` as a 1-D float64 array (a single-column 2-D array is accepted)."""
    if y is None:
        msg = f"{owner} needs a target; got y=None"
        raise DatasetError(msg)
    arr = np.asarray(y, dtype=np.float64)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        msg = f"{owner}: 'y' must be 1-D (one target); got shape {arr.shape}"
        raise DatasetError(msg)
    if n_rows is not None and arr.shape[0] != n_rows:
        msg = (
            f"{owner}: 'X' and 'y' have different numbers of rows; got {n_rows} and {arr.shape[0]}"
        )
        raise DatasetError(msg)
    if training and not np.isfinite(arr).all():
        bad = np.flatnonzero(~np.isfinite(arr))
        msg = (
            f"{owner}: the training target 'y' must be finite; "
            f"{bad.size} value(s) are NaN or inf (first: {bad[:5].tolist()})"
        )
        raise DatasetError(msg)
    return cast("FloatVector", arr)
