"""OPLS: the PLS(1 + n_orthogonal) identity, y-orthogonal scores, filtering, persistence."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.cross_decomposition import PLSRegression
from sklearn.utils.estimator_checks import parametrize_with_checks

from nirsframe.exceptions import InvalidParameterError
from nirsframe.models import OPLS, PLS
from tests.conftest import SHARED_DATA, synthetic_spectra


@parametrize_with_checks([OPLS(0), OPLS(1)], expected_failed_checks=lambda est: {})
def test_sklearn_conformance(estimator: OPLS, check: object) -> None:
    check(estimator)  # type: ignore[operator]


def _data() -> tuple[np.ndarray, np.ndarray]:
    x = synthetic_spectra(n=40, p=60)
    rng = np.random.default_rng(1)
    y = x[:, [5, 25, 45]] @ rng.normal(size=3) + 0.01 * rng.normal(size=40)
    return x, y


@pytest.mark.parametrize("k", [0, 1, 2, 3, 4])
def test_predictions_equal_pls_with_one_plus_k_components(k: int) -> None:
    x, y = _data()
    opls = OPLS(n_orthogonal=k).fit(x, y)
    pls = PLS(n_components=1 + k).fit(x, y)
    # Measured relative differences: 1e-16 (k=0) to 1.3e-13 (k=4); deflation order differs.
    scale = np.abs(pls.predict(x)).max()
    assert_allclose(opls.predict(x[:7]), pls.predict(x[:7]), rtol=0, atol=1e-11 * scale)
    assert_allclose(opls.coef_, pls.coef_[-1, :, 0], rtol=0, atol=1e-9 * np.abs(pls.coef_).max())
    sk = PLSRegression(n_components=1 + k, scale=False).fit(x, y)
    assert_allclose(opls.predict(x[:7]), sk.predict(x[:7]), rtol=1e-8, atol=1e-10)


def test_gasoline_identity() -> None:
    path = SHARED_DATA / "gasoline.parquet"
    if not path.exists():
        pytest.skip(f"shared dataset {path} is absent")
    df = pl.read_parquet(path)
    x = np.array(df["spectrum"].to_list(), dtype=np.float64)
    y = df["octane"].to_numpy().astype(np.float64)
    opls = OPLS(n_orthogonal=2).fit(x, y)
    pls = PLS(n_components=3).fit(x, y)
    assert_allclose(opls.predict(x), pls.predict(x), rtol=1e-9)


@pytest.mark.parametrize("k", [1, 3])
def test_orthogonal_scores_are_orthogonal_to_y(k: int) -> None:
    x, y = _data()
    model = OPLS(n_orthogonal=k).fit(x, y)
    t_o = model.orthogonal_scores(x)
    assert t_o.shape == (40, k)
    yc = y - y.mean()
    cosine = (t_o.T @ yc) / (np.linalg.norm(t_o, axis=0) * np.linalg.norm(yc))
    assert np.all(np.abs(cosine) < 1e-12)  # measured ~1e-15
    # The orthogonal weights are orthogonal to the predictive weight Xᵀy.
    xc = x - x.mean(axis=0)
    w = xc.T @ yc / np.linalg.norm(xc.T @ yc)
    assert_allclose(model.orthogonal_weights_ @ w, 0.0, atol=1e-12)


def test_filtered_spectra_and_scores() -> None:
    x, y = _data()
    model = OPLS(n_orthogonal=2).fit(x, y)
    filtered = model.remove_orthogonal(x)
    # No orthogonal variation is left in the filtered training spectra.
    again = model.orthogonal_scores(filtered)
    assert np.abs(again).max() < 1e-10 * np.abs(model.orthogonal_scores(x)).max()
    # The predictive score is the filtered, centred spectra projected on Xᵀy.
    t = model.transform(x)
    assert t.shape == (40, 1)
    assert_allclose(model.predict(x), model.y_mean_ + t[:, 0] * model.y_loadings_[0], rtol=1e-12)


def test_several_predictive_components_and_float32() -> None:
    x, y = _data()
    model = OPLS(n_orthogonal=1, n_components=3).fit(x, y)
    assert model.transform(x).shape == (40, 3)
    m32 = OPLS(2).fit(x.astype(np.float32), y)
    ref = OPLS(2).fit(x.astype(np.float32).astype(np.float64), y)
    assert_allclose(m32.predict(x), ref.predict(x), rtol=1e-12)


def test_fitted_state_round_trip() -> None:
    x, y = _data()
    model = OPLS(n_orthogonal=2).fit(x, y)
    rebuilt = OPLS.from_fitted(model.get_params(), model.fitted_arrays())
    assert_array_equal(rebuilt.predict(x), model.predict(x))
    assert_array_equal(rebuilt.orthogonal_scores(x), model.orthogonal_scores(x))
    arrays = model.fitted_arrays()
    with pytest.raises(InvalidParameterError, match="orthogonal_weights_"):
        OPLS.from_fitted({"n_orthogonal": 3}, arrays)
    del arrays["coef_"]
    with pytest.raises(InvalidParameterError, match="coef_"):
        OPLS.from_fitted(model.get_params(), arrays)


def test_errors() -> None:
    x, y = _data()
    with pytest.raises(InvalidParameterError, match="'n_orthogonal'"):
        OPLS(n_orthogonal=-1).fit(x, y)
    with pytest.raises(InvalidParameterError, match="n_orthogonal=39"):
        OPLS(n_orthogonal=39).fit(x, y)
    with pytest.raises(InvalidParameterError, match="no covariance"):
        OPLS(1).fit(x, np.ones(40))
    # Rank 3 (a duplicated column): after 2 orthogonal components only the predictive is left.
    rng = np.random.default_rng(0)
    x2 = rng.normal(size=(20, 3))
    with pytest.raises(InvalidParameterError, match="orthogonal component 3"):
        OPLS(n_orthogonal=3).fit(np.column_stack([x2, x2[:, 0]]), x2[:, 0])
