"""nirs4all pipeline import: mapping table, generators, splits, unsupported steps, CLI."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
import pytest
import yaml
from polars.testing import assert_frame_equal
from scipy import signal
from scipy.ndimage import gaussian_filter1d
from typer.testing import CliRunner

import nirsframe.api as api
from nirsframe.cli import app
from nirsframe.exceptions import SpecError
from nirsframe.io import scan_parquet
from nirsframe.io.sources import pivot_sources
from nirsframe.operators import REGISTRY
from nirsframe.pipeline.nirs4all_import import convert_nirs4all
from nirsframe.pipeline.spec import expand, load_pipeline
from tests.conftest import SHARED_DATA

if TYPE_CHECKING:
    from pathlib import Path

T = "nirs4all.operators.transforms"

# As nirs4all writes it: class dicts, a split step among the steps, a named model.
BASIC_REGRESSION: dict[str, Any] = {
    "name": "basic_regression",
    "description": "SNV + first derivative + PLS",
    "pipeline": [
        {"class": f"{T}.StandardNormalVariate"},
        {
            "class": f"{T}.SavitzkyGolay",
            "params": {"window_length": 15, "polyorder": 2, "deriv": 1},
        },
        {"y_processing": {"class": "sklearn.preprocessing.MinMaxScaler"}},
        {
            "class": "sklearn.model_selection.KFold",
            "params": {"n_splits": 5, "shuffle": True, "random_state": 42},
        },
        {
            "model": {
                "class": "sklearn.cross_decomposition.PLSRegression",
                "params": {"n_components": 6},
            },
            "name": "PLS-6",
        },
    ],
}

# The generator sample of nirs4all's examples, in its canonical (internal module) form.
GENERATORS: dict[str, Any] = {
    "name": "Generator Syntax Pipeline",
    "pipeline": [
        {"y_processing": {"class": "sklearn.preprocessing._data.StandardScaler"}},
        {
            "_or_": [
                {"class": "nirs4all.operators.transforms.scalers.StandardNormalVariate"},
                {"class": "nirs4all.operators.transforms.nirs.MultiplicativeScatterCorrection"},
                {"class": "nirs4all.operators.transforms.signal.Detrend", "params": {"bp": 0}},
            ],
            "count": 2,
            "_seed_": 7,
            "_comment": "Randomly keep 2 preprocessing methods of the 3",
        },
        {"class": "sklearn.model_selection._split.KFold", "params": {"n_splits": 3}},
        {
            "model": {"class": "sklearn.cross_decomposition._pls.PLSRegression"},
            "_range_": [2, 15, 3],
            "param": "n_components",
        },
        {
            "model": {"class": "sklearn.linear_model.Ridge"},
            "_log_range_": [0.001, 100, 5],
            "param": "alpha",
        },
        {
            "model": {
                "class": "sklearn.ensemble.RandomForestRegressor",
                "params": {"random_state": 42},
            },
            "_grid_": {"n_estimators": [50, 100], "max_depth": [5, 10]},
        },
    ],
}


def test_basic_regression_converts_exactly() -> None:
    spec = convert_nirs4all(BASIC_REGRESSION, target="octane")
    assert spec == {
        "name": "basic_regression",
        "target": "octane",
        "split": {"kfold": {"n_splits": 5, "shuffle": True, "random_state": 42}},
        "steps": [
            {"snv": {}},
            {"savgol": {"window_length": 15, "polyorder": 2, "deriv": 1}},
            {"y_processing": {"minmax": {}}},
            # scikit-learn's PLSRegression scales X and y by default: written out
            {"model": {"pls": {"n_components": 6, "scale": True}}},
        ],
    }
    assert load_pipeline(spec).n_variants == 1


@pytest.mark.skipif(not (SHARED_DATA / "gasoline.parquet").exists(), reason="shared data absent")
def test_basic_regression_runs_on_gasoline(tmp_path: Path) -> None:
    from nirsframe.api import run

    path = tmp_path / "basic.json"
    path.write_text(json.dumps(BASIC_REGRESSION), encoding="utf-8")
    spec = convert_nirs4all(path, target="octane")
    result = run(spec, SHARED_DATA / "gasoline.parquet")
    best = result.best
    assert best["n_components"] == 6
    # measured: 0.218 unscaled, 0.297 with scikit-learn's X/y scaling (octane 83.4-89.6)
    assert 0.1 < best["rmsecv"] < 0.35


def test_generators_keep_their_semantics() -> None:
    spec = convert_nirs4all(GENERATORS, target="y")
    assert spec["split"] == {"kfold": {"n_splits": 3}}
    y_step, preprocessing, models = spec["steps"]
    assert y_step == {"y_processing": {"standard": {}}}
    assert preprocessing == {
        "_or_": [{"snv": {}}, {"msc": {}}, {"detrend": {}}],
        "count": 2,
        "seed": 7,
    }
    # every nirs4all model step is evaluated: one '_or_' over the model steps
    assert models == {
        "_or_": [
            {"model": {"pls": {"n_components": {"_range_": [2, 15, 3]}, "scale": True}}},
            {"model": {"sklearn.linear_model.Ridge": {"alpha": {"_log_range_": [0.001, 100, 5]}}}},
            {
                "model": {
                    "sklearn.ensemble.RandomForestRegressor": {
                        "random_state": 42,
                        "n_estimators": {"_or_": [50, 100]},
                        "max_depth": {"_or_": [5, 10]},
                    }
                }
            },
        ]
    }
    variants = expand(spec)
    assert len(variants) == 2 * (5 + 5 + 4)  # as nirs4all: 2 kept x 14 models
    n_components = sorted(
        {v.steps[-1].params["n_components"] for v in variants if v.steps[-1].model == "pls"}
    )
    assert n_components == [2, 5, 8, 11, 14]


def test_or_options_may_be_paths_lists_and_identity() -> None:
    spec = convert_nirs4all(
        [
            {
                "_or_": [
                    None,
                    "sklearn.preprocessing.FunctionTransformer",  # IdentityTransformer
                    f"{T}.SNV",
                    [f"{T}.MSC", {"class": f"{T}.Detrend"}],
                ]
            },
            {
                "class": f"{T}.SavitzkyGolay",
                "params": {"window_length": {"_or_": [11, 15]}, "deriv": 1},
            },
            "sklearn.cross_decomposition.PLSRegression",
        ]
    )
    assert spec["steps"][0] == {"_or_": [[], [], {"snv": {}}, [{"msc": {}}, {"detrend": {}}]]}
    assert spec["steps"][1] == {
        "savgol": {"window_length": {"_or_": [11, 15]}, "deriv": 1, "polyorder": 3}
    }
    assert spec["steps"][2] == {"model": {"pls": {"n_components": 2, "scale": True}}}
    labels = [v.label for v in expand(spec)]
    savgol = "savgol(deriv=1, polyorder=3, window_length=15)"
    pls = "pls(n_components=2, scale=True)"
    assert len(labels) == 8
    assert labels[1] == f"{savgol} | {pls}"  # identity option: no step
    assert labels[-1] == f"msc | detrend | {savgol} | {pls}"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"class": "sklearn.preprocessing.MinMaxScaler"}, {"minmax": {}}),
        (
            {"class": "sklearn.preprocessing.MinMaxScaler", "params": {"feature_range": [-1, 1]}},
            {"minmax": {"feature_range": [-1, 1]}},
        ),
        ("sklearn.preprocessing._data.StandardScaler", {"standard": {}}),
        (
            {"class": "sklearn.preprocessing.StandardScaler", "params": {"with_std": False}},
            {"standard": {"with_std": False}},
        ),
    ],
)
def test_y_processing(raw: Any, expected: dict[str, Any]) -> None:
    spec = convert_nirs4all(
        [{"y_processing": raw}, {"model": "sklearn.cross_decomposition.PLSRegression"}]
    )
    assert spec["steps"][0] == {"y_processing": expected}


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        (
            {"class": "sklearn.model_selection.KFold", "params": {"n_splits": 10}},
            {"kfold": {"n_splits": 10}},
        ),
        (
            {"split": {"class": "sklearn.model_selection.GroupKFold"}, "group": "Sample_ID"},
            {"group_kfold": {}},
        ),
        (
            {
                "class": "sklearn.model_selection.ShuffleSplit",
                "params": {"n_splits": 1, "test_size": 0.25, "random_state": 3},
            },
            {"random": {"test_size": 0.25, "random_state": 3}},
        ),
        (
            {
                "class": "nirs4all.operators.splitters.splitters.KennardStoneSplitter",
                "params": {"test_size": 0.3, "random_state": 42},
            },
            {"kennard_stone": {"test_size": 0.3}},
        ),
        ("nirs4all.operators.splitters.SPXYSplitter", {"spxy": {"test_size": 0.25}}),
        ({"split": "sklearn.model_selection.LeaveOneOut"}, {"loo": {}}),
    ],
)
def test_splitters_become_the_top_level_split(step: Any, expected: dict[str, Any]) -> None:
    spec = convert_nirs4all(
        [{"class": f"{T}.SNV"}, step, {"model": "sklearn.cross_decomposition.PLSRegression"}]
    )
    assert spec["split"] == expected
    assert spec["steps"][0] == {"snv": {}}


@pytest.mark.parametrize(
    ("cls", "params", "expected"),
    [
        ("SNV", {"ddof": 1}, {"snv": {"ddof": 1}}),
        ("RobustStandardNormalVariate", {}, {"rnv": {}}),
        ("scalers.StandardNormalVariate", {"axis": 1, "copy": True}, {"snv": {}}),
        ("MultiplicativeScatterCorrection", {"scale": False}, {"msc": {}}),
        ("SavitzkyGolay", {}, {"savgol": {"polyorder": 3}}),
        ("Gaussian", {"sigma": 3}, {"gaussian": {"sigma": 3, "order": 2}}),
        ("Detrend", {}, {"detrend": {}}),
        ("Baseline", {}, {"mean_center": {}}),
        ("Derivate", {"order": 2}, {"derivative": {"deriv": 2}}),
        ("FirstDerivative", {}, {"derivative": {"edge_order": 2, "deriv": 1}}),
        ("SecondDerivative", {"edge_order": 1}, {"derivative": {"edge_order": 1, "deriv": 2}}),
        ("NorrisWilliams", {"gap": 3}, {"norris_williams": {"gap": 3}}),
        ("ASLSBaseline", {"lam": 1e5, "p": 0.05}, {"asls": {"lam": 1e5, "p": 0.05}}),
        ("ArPLS", {}, {"arpls": {"lam": 1e6}}),
        ("IModPoly", {}, {"imodpoly": {"poly_order": 5}}),
        ("SNIP", {}, {"snip": {"max_half_window": 40, "decreasing": True}}),
        ("RollingBall", {}, {"rolling_ball": {"half_window": 50}}),
        (
            "PyBaselineCorrection",
            {"method": "airpls", "lam": 1e5},
            {"airpls": {"lam": 1e5}},
        ),
        ("AreaNormalization", {"method": "abs_sum"}, {"normalize": {"norm": "l1"}}),
        ("ReflectanceToAbsorbance", {}, {"reflectance_to_absorbance": {}}),
        (
            "Resampler",
            {
                "target_wavelengths": {
                    "class": "numpy.array",
                    "params": {"object": [1000.0, 1010.0], "dtype": "float64"},
                },
                "method": "cubic",
            },
            {"resample": {"target": [1000.0, 1010.0], "method": "cubic"}},
        ),
    ],
)
def test_operator_mapping(cls: str, params: dict[str, Any], expected: dict[str, Any]) -> None:
    spec = convert_nirs4all(
        [{"class": f"{T}.{cls}", "params": params}, "sklearn.cross_decomposition.PLSRegression"]
    )
    assert spec["steps"][0] == expected


def _apply(step: dict[str, Any], x: np.ndarray) -> np.ndarray:
    ((op, params),) = step.items()
    return np.asarray(REGISTRY[op].estimator(**params).fit_transform(x))


def test_converted_defaults_reproduce_nirs4all_numbers() -> None:
    """nirs4all's defaults differ from nirsframe's; the written-out ones give its numbers."""
    rng = np.random.default_rng(0)
    x = np.cumsum(rng.normal(size=(4, 80)), axis=1) + 10.0
    cases = {
        # nirs4all: scipy.signal.savgol_filter(X, 11, 3, 0, delta=1.0) (mode="interp")
        "SavitzkyGolay": signal.savgol_filter(x, 11, 3, 0),
        # nirs4all: gaussian_filter1d(X, order=2, sigma=1)
        "Gaussian": gaussian_filter1d(x, sigma=1, order=2),
        # nirs4all: scipy.signal.detrend(X, bp=0)
        "Detrend": signal.detrend(x, bp=0),
        # nirs4all: np.gradient applied twice with edge_order=2
        "SecondDerivative": np.gradient(np.gradient(x, axis=1, edge_order=2), axis=1, edge_order=2),
        # nirs4all: X - mean over the training samples
        "Baseline": x - x.mean(axis=0),
        # nirs4all: (X - mean) / std (ddof=0) per spectrum
        "StandardNormalVariate": (x - x.mean(1, keepdims=True)) / x.std(1, keepdims=True),
    }
    for cls, reference in cases.items():
        step = convert_nirs4all([f"{T}.{cls}", "sklearn.linear_model.Ridge"])["steps"][0]
        np.testing.assert_allclose(_apply(step, x), reference, rtol=1e-10, atol=1e-10)


def test_branch_becomes_alternatives_over_sub_pipelines() -> None:
    pls = "sklearn.cross_decomposition.PLSRegression"
    spec = convert_nirs4all(
        [
            {
                "branch": {
                    "snv_pls": [
                        f"{T}.SNV",
                        {"model": {"class": pls, "params": {"n_components": 5}}, "name": "a"},
                        {"model": {"class": pls, "params": {"n_components": 9}}, "name": "b"},
                    ],
                    "msc_ridge": [f"{T}.MSC", {"model": "sklearn.linear_model.Ridge"}],
                }
            }
        ]
    )
    assert spec["steps"] == [
        {
            "_or_": [
                [
                    {"snv": {}},
                    {
                        "_or_": [
                            {"model": {"pls": {"n_components": 5, "scale": True}}},
                            {"model": {"pls": {"n_components": 9, "scale": True}}},
                        ]
                    },
                ],
                [{"msc": {}}, {"model": {"sklearn.linear_model.Ridge": {}}}],
            ]
        }
    ]
    assert [v.label for v in expand(spec)] == [
        "snv | pls(n_components=5, scale=True)",
        "snv | pls(n_components=9, scale=True)",
        "msc | sklearn.linear_model.Ridge",
    ]
    with pytest.raises(SpecError, match=r"pipeline\[0\]\.branch\.b\[0\]: a split inside"):
        convert_nirs4all([{"branch": {"a": [f"{T}.SNV"], "b": ["sklearn.model_selection.KFold"]}}])


def test_every_unsupported_step_is_listed() -> None:
    pipeline = {
        "pipeline": [
            "chart_2d",
            {"class": f"{T}.Haar"},
            {"class": f"{T}.StandardNormalVariate", "params": {"with_std": False}},
            {"feature_augmentation": {"_or_": [f"{T}.SNV", f"{T}.MSC"], "pick": 2}},
            {"class": "sklearn.model_selection.ShuffleSplit", "params": {"n_splits": 5}},
            {"_or_": [f"{T}.SNV", "my_lab.Transforms.Magic"]},
            {"sample_augmentation": {"transformers": [f"{T}.GaussianAdditiveNoise"]}},
            {"merge": "predictions"},
            {
                "model": {"class": "sklearn.cross_decomposition.PLSRegression"},
                "finetune_params": {"n_trials": 10},
            },
            {"class": f"{T}.SavitzkyGolay", "params": {"window_length": {"_cartesian_": []}}},
        ]
    }
    with pytest.raises(SpecError) as info:
        convert_nirs4all(pipeline)
    message = str(info.value)
    assert message.startswith("cannot import the nirs4all pipeline: 10 unsupported steps:")
    for expected in (
        "pipeline[0]: 'chart_2d' draws a chart",
        "pipeline[1]: Haar: nirs4all's Haar is a one-level DWT",
        "pipeline[2]: StandardNormalVariate with with_std=False has no nirsframe equivalent",
        "pipeline[3]: 'feature_augmentation' needs a list of operations",
        "pipeline[4]: ShuffleSplit with n_splits=5 has no nirsframe equivalent",
        "pipeline[5]._or_[1]: unknown or unsupported class 'my_lab.Transforms.Magic'",
        "pipeline[6]: 'sample_augmentation': sample augmentation is not supported yet",
        "pipeline[7]: 'merge': 'merge' must follow a 'branch' step",
        "pipeline[8]: 'finetune_params': Optuna fine-tuning is not supported",
        "pipeline[9]: the '_cartesian_' generator is not supported",
    ):
        assert f"\n  - {expected}" in message, expected


@pytest.mark.parametrize(
    ("pipeline", "fragment"),
    [
        (
            [f"{T}.SNV", "sklearn.model_selection.KFold", "sklearn.model_selection.KFold"],
            "pipeline[2]: a second split (the first is at pipeline[1])",
        ),
        (
            [{"_or_": ["sklearn.model_selection.KFold", f"{T}.SNV"]}],
            "pipeline[0]._or_[0]: a split inside a generator",
        ),
        (
            [
                "sklearn.cross_decomposition.PLSRegression",
                f"{T}.SNV",
                "sklearn.linear_model.Ridge",
            ],
            "pipeline[1]: a preprocessing step between two models",
        ),
        (
            [{"model": "sklearn.decomposition.PCA"}],
            "outside nirsframe's allow-list",
        ),
        (
            [{"model": "nirs4all.operators.models.MyNet"}],
            "model 'nirs4all.operators.models.MyNet' has no nirsframe equivalent",
        ),
        (
            [{"y_processing": "sklearn.preprocessing.RobustScaler"}],
            "y_processing 'sklearn.preprocessing.RobustScaler' is not supported",
        ),
        (
            [{"_or_": [f"{T}.SNV", f"{T}.MSC"], "then_pick": 2}],
            "generator modifier 'then_pick' is not supported",
        ),
        (
            [
                {"class": "sklearn.model_selection.KFold"},
                {"class": f"{T}.SNV", "params": {"bogus": 1}},
            ],
            "StandardNormalVariate parameter 'bogus' has no nirsframe equivalent",
        ),
    ],
)
def test_unsupported_cases_name_the_place(pipeline: list[Any], fragment: str) -> None:
    with pytest.raises(SpecError, match="unsupported step") as info:
        convert_nirs4all(pipeline)
    assert fragment in str(info.value)


def test_invalid_values_are_reported_by_the_spec_validator() -> None:
    with pytest.raises(SpecError, match=r"converted pipeline is invalid: steps\[0\]\.savgol"):
        convert_nirs4all([{"class": f"{T}.SavitzkyGolay", "params": {"window_length": -3}}])


def test_reads_yaml_text_and_rejects_other_documents(tmp_path: Path) -> None:
    text = f"""
