"""Explanations: coefficients mapped through affine preprocessing, VIP, importance, SHAP."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import numpy as np
import pytest
from sklearn.cross_decomposition import PLSRegression
from sklearn.linear_model import Ridge
from typer.testing import CliRunner

import nirsframe as nf
from nirsframe.cli import app
from nirsframe.demo import SAMPLE_DATA
from nirsframe.exceptions import InvalidParameterError, WorkspaceError
from nirsframe.explain import explain, explain_chain, vip_scores
from nirsframe.models.pls import PLS
from nirsframe.operators import (
    Detrend,
    MeanCenter,
    SavitzkyGolay,
    StandardNormalVariate,
)
from nirsframe.workspace import FittedChain, Workspace
from tests.conftest import synthetic_spectra

if TYPE_CHECKING:
    from pathlib import Path

SMALL = {
    "name": "small",
    "target": "fat",
    "split": {"kfold": {"n_splits": 3}},
    "steps": [
        {"_or_": [{"snv": {}}, {"savgol": {"window_length": 7, "polyorder": 2, "deriv": 1}}]},
        {"model": {"pls": {"n_components": {"_range_": [1, 6]}}}},
    ],
}


def _data(n: int = 60, p: int = 80) -> tuple[np.ndarray, np.ndarray]:
    x = synthetic_spectra(n, p, seed=3)
    y = x[:, 20] * 3.0 - x[:, 50] + np.random.default_rng(1).normal(0, 0.01, n)
    return x, y


def _nipals_pls1(x: np.ndarray, y: np.ndarray, a: int) -> tuple[np.ndarray, ...]:
    """Reference NIPALS PLS1 (Wold 2001) on centred data: W, T, q."""
    xc, yc = x - x.mean(axis=0), y - y.mean()
    w_all, t_all, q_all = [], [], []
    for _ in range(a):
        w = xc.T @ yc
        w /= np.linalg.norm(w)
        t = xc @ w
        tt = t @ t
        p = xc.T @ t / tt
        q = yc @ t / tt
        xc = xc - np.outer(t, p)
        yc = yc - q * t
        w_all.append(w)
        t_all.append(t)
        q_all.append(q)
    return np.array(w_all).T, np.array(t_all).T, np.array(q_all)


def _vip_reference(w: np.ndarray, t: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Chong & Jun (2005) eq. 7 written out with explicit loops."""
    p, a = w.shape
    ss = [q[k] ** 2 * float(t[:, k] @ t[:, k]) for k in range(a)]
    out = np.empty(p)
    for j in range(p):
        num = sum(ss[k] * (w[j, k] / np.linalg.norm(w[:, k])) ** 2 for k in range(a))
        out[j] = np.sqrt(p * num / sum(ss))
    return out


def test_vip_matches_nipals_reference_and_mean_square_is_one() -> None:
    x, y = _data()
    model = PLS(n_components=5).fit(x, y)
    t = model.transform(x)
    ours = vip_scores(model.x_weights_, t, model.y_loadings_)
    w, tr, q = _nipals_pls1(x, y, 5)
    ref = _vip_reference(w, tr, q)
    np.testing.assert_allclose(ours, ref, rtol=1e-9)
    np.testing.assert_allclose(np.mean(ours**2), 1.0, rtol=1e-12)
    # scikit-learn's NIPALS gives the same VIP (weights/scores up to sign).
    sk = PLSRegression(n_components=5, scale=False).fit(x, y)
    sk_vip = vip_scores(sk.x_weights_, sk.x_scores_, sk.y_loadings_)
    np.testing.assert_allclose(ours, sk_vip, rtol=1e-8)


def test_vip_one_component_is_scaled_weight_and_rejects_bad_shapes() -> None:
    x, y = _data()
    model = PLS(n_components=1).fit(x, y)
    vip = vip_scores(model.x_weights_, model.transform(x), model.y_loadings_)
    w = model.x_weights_[:, 0]
    np.testing.assert_allclose(vip, np.sqrt(x.shape[1]) * np.abs(w) / np.linalg.norm(w), rtol=1e-12)
    with pytest.raises(InvalidParameterError, match="share A"):
        vip_scores(np.ones((3, 2)), np.ones((5, 3)), np.ones(2))


