"""Hotelling T², Q residuals and leverage: parity, limits, error rates, planted outliers."""

from __future__ import annotations

import numpy as np
import pytest

from nirsframe.exceptions import (
    DatasetError,
    InvalidParameterError,
    NotFittedError,
    SpectralShapeError,
)
from nirsframe.filters import HotellingT2, Leverage, QResiduals
from nirsframe.filters._decomposition import fit_pca
from nirsframe.filters.spectral import hotelling_t2_limit, jackson_mudholkar_limit
from tests.conftest import synthetic_spectra

stats = pytest.importorskip("scipy.stats")
sk_decomposition = pytest.importorskip("sklearn.decomposition")
sk_cross = pytest.importorskip("sklearn.cross_decomposition")

P = 20
SD = np.geomspace(5.0, 0.5, P)  # anisotropic Gaussian: a clear PCA structure plus a residual
ROT, _ = np.linalg.qr(np.random.default_rng(123).normal(size=(P, P)))


def gaussian(rng: np.random.Generator, n: int) -> np.ndarray:
    """Rows of one fixed multivariate normal (covariance ROT diag(SD^2) ROT^T, mean 3)."""
    return (rng.normal(size=(n, P)) * SD) @ ROT.T + 3.0


# -- parity with scikit-learn ------------------------------------------------------------------
def test_hotelling_t2_matches_sklearn_pca() -> None:
    x = synthetic_spectra(60, 80, seed=1)
    new = synthetic_spectra(15, 80, seed=2)
    f = HotellingT2(n_components=4).fit(x)
    pca = sk_decomposition.PCA(n_components=4, svd_solver="full").fit(x)
    ref = (pca.transform(new) ** 2 / pca.explained_variance_).sum(axis=1)
    np.testing.assert_allclose(f.score(new).statistic, ref, rtol=1e-11)  # measured 5e-15


def test_q_residuals_match_sklearn_reconstruction() -> None:
    x = synthetic_spectra(60, 80, seed=1)
    new = synthetic_spectra(15, 80, seed=2)
    f = QResiduals(n_components=3).fit(x)
    pca = sk_decomposition.PCA(n_components=3, svd_solver="full").fit(x)
    ref = ((new - pca.inverse_transform(pca.transform(new))) ** 2).sum(axis=1)
    np.testing.assert_allclose(f.score(new).statistic, ref, rtol=1e-11)  # measured 5e-15


@pytest.mark.parametrize("method", ["pca", "pls"])
def test_leverage_is_the_hat_matrix_diagonal(method: str) -> None:
    rng = np.random.default_rng(3)
    x = synthetic_spectra(50, 60, seed=3)
    y = x[:, 10] * 3.0 + rng.normal(0.0, 0.01, 50)
    f = Leverage(n_components=4, method=method).fit(x, y)
    h = f.score(x).statistic
    # The hat matrix of an intercept plus the A score columns: mean leverage (A + 1) / n.
    if method == "pca":
        t = sk_decomposition.PCA(n_components=4, svd_solver="full").fit_transform(x)
    else:
        t = sk_cross.PLSRegression(n_components=4, scale=False).fit(x, y).transform(x)
    design = np.column_stack([np.ones(50), t])
    hat = design @ np.linalg.solve(design.T @ design, design.T)
    np.testing.assert_allclose(h, np.diag(hat), rtol=1e-11)  # measured 3e-15
    assert h.sum() == pytest.approx(5.0, rel=1e-12)
    assert f.threshold_ == pytest.approx(3.0 * 5 / 50)


# -- limits against reference formulas ---------------------------------------------------------
@pytest.mark.parametrize(("a", "n", "alpha"), [(1, 10, 0.95), (3, 50, 0.99), (10, 1000, 0.999)])
def test_hotelling_limit_matches_scipy_formula(a: int, n: int, alpha: float) -> None:
    ref = a * (n - 1) / (n - a) * stats.f.ppf(alpha, a, n - a)
    assert hotelling_t2_limit(a, n, alpha) == pytest.approx(ref, rel=1e-10)
    x = np.random.default_rng(0).normal(size=(n, max(a + 2, 12)))
    assert HotellingT2(n_components=a, alpha=alpha).fit(x).threshold_ == pytest.approx(
        ref, rel=1e-10
    )


