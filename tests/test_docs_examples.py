"""The converted nirs4all examples in docs/examples run on real data with sensible results."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

import nirsframe.api as api
from nirsframe.io import read_parquet, scan_parquet
from tests.conftest import SHARED_DATA

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"

# example -> (data file, train values, test values, bound on RMSECV)
CASES = {
    "basic_regression": ("gasoline", None, None, 0.35),
    "generators": ("gasoline", None, None, 0.30),
    "stacking": ("tecator", ("train", "monitor"), ("test",), 2.0),
    "separation_branches": ("corn", None, None, 0.35),
    "sample_augmentation": ("gasoline", None, None, 0.40),
    "merge_features": ("tecator", ("train", "monitor"), ("test",), 1.9),
    "multilevel_stacking": ("tecator", ("train", "monitor"), ("test",), 2.0),
    "feature_augmentation": ("gasoline", None, None, 0.30),
}


def data(stem: str) -> object:
    if stem == "corn":
        ds = scan_parquet(SHARED_DATA / "corn.parquet")
        frame = ds.frame.with_columns(
            (pl.col("instrument") + ":" + pl.col("sample_id")).alias("sample_id")
        )
        return ds.with_frame(frame).collect()
    return read_parquet(SHARED_DATA / f"{stem}.parquet")


@pytest.mark.skipif(not SHARED_DATA.exists(), reason="shared data absent")
@pytest.mark.parametrize("example", sorted(CASES))
def test_example_runs(example: str) -> None:
    stem, train, test, bound = CASES[example]
    result = api.run(EXAMPLES / f"{example}.yaml", data(stem), train_values=train, test_values=test)  # type: ignore[arg-type]
    assert result.best["rmsecv"] < bound


def test_every_example_is_covered() -> None:
    assert {p.stem for p in EXAMPLES.glob("*.yaml")} == set(CASES)
