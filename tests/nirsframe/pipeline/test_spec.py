"""Pipeline spec: loading, validation errors with locations, expansion, round trips and hashes."""

from __future__ import annotations

import hashlib
import json
import sys
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from nirsframe.exceptions import SpecError
from nirsframe.pipeline import (
    GeneratorStep,
    ModelStep,
    OperatorStep,
    Pipeline,
    YProcessingStep,
    canonical_json,
    expand,
    load_pipeline,
    pipeline_hash,
)

OCTANE_YAML = """
name: octane-search
target: octane
split: {venetian: {n_splits: 10}}
steps:
  - _or_: [{snv: {}}, {msc: {}}, {detrend: {order: 1}}, {savgol: {window_length: 15, polyorder: 2, deriv: 1}}]
  - model: {pls: {n_components: {_range_: [1, 20]}}}
"""  # noqa: E501

OCTANE = {
    "name": "octane-search",
    "target": "octane",
    "split": {"venetian": {"n_splits": 10}},
    "steps": [
        {
            "_or_": [
                {"snv": {}},
                {"msc": {}},
                {"detrend": {"order": 1}},
                {"savgol": {"window_length": 15, "polyorder": 2, "deriv": 1}},
            ]
        },
        {"model": {"pls": {"n_components": {"_range_": [1, 20]}}}},
    ],
}


def doc(*steps: Any, **top: Any) -> dict[str, Any]:
    return {"name": "t", "target": "y", "steps": list(steps), **top}


# -- the reference file ---------------------------------------------------------------------------
def test_octane_yaml_loads_and_expands_to_80_variants() -> None:
    spec = load_pipeline(OCTANE_YAML)
    assert spec.name == "octane-search"
    assert spec.target == "octane"
    assert spec.split == {"venetian": {"n_splits": 10}}
    assert spec.variant_cap == 10_000
    assert isinstance(spec.steps[0], GeneratorStep)
    assert isinstance(spec.steps[1], ModelStep)
    assert spec.n_variants == 80
    variants = expand(spec)
    assert len(variants) == 80
    assert [v.index for v in variants] == list(range(80))
    labels = [v.label for v in variants]
    assert labels[0] == "snv | pls(n_components=1)"
    assert labels[19] == "snv | pls(n_components=20)"
    assert labels[20] == "msc | pls(n_components=1)"
    assert labels[79] == "savgol(deriv=1, polyorder=2, window_length=15) | pls(n_components=20)"
    assert len(set(labels)) == 80
    for v in variants:
        assert v.pipeline.is_concrete
        assert isinstance(v.steps[0], OperatorStep)
        assert isinstance(v.steps[1], ModelStep)
        assert v.pipeline.split == spec.split
    assert len({v.hash for v in variants}) == 80
    assert variants[45].steps[0].validated_params().order == 1  # type: ignore[attr-defined]


def test_yaml_and_json_give_the_same_pipeline_and_hash() -> None:
    from_yaml = load_pipeline(OCTANE_YAML)
    from_json = load_pipeline(json.dumps(OCTANE))
    assert from_yaml == from_json == load_pipeline(OCTANE)
    assert pipeline_hash(from_yaml) == pipeline_hash(from_json)
    text = canonical_json(from_yaml)
    assert " " not in text.replace("octane-search", "")
    assert pipeline_hash(from_yaml) == hashlib.sha256(text.encode()).hexdigest()
    assert json.loads(text) == json.loads(json.dumps(json.loads(text), sort_keys=True))


def test_round_trips_are_unchanged(tmp_path: Any) -> None:
    spec = load_pipeline(OCTANE_YAML)
    assert spec.model_dump(mode="json")["steps"] == OCTANE["steps"]
    assert Pipeline.model_validate_json(spec.model_dump_json()) == spec
    assert load_pipeline(spec.to_json()) == spec
    assert load_pipeline(spec.to_yaml()) == spec
    assert json.loads(spec.to_json()) == {**OCTANE, "variant_cap": 10_000}
    (tmp_path / "p.yaml").write_text(spec.to_yaml())
    (tmp_path / "p.json").write_text(spec.to_json())
    assert load_pipeline(tmp_path / "p.yaml") == spec
    assert load_pipeline(str(tmp_path / "p.json")) == spec


