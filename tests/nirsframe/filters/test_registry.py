"""``FILTERS`` and ``parse_filter``: the spec face of the filters."""

from __future__ import annotations

import json

import pytest

from nirsframe.exceptions import SpecError
from nirsframe.filters import FILTERS, HotellingT2, parse_filter


def test_registry_names() -> None:
    assert sorted(FILTERS) == ["hotelling_t2", "iqr", "leverage", "mad", "q_residuals", "zscore"]
    for name, cls in FILTERS.items():
        assert cls.name == name
        assert cls.uses in {"X", "y", "X+y"}


def test_parse_filter_forms() -> None:
    f = parse_filter({"hotelling_t2": {"n_components": 5, "alpha": 0.99}})
    assert isinstance(f, HotellingT2)
    assert (f.params.n_components, f.params.alpha) == (5, 0.99)
    assert parse_filter("mad").params.threshold == 3.5
    assert parse_filter({"iqr": None}).params.k == 1.5


def test_requires_y() -> None:
    needs = {name: parse_filter(name).requires_y for name in FILTERS}
    assert needs == {
        "hotelling_t2": False,
        "q_residuals": False,
        "leverage": False,
        "iqr": True,
        "zscore": True,
        "mad": True,
    }
    assert parse_filter({"leverage": {"method": "pls"}}).requires_y


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_spec_survives_a_json_round_trip(name: str) -> None:
    f = parse_filter(name)
    again = parse_filter(json.loads(json.dumps(f.to_spec())))
    assert again.to_spec() == f.to_spec()
    assert type(again) is type(f)


def test_unknown_name_suggests_the_closest() -> None:
    with pytest.raises(SpecError, match=r"unknown filter 'hotelling'; did you mean 'hotelling_t2'"):
        parse_filter({"hotelling": {}})
    with pytest.raises(SpecError, match=r"unknown filter 'zscor'; did you mean 'zscore'"):
        parse_filter("zscor")
    with pytest.raises(SpecError, match=r"unknown filter 'xyz' \(known: hotelling_t2, iqr"):
        parse_filter("xyz")


def test_malformed_specs() -> None:
    with pytest.raises(SpecError, match="exactly one filter name"):
        parse_filter({"iqr": {}, "mad": {}})
    with pytest.raises(SpecError, match="exactly one filter name"):
        parse_filter(3)
    with pytest.raises(
        SpecError, match=r"tag\.iqr: the parameters of filter 'iqr' must be a mapping"
    ):
        parse_filter({"iqr": 1.5}, loc="tag")
    with pytest.raises(
        SpecError, match=r"filter\.leverage: the 'k' parameter of filter 'leverage'"
    ):
        parse_filter({"leverage": {"k": -2}})
    with pytest.raises(SpecError, match="filter 'q_residuals' has no parameter 'alfa'"):
        parse_filter({"q_residuals": {"alfa": 0.9}})