def _jm_reference(lam: np.ndarray, alpha: float) -> float:
    """Jackson & Mudholkar (1979) as printed, with scipy's normal quantile."""
    t1, t2, t3 = (np.sum(lam**i) for i in (1, 2, 3))
    h0 = 1 - 2 * t1 * t3 / (3 * t2**2)
    c = stats.norm.ppf(alpha)
    return float(
        t1 * (c * np.sqrt(2 * t2 * h0**2) / t1 + 1 + t2 * h0 * (h0 - 1) / t1**2) ** (1 / h0)
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("alpha", [0.9, 0.95, 0.99, 0.999])
def test_jackson_mudholkar_matches_printed_formula(seed: int, alpha: float) -> None:
    lam = np.sort(np.random.default_rng(seed).uniform(0.1, 2.0, 15))[::-1]
    assert jackson_mudholkar_limit(lam, alpha) == pytest.approx(
        _jm_reference(lam, alpha), rel=1e-12
    )


@pytest.mark.parametrize("m", [5, 20, 100])
def test_jackson_mudholkar_approximates_chi2_for_equal_eigenvalues(m: int) -> None:
    # Q / lambda ~ chi2(m) exactly when the m residual eigenvalues are equal; J-M is an
    # approximation: measured relative gap 0.4 % (m = 5), 0.1 % (m = 20), 0.03 % (m = 100).
    ref = 0.7 * stats.chi2.ppf(0.99, m)
    assert jackson_mudholkar_limit(np.full(m, 0.7), 0.99) == pytest.approx(ref, rel=5e-3)


@pytest.mark.parametrize(
    ("lam", "rel"),
    [
        # Measured J-M / empirical - 1 at 0.99: +0.7 % (5-fold eigenvalue spread) and +3.4 %
        # (40-fold spread: J-M is an approximation that turns conservative for uneven residual
        # eigenvalues). 400k draws pin the empirical 99 % quantile to ~0.3 %.
        (np.geomspace(1.0, 0.2, 16), 0.015),
        (np.geomspace(2.0, 0.05, 16), 0.05),
    ],
)
def test_jackson_mudholkar_matches_monte_carlo_quantile(lam: np.ndarray, rel: float) -> None:
    # Q = sum_j lambda_j z_j^2 for Gaussian rows with residual eigenvalues lambda.
    rng = np.random.default_rng(7)
    q = np.zeros(400_000)
    for value in lam:
        q += value * rng.standard_normal(q.size) ** 2
    empirical = np.quantile(q, 0.99)
    limit = jackson_mudholkar_limit(lam, 0.99)
    assert limit == pytest.approx(empirical, rel=rel)
    assert limit >= empirical * 0.997  # never markedly liberal on these spectra


# -- false-positive rate on Gaussian data ------------------------------------------------------
@pytest.mark.parametrize("cls", [HotellingT2, QResiduals])
def test_false_positive_rate_is_about_one_percent(cls: type) -> None:
    # Fit on 1,000 training rows, score 50,000 new rows from the same distribution, 5 seeds.
    # The spread comes mostly from estimating the loadings: per seed measured 0.78-1.00 % (T²) and
    # 0.86-1.24 % (Q). Tolerances: each seed within [0.5, 1.6] %, the mean within [0.8, 1.25] %.
    rates = []
    for seed in range(5):
        rng = np.random.default_rng(seed)
        f = cls(n_components=4, alpha=0.99).fit(gaussian(rng, 1000))
        rates.append(f.score(gaussian(rng, 50_000)).outlier.mean())
    assert all(0.005 <= r <= 0.016 for r in rates), rates
    assert 0.008 <= np.mean(rates) <= 0.0125, rates


# -- planted outliers --------------------------------------------------------------------------
def test_planted_outliers_are_flagged_by_the_right_filter() -> None:
    rng = np.random.default_rng(11)
    train = gaussian(rng, 300)
    normal = gaussian(rng, 200)
    f_t2 = HotellingT2(n_components=4).fit(train)
    f_q = QResiduals(n_components=4).fit(train)
    f_h = Leverage(n_components=4).fit(train)
    # Large leverage: far along the first loading (inside the model plane, so Q stays small).
    far = train.mean(axis=0) + 12.0 * SD[0] * f_t2.rotation_[:, 0]
    # Large residual: a spike orthogonal to the 4-component plane.
    ortho = rng.normal(size=P)
    ortho -= f_q.rotation_ @ (f_q.rotation_.T @ ortho)
    spike = train.mean(axis=0) + 30.0 * ortho / np.linalg.norm(ortho)
    rows = np.vstack([normal, far, spike])
    t2, q, h = f_t2.score(rows), f_q.score(rows), f_h.score(rows)
    assert t2.outlier[200] and h.outlier[200] and not q.outlier[200]
    assert q.outlier[201] and not t2.outlier[201]
    assert t2.outlier[:200].mean() < 0.05 and q.outlier[:200].mean() < 0.05
    assert h.outlier[:200].mean() < 0.05


# -- fitted on training rows only --------------------------------------------------------------
@pytest.mark.parametrize(
    "make",
    [
        lambda: HotellingT2(n_components=3),
        lambda: QResiduals(n_components=3),
        lambda: Leverage(n_components=3),
        lambda: Leverage(n_components=3, method="pls"),
    ],
)
def test_score_never_refits(make: object) -> None:
    rng = np.random.default_rng(5)
    train, valid = gaussian(rng, 100), gaussian(rng, 40)
    y = train[:, 0]
    f = make().fit(train, y)  # type: ignore[operator]
    before = {k: v.copy() for k, v in f.fitted_arrays().items()}
    clean = f.score(valid)
    poisoned = valid.copy()
    poisoned[:10] *= 1e6  # poison validation rows: they must be flagged, nothing else changes
    out = f.score(poisoned)
    assert out.threshold == clean.threshold
    assert out.outlier[:10].all()
    np.testing.assert_allclose(out.statistic[10:], clean.statistic[10:], rtol=1e-12)
    for k, v in f.fitted_arrays().items():
        np.testing.assert_array_equal(v, before[k])


def test_nan_rows_score_nan_and_are_not_flagged() -> None:
    x = synthetic_spectra(40, 50)
    f = QResiduals(n_components=3).fit(x)
    rows = x[:3].copy()
    rows[1, 7] = np.nan
    s = f.score(rows)
    assert np.isnan(s.statistic[1]) and not s.outlier[1]
    np.testing.assert_allclose(s.statistic[[0, 2]], f.score(x[[0, 2]]).statistic, rtol=1e-12)


def test_fitted_state_round_trip() -> None:
    x = synthetic_spectra(40, 50)
    for f in (HotellingT2(n_components=3), QResiduals(n_components=2), Leverage(n_components=2)):
        f.fit(x)
        g = type(f).from_fitted(f.params.model_dump(), f.fitted_arrays())
        np.testing.assert_array_equal(g.score(x).statistic, f.score(x).statistic)
        assert g.score(x).threshold == f.score(x).threshold


# -- errors name their parameter ---------------------------------------------------------------
def test_errors_name_parameters() -> None:
    x = synthetic_spectra(10, 30)
    with pytest.raises(InvalidParameterError, match=r"'n_components'.*got n_components=10"):
        HotellingT2(n_components=10).fit(x)
    with pytest.raises(InvalidParameterError, match="'alpha' parameter of filter 'q_residuals'"):
        QResiduals(alpha=1.5)
    with pytest.raises(InvalidParameterError, match="'k' parameter of filter 'leverage'"):
        Leverage(k=0)
    with pytest.raises(InvalidParameterError, match="filter 'leverage' has no parameter 'ncomp'"):
        Leverage(ncomp=3)
    with pytest.raises(InvalidParameterError, match="'method' parameter"):
        Leverage(method="svd")
    # Rank-deficient training data: 3 distinct directions only.
    flat = np.repeat(x[:4], 3, axis=0)
    with pytest.raises(InvalidParameterError, match=r"exceeds the rank \(3\).*n_components=5"):
        HotellingT2(n_components=5).fit(flat)
    with pytest.raises(InvalidParameterError, match="leaves no residual variance"):
        QResiduals(n_components=3).fit(flat)


def test_data_errors() -> None:
    x = synthetic_spectra(20, 30)
    f = HotellingT2(n_components=2)
    with pytest.raises(NotFittedError, match="call 'fit' first"):
        f.score(x)
    bad = x.copy()
    bad[4, 0] = np.nan
    with pytest.raises(DatasetError, match=r"training spectra 'X' must be finite.*\[4\]"):
        f.fit(bad)
    f.fit(x)
    with pytest.raises(SpectralShapeError, match=r"width 30; got 'X' of shape \(2, 29\)"):
        f.score(x[:2, :29])
    with pytest.raises(SpectralShapeError, match="2-D"):
        f.score(x[0])
    with pytest.raises(DatasetError, match="needs a target; got y=None"):
        Leverage(n_components=2, method="pls").fit(x)


@pytest.mark.parametrize("shape", [(120, 40), (40, 120)])
def test_gram_route_matches_the_thin_svd(shape: tuple[int, int]) -> None:
    # Large problems (both sides > GRAM_MIN_SIZE) go through the Gram matrix; measured agreement
    # with the LAPACK SVD on these spectra: 2e-15 (score variances), 6e-16 (loadings),
    # 8e-15 (Q limit).
    x = synthetic_spectra(*shape, seed=4)
    svd, gram = fit_pca(x, 4, "f", gram=False), fit_pca(x, 4, "f", gram=True)
    np.testing.assert_allclose(gram.score_ss, svd.score_ss, rtol=1e-12)
    np.testing.assert_allclose(np.abs(gram.rotation), np.abs(svd.rotation), atol=1e-12)
    lam_svd, lam_gram = svd.singular_values[4:] ** 2, gram.singular_values[4:] ** 2
    assert jackson_mudholkar_limit(lam_gram, 0.99) == pytest.approx(
        jackson_mudholkar_limit(lam_svd, 0.99), rel=1e-10
    )
    flat = np.repeat(x[:4], 3, axis=0)
    with pytest.raises(InvalidParameterError, match=r"exceeds the rank \(3\)"):
        fit_pca(flat, 5, "f", gram=True)
