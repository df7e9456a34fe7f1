"""finetune: parameters chosen by an inner CV on each outer fold's training rows only."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.cross_decomposition import PLSRegression
from sklearn.linear_model import Ridge

import nirsframe.api as api
from nirsframe.dataset import SpectralDataset
from nirsframe.exceptions import SpecError
from nirsframe.pipeline.finetune import grid, sample_space
from nirsframe.pipeline.spec import load_pipeline
from tests.conftest import synthetic_spectra


def data() -> SpectralDataset:
    x = synthetic_spectra(36, 40, seed=8)
    y = x[:, 5:12].sum(axis=1) + 0.3 * x[:, 25:30].sum(axis=1)
    return SpectralDataset.from_numpy(x, y)


def spec(
    model: dict[str, object], space: dict[str, object], search: str = "grid"
) -> dict[str, object]:
    return {
        "name": "ft",
        "target": "y",
        "split": {"venetian": {"n_splits": 3}},
        "steps": [
            {
                "finetune": {
                    "model": model,
                    "space": space,
                    "search": search,
                    "n_trials": 4,
                    "seed": 3,
                }
            }
        ],
    }


def inner_choice(x: np.ndarray, y: np.ndarray, counts: list[int]) -> int:
    """The component count with the lowest venetian 3-fold RMSECV on (x, y)."""
    folds = np.arange(y.size) % 3
    errors = []
    for n in counts:
        pred = np.empty(y.size)
        for k in range(3):
            tr, va = folds != k, folds == k
            pred[va] = PLSRegression(n, scale=False).fit(x[tr], y[tr]).predict(x[va]).ravel()
        errors.append(np.sqrt(np.mean((pred - y) ** 2)))
    return counts[int(np.argmin(errors))]


def test_nested_selection_matches_a_hand_computation() -> None:
    ds = data()
    x, y = ds.matrix(), ds.target()
    counts = [1, 2, 3, 5, 8]
    res = api.run(spec({"pls": {}}, {"n_components": counts}), ds)
    folds = np.arange(36) % 3
    expected = np.empty(36)
    chosen = []
    for k in range(3):
        tr, va = np.flatnonzero(folds != k), folds == k
        n = inner_choice(x[tr], y[tr], counts)  # selection sees the fold's training rows only
        chosen.append(n)
        expected[va] = PLSRegression(n, scale=False).fit(x[tr], y[tr]).predict(x[va]).ravel()
    assert [c["n_components"] for c in res.extra["tuned_per_fold"]] == chosen
    assert_allclose(res.oof["y_pred"].to_numpy(), expected, rtol=1e-8)


def test_random_search_is_seeded_and_sklearn_models_tune() -> None:
    space = {"alpha": {"low": 1e-4, "high": 10.0, "log": True}}
    a = api.run(spec({"sklearn.linear_model.Ridge": {}}, space, "random"), data())
    b = api.run(spec({"sklearn.linear_model.Ridge": {}}, space, "random"), data())
    assert a.extra["tuned_per_fold"] == b.extra["tuned_per_fold"]
    assert np.isfinite(a.best["rmsecv"])
    assert sample_space(space, 4, seed=3) == sample_space(space, 4, seed=3)
    assert len(grid({"a": [1, 2], "b": [3, 4, 5]})) == 6
    _ = Ridge


def test_bad_specs() -> None:
    with pytest.raises(SpecError, match="search"):
        load_pipeline(spec({"pls": {}}, {"n_components": [1, 2]}, "bayes"))
    with pytest.raises(SpecError, match="non-empty list"):
        api.run(spec({"pls": {}}, {"n_components": {"low": 1, "high": 4}}), data())
    try:
        import optuna  # noqa: F401
    except ImportError:
        with pytest.raises(SpecError, match=r"nirsframe\[tune\]"):
            api.run(spec({"pls": {}}, {"n_components": [1, 2]}, "optuna"), data())


def test_tuned_runs_are_recorded_with_the_final_selection(tmp_path: object) -> None:
    from pathlib import Path

    from nirsframe.workspace import FittedGraph, Workspace

    ws = Workspace(Path(str(tmp_path)) / "ws")
    res = api.run(spec({"pls": {}}, {"n_components": [1, 2, 3]}), data(), workspace=ws)
    # Without test rows the final selection still runs on all training rows.
    assert res.extra["tuned_final"]["n_components"] in (1, 2, 3)
    graph = ws.fitted(res.run_id or "")
    assert isinstance(graph, FittedGraph)
    assert graph.kind == "tuned"
    assert graph.info == {"params": res.extra["tuned_final"]}
    assert set(ws.predictions(res.run_id)["scope"].unique()) == {"cv", "final"}
