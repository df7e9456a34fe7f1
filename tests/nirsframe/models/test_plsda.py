"""PLS-DA: sklearn one-hot PLSRegression parity, mayonnaise oil types, binary threshold."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.cross_decomposition import PLSRegression
from sklearn.utils.estimator_checks import parametrize_with_checks

from nirsframe.exceptions import InvalidParameterError
from nirsframe.models import PLS, PLSDA
from nirsframe.validation.classification import accuracy, balanced_accuracy, f1_macro
from tests.conftest import SHARED_DATA, synthetic_spectra

MAYONNAISE = SHARED_DATA / "mayonnaise.parquet"


@parametrize_with_checks(
    [PLSDA(n_components=2), PLSDA(n_components=2, scale=True)],
    expected_failed_checks=lambda est: {},
)
def test_sklearn_conformance(estimator: PLSDA, check: object) -> None:
    check(estimator)  # type: ignore[operator]


def _mayonnaise() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if not MAYONNAISE.exists():
        pytest.skip(f"shared dataset {MAYONNAISE} is absent")
    df = pl.read_parquet(MAYONNAISE)
    x = np.array(df["spectrum"].to_list(), dtype=np.float64)
    # The classes are `oil_type` (integers 1-6). The design_1..design_5 columns are the
    # experimental design of the emulsions (a 2^(5-2) fractional factorial in -1/+1 plus centre
    # points at 0), crossed with the oil types: they are not a class encoding.
    return x, df["oil_type"].to_numpy(), df["split"].to_numpy() == "train"


def _sklearn_onehot(x: np.ndarray, y: np.ndarray, a: int, x_new: np.ndarray) -> np.ndarray:
    classes = np.unique(y)
    onehot = (y[:, None] == classes[None, :]).astype(np.float64)
    sk = PLSRegression(n_components=a, scale=False, tol=1e-15, max_iter=5000).fit(x, onehot)
    return np.asarray(sk.predict(x_new))


@pytest.mark.parametrize("a", [2, 5, 10, 15])
def test_mayonnaise_matches_sklearn_onehot_argmax(a: int) -> None:
    x, y, train = _mayonnaise()
    model = PLSDA(n_components=a).fit(x[train], y[train])
    assert model.classes_.tolist() == [1, 2, 3, 4, 5, 6]
    sk_scores = _sklearn_onehot(x[train], y[train], a, x[~train])
    pred = model.predict(x[~train])
    assert_array_equal(pred, model.classes_[np.argmax(sk_scores, axis=1)])
    # PLS2: sklearn's NIPALS weights are only ~sqrt(tol)-accurate (see test_pls), measured 1.2e-7.
    assert_allclose(model.class_scores(x[~train]), sk_scores, atol=1e-6)
    # The same predictions from the one fit of 15 components, truncated to a.
    big = PLSDA(n_components=15).fit(x[train], y[train])
    assert_array_equal(big.predict(x[~train], n_components=a), pred)


def test_mayonnaise_accuracy() -> None:
    x, y, train = _mayonnaise()
    model = PLSDA(n_components=15).fit(x[train], y[train])
    pred = model.predict(x[~train])
    # Measured test accuracy by component count (raw spectra, 120 train / 42 test):
    # 2: 0.476, 5: 0.643, 8: 0.714, 10: 0.810, 15: 0.952.
    assert accuracy(y[~train], pred) == pytest.approx(40 / 42)
    assert balanced_accuracy(y[~train], pred) > 0.9
    assert f1_macro(y[~train], pred) > 0.75  # class 5 is absent from the test rows


def test_scores_rows_sum_to_one_and_proba() -> None:
    x, y, train = _mayonnaise()
    model = PLSDA(n_components=8).fit(x[train], y[train])
    scores = model.class_scores(x[~train])
    assert_allclose(scores.sum(axis=1), 1.0, atol=1e-10)
    proba = model.predict_proba(x[~train])
    assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-14)
    assert_array_equal(model.classes_[np.argmax(proba, axis=1)], model.predict(x[~train]))
    assert_array_equal(model.decision_function(x[~train]), scores)


def _binary() -> tuple[np.ndarray, np.ndarray]:
    x = synthetic_spectra(60, 50, seed=5)
    y = np.where(x[:, 10] - x[:, 30] > np.median(x[:, 10] - x[:, 30]), "yes", "no")
    return x, y


def test_binary_default_is_argmax_and_threshold_moves_the_cut() -> None:
    x, y = _binary()
    model = PLSDA(n_components=3).fit(x, y)
    assert model.classes_.tolist() == ["no", "yes"]
    scores = model.class_scores(x)
    assert_array_equal(model.predict(x), model.classes_[np.argmax(scores, axis=1)])
    assert_allclose(model.decision_function(x), scores[:, 1] - 0.5, atol=1e-15)
    # PLS-DA of two classes is PLS1 of the 0/1 indicator of the second class.
    pls1 = PLS(n_components=3).fit(x, (y == "yes").astype(float))
    assert_allclose(scores[:, 1], pls1.predict(x), rtol=1e-10, atol=1e-12)
    strict = PLSDA(n_components=3, threshold=0.8).fit(x, y)
    expected = np.where(scores[:, 1] > 0.8, "yes", "no")
    assert_array_equal(strict.predict(x), expected)
    proba = strict.predict_proba(x)
    assert_array_equal(strict.classes_[np.argmax(proba, axis=1)], expected)
    assert (strict.predict(x) == "yes").sum() < (model.predict(x) == "yes").sum()


def test_float32_and_fitted_state_round_trip() -> None:
    x, y = _binary()
    m32 = PLSDA(n_components=4).fit(x.astype(np.float32), y)
    ref = PLSDA(n_components=4).fit(x.astype(np.float32).astype(np.float64), y)
    assert_allclose(m32.class_scores(x), ref.class_scores(x), rtol=1e-12, atol=1e-12)
    rebuilt = PLSDA.from_fitted(m32.get_params(), m32.fitted_arrays())
    assert_array_equal(rebuilt.class_scores(x), m32.class_scores(x))
    assert_array_equal(rebuilt.predict(x), m32.predict(x))
    assert rebuilt.classes_.tolist() == ["no", "yes"]


@pytest.mark.parametrize(
    ("kwargs", "y", "match"),
    [
        ({"threshold": 0.3}, [0, 1, 2] * 10, "'threshold'.*2 classes"),
        ({"n_components": 0}, [0, 1] * 15, "'n_components'"),
        ({}, [1] * 30, "at least 2 classes"),
        ({"n_components": 60}, [0, 1] * 15, "n_components"),
    ],
)
def test_errors(kwargs: dict[str, object], y: list[int], match: str) -> None:
    x = synthetic_spectra(30, 50)
    with pytest.raises(InvalidParameterError, match=match):
        PLSDA(**kwargs).fit(x, np.array(y))  # type: ignore[arg-type]


def test_from_fitted_rejects_incomplete_state() -> None:
    x, y = _binary()
    arrays = PLSDA(n_components=2).fit(x, y).fitted_arrays()
    del arrays["class_codes_"]
    with pytest.raises(InvalidParameterError, match="classes_"):
        PLSDA.from_fitted({"n_components": 2}, arrays)
