from __future__ import annotations

import numpy as np
import pytest

from nirsframe import AxisError, SpectralAxis


def test_units_direction_and_json_round_trip() -> None:
    ax = SpectralAxis([4000.0, 3998.0, 3996.0], "cm-1")
    back = SpectralAxis.from_json(ax.to_json())
    assert back == ax
    assert back.unit == "cm-1"
    assert back.values[0] > back.values[-1]
    assert ax.spacing == 2.0
    assert SpectralAxis([1.0, 2.0], "channel_index").unit == "index"


def test_values_are_read_only_and_hashable() -> None:
    ax = SpectralAxis([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="read-only"):
        ax.values[0] = 5.0
    assert hash(ax) == hash(SpectralAxis([1.0, 2.0, 3.0]))
    assert ax != SpectralAxis([1.0, 2.0, 3.0], "index")


@pytest.mark.parametrize(
    ("values", "unit", "match"),
    [
        ([1.0, 3.0, 2.0], "nm", "strictly monotonic; got 3.0 then 2.0 at positions 1, 2"),
        ([1.0, 1.0, 2.0], "nm", "strictly monotonic"),
        ([1.0, np.nan, 2.0], "nm", "finite; got nan at position 1"),
        ([], "nm", "non-empty"),
        ([1.0, 2.0], "hz", "unit' must be one of"),
    ],
)
def test_invalid_axes_are_typed_errors(values: list[float], unit: str, match: str) -> None:
    with pytest.raises(AxisError, match=match):
        SpectralAxis(values, unit)


def test_check_width_names_both_lengths() -> None:
    with pytest.raises(AxisError, match="axis length 3, spectra width 4"):
        SpectralAxis([1.0, 2.0, 3.0]).check_width(4)


def test_crop_keeps_unit_and_returns_mask() -> None:
    ax, mask = SpectralAxis([1000.0, 1002.0, 1004.0, 1006.0]).crop(1001, 1005)
    assert ax.values.tolist() == [1002.0, 1004.0]
    assert mask.tolist() == [False, True, True, False]