def test_defaults_written_or_omitted_hash_equal() -> None:
    assert pipeline_hash(OCTANE) == pipeline_hash({**OCTANE, "variant_cap": 10_000})
    assert pipeline_hash(OCTANE) != pipeline_hash({**OCTANE, "variant_cap": 100})
    assert pipeline_hash(doc({"snv": {}})) != pipeline_hash(doc({"snv": {"ddof": 1}}))


def test_negative_zero_hashes_like_zero() -> None:
    ridge = "sklearn.linear_model.Ridge"
    a = doc({"model": {ridge: {"alpha": 0.0}}})
    b = doc({"model": {ridge: {"alpha": -0.0}}})
    assert canonical_json(a) == canonical_json(b)


def _shuffled(value: Any, rnd: Any) -> Any:
    if isinstance(value, dict):
        keys = list(value)
        rnd.shuffle(keys)
        return {k: _shuffled(value[k], rnd) for k in keys}
    if isinstance(value, list):
        return [_shuffled(v, rnd) for v in value]
    return value


@settings(max_examples=25, deadline=None)
@given(rnd=st.randoms(use_true_random=False), as_yaml=st.booleans())
def test_hash_and_expansion_ignore_key_order(rnd: Any, as_yaml: bool) -> None:
    document = _shuffled(
        {
            **OCTANE,
            "variant_cap": 500,
            "steps": [
                *OCTANE["steps"][:1],
                {"y_processing": {"minmax": {"feature_range": [0.0, 2.0]}}},
                {"model": {"pls": {"n_components": {"_range_": [1, 3]}, "scale": True}}},
                {"savgol": {"window_length": {"_or_": [5, 7]}, "polyorder": {"_or_": [1, 2]}}},
            ],
        },
        rnd,
    )
    text = yaml.safe_dump(document, sort_keys=False) if as_yaml else json.dumps(document)
    reference = {**OCTANE, "variant_cap": 500}
    reference["steps"] = [
        *OCTANE["steps"][:1],
        {"y_processing": {"minmax": {"feature_range": [0.0, 2.0]}}},
        {"model": {"pls": {"scale": True, "n_components": {"_range_": [1, 3]}}}},
        {"savgol": {"polyorder": {"_or_": [1, 2]}, "window_length": {"_or_": [5, 7]}}},
    ]
    assert pipeline_hash(text) == pipeline_hash(reference)
    assert [v.hash for v in expand(text)] == [v.hash for v in expand(reference)]


# -- steps ----------------------------------------------------------------------------------------
def test_step_kinds_and_sklearn_models() -> None:
    spec = load_pipeline(
        doc(
            {"y_processing": {"autoscale": {}}},
            {"snv": None},
            {"model": {"sklearn.linear_model.Ridge": {"alpha": {"_log_range_": [0.01, 1, 3]}}}},
            target=["octane", "density"],
        )
    )
    assert spec.target == ["octane", "density"]
    assert isinstance(spec.steps[0], YProcessingStep)
    variants = expand(spec)
    assert [v.label for v in variants] == [
        f"y:autoscale | snv | sklearn.linear_model.Ridge(alpha={a})" for a in (0.01, 0.1, 1.0)
    ]
    model = variants[0].steps[2]
    assert isinstance(model, ModelStep)
    assert model.is_sklearn
    assert model.estimator_class().__name__ == "Ridge"


def test_step_level_arrange_splices_sequences() -> None:
    spec = doc(
        {"_or_": [{"snv": {}}, {"msc": {}}, {"detrend": {}}], "arrange": 2},
        {"model": {"pls": {"n_components": 3}}},
    )
    labels = [v.label for v in expand(spec)]
    assert labels == [
        f"{a} | {b} | pls(n_components=3)"
        for a, b in [
            ("snv", "msc"),
            ("snv", "detrend"),
            ("msc", "snv"),
            ("msc", "detrend"),
            ("detrend", "snv"),
            ("detrend", "msc"),
        ]
    ]


def test_or_of_sequences_and_count_over_steps() -> None:
    spec = doc({"_or_": [[{"snv": {}}, {"detrend": {}}], {"msc": {}}]})
    assert [v.label for v in expand(spec)] == ["snv | detrend", "msc"]
    grid = doc(
        {"savgol": {"window_length": {"_range_": [5, 25, 2]}, "deriv": {"_or_": [0, 1, 2]}}},
        {"model": {"pls": {"n_components": {"_range_": [1, 20], "count": 5, "seed": 4}}}},
    )
    first, second = expand(grid), expand(grid)
    assert len(first) == 11 * 3 * 5
    assert [v.hash for v in first] == [v.hash for v in second]


