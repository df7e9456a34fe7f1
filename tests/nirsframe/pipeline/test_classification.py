"""Classification searches: PLS-DA and scikit-learn classifiers, leakage-free, on mayonnaise."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from numpy.testing import assert_array_equal

import nirsframe.api as api
from nirsframe.dataset import SpectralDataset
from nirsframe.exceptions import SpecError
from nirsframe.io import read_parquet
from nirsframe.models.plsda import PLSDA
from nirsframe.operators import StandardNormalVariate
from tests.conftest import SHARED_DATA, synthetic_spectra

MAYO = SHARED_DATA / "mayonnaise.parquet"


def classes() -> SpectralDataset:
    x = synthetic_spectra(45, 50, seed=4)
    y = np.repeat([1.0, 2.0, 3.0], 15)
    x[y == 2, 10:15] += 0.05
    x[y == 3, 30:35] += 0.05
    return SpectralDataset.from_numpy(x, y)


def spec(model: dict[str, object]) -> dict[str, object]:
    return {
        "name": "c",
        "target": "y",
        "split": {"venetian": {"n_splits": 3}},
        "steps": [{"snv": {}}, {"model": model}],
    }


def test_plsda_equals_a_manual_fold_loop_for_every_count() -> None:
    ds = classes()
    res = api.run(spec({"plsda": {"n_components": {"_range_": [1, 4]}}}), ds)
    x, y = ds.matrix(), ds.target()
    xs = StandardNormalVariate().transform(x)
    folds = np.arange(45) % 3
    for row in res.ranking.iter_rows(named=True):
        expected = np.empty(45)
        for k in range(3):
            tr, va = folds != k, folds == k
            expected[va] = (
                PLSDA(n_components=row["n_components"]).fit(xs[tr], y[tr]).predict(xs[va])
            )
        got = res.oof.filter(pl.col("variant") == row["variant"])["y_pred"].to_numpy()
        assert_array_equal(got, expected)
        assert row["accuracy_cv"] == pytest.approx(float(np.mean(expected == y)))
    assert res.ranking["accuracy_cv"].is_sorted(descending=True)


def test_sklearn_classifier_and_no_mixing() -> None:
    res = api.run(spec({"sklearn.neighbors.KNeighborsClassifier": {"n_neighbors": 3}}), classes())
    assert 0.0 <= res.best["accuracy_cv"] <= 1.0
    mixed = spec({"_or_": [{"plsda": {}}, {"pls": {}}]})
    mixed["steps"] = [
        {"snv": {}},
        {
            "_or_": [
                {"model": {"plsda": {"n_components": 2}}},
                {"model": {"pls": {"n_components": 2}}},
            ]
        },
    ]
    with pytest.raises(SpecError, match="mixes classifiers and regressors"):
        api.run(mixed, classes())


@pytest.mark.skipif(not MAYO.exists(), reason="shared data absent")
def test_mayonnaise_oil_types() -> None:
    ds = read_parquet(MAYO, targets="oil_type")
    s = {
        "name": "mayonnaise",
        "target": "oil_type",
        "split": {"stratified": {"n_splits": 5}},
        "steps": [
            {"savgol": {"window_length": 11, "deriv": 1}},
            {"model": {"plsda": {"n_components": {"_range_": [5, 15]}}}},
        ],
    }
    best = api.run(s, ds).best
    # 6 oil types, 120 training / 42 test spectra; chance is about 1/6.
    assert best["accuracy_cv"] > 0.8
    assert best["accuracy_test"] > 0.9


def test_classification_run_is_recorded_and_replays(tmp_path: object) -> None:
    from pathlib import Path

    from nirsframe.workspace import Workspace

    ws = Workspace(Path(str(tmp_path)) / "ws")
    res = api.run(spec({"plsda": {"n_components": 3}}), classes(), workspace=ws)
    stored = ws.predictions(res.run_id).filter(pl.col("scope") == "final")
    replay = api.predict(ws, res.run_id or "", classes())
    assert_array_equal(replay["y_pred"].to_numpy(), stored["y_pred"].to_numpy())
    metrics = set(ws.results(res.run_id)["metric"].to_list())
    assert {"accuracy_cv", "f1_cv"} <= metrics
