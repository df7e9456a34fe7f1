"""Generator keywords: exact expansions, counts without materialising, seeds, error locations."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from nirsframe.exceptions import SpecError
from nirsframe.pipeline.generators import compile_value, count_values, expand_value, has_generator


# -- _or_ and its modifiers -----------------------------------------------------------------------
def test_or_plain_and_nested_alternatives_are_flattened() -> None:
    assert expand_value({"_or_": ["A", "B", "C"]}) == ["A", "B", "C"]
    nested = {"_or_": [{"snv": {}}, {"detrend": {"order": {"_or_": [1, 2]}}}]}
    assert expand_value(nested) == [
        {"snv": {}},
        {"detrend": {"order": 1}},
        {"detrend": {"order": 2}},
    ]


def test_pick_is_combinations_in_lexicographic_order() -> None:
    assert expand_value({"_or_": ["A", "B", "C"], "pick": 2}) == [
        ["A", "B"],
        ["A", "C"],
        ["B", "C"],
    ]
    assert expand_value({"_or_": ["A", "B", "C"], "pick": [1, 2]}) == [
        ["A"],
        ["B"],
        ["C"],
        ["A", "B"],
        ["A", "C"],
        ["B", "C"],
    ]


def test_arrange_is_permutations_in_lexicographic_order() -> None:
    assert expand_value({"_or_": ["A", "B", "C"], "arrange": 2}) == [
        ["A", "B"],
        ["A", "C"],
        ["B", "A"],
        ["B", "C"],
        ["C", "A"],
        ["C", "B"],
    ]


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_pick_and_arrange_match_itertools(k: int) -> None:
    items = list("ABCDE")
    picked = expand_value({"_or_": items, "pick": k})
    arranged = expand_value({"_or_": items, "arrange": k})
    assert picked == [list(c) for c in itertools.combinations(items, k)]
    assert arranged == [list(p) for p in itertools.permutations(items, k)]
    assert count_values({"_or_": items, "pick": k}) == math.comb(5, k)
    assert count_values({"_or_": items, "arrange": k}) == math.perm(5, k)


def test_count_is_a_seeded_subset_in_expansion_order() -> None:
    spec = {"_or_": list("ABCDEFGH"), "count": 3, "seed": 7}
    expected_idx = sorted(random.Random(7).sample(range(8), 3))
    assert expand_value(spec) == [list("ABCDEFGH")[i] for i in expected_idx]
    assert expand_value(spec) == expand_value(dict(spec))  # reproducible
    other = [expand_value({**spec, "seed": s}) for s in range(10)]
    assert len({tuple(o) for o in other}) > 1  # the seed matters
    # default seed is 0, so a count without a seed is reproducible too
    assert expand_value({"_or_": list("ABCDEFGH"), "count": 3}) == expand_value(
        {"_or_": list("ABCDEFGH"), "count": 3, "seed": 0}
    )


def test_count_larger_than_expansion_keeps_everything() -> None:
    assert expand_value({"_or_": [1, 2], "count": 5}) == [1, 2]


def test_count_over_a_huge_space_does_not_materialise() -> None:
    e = compile_value({"_range_": [1, 10**15], "count": 4, "seed": 1})
    idx = sorted(random.Random(1).sample(range(10**15), 4))
    assert list(e) == [i + 1 for i in idx]
    picked = compile_value({"_or_": list(range(60)), "pick": 30, "count": 2, "seed": 3})
    assert len(picked) == 2
    assert all(len(p) == 30 and p == sorted(p) for p in picked)


# -- numeric generators ---------------------------------------------------------------------------
def test_range_inclusive_with_and_without_step() -> None:
    assert expand_value({"_range_": [1, 5]}) == [1, 2, 3, 4, 5]
    assert expand_value({"_range_": [0, 20, 5]}) == [0, 5, 10, 15, 20]
    assert expand_value({"_range_": [0, 19, 5]}) == [0, 5, 10, 15]
    assert expand_value({"_range_": [10, 1, -3]}) == [10, 7, 4, 1]
    assert expand_value({"_range_": [0, 1, 0.1]}) == [
        0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0
    ]  # fmt: skip
    assert all(type(v) is int for v in expand_value({"_range_": [1, 20]}))


def test_log_range_is_geometric_with_exact_endpoints() -> None:
    assert expand_value({"_log_range_": [0.001, 1, 4]}) == [0.001, 0.01, 0.1, 1.0]
    assert expand_value({"_log_range_": [1, 256, 9]}) == [2.0**i for i in range(9)]
    assert expand_value({"_log_range_": [5, 50, 1]}) == [5.0]


def test_grid_is_cartesian_in_sorted_param_order() -> None:
    out = expand_value({"_grid_": {"lr": [0.01, 0.1], "batch": [16, 32, 64]}})
    assert out == [{"lr": lr, "batch": b} for b in (16, 32, 64) for lr in (0.01, 0.1)]
    assert list(out[0]) == ["lr", "batch"]  # the document's key order is kept in each value


def test_grid_accepts_generator_values() -> None:
    out = expand_value({"_grid_": {"a": {"_range_": [1, 2]}, "b": ["x"]}})
    assert out == [{"a": 1, "b": "x"}, {"a": 2, "b": "x"}]


def test_zip_pairs_by_position() -> None:
    assert expand_value({"_zip_": {"x": [1, 2, 3], "y": ["A", "B", "C"]}}) == [
        {"x": 1, "y": "A"},
        {"x": 2, "y": "B"},
        {"x": 3, "y": "C"},
    ]


def test_chain_keeps_order() -> None:
    assert expand_value({"_chain_": [{"b": 1}, {"a": 2}, {"c": 3}]}) == [
        {"b": 1},
        {"a": 2},
        {"c": 3},
    ]


def test_sample_distributions_are_seeded_and_exact() -> None:
    def draws(seed: int, n: int) -> list[float]:
        rng = random.Random(seed)
        return [rng.random() for _ in range(n)]

    uni = expand_value(
        {"_sample_": {"distribution": "uniform", "from": 2, "to": 4, "num": 3, "seed": 5}}
    )
    assert uni == [2 + 2 * u for u in draws(5, 3)]
    logu = expand_value(
        {"_sample_": {"distribution": "log_uniform", "from": 0.01, "to": 1, "num": 3}}
    )
    a, b = math.log(0.01), math.log(1.0)
    assert logu == pytest.approx([math.exp(a + (b - a) * u) for u in draws(0, 3)], rel=1e-15)
    assert all(0.01 <= v <= 1 for v in logu)
    rng = random.Random(3)
    normal = [rng.gauss(1.0, 0.5) for _ in range(4)]
    spec = {"distribution": "normal", "mean": 1, "std": 0.5, "num": 4, "seed": 3}
    assert expand_value({"_sample_": spec}) == normal
    choice = expand_value(
        {"_sample_": {"distribution": "choice", "values": ["a", "b", "c"], "num": 5, "seed": 1}}
    )
    rng = random.Random(1)
    assert choice == [["a", "b", "c"][rng.randrange(3)] for _ in range(5)]


# -- products and counts --------------------------------------------------------------------------
def test_plain_mappings_and_lists_are_products_last_key_fastest() -> None:
    value = {"b": {"_or_": [1, 2]}, "a": {"_or_": ["x", "y"]}}
    # iteration follows sorted keys (a, then b fastest) whatever the document order
    assert expand_value(value) == [
        {"b": 1, "a": "x"},
        {"b": 2, "a": "x"},
        {"b": 1, "a": "y"},
        {"b": 2, "a": "y"},
    ]
    assert expand_value([{"_or_": [1, 2]}, 3]) == [[1, 3], [2, 3]]
    assert expand_value({"a": [1, 2]}) == [{"a": [1, 2]}]  # plain lists are data


def test_counts_are_combinatorial() -> None:
    spec = {
        "a": {"_or_": list(range(10)), "pick": 5},
        "b": {"_range_": [1, 1000]},
        "c": {"_grid_": {"x": [1, 2], "y": {"_log_range_": [1, 10, 7]}}},
    }
    assert count_values(spec) == math.comb(10, 5) * 1000 * 14
    assert count_values({"_range_": [1, 10**18]}) == 10**18


def test_cap_is_checked_before_materialising() -> None:
    with pytest.raises(SpecError, match="expands to 1,000,000,000,000 values"):
        expand_value({"x": {"_range_": [1, 10**12]}}, "steps[1]", cap=10)


def test_has_generator() -> None:
    assert has_generator([{"a": {"_zip_": {"x": [1]}}}])
    assert not has_generator({"a": [1, {"b": 2}]})


# -- errors name the place and suggest a fix ------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "match"),
    [
        (
            {"_rnage_": [1, 2]},
            r"^p\.x: unknown generator keyword '_rnage_'; did you mean '_range_'",
        ),
        (
            {"_or_": [1, 2], "pik": 2},
            r"^p\.x\.pik: '_or_' has no modifier 'pik'; did you mean 'pick'",
        ),
        ({"_or_": [1, 2], "pick": 3}, r"^p\.x\.pick: pick=3 exceeds the 2 alternatives"),
        ({"_or_": [1], "pick": 1, "arrange": 1}, r"^p\.x: use either 'pick'"),
        ({"_or_": []}, r"^p\.x\._or_: '_or_' takes a non-empty list"),
        ({"_range_": [5, 1]}, r"^p\.x\._range_: '_range_' \[5, 1\] is empty"),
        ({"_range_": [1, 2, 0]}, r"^p\.x\._range_: .* is empty"),
        ({"_range_": "1-5"}, r"^p\.x\._range_: '_range_' takes \[start, stop\]"),
        ({"_log_range_": [0, 1, 3]}, r"^p\.x\._log_range_: '_log_range_' bounds must be > 0"),
        ({"_zip_": {"a": [1, 2], "b": [1]}}, r"^p\.x\._zip_: '_zip_' lists must have the same"),
        ({"_grid_": {"a": []}}, r"^p\.x\._grid_\.a: the list of values is empty"),
        ({"_grid_": {"a": 3}}, r"^p\.x\._grid_\.a: '_grid_' values must be a list"),
        ({"_or_": [1, 2], "seed": 1}, r"^p\.x\.seed: 'seed' only applies together with 'count'"),
        ({"_or_": [1, 2], "count": 0}, r"^p\.x\.count: 'count' must be an integer >= 1"),
        ({"_chain_": [1], "pick": 1}, r"^p\.x\.pick: '_chain_' has no modifier 'pick'"),
        ({"_or_": [1], "_range_": [1, 2]}, r"^p\.x: a generator holds one keyword"),
        (
            {"_sample_": {"distribution": "uniformm", "from": 0, "to": 1, "num": 2}},
            r"^p\.x\._sample_\.distribution: .*did you mean 'uniform'",
        ),
        (
            {"_sample_": {"distribution": "uniform", "form": 0, "to": 1, "num": 2}},
            r"^p\.x\._sample_\.form: .*has no key 'form'; did you mean 'from'",
        ),
        (
            {"_sample_": {"distribution": "normal", "mean": 0, "num": 2}},
            r"^p\.x\._sample_: '_sample_' with distribution 'normal' needs 'std'",
        ),
    ],
)
def test_errors_name_location(value: object, match: str) -> None:
    with pytest.raises(SpecError, match=match):
        compile_value({"x": value}, "p")


def test_nested_error_location() -> None:
    bad = {"_or_": [{"snv": {}}, {"detrend": {"order": {"_range_": [3, 1]}}}]}
    with pytest.raises(SpecError, match=r"^steps\[0\]\._or_\[1\]\.detrend\.order\._range_: "):
        compile_value(bad, "steps[0]")