def test_cap_error_states_the_count_before_building() -> None:
    spec = doc(
        {"savgol": {"window_length": {"_range_": [5, 2001, 2]}, "deriv": {"_or_": [0, 1, 2]}}},
        {"model": {"pls": {"n_components": {"_range_": [1, 40]}}}},
        variant_cap=1_000,
    )
    with pytest.raises(SpecError, match=r"expands to 119880 variants, above variant_cap=1000"):
        expand(spec)
    huge = doc({"model": {"pls": {"n_components": {"_range_": [1, 10**12]}}}}, variant_cap=5)
    with pytest.raises(SpecError, match="1,000,000,000,000 values"):
        load_pipeline(huge)


def test_cross_field_errors_surface_at_expansion_with_location() -> None:
    spec = load_pipeline(doc({"savgol": {"window_length": {"_or_": [7, 3]}, "polyorder": 4}}))
    with pytest.raises(SpecError, match=r"^steps\[0\] \(alternative 1\)\.savgol: .*window_length"):
        expand(spec)


def test_yaml_reads_exponent_floats_and_rejects_duplicate_keys() -> None:
    spec = load_pipeline(
        "name: t\ntarget: y\nsteps:\n  - model: {sklearn.linear_model.Ridge: {alpha: 1e-3}}\n"
    )
    assert spec.steps[0].params == {"alpha": 0.001}  # type: ignore[union-attr]
    with pytest.raises(SpecError, match="duplicate key 'steps'"):
        load_pipeline("name: t\ntarget: y\nsteps: [{snv: {}}]\nsteps: [{msc: {}}]\n")
    with pytest.raises(SpecError, match="duplicate key 'order'"):
        load_pipeline(
            '{"name": "t", "target": "y", "steps": [{"detrend": {"order": 1, "order": 2}}]}'
        )


def test_sklearn_path_is_checked_as_a_string_before_import() -> None:
    assert "antigravity" not in sys.modules
    with pytest.raises(
        SpecError, match=r"^steps\[0\]\.model\.antigravity\.Fly: .*not from an allowed"
    ):
        load_pipeline(doc({"model": {"antigravity.Fly": {}}}))
    assert "antigravity" not in sys.modules
    with pytest.raises(SpecError, match="not from an allowed module"):
        load_pipeline(doc({"model": {"sklearn.utils._pprint.Foo": {}}}))


