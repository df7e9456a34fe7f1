"""Classification metrics: parity with sklearn.metrics, label handling, errors."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn import metrics

from nirsframe.exceptions import InvalidParameterError, SpectralShapeError
from nirsframe.validation.classification import (
    accuracy,
    balanced_accuracy,
    classification_metrics,
    confusion_matrix,
    f1_macro,
)


def _cases() -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(11)
    cases = []
    for n, k in [(7, 2), (50, 3), (200, 6), (31, 5)]:
        y_true = rng.integers(0, k, size=n)
        y_pred = np.where(rng.random(n) < 0.7, y_true, rng.integers(0, k, size=n))
        cases.append((y_true, y_pred))
    # A class only predicted (never true), and a class never predicted.
    cases.append((np.array([0, 0, 1, 1, 1]), np.array([0, 2, 1, 1, 0])))
    cases.append((np.array([0, 1, 2, 2]), np.array([0, 1, 1, 1])))
    # String labels.
    cases.append(
        (np.array(["olive", "corn", "corn", "soy"]), np.array(["olive", "soy", "corn", "soy"]))
    )
    return cases


@pytest.mark.parametrize(("y_true", "y_pred"), _cases())
def test_parity_with_sklearn(y_true: np.ndarray, y_pred: np.ndarray) -> None:
    with warnings.catch_warnings():
        # sklearn warns about classes only in y_pred (balanced accuracy) or without
        # support (F1); the values are what we compare.
        warnings.simplefilter("ignore")
        sk_bal = metrics.balanced_accuracy_score(y_true, y_pred)
        sk_f1 = metrics.f1_score(y_true, y_pred, average="macro")
    assert abs(accuracy(y_true, y_pred) - metrics.accuracy_score(y_true, y_pred)) <= 1e-12
    assert abs(balanced_accuracy(y_true, y_pred) - sk_bal) <= 1e-12
    assert abs(f1_macro(y_true, y_pred) - sk_f1) <= 1e-12
    assert_array_equal(confusion_matrix(y_true, y_pred), metrics.confusion_matrix(y_true, y_pred))


def test_explicit_labels_order_and_unknown_labels() -> None:
    y_true = np.array([2, 0, 1, 1, 3])
    y_pred = np.array([2, 1, 1, 0, 3])
    labels = [2, 1, 0]  # 3 left out: its samples are not counted
    assert_array_equal(
        confusion_matrix(y_true, y_pred, labels=labels),
        metrics.confusion_matrix(y_true, y_pred, labels=labels),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = metrics.f1_score(y_true, y_pred, labels=[2, 1, 0, 7], average="macro")
    assert abs(f1_macro(y_true, y_pred, labels=[2, 1, 0, 7]) - expected) <= 1e-12


def test_summary_and_edge_values() -> None:
    out = classification_metrics(["a", "b"], ["a", "a"])
    assert out == {
        "n": 2,
        "accuracy": 0.5,
        "balanced_accuracy": 0.5,
        "f1_macro": pytest.approx(1 / 3),
    }
    assert np.isnan(accuracy([], []))
    assert confusion_matrix([1], [1]).tolist() == [[1]]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"y_true": [0, 1], "y_pred": [0]}, SpectralShapeError, "equal length"),
        ({"y_true": [[0, 1]], "y_pred": [[0, 1]]}, SpectralShapeError, "1-D"),
        ({"y_true": [0], "y_pred": [0], "labels": [1, 1]}, InvalidParameterError, "'labels'"),
        ({"y_true": [0], "y_pred": [0], "labels": []}, InvalidParameterError, "'labels'"),
    ],
)
def test_errors(kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        confusion_matrix(**kwargs)
