"""nf.run end to end: R parity through the pipeline, target processing, sklearn models, replay."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
import pytest
from numpy.testing import assert_allclose

import nirsframe.api as api
from nirsframe.exceptions import AxisError, SpecError
from nirsframe.workspace import Workspace
from tests.conftest import SHARED_DATA, synthetic_spectra

if TYPE_CHECKING:
    from pathlib import Path

GASOLINE = SHARED_DATA / "gasoline.parquet"
REFERENCE = SHARED_DATA / "reference" / "gasoline_pls_manual.json"


@pytest.mark.skipif(not GASOLINE.exists(), reason="shared data absent")
def test_gasoline_matches_the_r_pls_manual() -> None:
    ref = json.loads(REFERENCE.read_text())
    spec = {
        "name": "gasoline",
        "target": "octane",
        "split": {"loo": {}},
        "steps": [{"model": {"pls": {"n_components": {"_range_": [1, 10]}}}}],
    }
    result = api.run(spec, GASOLINE)
    by_n = result.ranking.sort("n_components")
    assert (
        np.round(by_n["rmsecv"].to_numpy(), 4).tolist()
        == ref["LOO_CV_RMSEP_intercept_then_1_to_10"][1:]
    )
    assert (
        np.round(by_n["rmsep"].to_numpy(), 4).tolist()
        == ref["test_RMSEP_intercept_then_1_to_10"][1:]
    )


def frame(n: int = 40) -> pl.DataFrame:
    x = synthetic_spectra(n, 50, seed=11)
    y = 3.0 * x[:, 5:15].sum(axis=1) + 100.0
    return pl.DataFrame({"sample_id": [str(i) for i in range(n)], "spectra": x, "y": y})


def spec_with(model: dict[str, object], y_processing: str | None = None) -> dict[str, object]:
    steps: list[object] = [{"snv": {}}]
    if y_processing:
        steps.insert(0, {"y_processing": {y_processing: {}}})
    steps.append({"model": model})
    return {"name": "t", "target": "y", "split": {"kfold": {"n_splits": 4}}, "steps": steps}


@pytest.mark.parametrize("method", ["autoscale", "center", "standard", "minmax"])
def test_y_processing_leaves_pls1_predictions_unchanged(method: str) -> None:
    # PLS1 with centring is equivariant under an affine target transform: a correct per-fold
    # fit + inverse gives the same out-of-fold predictions as no processing at all.
    base = api.run(spec_with({"pls": {"n_components": 3}}), frame()).oof
    with_y = api.run(spec_with({"pls": {"n_components": 3}}, method), frame()).oof
    assert_allclose(with_y["y_pred"].to_numpy(), base["y_pred"].to_numpy(), rtol=1e-9)


def test_sklearn_model_equals_a_manual_fold_loop() -> None:
    from sklearn.linear_model import Ridge

    from nirsframe.operators import StandardNormalVariate

    result = api.run(spec_with({"sklearn.linear_model.Ridge": {"alpha": 0.5}}), frame())
    x = frame()["spectra"].to_numpy()
    y = frame()["y"].to_numpy()
    xs = StandardNormalVariate().fit_transform(x)
    expected = np.empty(40)
    for k in range(4):
        val = np.zeros(40, dtype=bool)
        val[k * 10 : (k + 1) * 10] = True
        expected[val] = Ridge(alpha=0.5).fit(xs[~val], y[~val]).predict(xs[val])
    assert_allclose(result.oof["y_pred"].to_numpy(), expected, rtol=1e-10)
    assert result.best["model"] == "sklearn.linear_model.Ridge(alpha=0.5)"


def test_disallowed_model_is_refused_before_import() -> None:
    with pytest.raises(SpecError, match="allowed"):
        api.run(spec_with({"os.system": {}}), frame())


def test_run_records_and_replays_bit_for_bit(tmp_path: Path) -> None:
    data = frame()
    result = api.run(spec_with({"pls": {"n_components": 3}}), data, workspace=tmp_path / "ws")
    ws = Workspace(tmp_path / "ws")
    stored = ws.predictions(result.run_id).filter(pl.col("scope") == "final")
    replay = api.predict(ws, result.run_id or "", data)
    assert np.array_equal(replay["y_pred"].to_numpy(), stored["y_pred"].to_numpy())
    lineage = ws.lineage(result.run_id or "", verify=True)
    assert lineage.dataset.version == 1
    # Same data again: no new dataset version; the run reopens its exact input version.
    again = api.run(spec_with({"pls": {"n_components": 3}}), data, workspace=ws)
    assert ws.run(again.run_id or "").dataset.version == 1
    narrower = data.with_columns(pl.Series("spectra", data["spectra"].to_numpy()[:, :40]))
    with pytest.raises(AxisError, match="differs from the axis"):
        api.predict(ws, result.run_id or "", narrower)


@pytest.mark.skipif(not GASOLINE.exists(), reason="shared data absent")
def test_pls_scale_true_equals_sklearn_scaled_pls() -> None:
    def spec(model: dict[str, object]) -> dict[str, object]:
        return {
            "name": "g",
            "target": "octane",
            "split": {"kfold": {"n_splits": 5}},
            "steps": [{"model": model}],
        }

    ours = api.run(spec({"pls": {"n_components": 5, "scale": True}}), GASOLINE).oof
    theirs = api.run(
        spec({"sklearn.cross_decomposition.PLSRegression": {"n_components": 5}}), GASOLINE
    ).oof
    plain = api.run(spec({"pls": {"n_components": 5}}), GASOLINE).oof
    assert_allclose(ours["y_pred"].to_numpy(), theirs["y_pred"].to_numpy(), rtol=1e-7)
    assert not np.allclose(ours["y_pred"].to_numpy(), plain["y_pred"].to_numpy())