# -- errors name the location and suggest the closest name ----------------------------------------
ERRORS = [
    ({**OCTANE, "stesp": []}, r"^stesp: unknown key 'stesp'; did you mean 'steps'\?"),
    (
        {**OCTANE, "finetune_params": []},
        r"^finetune_params: 'finetune_params' is a nirs4all keyword .* later release",
    ),
    (doc({"concat_transform": {}}), r"^steps\[0\]\.concat_transform: .*later release"),
    (doc({"chart_2d": {}}), r"^steps\[0\]\.chart_2d: .*later release"),
    (doc({"svn": {}}), r"^steps\[0\]\.svn: unknown operator 'svn'; did you mean 'snv'\?"),
    (
        doc({"sav_gol": {}}),
        r"^steps\[0\]\.sav_gol: unknown operator 'sav_gol'; did you mean 'savgol'",
    ),
    (
        {**OCTANE, "steps": [{"_or_": [{"snv": {}}, {"msc": {}}, {"detrend": {"ordre": 1}}]}]},
        r"^steps\[0\]\._or_\[2\]\.detrend\.ordre: operator 'detrend' has no parameter 'ordre'; "
        r"did you mean 'order'\?",
    ),
    (
        {**OCTANE, "steps": [{"_or_": [{"snv": {}}, {"msc": {}}, {"detrend": {"order": -1}}]}]},
        r"^steps\[0\]\._or_\[2\]\.detrend\.order: Input should be greater than or equal to 0; "
        r"got -1",
    ),
    (
        doc({"savgol": {"window_length": 4}}),
        r"^steps\[0\]\.savgol: 'window_length' must be odd",
    ),
    (
        doc({"model": {"pls": {"n_components": {"_range_": [0, 3]}}}}),
        r"^steps\[0\]\.model\.pls\.n_components: Input should be greater than or equal to 1; got 0",
    ),
    (
        doc({"model": {"pls": {"n_component": 3}}}),
        r"^steps\[0\]\.model\.pls\.n_component: .*did you mean 'n_components'\?",
    ),
    (
        doc({"model": {"psl": {}}}),
        r"^steps\[0\]\.model\.psl: unknown model 'psl'; did you mean 'pls'",
    ),
    (
        doc({"model": {"sklearn.linear_model.Rdge": {}}}),
        r"^steps\[0\]\.model\.sklearn\.linear_model\.Rdge: .*did you mean 'Ridge'\?",
    ),
    (
        doc({"model": {"sklearn.linear_model.Ridge": {"alpah": 1.0}}}),
        r"^steps\[0\]\.model\.sklearn\.linear_model\.Ridge\.alpah: .*did you mean 'alpha'\?",
    ),
    (
        doc({"model": {"sklearn.linear_model.Ridge": {"alpha": -1.0}}}),
        r"^steps\[0\]\.model\.sklearn\.linear_model\.Ridge: The 'alpha' parameter of Ridge",
    ),
    (
        doc({"model": {"sklearn.linear_mdel.Ridge": {}}}),
        r"^steps\[0\]\.model\.sklearn\.linear_mdel\.Ridge: .*did you mean 'sklearn\.linear_model'",
    ),
    (
        doc({"model": {"_or_": [{"pls": {}}]}}),
        r"^steps\[0\]\.model\._or_: put '_or_' at step level",
    ),
    (
        doc({"y_processing": {"autoscal": {}}}),
        r"^steps\[0\]\.y_processing\.autoscal: .*did you mean 'autoscale'\?",
    ),
    (
        doc({"y_processing": {"minmax": {"feature_range": [1, 0]}}}),
        r"^steps\[0\]\.y_processing\.minmax: 'feature_range' must satisfy min < max",
    ),
    (
        doc({"snv": {}}, split={"venitian": {"n_splits": 5}}),
        r"^split\.venitian: unknown splitter 'venitian'; did you mean 'venetian'\?",
    ),
    (
        doc({"snv": {}}, split={"venetian": {"n_split": 5}}),
        r"^split\.venetian: .*n_split",
    ),
    (doc({"snv": {}}, split={"kfold": {}, "loo": {}}), r"^split: expected one"),
    (doc({"snv": {}}, split={"kfold": {"n_splits": {"_or_": [3, 5]}}}), r"^split: generators"),
    (doc({"_range_": [1, 3]}), r"^steps\[0\]\._range_: '_range_' generates values, not steps"),
    (
        doc({"_or_": [{"snv": {}}, {"msk": {}}]}),
        r"^steps\[0\]\._or_\[1\]\.msk: .*did you mean 'msc'",
    ),
    (
        doc({"_or_": [{"snv": {}}], "pick": 1, "cout": 2}),
        r"^steps\[0\]\.cout: .*did you mean 'count'",
    ),
    (doc("snv"), r"^steps\[0\]: a step must be a mapping"),
    (doc({"snv": {}, "msc": {}}), r"^steps\[0\]: a step has exactly one key"),
    (doc({"split": {"kfold": {}}}), r"^steps\[0\]\.split: 'split' is a top-level key"),
    (doc({"snv": [1]}), r"^steps\[0\]\.snv: the parameters of operator 'snv' must be a mapping"),
    ({"name": "t", "target": "y"}, r"^<root>: missing required key 'steps'"),
    (doc(), r"^steps: 'steps' must be a non-empty list"),
    (doc({"snv": {}}, target=[]), r"^target: 'target' must be a column name"),
    (doc({"snv": {}}, variant_cap=0), r"^variant_cap: 'variant_cap' must be an integer >= 1"),
    ([1, 2], r"^<root>: a pipeline must be a mapping"),
]


@pytest.mark.parametrize(("document", "match"), ERRORS)
def test_errors_name_location_and_suggest(document: Any, match: str) -> None:
    with pytest.raises(SpecError, match=match):
        load_pipeline(document)


def test_model_validate_wraps_the_same_message() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=r"steps\[0\]\.svn: unknown operator"):
        Pipeline.model_validate(doc({"svn": {}}))


def test_unparsable_text_is_a_spec_error() -> None:
    with pytest.raises(SpecError, match="cannot parse the pipeline YAML"):
        load_pipeline("name: [unclosed\n")
    with pytest.raises(SpecError, match="cannot parse the pipeline JSON"):
        load_pipeline('{"name": }')