name: from-yaml
pipeline:
  - {T}.SNV
  - model:
      class: sklearn.cross_decomposition.PLSRegression
      params: {{n_components: 1e1}}
"""
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    assert convert_nirs4all(text)["name"] == "from-yaml"
    assert convert_nirs4all(path, name="renamed")["name"] == "renamed"
    with pytest.raises(SpecError, match="list of steps or a mapping with a 'pipeline' list"):
        convert_nirs4all("just: text")
    with pytest.raises(SpecError, match=r"keys \['dataset'\] are not supported"):
        convert_nirs4all({"pipeline": [f"{T}.SNV"], "dataset": "x"})
    with pytest.raises(SpecError, match="cannot parse the pipeline JSON"):
        convert_nirs4all('{"pipeline": [')


runner = CliRunner()


def test_cli_writes_yaml_to_stdout_and_json_to_a_file(tmp_path: Path) -> None:
    src = tmp_path / "basic.json"
    src.write_text(json.dumps(BASIC_REGRESSION), encoding="utf-8")
    res = runner.invoke(app, ["import-nirs4all", str(src), "--target", "octane"])
    assert res.exit_code == 0, res.output
    assert yaml.safe_load(res.output) == convert_nirs4all(BASIC_REGRESSION, target="octane")
    out = tmp_path / "spec.json"
    res = runner.invoke(app, ["import-nirs4all", str(src), "--json", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert res.output == ""
    spec = load_pipeline(out)
    assert spec.target == "y"
    assert spec.name == "basic_regression"


def test_cli_failure_lists_the_unsupported_steps(tmp_path: Path) -> None:
    src = tmp_path / "bad.yaml"
    src.write_text(
        "pipeline:\n  - chart_2d\n  - class: sklearn.preprocessing.MinMaxScaler\n"
        "  - model: {class: sklearn.cross_decomposition.PLSRegression}\n",
        encoding="utf-8",
    )
    res = runner.invoke(app, ["import-nirs4all", str(src)])
    assert res.exit_code == 1
    assert "error: cannot import the nirs4all pipeline: 2 unsupported steps" in res.output
    assert "pipeline[0]: 'chart_2d'" in res.output
    assert "pipeline[1]: MinMaxScaler" in res.output
    res = runner.invoke(app, ["import-nirs4all", str(tmp_path / "missing.json")])
    assert res.exit_code == 1
    assert "no such file" in res.output


PLS = "sklearn.cross_decomposition.PLSRegression"


def n4a_pls(n: int) -> dict[str, Any]:
    return {"model": {"class": PLS, "params": {"n_components": n}}}


def test_branch_merge_features_converts_to_concatenated_views() -> None:
    spec = convert_nirs4all(
        [
            {"class": f"{T}.Detrend"},
            {"branch": [[f"{T}.SNV"], [f"{T}.MSC"]]},
            {"merge": "features"},
            n4a_pls(6),
        ],
        target="fat",
    )
    assert spec["steps"][1:3] == [
        {"branch": [[{"snv": {}}], [{"msc": {}}]]},
        {"merge": "features"},
    ]
    (variant,) = expand(spec)
    assert variant.label.startswith("sources(view: detrend | snv; view: detrend | msc -> concat)")


def test_nested_branch_merge_predictions_converts_to_a_multilevel_stack() -> None:
    ridge = {"model": {"class": "sklearn.linear_model.Ridge", "params": {"alpha": 1.0}}}
    inner = [
        {"branch": [[f"{T}.MSC", n4a_pls(7)], [f"{T}.Detrend", n4a_pls(5)]]},
        {"merge": "predictions"},
        ridge,
    ]
    spec = convert_nirs4all(
        [
            {"branch": [[f"{T}.SNV", n4a_pls(6)], inner]},
            {"merge": "predictions"},
            {"model": "sklearn.linear_model.LinearRegression"},
        ],
        target="fat",
    )
    (step,) = load_pipeline(spec).steps
    raw = step.to_raw()["stack"]
    assert raw["meta"] == {"sklearn.linear_model.LinearRegression": {}}
    nested = raw["branches"][1][0]["stack"]
    assert nested["meta"] == {"sklearn.linear_model.Ridge": {"alpha": 1.0}}
    assert nested["branches"][1][0] == {"detrend": {}}


def test_feature_augmentation_converts_with_its_action() -> None:
    spec = convert_nirs4all(
        [
            {
                "feature_augmentation": [f"{T}.SNV", [f"{T}.MSC", f"{T}.Detrend"]],
                "action": "extend",
            },
            n4a_pls(4),
        ],
        target="fat",
    )
    assert spec["steps"][0] == {
        "feature_augmentation": {
            "views": [[{"snv": {}}], [{"msc": {}}, {"detrend": {}}]],
            "action": "extend",
        }
    }
    assert (
        expand(spec)[0].steps[0].label
        == "sources(view: raw; view: snv; view: msc | detrend -> concat)"
    )


@pytest.mark.parametrize(
    ("merge", "fragment"),
    [
        ({"predictions": [{"branch": 0, "select": "best"}]}, "model selection, aggregation"),
        ("concat", "use 'features' or 'predictions'"),
    ],
)
def test_unsupported_merges_are_named(merge: Any, fragment: str) -> None:
    with pytest.raises(SpecError, match=r"pipeline\[1\]: 'merge': ") as info:
        convert_nirs4all([{"branch": [[f"{T}.SNV"], [f"{T}.MSC"]]}, {"merge": merge}, n4a_pls(3)])
    assert fragment in str(info.value)


def test_a_stacked_branch_with_two_models_is_reported() -> None:
    with pytest.raises(SpecError, match=r"pipeline\[0\]\.branch\[1\]: a stacked branch with"):
        convert_nirs4all(
            [
                {"branch": [[n4a_pls(2)], [f"{T}.SNV", n4a_pls(3), n4a_pls(4)]]},
                {"merge": "predictions"},
                {"model": "sklearn.linear_model.Ridge"},
            ]
        )


# -- separation and per-source branches ------------------------------------------------------------
KFOLD5 = {"class": "sklearn.model_selection.KFold", "params": {"n_splits": 5}}
GROUP_STEPS = [{"_or_": [f"{T}.MSC", f"{T}.Detrend"]}, n4a_pls(5)]
NATIVE_SEPARATION = {
    "name": "nirs4all-import",
    "target": "moisture",
    "split": {"kfold": {"n_splits": 5}},
    "steps": [
        {"branch": {"by_metadata": "instrument"}},
        {"snv": {}},
        {"_or_": [{"msc": {}}, {"detrend": {}}]},
        {"model": {"pls": {"n_components": 5, "scale": True}}},
        {"merge": "concat"},
    ],
}


@pytest.mark.parametrize(
    "separation",
    [
        # nirs4all v2 (BranchController): the steps inside, or after the branch
        [{"branch": {"by_metadata": "instrument", "steps": GROUP_STEPS}}],
        [{"branch": {"by_metadata": "instrument", "min_samples": 1}}, *GROUP_STEPS],
        # its earlier MetadataPartitionerController
        [{"branch": GROUP_STEPS, "by": "metadata_partitioner", "column": "instrument"}],
        [{"branch": {"by": "metadata_partitioner", "column": "instrument", "steps": GROUP_STEPS}}],
    ],
)
def test_separation_branches_convert_to_by_metadata(separation: list[Any]) -> None:
    # the stateless SNV before the branch computes the same inside every group
    pipeline = [f"{T}.SNV", KFOLD5, *separation, {"merge": "concat"}]
    assert convert_nirs4all(pipeline, target="moisture") == NATIVE_SEPARATION


def test_by_tag_and_an_unclosed_separation_convert() -> None:
    spec = convert_nirs4all([{"branch": {"by_tag": "batch", "steps": [n4a_pls(3)]}}])
    assert spec["steps"] == [
        {"branch": {"by_tag": "batch"}},
        {"model": {"pls": {"n_components": 3, "scale": True}}},
    ]
    assert load_pipeline(spec).separate_by == "batch"


def _corn() -> Any:
    ds = scan_parquet(SHARED_DATA / "corn.parquet")
    # corn repeats its sample ids across instruments
    ids = (pl.col("instrument") + ":" + pl.col("sample_id")).alias("sample_id")
    return ds.with_frame(ds.frame.with_columns(ids)).collect()


@pytest.mark.skipif(not (SHARED_DATA / "corn.parquet").exists(), reason="shared data absent")
def test_converted_separation_runs_as_the_native_spec_on_corn() -> None:
    pipeline = [
        f"{T}.SNV",
        KFOLD5,
        {"branch": {"by_metadata": "instrument", "steps": GROUP_STEPS}},
        {"merge": "concat"},
    ]
    ds = _corn()
    ours = api.run(convert_nirs4all(pipeline, target="moisture"), ds)
    native = api.run(NATIVE_SEPARATION, ds)
    assert_frame_equal(ours.ranking, native.ranking)
    assert_frame_equal(ours.oof, native.oof)
    assert ours.oof.height == 2 * 240
    assert ours.best["preprocessing"].startswith("by instrument: ")


NATIVE_SOURCES = {
    "name": "nirs4all-import",
    "target": "moisture",
    "split": {"kfold": {"n_splits": 5}},
    "steps": [
        {"branch": {"by_source": {"m5": [{"snv": {}}], "mp6": [{"msc": {}}, {"detrend": {}}]}}},
        {"merge_sources": "concat"},
        {"model": {"pls": {"n_components": 4, "scale": True}}},
    ],
}
PER_SOURCE = {"m5": [f"{T}.SNV"], "mp6": [f"{T}.MSC", f"{T}.Detrend"]}


@pytest.mark.parametrize(
    ("branch", "merge"),
    [
        # nirs4all v2: a separation branch by source, then the unified merge syntax
        ({"branch": {"by_source": True, "steps": PER_SOURCE}}, {"merge": {"sources": "concat"}}),
        ({"branch": {"by_source": "auto", "steps": PER_SOURCE}}, {"merge_sources": "concat"}),
        # the earlier SourceBranchController, auto-merged or merged by the next step
        ({"source_branch": {**PER_SOURCE, "_merge_strategy_": "concat"}}, None),
        (
            {"source_branch": {**PER_SOURCE, "_merge_after_": False}},
            {"merge_sources": {"strategy": "concat", "sources": "all"}},
        ),
    ],
)
def test_per_source_branches_convert_to_by_source(branch: Any, merge: Any) -> None:
    pipeline = [KFOLD5, branch, *([merge] if merge else []), n4a_pls(4)]
    spec = convert_nirs4all(pipeline, target="moisture")
    expected = dict(NATIVE_SOURCES)
    if merge is None:  # nirsframe merges by concatenation by default
        expected["steps"] = [s for s in NATIVE_SOURCES["steps"] if "merge_sources" not in s]
    assert spec == expected


@pytest.mark.skipif(not (SHARED_DATA / "corn.parquet").exists(), reason="shared data absent")
def test_converted_per_source_branch_runs_as_the_native_spec_on_corn() -> None:
    ds = pivot_sources(scan_parquet(SHARED_DATA / "corn.parquet"), "instrument")
    pipeline = [
        KFOLD5,
        {"branch": {"by_source": True, "steps": PER_SOURCE}},
        {"merge": {"sources": "concat"}},
        n4a_pls(4),
    ]
    ours = api.run(convert_nirs4all(pipeline, target="moisture"), ds)
    native = api.run(NATIVE_SOURCES, ds)
    assert_frame_equal(ours.ranking, native.ranking)
    assert_frame_equal(ours.oof, native.oof)
    assert ours.best["preprocessing"] == (  # PLSRegression(scale=True) scales every source
        "concat[spectra_m5: snv | autoscale(ddof=1); "
        "spectra_mp6: msc | detrend | autoscale(ddof=1)]"
    )


@pytest.mark.parametrize(
    ("pipeline", "fragment"),
    [
        (
            [{"branch": {"by_metadata": "site", "steps": {"A": [f"{T}.SNV"], "B": []}}}],
            "pipeline[0]: per-value steps ({value: [steps]}) have no nirsframe equivalent",
        ),
        (
            [{"branch": {"by_metadata": "site", "values": {"ab": ["A", "B"]}}}, n4a_pls(2)],
            "pipeline[0]: separation branch option 'values'",
        ),
        (
            [{"branch": [n4a_pls(2)], "by": "metadata_partitioner", "column": "s", "cv": KFOLD5}],
            "pipeline[0]: separation branch option 'cv'",
        ),
        (
            [f"{T}.MSC", {"branch": {"by_metadata": "site"}}, n4a_pls(2)],
            "pipeline[1]: steps before the separation branch (msc) are fitted",
        ),
        (
            [{"branch": {"by_metadata": "site"}}, f"{T}.SNV", {"merge": "concat"}, n4a_pls(2)],
            "pipeline[3]: a step after the 'merge: concat' at pipeline[2]",
        ),
        (
            [
                {"branch": [n4a_pls(2)], "by": "metadata_partitioner", "column": "site"},
                {"merge": "predictions"},
                {"model": "sklearn.linear_model.Ridge"},
            ],
            "pipeline[1]: 'merge': 'predictions' after the separation branch at pipeline[0]",
        ),
        (
            [{"branch": {"by_filter": {"class": "nirs4all.operators.filters.YOutlierFilter"}}}],
            "pipeline[0]: a branch separating rows with a fitted sample filter",
        ),
        (
            [{"branch": [[{"branch": {"by_metadata": "site"}}, n4a_pls(2)], [n4a_pls(3)]]}],
            "pipeline[0].branch[0][0]: a separation branch inside a branch or generator",
        ),
        (
            [{"metadata_partitioner": {"column": "site", "branches": {"A": [f"{T}.SNV"]}}}],
            "pipeline[0]: 'metadata_partitioner': its per-value steps have no nirsframe",
        ),
        (
            [{"branch": {"by_source": True, "steps": [f"{T}.SNV"]}}, n4a_pls(2)],
            "pipeline[0]: per-source steps must name every source",
        ),
        (
            [{"source_branch": "auto"}, n4a_pls(2)],
            "pipeline[0]: per-source steps must name every source",
        ),
        (
            [{"source_branch": {"NIR": [f"{T}.SNV"], "_default_": [f"{T}.MSC"]}}, n4a_pls(2)],
            "pipeline[0]: per-source branch option '_default_'",
        ),
        (
            [{"source_branch": {"NIR": [f"{T}.SNV", n4a_pls(2)]}}],
            "pipeline[0]: source 'NIR' holds a model or y_processing step",
        ),
        (
            [{"branch": {"by_source": True, "steps": {"NIR": []}}}, {"merge_sources": "stack"}],
            "pipeline[1]: source merge 'stack': only 'concat' maps",
        ),
        (
            [f"{T}.SNV", {"merge_sources": "concat"}, n4a_pls(2)],
            "pipeline[1]: 'merge_sources': a source merge must follow a per-source branch",
        ),
    ],
)
def test_unsupported_separations_name_the_place(pipeline: list[Any], fragment: str) -> None:
    with pytest.raises(SpecError, match="unsupported step") as info:
        convert_nirs4all(pipeline)
    assert fragment in str(info.value)


def test_every_unsupported_separation_step_is_listed() -> None:
    pipeline = [
        {"branch": {"by_metadata": "site", "steps": [f"{T}.Haar"]}},
        {"source_branch": {"NIR": [f"{T}.Haar"]}},
        {"merge": {"sources": {"mode": "concat", "weights": {"NIR": 1.0}}}},
        n4a_pls(2),
        {"merge": "concat"},
        {"branch": {"by_tag": "batch"}},
    ]
    with pytest.raises(SpecError) as info:
        convert_nirs4all(pipeline)
    message = str(info.value)
    assert message.startswith("cannot import the nirs4all pipeline: 4 unsupported steps:")
    for expected in (
        "pipeline[0].branch.steps[0]: Haar:",
        "pipeline[1].source_branch.NIR[0]: Haar:",
        "pipeline[2]: source merge {'mode': 'concat', 'weights': {'NIR': 1.0}}: only 'concat'",
        "pipeline[5]: a second separation branch (the first is at pipeline[0])",
    ):
        assert f"\n  - {expected}" in message, expected
