"""exclude / tag outlier filters inside the search: fitted per fold, reported, never silent."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from numpy.testing import assert_allclose
from sklearn.cross_decomposition import PLSRegression

import nirsframe.api as api
from nirsframe.dataset import SpectralDataset
from nirsframe.exceptions import SpecError
from nirsframe.filters import parse_filter
from nirsframe.operators import StandardNormalVariate
from nirsframe.pipeline.spec import load_pipeline
from tests.conftest import synthetic_spectra


def data() -> tuple[np.ndarray, np.ndarray]:
    x = synthetic_spectra(40, 50, seed=6)
    y = x[:, 10:20].sum(axis=1)
    y[[3, 17]] += 40.0  # two wild reference values
    return x, y


def spec(*filters: dict[str, object]) -> dict[str, object]:
    return {
        "name": "f",
        "target": "y",
        "split": {"venetian": {"n_splits": 4}},
        "steps": [{"snv": {}}, *filters, {"model": {"pls": {"n_components": 3}}}],
    }


def test_exclude_equals_a_manual_loop_and_flags_are_reported() -> None:
    x, y = data()
    res = api.run(spec({"exclude": {"zscore": {"threshold": 2.5}}}), (x, y))
    xs = StandardNormalVariate().transform(x)
    folds = np.arange(40) % 4
    expected = np.empty(40)
    for k in range(4):
        tr = np.flatnonzero(folds != k)
        flt = parse_filter({"zscore": {"threshold": 2.5}}).fit(xs[tr], y[tr])
        keep = tr[~flt.score(xs[tr], y[tr]).outlier]
        va = folds == k
        expected[va] = PLSRegression(3, scale=False).fit(xs[keep], y[keep]).predict(xs[va]).ravel()
    assert_allclose(res.oof["y_pred"].to_numpy(), expected, rtol=1e-8)
    assert res.best["n_excluded"] == 2
    assert res.flags is not None
    excluded = set(res.flags.filter(pl.col("flag") == "excluded")["sample_id"].to_list())
    assert excluded == {"3", "17"}
    # Validation rows are always predicted, flagged or not.
    assert res.oof["y_pred"].is_not_nan().all()


def test_tag_reports_without_changing_the_fit() -> None:
    x, y = data()
    plain = api.run(spec(), (x, y))
    tagged = api.run(spec({"tag": ["zscore", {"hotelling_t2": {"n_components": 3}}]}), (x, y))
    assert_allclose(tagged.oof["y_pred"].to_numpy(), plain.oof["y_pred"].to_numpy(), rtol=0, atol=0)
    assert tagged.flags is not None
    assert {"tag:zscore", "tag:hotelling_t2", "excluded"} >= set(tagged.flags["flag"].unique())
    assert tagged.best["n_excluded"] == 0


def test_filter_specs_are_validated_with_locations() -> None:
    with pytest.raises(SpecError, match=r"steps\[1\]\.exclude.*hotelling"):
        load_pipeline(spec({"exclude": {"hotteling_t2": {}}}))
    bad = spec({"exclude": "zscore"})
    bad["steps"] = [bad["steps"][0], bad["steps"][2], bad["steps"][1]]
    with pytest.raises(SpecError, match="must come before the model"):
        api.run(bad, data())
    _ = SpectralDataset


def test_sample_augmentation_is_train_only_and_seeded(tmp_path: object) -> None:
    from pathlib import Path

    from nirsframe.operators.augmentation import AdditiveNoise
    from nirsframe.workspace import Workspace

    x, y = data()
    aug = {
        "sample_augmentation": {"ops": [{"additive_noise": {"std": 0.002}}], "count": 2, "seed": 7}
    }
    res = api.run(spec(aug), (x, y))
    again = api.run(spec(aug), (x, y))
    assert_allclose(res.oof["y_pred"].to_numpy(), again.oof["y_pred"].to_numpy(), rtol=0, atol=0)
    # Manual: each fold trains on its rows plus 2 noisy copies of them, drawn with the
    # fold's own seed; the validation rows are predicted as they are.
    xs = StandardNormalVariate().transform(x)
    folds = np.arange(40) % 4
    expected = np.empty(40)
    for k in range(4):
        tr = np.flatnonzero(folds != k)
        xa, ya = AdditiveNoise(std=0.002).augment(
            xs[tr], y[tr], n_copies=2, random_state=7 + 1009 * (k + 1)
        )
        xf, yf = np.vstack([xs[tr], xa]), np.concatenate([y[tr], np.asarray(ya).ravel()])
        expected[folds == k] = (
            PLSRegression(3, scale=False).fit(xf, yf).predict(xs[folds == k]).ravel()
        )
    assert_allclose(res.oof["y_pred"].to_numpy(), expected, rtol=1e-8)
    assert res.oof.height == 40  # augmented rows never appear among the predictions
    assert res.best["preprocessing"] == "snv + augment"
    ws = Workspace(Path(str(tmp_path)) / "ws")
    recorded = api.run(spec(aug), (x, y), workspace=ws)
    stored = ws.predictions(recorded.run_id).filter(pl.col("scope") == "final")
    assert_allclose(
        api.predict(ws, recorded.run_id or "", (x, y))["y_pred"].to_numpy(),
        stored["y_pred"].to_numpy(),
        rtol=0,
        atol=0,
    )
    with pytest.raises(SpecError, match="not an augmentation operator"):
        load_pipeline(spec({"sample_augmentation": {"ops": [{"snv": {}}]}}))
