"""dataset_hash changes when and only when the data changes."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nirsframe.axis import SpectralAxis
from nirsframe.dataset import DatasetRoles, SpectralDataset
from nirsframe.io.lance import scan_lance, write_lance
from nirsframe.io.parquet import scan_parquet, write_parquet
from nirsframe.workspace.hashing import dataset_hash, spec_hash, text_hash

if TYPE_CHECKING:
    from pathlib import Path

N, P = 12, 9
SETTINGS = settings(max_examples=25, deadline=None)


def make(seed: int = 0, dtype: type = np.float64) -> SpectralDataset:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, P)).astype(dtype)
    ds = SpectralDataset.from_numpy(
        x, rng.normal(size=N), axis=SpectralAxis(np.linspace(1000, 1800, P), "nm")
    )
    return ds.with_frame(ds.frame.with_columns(batch=pl.Series(rng.integers(0, 3, N))))


def with_frame(ds: SpectralDataset, frame: pl.DataFrame) -> SpectralDataset:
    return ds.with_frame(frame)


BASE = make()
H0 = dataset_hash(BASE)
rows = st.integers(0, N - 1)


@SETTINGS
@given(i=rows, j=st.integers(0, P - 1), delta=st.sampled_from([1e-12, -1.0, 3.5, np.nan]))
def test_one_spectrum_value_changes_hash(i: int, j: int, delta: float) -> None:
    x = BASE.matrix().copy()
    x[i, j] = x[i, j] + delta
    df = BASE.frame.collect().with_columns(spectra=pl.Series(x))
    assert dataset_hash(with_frame(BASE, df)) != H0


@SETTINGS
@given(i=rows)
def test_one_id_changes_hash(i: int) -> None:
    df = BASE.frame.collect()
    ids = df["sample_id"].to_list()
    ids[i] = ids[i] + "x"
    assert dataset_hash(with_frame(BASE, df.with_columns(sample_id=pl.Series(ids)))) != H0


@SETTINGS
@given(i=rows, delta=st.floats(-10, 10).filter(lambda d: d != 0))
def test_one_target_changes_hash(i: int, delta: float) -> None:
    df = BASE.frame.collect()
    y = df["y"].to_numpy().copy()
    y[i] += delta
    if y[i] == df["y"][i]:  # below the float spacing: no change, same hash
        return
    assert dataset_hash(with_frame(BASE, df.with_columns(y=pl.Series(y)))) != H0


def test_axis_unit_and_values_change_hash() -> None:
    cm = SpectralAxis(np.linspace(1000, 1800, P), "cm-1")
    assert dataset_hash(BASE.with_frame(BASE.frame, axes={"spectra": cm})) != H0
    shifted = SpectralAxis(np.linspace(1000, 1800.5, P), "nm")
    assert dataset_hash(BASE.with_frame(BASE.frame, axes={"spectra": shifted})) != H0


@pytest.mark.parametrize(
    "roles",
    [
        DatasetRoles(id="sample_id", targets=("y",), group="batch"),
        DatasetRoles(id="sample_id", targets=()),
        DatasetRoles(id=None, targets=("y",)),
        DatasetRoles(id="sample_id", targets=("y",), metadata=("batch",)),
    ],
)
def test_role_changes_hash(roles: DatasetRoles) -> None:
    assert dataset_hash(BASE.with_frame(BASE.frame, roles=roles)) != H0


def test_extra_column_and_null_row_change_hash() -> None:
    df = BASE.frame.collect()
    assert dataset_hash(with_frame(BASE, df.with_columns(note=pl.lit("a")))) != H0
    nulled = df.with_columns(
        spectra=pl.when(pl.int_range(pl.len()) == 3).then(None).otherwise(pl.col("spectra"))
    )
    assert nulled["spectra"].null_count() == 1
    assert dataset_hash(with_frame(BASE, nulled)) != H0


def test_row_order_is_part_of_the_data() -> None:
    """Documented choice: rows are positions (folds, predictions refer to them)."""
    df = BASE.frame.collect()
    assert dataset_hash(with_frame(BASE, df.reverse())) != H0


@SETTINGS
@given(
    batch=st.integers(1, 2 * N),
    cut=st.integers(1, N - 1),
    perm=st.permutations(["sample_id", "spectra", "y", "batch"]),
)
def test_chunking_batch_size_and_column_order_do_not_matter(
    batch: int, cut: int, perm: list[str]
) -> None:
    df = BASE.frame.collect()
    chunked = pl.concat([df[:cut], df[cut:]], rechunk=False)
    assert chunked["spectra"].n_chunks() >= 2
    assert dataset_hash(with_frame(BASE, chunked.select(perm)), batch_size=batch) == H0


def test_float32_spectra_hash_like_their_exact_float64_widening() -> None:
    ds32 = make(dtype=np.float32)
    df = ds32.frame.collect()
    widened = df.with_columns(pl.col("spectra").cast(pl.Array(pl.Float64, P)))
    assert dataset_hash(ds32) == dataset_hash(with_frame(ds32, widened))


def test_nan_payloads_hash_alike() -> None:
    x = BASE.matrix().copy()
    x[0, 0] = np.nan
    y = x.copy()
    y.view(np.uint64)[0, 0] = 0x7FF8000000000001  # another quiet NaN
    df = BASE.frame.collect()
    a = dataset_hash(with_frame(BASE, df.with_columns(spectra=pl.Series(x))))
    b = dataset_hash(with_frame(BASE, df.with_columns(spectra=pl.Series(y))))
    assert a == b


def test_storage_round_trips_keep_the_hash(tmp_path: Path) -> None:
    write_parquet(BASE, tmp_path / "d.parquet")
    assert dataset_hash(scan_parquet(tmp_path / "d.parquet")) == H0
    write_lance(BASE, tmp_path / "d.lance")
    assert dataset_hash(scan_lance(tmp_path / "d.lance")) == H0
    # An append makes two fragments: the hash of the concatenation is read across them.
    write_lance(BASE, tmp_path / "two.lance")
    write_lance(BASE, tmp_path / "two.lance", mode="append")
    double = pl.concat([BASE.frame.collect(), BASE.frame.collect()])
    assert dataset_hash(scan_lance(tmp_path / "two.lance"), batch_size=5) == dataset_hash(
        with_frame(BASE, double)
    )


def test_hash_is_stable() -> None:
    """Pinned digest of a fixed tiny dataset: the encoding must not drift silently."""
    ds = SpectralDataset.from_numpy(
        np.arange(6.0).reshape(2, 3), y=[0.5, 1.5], axis=SpectralAxis([1.0, 2.0, 3.0], "nm")
    )
    assert dataset_hash(ds) == PINNED


def test_spec_hash_is_sha256_of_the_canonical_text() -> None:
    assert spec_hash('{"a":1}') == text_hash(b'{"a":1}')
    assert spec_hash('{"a":1}') != spec_hash('{"a":2}')


def test_bad_batch_size() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        dataset_hash(BASE, batch_size=0)


PINNED = "f98871297a7b63aa3dbcecf0bbab7f52de49dc485dabc9c38fc8ee05241faf17"
