"""Metrics: definitions, sklearn parity, stacked (A, N, T) predictions, NaN rows."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.metrics import mean_squared_error, r2_score

from nirsframe.exceptions import SpectralShapeError
from nirsframe.validation.metrics import bias, r2, regression_metrics, rmse, rpd, sep


def _data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.normal(10.0, 2.0, size=25)
    return y, y + rng.normal(0.3, 0.5, size=25)


def test_scalar_definitions() -> None:
    y, p = _data()
    e = p - y
    assert rmse(y, p) == pytest.approx(np.sqrt(mean_squared_error(y, p)), rel=1e-14)
    assert r2(y, p) == pytest.approx(r2_score(y, p), rel=1e-14)
    assert bias(y, p) == pytest.approx(e.mean(), rel=1e-14)
    assert sep(y, p) == pytest.approx(np.std(e, ddof=1), rel=1e-14)
    assert rpd(y, p) == pytest.approx(np.std(y, ddof=1) / np.std(e, ddof=1), rel=1e-14)
    # RMSE² = bias² + SEP² (n-1)/n.
    n = y.size
    assert rmse(y, p) ** 2 == pytest.approx(
        bias(y, p) ** 2 + sep(y, p) ** 2 * (n - 1) / n, rel=1e-12
    )
    assert isinstance(rmse(y, p), float)


def test_stacked_predictions_per_component_and_target() -> None:
    rng = np.random.default_rng(1)
    y = rng.normal(size=(30, 2))
    pred = y[None] + rng.normal(size=(4, 30, 2)) * np.array([1.0, 0.5, 0.2, 0.1])[:, None, None]
    out = regression_metrics(y, pred)
    assert out["rmse"].shape == (4, 2)
    assert out["n"].tolist() == [[30, 30]] * 4
    for a in range(4):
        for t in range(2):
            assert out["rmse"][a, t] == pytest.approx(rmse(y[:, t], pred[a, :, t]), rel=1e-14)
            assert out["r2"][a, t] == pytest.approx(r2_score(y[:, t], pred[a, :, t]), rel=1e-12)
            assert out["sep"][a, t] == pytest.approx(sep(y[:, t], pred[a, :, t]), rel=1e-14)
            assert out["rpd"][a, t] == pytest.approx(rpd(y[:, t], pred[a, :, t]), rel=1e-14)
            assert out["bias"][a, t] == pytest.approx(bias(y[:, t], pred[a, :, t]), rel=1e-12)
    # A 1-D reference broadcasts over (A, N, 1) predictions (PLS1 cross-validation output).
    assert rmse(y[:, 0], pred[:, :, :1]).shape == (4, 1)
    assert_allclose(rmse(y[:, 0], pred[:, :, :1])[:, 0], out["rmse"][:, 0])
    assert rmse(y, pred[0]).shape == (2,)


def test_nan_pairs_are_left_out() -> None:
    y, p = _data(2)
    p_nan = p.copy()
    p_nan[[3, 7]] = np.nan
    keep = ~np.isnan(p_nan)
    for fn in (rmse, r2, bias, sep, rpd):
        assert fn(y, p_nan) == pytest.approx(fn(y[keep], p[keep]), rel=1e-13)
    assert regression_metrics(y, p_nan)["n"] == 23
    assert np.isnan(rmse(y, np.full_like(y, np.nan)))
    assert np.isnan(sep(y[:1], p[:1]))


def test_shape_errors() -> None:
    with pytest.raises(SpectralShapeError, match="does not match"):
        rmse(np.zeros(3), np.zeros(4))
    with pytest.raises(SpectralShapeError, match="does not match"):
        rmse(np.zeros((3, 2)), np.zeros((1, 3, 3)))
    with pytest.raises(SpectralShapeError, match="'y_pred' must be"):
        rmse(np.zeros(3), np.zeros((1, 1, 3, 1)))
