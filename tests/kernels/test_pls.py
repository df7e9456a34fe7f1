"""Kernel PLS: R ``pls`` parity, fast CV == per-fold refit, cross-product filtering, sklearn."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nirskern.pls import (
    cv_from_crossproducts,
    fold_crossproducts,
    pls_core,
    pls_cv,
    pls_fit,
    pls_predict,
)
from numpy.testing import assert_allclose
from sklearn.cross_decomposition import PLSRegression

from tests.conftest import SHARED_DATA, synthetic_spectra

REFERENCE = SHARED_DATA / "reference"


def _load(name: str, target: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    pl = pytest.importorskip("polars")
    path = SHARED_DATA / f"{name}.parquet"
    if not path.exists():
        pytest.skip(f"shared dataset {path} absent")
    df = pl.read_parquet(path)
    x = np.array(df["spectrum"].to_list(), dtype=np.float64)
    return x, df[target].to_numpy(), df["split"].to_numpy()


def _naive_cv(x: np.ndarray, y: np.ndarray, folds: np.ndarray, a: int) -> np.ndarray:
    yy = y.reshape(len(y), -1)
    out = np.full((a, len(y), yy.shape[1]), np.nan)
    for f in np.unique(folds[folds >= 0]):
        train, val = folds != f, folds == f
        m = pls_fit(x[train], yy[train], a)
        out[:, val, :] = pls_predict(x[val], m.coef, m.x_mean, m.y_mean)
    return out


# -- R pls parity ---------------------------------------------------------------------------------
def test_gasoline_r_manual_test_rmsep_and_loo() -> None:
    ref_path = REFERENCE / "gasoline_pls_manual.json"
    if not ref_path.exists():
        pytest.skip("reference json absent")
    ref = json.loads(ref_path.read_text())
    x, y, _ = _load("gasoline", "octane")
    # R: plsr(octane ~ NIR, ncomp=10, data=gasTrain) with gasTrain = rows 1-50, gasTest = 51-60.
    model = pls_fit(x[:50], y[:50], 10)
    pred = pls_predict(x[50:], model.coef, model.x_mean, model.y_mean)[:, :, 0]
    rmsep = np.sqrt(np.mean((pred - y[50:]) ** 2, axis=1))
    # The manual prints 4 decimals: equal after rounding (measured error < 1e-12 before rounding).
    np.testing.assert_array_equal(np.round(rmsep, 4), ref["test_RMSEP_intercept_then_1_to_10"][1:])
    assert_allclose(pred[1], ref["test_predictions_2comp_samples_51_to_60"], atol=5e-3, rtol=0)
    # validation="LOO": RMSEP "CV" = sqrt(PRESS / n) of the out-of-fold predictions.
    cv = pls_cv(x[:50], y[:50], np.arange(50), 10)[:, :, 0]
    rmsecv = np.sqrt(np.mean((cv - y[:50]) ** 2, axis=1))
    np.testing.assert_array_equal(
        np.round(rmsecv, 4), ref["LOO_CV_RMSEP_intercept_then_1_to_10"][1:]
    )
    # R's "adjCV" (Mevik & Cederkvist 2004): RMSECV² + MSEP(train fit) - mean over folds of the
    # fold models' MSEP on the full training set.
    fits = pls_predict(x[:50], model.coef, model.x_mean, model.y_mean)[:, :, 0]
    msep_train = np.mean((fits - y[:50]) ** 2, axis=1)
    fold_msep = np.zeros(10)
    for i in range(50):
        keep = np.arange(50) != i
        m = pls_fit(x[:50][keep], y[:50][keep], 10)
        p = pls_predict(x[:50], m.coef, m.x_mean, m.y_mean)[:, :, 0]
        fold_msep += np.mean((p - y[:50]) ** 2, axis=1) / 50
    adj = np.sqrt(rmsecv**2 + msep_train - fold_msep)
    # This line of the manual is printed to 4 significant digits (1.356, 0.2947).
    expected = ref["LOO_adjCV_RMSEP_intercept_then_1_to_10"][1:]
    atol = [0.5 * 10.0 ** -len(repr(v).split(".")[1]) + 1e-12 for v in expected]
    assert np.all(np.abs(adj - np.array(expected)) <= atol)


def test_gasoline_r_variance_explained() -> None:
    ref_path = REFERENCE / "gasoline_pls_manual.json"
    if not ref_path.exists():
        pytest.skip("reference json absent")
    ref = json.loads(ref_path.read_text())
    x, y, _ = _load("gasoline", "octane")
    model = pls_fit(x[:50], y[:50], 10)
    xc = x[:50] - model.x_mean
    scores = xc @ model.x_rotations
    # X variance explained by component a: ||t_a||² ||p_a||² / ||Xc||².
    xvar = np.sum(scores**2, axis=0) * np.sum(model.x_loadings**2, axis=0)
    pct_x = 100 * np.cumsum(xvar) / np.sum(xc**2)
    assert_allclose(pct_x, ref["train_pct_variance_X_1_to_10"], atol=5e-3, rtol=0)
    fits = pls_predict(x[:50], model.coef, model.x_mean, model.y_mean)[:, :, 0]
    pct_y = 100 * (1 - np.sum((fits - y[:50]) ** 2, axis=1) / np.sum((y[:50] - y[:50].mean()) ** 2))
    assert_allclose(pct_y, ref["train_pct_variance_y_1_to_10"], atol=5e-3, rtol=0)


def test_gasoline_oscorespls_27_components() -> None:
    path = REFERENCE / "gasoline_oscorespls_all60_27comp.npz"
    if not path.exists():
        pytest.skip("reference npz absent")
    ref = np.load(path)
    x, y, _ = _load("gasoline", "octane")
    model = pls_fit(x, y, 27)
    # Kernel PLS and orthogonal-scores PLS span the same Krylov spaces: identical B for every a.
    # Measured max |diff| 1.2e-10 on coefficients up to 33 in magnitude (relative 4e-12).
    assert_allclose(model.coef[:, :, 0].T, ref["coefficients"], rtol=0, atol=1e-9)
    assert_allclose(model.x_mean, ref["Xmeans"], rtol=1e-14)
    fitted = pls_predict(x, model.coef, model.x_mean, model.y_mean)[:, :, 0].T
    assert_allclose(fitted, ref["fitted_values"], rtol=0, atol=1e-11)  # measured 2.3e-13
    # Weights and loadings agree up to sign (unit-norm w, p = Xᵀt / tᵀt).
    sign = np.sign(np.sum(model.x_weights * ref["loading_weights"], axis=0))
    assert_allclose(model.x_weights * sign, ref["loading_weights"], rtol=0, atol=1e-8)


def test_yarn_fitted_values_6_components() -> None:
    path = REFERENCE / "yarn_fitted_predictions_6comp.npz"
    if not path.exists():
        pytest.skip("reference npz absent")
    ref = np.load(path)
    x, y, _ = _load("yarn", "density")
    model = pls_fit(x, y, 6)
    fitted = pls_predict(x, model.coef, model.x_mean, model.y_mean)[:, :, 0].T
    assert_allclose(fitted, ref["pred_pls"], rtol=0, atol=1e-10)  # measured 1e-13
    assert_allclose(fitted, ref["pred_pls_widekernel"], rtol=0, atol=1e-10)


# -- fast CV == per-fold refit --------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(6, 40),
    p=st.integers(2, 30),
    t=st.integers(1, 3),
    k=st.integers(2, 6),
    with_fixed=st.booleans(),
    float32=st.booleans(),
    offset=st.sampled_from([0.0, 1.0, 100.0]),
)
def test_fast_cv_equals_refit(
    seed: int, n: int, p: int, t: int, k: int, with_fixed: bool, float32: bool, offset: float
) -> None:
    rng = np.random.default_rng(seed)
    folds = rng.permutation(np.arange(n) % k)
    if with_fixed:
        folds[rng.random(n) < 0.2] = -1
    ids = np.unique(folds[folds >= 0])
    if ids.size == 0:
        folds[0] = 0
        ids = np.array([0])
    n_train_min = min(int(np.sum(folds != f)) for f in ids)
    a = int(rng.integers(1, min(n_train_min - 1, p) + 1))
    x = rng.normal(size=(n, p)) + offset
    y = x[:, :1] @ rng.normal(size=(1, t)) + rng.normal(size=(n, t))
    if t == 1 and rng.random() < 0.5:
        y = y[:, 0]
    if float32:
        x = x.astype(np.float32)
    x_before = x.copy()
    fast = pls_cv(x, y, folds, a)
    np.testing.assert_array_equal(x, x_before)
    naive = _naive_cv(x, y, folds, a)
    assert fast.shape == (a, n, t)
    assert np.array_equal(np.isnan(fast), np.isnan(naive))
    assert np.all(np.isnan(fast[:, folds == -1]))
    scale = np.abs(y).max()
    assert_allclose(fast, naive, rtol=1e-8, atol=1e-8 * scale)  # measured worst ~3e-11


def test_fast_cv_recompute_path_equals_stored_path() -> None:
    x = synthetic_spectra(n=30, p=50)
    y = x[:, 10] * 3 + x[:, 30]
    folds = np.arange(30)  # leave-one-out
    stored = pls_cv(x, y, folds, 6)
    streamed = pls_cv(x, y, folds, 6, max_bytes=0)
    assert_allclose(streamed, stored, rtol=1e-12, atol=1e-12)
    assert_allclose(stored, _naive_cv(x, y, folds, 6), rtol=1e-9, atol=1e-9)


def test_linear_filter_maps_crossproducts() -> None:
    x = synthetic_spectra(n=40, p=60)
    y = np.stack([x[:, 20] - x[:, 40], x[:, 5]], axis=1)
    folds = np.arange(40) % 5
    d = np.eye(60)[1:] - np.eye(60)[:-1]  # first difference: 59 x 60
    xf = x @ d.T
    mapped = fold_crossproducts(x, y, folds).transform(d)
    direct = fold_crossproducts(xf, y, folds)
    # Each fold's mean and centred cross-products map as D x̄ and D·S·Dᵀ.
    assert_allclose(mapped.x_mean, direct.x_mean, rtol=1e-12, atol=1e-14)
    assert_allclose(mapped.xtx, direct.xtx, rtol=1e-9, atol=1e-12)
    assert_allclose(mapped.xty, direct.xty, rtol=1e-9, atol=1e-12)
    pred_mapped = cv_from_crossproducts(mapped, xf, folds, 8)
    pred_direct = cv_from_crossproducts(direct, xf, folds, 8)
    assert_allclose(pred_mapped, pred_direct, rtol=1e-9)
    assert_allclose(pred_mapped, _naive_cv(xf, y, folds, 8), rtol=1e-9)


def test_crossproducts_bad_inputs() -> None:
    x = synthetic_spectra(n=12, p=8)
    y = x[:, 0]
    cp = fold_crossproducts(x, y, np.arange(12) % 3)
    with pytest.raises(ValueError, match="'folds' does not match"):
        cv_from_crossproducts(cp, x, np.arange(12) % 4, 2)
    with pytest.raises(ValueError, match="'d' must be a 2-D"):
        cp.transform(np.eye(5))
    with pytest.raises(ValueError, match="'folds' must be 1-D"):
        pls_cv(x, y, np.arange(11), 2)
    with pytest.raises(TypeError, match="'folds' must hold integers"):
        pls_cv(x, y, np.zeros(12), 2)
    with pytest.raises(ValueError, match="at least one row"):
        pls_cv(x, y, np.full(12, -1), 2)
    with pytest.raises(ValueError, match="too few"):
        pls_cv(x, y, np.array([0] * 9 + [1, 2, 3]), 4)
    bad = x.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="row 3 has NaN"):
        pls_cv(bad, y, np.arange(12) % 3, 2)


# -- fit / predict ---------------------------------------------------------------------------------
@pytest.mark.parametrize("n_targets", [1, 3])
def test_sklearn_parity(n_targets: int) -> None:
    x = synthetic_spectra(n=40, p=80)
    rng = np.random.default_rng(1)
    y = x[:, [10, 30, 50]] @ rng.normal(size=(3, n_targets)) + 0.01 * rng.normal(size=(40, 1))
    model = pls_fit(x, y, 8)
    pred = pls_predict(x[:7], model.coef, model.x_mean, model.y_mean)
    for a in range(1, 9):
        # sklearn's NIPALS inner loop is iterative for PLS2: tighten its tolerance for parity.
        sk = PLSRegression(n_components=a, scale=False, tol=1e-15, max_iter=5000).fit(x, y)
        assert_allclose(pred[a - 1], sk.predict(x[:7]).reshape(7, -1), rtol=1e-8, atol=1e-10)
        assert_allclose(model.coef[a - 1], sk.coef_.T, rtol=1e-6, atol=1e-8)


def test_fit_recovers_exact_linear_model_and_float32() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 6))
    beta = np.array([1.0, -2.0, 0.5, 0.0, 3.0, 1.5])
    y = x @ beta + 4.0
    model = pls_fit(x, y, 6)
    assert_allclose(model.coef[-1, :, 0], beta, atol=1e-10)
    m32 = pls_fit(x.astype(np.float32), y, 6)
    assert m32.coef.dtype == np.float64
    assert_allclose(
        m32.coef[-1, :, 0], pls_fit(x.astype(np.float32).astype(np.float64), y, 6).coef[-1, :, 0]
    )
    # W orthonormal, Tᵀ T diagonal, R = W (PᵀW)⁻¹.
    assert_allclose(model.x_weights.T @ model.x_weights, np.eye(6), atol=1e-10)
    scores = (x - model.x_mean) @ model.x_rotations
    gram = scores.T @ scores
    assert_allclose(gram - np.diag(np.diag(gram)), 0, atol=1e-9)
    r = model.x_weights @ np.linalg.inv(model.x_loadings.T @ model.x_weights)
    assert_allclose(model.x_rotations, r, atol=1e-10)


def test_predict_nan_rows_propagate() -> None:
    x = synthetic_spectra(n=20, p=30)
    model = pls_fit(x, x[:, 3], 3)
    xt = x.copy()
    xt[4] = np.nan
    pred = pls_predict(xt, model.coef, model.x_mean, model.y_mean)
    assert np.all(np.isnan(pred[:, 4]))
    ok = np.arange(20) != 4
    assert_allclose(pred[:, ok], pls_predict(x[ok], model.coef, model.x_mean, model.y_mean))


def test_rank_exhaustion_freezes_coefficients() -> None:
    rng = np.random.default_rng(3)
    scores = rng.normal(size=(20, 2))
    x = scores @ rng.normal(size=(2, 30)) + 1.0  # centred rank 2
    y = scores[:, 0] - 2 * scores[:, 1]
    model = pls_fit(x, y, 5)
    # After two components the response information is exhausted: later components are zero.
    assert np.count_nonzero(model.y_loadings[:, 2:]) == 0
    assert np.count_nonzero(model.x_rotations[:, 2:]) == 0
    assert_allclose(model.coef[2:], np.broadcast_to(model.coef[1], (3, 30, 1)))
    pred = pls_predict(x, model.coef, model.x_mean, model.y_mean)
    assert_allclose(pred[1, :, 0], y, atol=1e-10)
    xc, yc = x - x.mean(0), y - y.mean()
    w, _, q, _ = pls_core(xc.T @ xc, np.zeros((30, 1)), 3)
    assert np.count_nonzero(w) == 0
    assert np.count_nonzero(q) == 0
    assert np.isfinite(yc).all()


def test_fit_bad_inputs() -> None:
    x = synthetic_spectra(n=10, p=5)
    with pytest.raises(ValueError, match="'n_components' must be <="):
        pls_fit(x, x[:, 0], 6)
    with pytest.raises(ValueError, match="'n_components' must be >= 1"):
        pls_fit(x, x[:, 0], 0)
    with pytest.raises(ValueError, match="'y' must have shape"):
        pls_fit(x, x[:3, 0], 2)
    with pytest.raises(ValueError, match="'y' must be finite"):
        pls_fit(x, np.full(10, np.nan), 2)
    with pytest.raises(ValueError, match="'x' must be 2-D"):
        pls_fit(x[0], x[:, 0], 2)
    with pytest.raises(TypeError, match="'x' must be a numeric array"):
        pls_fit(np.array([["a"]]), [1.0], 1)