@pytest.mark.parametrize(
    "steps",
    [
        [],
        [SavitzkyGolay(window_length=7, polyorder=2, deriv=1)],
        [Detrend(order=1), MeanCenter()],
        [SavitzkyGolay(window_length=5, polyorder=2), MeanCenter()],
    ],
    ids=["none", "savgol", "detrend+mean_center", "savgol+mean_center"],
)
def test_affine_chains_map_coefficients_to_the_original_axis(steps: list) -> None:
    x, y = _data()
    xt = x
    for s in steps:
        xt = s.fit(xt).transform(xt)
    model = PLS(n_components=4).fit(xt, y)
    chain = FittedChain.from_estimators(steps, model)
    e = explain_chain(chain, x, y, axis=np.linspace(1000, 1600, x.shape[1]), shap=False)
    assert e.coef_space == "original"
    assert e.coef.shape == (x.shape[1],)
    # The chain is exactly the linear model x @ coef + intercept.
    np.testing.assert_allclose(x @ e.coef + e.intercept, chain.predict(x), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(e.coef_preprocessed, model.coef_[3][:, 0], rtol=0, atol=0)
    assert e.n_components == 4
    assert e.frame.columns[:4] == ["wavelength", "coef", "coef_space", "vip"]


def test_nonlinear_chain_keeps_preprocessed_coefficients() -> None:
    x, y = _data()
    snv = StandardNormalVariate()
    z = snv.transform(x)
    model = PLS(n_components=3).fit(z, y)
    e = explain_chain(FittedChain.from_estimators([snv], model), x, y, shap=False)
    assert e.coef_space == "preprocessed"
    np.testing.assert_array_equal(e.coef, model.coef_[2][:, 0])
    assert e.frame["coef_space"].unique().to_list() == ["preprocessed"]
    assert any("not affine" in n for n in e.notes)


def test_permutation_importance_finds_the_informative_bands() -> None:
    x, _ = _data(120, 100)
    rng = np.random.default_rng(0)
    x = x + rng.normal(0, 0.05, x.shape)
    y = 5 * x[:, 40:45].mean(axis=1)
    model = Ridge(alpha=1e-3).fit(x, y)
    chain = FittedChain.from_estimators([], model)
    a = explain_chain(chain, x, y, band_width=5, seed=3, shap=False)
    b = explain_chain(chain, x, y, band_width=5, seed=3, shap=False)
    np.testing.assert_array_equal(a.importance, b.importance)  # seeded
    assert int(np.argmax(a.importance)) in range(40, 45)
    assert a.vip is None
    assert np.all(a.importance[40:45] == a.importance[40])  # one value per band


def test_explain_argument_errors() -> None:
    x, y = _data()
    chain = FittedChain.from_estimators([], PLS(n_components=2).fit(x, y))
    with pytest.raises(InvalidParameterError, match="band_width"):
        explain_chain(chain, x, y, band_width=0)
    with pytest.raises(InvalidParameterError, match="n_components"):
        explain_chain(chain, x, y, n_components=3)
    with pytest.raises(InvalidParameterError, match="'axis' has 3 points"):
        explain_chain(chain, x, y, axis=[1.0, 2.0, 3.0])


def test_shap_is_optional() -> None:
    x, y = _data()
    chain = FittedChain.from_estimators([], PLS(n_components=2).fit(x, y))
    e = explain_chain(chain, x[:40], y[:40], x_eval=x[40:], y_eval=y[40:])
    try:
        import shap  # noqa: F401
    except ImportError:
        assert e.shap_values is None
        assert any("shap" in n for n in e.notes)
    else:
        # Linear model, independent masker: phi = coef * (x - mean(background)).
        want = (x[40:] - x[:40].mean(axis=0)) * e.coef
        np.testing.assert_allclose(e.shap_values, want, rtol=1e-8, atol=1e-10)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    ws = tmp_path_factory.mktemp("explain") / "ws"
    res = nf.run(
        SMALL, SAMPLE_DATA, workspace=ws, train_values=["train", "monitor"], test_values=["test"]
    )
    assert res.run_id is not None
    return ws, res.run_id


def test_explain_a_recorded_run(recorded: tuple[Path, str]) -> None:
    ws, run_id = recorded
    e = nf.explain(ws, run_id, n_repeats=2)
    assert e.run_id == run_id
    assert e.unit == "nm"
    assert e.wavelength[0] == pytest.approx(850.0)
    frame = e.frame
    assert frame.height == 100
    assert frame["importance"].null_count() == 0
    assert frame["vip"].null_count() == 0
    np.testing.assert_allclose(np.mean(e.vip**2), 1.0, rtol=1e-12)
    with pytest.raises(WorkspaceError, match="no run"):
        explain(Workspace(ws), "nope")


def test_cli_explain(recorded: tuple[Path, str]) -> None:
    ws, run_id = recorded
    runner = CliRunner()
    res = runner.invoke(app, ["explain", run_id, "-w", str(ws), "--json", "--repeats", "1"])
    assert res.exit_code == 0, res.output
    info = json.loads(res.output)
    assert info["run_id"] == run_id
    assert len(info["columns"]["wavelength"]) == 100
    res = runner.invoke(app, ["explain", run_id, "-w", str(ws), "--repeats", "1"])
    assert res.exit_code == 0, res.output
    assert "coef" in res.output
    res = runner.invoke(app, ["explain", "missing", "-w", str(ws)])
    assert res.exit_code == 1
    assert res.output.startswith("error: no run")
