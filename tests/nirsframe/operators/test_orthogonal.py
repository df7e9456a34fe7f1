"""OSC and EPO: the defining properties from Fearn (2000) and Roger et al. (2003)."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from nirsframe.exceptions import InvalidParameterError
from nirsframe.operators import ExternalParameterOrthogonalization, OrthogonalSignalCorrection
from nirsframe.operators.orthogonal import epo, osc
from tests.conftest import SHARED_DATA, synthetic_spectra


def _gasoline() -> tuple[np.ndarray, np.ndarray]:
    path = SHARED_DATA / "gasoline.parquet"
    if not path.exists():
        pytest.skip("shared dataset gasoline absent")
    df = pl.read_parquet(path)
    return np.stack(df["spectrum"].to_numpy()), df["octane"].to_numpy()


@pytest.mark.parametrize("n_components", [1, 3])
def test_osc_components_are_orthogonal_to_y(n_components: int) -> None:
    x, y = _gasoline()
    op = OrthogonalSignalCorrection(n_components=n_components).fit(x, y)
    xc = x - op.mean_
    yc = y - y.mean()
    for w, p in zip(op.weights_, op.loadings_, strict=True):
        t = xc @ w
        assert abs(t @ yc) < 1e-10 * np.linalg.norm(t) * np.linalg.norm(yc)
        xc = xc - np.outer(t, p)
    # Weights are orthonormal and the corrected training data keeps X'y (nothing y-related lost).
    assert_allclose(op.weights_ @ op.weights_.T, np.eye(n_components), atol=1e-12)
    corrected = op.transform(x) - op.mean_
    assert_allclose(corrected.T @ yc, (x - op.mean_).T @ yc, rtol=1e-9, atol=1e-9)
    # The removed part has no covariance with y and is the largest such variation.
    assert np.linalg.norm(corrected) < np.linalg.norm(x - op.mean_)


def test_osc_first_component_is_fearns_solution() -> None:
    x, y = _gasoline()
    op = OrthogonalSignalCorrection().fit(x, y)
    xc = x - x.mean(axis=0)
    v = xc.T @ (y - y.mean())
    m = np.eye(x.shape[1]) - np.outer(v, v) / (v @ v)
    _, vecs = np.linalg.eigh(m @ xc.T @ xc @ m)
    w = vecs[:, -1] * np.sign(vecs[np.argmax(np.abs(vecs[:, -1])), -1])
    assert_allclose(op.weights_[0], w, atol=1e-8)


def test_osc_expression_and_function_face() -> None:
    x = synthetic_spectra()
    y = x[:, :10].sum(axis=1)
    op = OrthogonalSignalCorrection(n_components=2).fit(x, y)
    df = pl.DataFrame({"spectra": x})
    via_fn = df.select(osc(mean=op.mean_, weights=op.weights_, loadings=op.loadings_))
    assert_array_equal(via_fn["spectra"].to_numpy(), op.transform(x))
    with pytest.raises(InvalidParameterError, match="target y is None"):
        OrthogonalSignalCorrection().fit(x)
    with pytest.raises(InvalidParameterError, match="n_components"):
        OrthogonalSignalCorrection(n_components=50).fit(x[:10], y[:10])


def test_epo_removes_the_given_directions_exactly() -> None:
    rng = np.random.default_rng(0)
    x = synthetic_spectra()
    d = rng.normal(size=(3, x.shape[1]))
    op = ExternalParameterOrthogonalization(n_components=3, differences=tuple(map(tuple, d)))
    out = op.fit(x).transform(x)
    assert_allclose(out @ d.T, 0.0, atol=1e-12 * np.abs(x).max() * np.abs(d).max())
    assert_allclose(op.transform(d), 0.0, atol=1e-12)  # differences map to 0
    # Directions orthogonal to D pass unchanged.
    q, _ = np.linalg.qr(d.T, mode="complete")
    free = q[:, 3:5].T
    assert_allclose(op.transform(free), free, atol=1e-12)
    df = pl.DataFrame({"spectra": x})
    via_fn = df.select(epo(differences=tuple(map(tuple, d)), n_components=3))
    assert_array_equal(via_fn["spectra"].to_numpy(), out)


def test_epo_learns_within_group_differences() -> None:
    # Each sample measured at 3 "temperatures": the temperature effect is 2 fixed shapes.
    rng = np.random.default_rng(1)
    base = synthetic_spectra(10, 80, seed=4)
    effect = rng.normal(size=(2, 80))
    levels = rng.normal(size=(10, 3, 2))
    x = (base[:, None, :] + levels @ effect).reshape(30, 80)
    groups = np.repeat(np.arange(10), 3)
    op = ExternalParameterOrthogonalization(n_components=2).fit(x, groups=groups)
    out = op.transform(x)
    # The temperature effect is gone: spectra of one sample become identical.
    spread = out.reshape(10, 3, 80) - out.reshape(10, 3, 80).mean(axis=1, keepdims=True)
    assert_allclose(spread, 0.0, atol=1e-10)
    assert_allclose(out @ effect.T, 0.0, atol=1e-10)
    rebuilt = ExternalParameterOrthogonalization.from_fitted(op.get_params(), op.fitted_arrays())
    assert_array_equal(rebuilt.transform(x), out)


def test_epo_errors() -> None:
    x = synthetic_spectra()
    with pytest.raises(InvalidParameterError, match="differences"):
        ExternalParameterOrthogonalization(differences=((1.0, 2.0),)).fit(x)
    with pytest.raises(InvalidParameterError, match="rank"):
        ExternalParameterOrthogonalization(n_components=2, differences=((1.0,) * 120,)).fit(x)
    with pytest.raises(InvalidParameterError, match="groups"):
        ExternalParameterOrthogonalization().fit(x, groups=[0, 1])
    assert (
        json.loads(ExternalParameterOrthogonalization().params().model_dump_json())["differences"]
        is None
    )
