"""Classification metrics of discriminant models (PLS-DA...), equal to ``sklearn.metrics``.

Labels may be integers or strings; unless ``labels`` is given, the classes are the sorted union
of the labels in ``y_true`` and ``y_pred`` (scikit-learn's convention).

- ``accuracy = mean(y_pred == y_true)``,
- ``balanced_accuracy``: the mean recall over the classes present in ``y_true``,
- ``f1_macro``: the unweighted mean over classes of ``F1 = 2 TP / (2 TP + FP + FN)`` (0 for a
  class with no true and no predicted sample),
- ``confusion_matrix[i, j]``: samples of true class ``labels[i]`` predicted as ``labels[j]``.

>>> y_true, y_pred = ["a", "a", "b", "c"], ["a", "b", "b", "c"]
>>> {k: round(v, 4) for k, v in classification_metrics(y_true, y_pred).items()}
{'n': 4, 'accuracy': 0.75, 'balanced_accuracy': 0.8333, 'f1_macro': 0.7778}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from nirsframe.exceptions import InvalidParameterError, SpectralShapeError

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "accuracy",
    "balanced_accuracy",
    "classification_metrics",
    "confusion_matrix",
    "f1_macro",
]


def _labels(
    y_true: npt.ArrayLike, y_pred: npt.ArrayLike, labels: Sequence[Any] | npt.ArrayLike | None
) -> tuple[npt.NDArray[Any], npt.NDArray[Any], npt.NDArray[Any]]:
    yt = np.asarray(y_true)
    yp = np.asarray(y_pred)
    if yt.ndim != 1 or yp.ndim != 1 or yt.shape != yp.shape:
        msg = f"'y_true' and 'y_pred' must be 1-D of equal length; got {yt.shape} and {yp.shape}"
        raise SpectralShapeError(msg)
    if labels is None:
        classes = np.unique(np.concatenate([yt, yp]))
    else:
        classes = np.asarray(labels)
        if classes.ndim != 1 or classes.size == 0 or np.unique(classes).size != classes.size:
            msg = f"'labels' must be a non-empty sequence of distinct labels; got {labels!r}"
            raise InvalidParameterError(msg)
    return yt, yp, classes


def _confusion(
    yt: npt.NDArray[Any], yp: npt.NDArray[Any], classes: npt.NDArray[Any]
) -> npt.NDArray[np.int64]:
    k = classes.size
    # Map labels to class indices; labels outside ``classes`` get index k and are dropped.
    order = np.argsort(classes, kind="stable")
    sorted_classes = classes[order]

    def index(y: npt.NDArray[Any]) -> npt.NDArray[np.int64]:
        pos = np.clip(np.searchsorted(sorted_classes, y), 0, k - 1)
        found = sorted_classes[pos] == y
        return np.where(found, order[pos], k).astype(np.int64)

    it, ip = index(yt), index(yp)
    keep = (it < k) & (ip < k)
    counts = np.bincount(it[keep] * k + ip[keep], minlength=k * k)
    return counts.reshape(k, k).astype(np.int64)


def confusion_matrix(
    y_true: npt.ArrayLike,
    y_pred: npt.ArrayLike,
    *,
    labels: Sequence[Any] | npt.ArrayLike | None = None,
) -> npt.NDArray[np.int64]:
    """Counts ``C[i, j]`` of samples of class ``labels[i]`` predicted as ``labels[j]``.

    Samples whose true or predicted label is not in ``labels`` are not counted.

    >>> confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2]).tolist()
    [[1, 0, 0], [0, 1, 1], [0, 0, 1]]
    """
    yt, yp, classes = _labels(y_true, y_pred, labels)
    return _confusion(yt, yp, classes)


def accuracy(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> float:
    """Fraction of samples predicted correctly (NaN for no samples).

    >>> accuracy([0, 1, 1, 2], [0, 1, 2, 2])
    0.75
    """
    yt, yp, _ = _labels(y_true, y_pred, None)
    if yt.size == 0:
        return float("nan")
    return float(np.mean(yt == yp))


def balanced_accuracy(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> float:
    """Mean per-class recall over the classes present in ``y_true``.

    Classes that only occur in ``y_pred`` have no recall and are left out, as in
    scikit-learn (which also warns).

    >>> balanced_accuracy([0, 0, 0, 1], [0, 0, 1, 1])
    0.8333333333333333
    """
    yt, yp, classes = _labels(y_true, y_pred, None)
    c = _confusion(yt, yp, classes)
    support = c.sum(axis=1)
    present = support > 0
    if not present.any():
        return float("nan")
    recall = np.diag(c)[present] / support[present]
    return float(np.mean(recall))


def _f1_per_class(c: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    tp = np.diag(c).astype(np.float64)
    fp = c.sum(axis=0) - tp
    fn = c.sum(axis=1) - tp
    denom = 2.0 * tp + fp + fn
    # A class with no true and no predicted sample scores 0 (scikit-learn's zero_division).
    out: npt.NDArray[np.float64] = np.divide(
        2.0 * tp, denom, out=np.zeros_like(tp), where=denom > 0
    )
    return out


def f1_macro(
    y_true: npt.ArrayLike,
    y_pred: npt.ArrayLike,
    *,
    labels: Sequence[Any] | npt.ArrayLike | None = None,
) -> float:
    """Unweighted mean over classes of ``F1 = 2 TP / (2 TP + FP + FN)``.

    >>> round(f1_macro([0, 1, 1, 2], [0, 1, 2, 2]), 4)
    0.7778
    """
    yt, yp, classes = _labels(y_true, y_pred, labels)
    return float(np.mean(_f1_per_class(_confusion(yt, yp, classes))))


def classification_metrics(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> dict[str, Any]:
    """``n``, ``accuracy``, ``balanced_accuracy`` and ``f1_macro`` at once.

    >>> classification_metrics([0, 1], [0, 1])["accuracy"]
    1.0
    """
    return {
        "n": int(np.asarray(y_true).shape[0]),
        "accuracy": accuracy(y_true, y_pred),
        "balanced_accuracy": balanced_accuracy(y_true, y_pred),
        "f1_macro": f1_macro(y_true, y_pred),
    }
