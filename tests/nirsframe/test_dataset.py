from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from nirsframe.axis import SpectralAxis
from nirsframe.dataset import DatasetRoles, SpectralDataset
from nirsframe.exceptions import AxisError, DatasetError, SpectralShapeError, TargetTypeError


def frame(n: int = 4, p: int = 5) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "sample_id": [f"s{i}" for i in range(n)],
            "spectra": np.arange(n * p, dtype=np.float64).reshape(n, p),
            "fat": np.linspace(1, 2, n),
            "batch": ["a"] * n,
        }
    )


def make(df: pl.DataFrame, axis: SpectralAxis | None = None, **roles: object) -> SpectralDataset:
    r = DatasetRoles(id="sample_id", targets=("fat",), **roles)  # type: ignore[arg-type]
    return SpectralDataset(df.lazy(), {"spectra": axis or SpectralAxis.index(5)}, r)


def test_valid_dataset_accessors() -> None:
    ds = make(frame()).validate()
    assert ds.matrix().shape == (4, 5)
    np.testing.assert_array_equal(ds.target(), np.linspace(1, 2, 4))
    assert ds.target(("fat",)).shape == (4,)
    assert ds.roles.columns() == ["sample_id", "spectra", "fat"]


def test_axis_length_must_match_width() -> None:
    with pytest.raises(AxisError, match="axis length 4, spectra width 5"):
        make(frame(), SpectralAxis.index(4))


def test_duplicate_ids_are_named() -> None:
    df = frame().with_columns(pl.Series("sample_id", ["a", "b", "a", "c"]))
    with pytest.raises(DatasetError, match=r"duplicate values, e.g. \['a'\]"):
        make(df).validate()


def test_empty_frame() -> None:
    with pytest.raises(DatasetError, match="empty"):
        make(frame().head(0)).validate()


def test_string_targets() -> None:
    df = frame().with_columns(pl.col("fat").cast(pl.String))
    with pytest.raises(TargetTypeError, match="'fat' must be numeric; got String"):
        make(df)


def test_missing_role_column_and_list_spectra() -> None:
    with pytest.raises(DatasetError, match="absent"):
        make(frame(), group="plot")
    ragged = frame().with_columns(pl.col("spectra").cast(pl.List(pl.Float64)))
    with pytest.raises(SpectralShapeError, match="nf.to_spectra_column"):
        make(ragged)


def test_from_numpy_shapes() -> None:
    ds = SpectralDataset.from_numpy(np.ones((3, 4), dtype=np.float32), np.ones((3, 2)))
    assert ds.roles.targets == ("y0", "y1")
    assert ds.frame.collect_schema()["spectra"] == pl.Array(pl.Float32, 4)
    with pytest.raises(SpectralShapeError, match="one row per spectrum"):
        SpectralDataset.from_numpy(np.ones((3, 4)), np.ones(2))
    with pytest.raises(SpectralShapeError, match="2-D"):
        SpectralDataset.from_numpy(np.ones(4))
