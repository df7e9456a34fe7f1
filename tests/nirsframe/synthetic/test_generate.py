"""The generator: reproducible bytes, batch independence, schema, band positions, Lance."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from polars.testing import assert_frame_equal

import nirsframe as nf
from nirsframe.exceptions import InvalidParameterError
from nirsframe.io.lance import scan_lance
from nirsframe.synthetic import (
    BLOCK_SAMPLES,
    COMPONENTS,
    GeneratorConfig,
    Instrument,
    generate_batches,
    pure_spectra,
    strongest_band,
)

SMALL = Instrument(name="small", start=1000.0, stop=2400.0, n_points=64)
# Everything that is random switched off: a pure Beer-Lambert mixture.
CLEAN: dict[str, Any] = {
    "scatter": 0.0, "offset": 0.0, "slope": 0.0, "curvature": 0.0, "shift": 0.0, "noise": 0.0,
}  # fmt: skip


def small(n: int = 30, **kw: Any) -> nf.SpectralDataset:  # type: ignore[name-defined]
    return nf.generate(n, instruments=[kw.pop("instrument", SMALL)], **kw)


def frame(ds: Any) -> pl.DataFrame:
    return ds.frame.collect()


def test_same_seed_gives_identical_bytes_and_another_seed_differs() -> None:
    a, b = small(seed=4, repetitions=2), small(seed=4, repetitions=2)
    xa, xb = a.matrix(), b.matrix()
    assert xa.tobytes() == xb.tobytes()
    assert a.target().tobytes() == b.target().tobytes()
    assert not np.array_equal(xa, small(seed=5, repetitions=2).matrix())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_batch_size_and_threads_do_not_change_a_byte(dtype: str) -> None:
    n = BLOCK_SAMPLES + 50  # two random blocks
    cfg = GeneratorConfig(instruments=(SMALL,), seed=9, dtype=dtype)  # type: ignore[arg-type]
    tables = []
    for rows, threads in [(None, 1), (7, 1), (1000, 2), (5000, 1), (None, 2)]:
        _, reader = generate_batches(n, cfg, batch_rows=rows, threads=threads)
        batches = list(reader)
        if rows is not None:
            assert all(b.num_rows == rows for b in batches[:-1])
        tables.append(pa.Table.from_batches(batches))
    for t in tables[1:]:
        assert t.equals(tables[0])


def test_a_smaller_data_set_is_a_prefix_of_a_larger_one() -> None:
    big = frame(small(BLOCK_SAMPLES + 10, seed=2, repetitions=2))
    assert_frame_equal(frame(small(12, seed=2, repetitions=2)), big.head(24))


def test_columns_dtypes_axis_and_roles() -> None:
    ds = nf.generate(5, components=["water", "fat"], dtype="float32", n_classes=2, seed=1)
    df = frame(ds)
    assert df.columns == ["id", "sample", "repetition", "class", "water", "fat", "spectra"]
    assert df.schema["spectra"] == pl.Array(pl.Float32, 1024)
    assert df["id"].to_list() == list(range(5))
    assert ds.axis == nf.SpectralAxis(np.linspace(900.0, 2500.0, 1024), "nm")
    r = ds.roles
    assert (r.id, r.group, r.repetition, r.targets, r.metadata) == (
        "id",
        None,
        None,  # one scan per sample: no repetition role
        ("water", "fat"),
        ("sample", "repetition", "class"),
    )
    ds.validate()
    assert nf.generate(3, repetitions=2, seed=1).roles.repetition == "sample"
    assert nf.generate(3, seed=1).frame.collect_schema()["spectra"] == pl.Array(pl.Float64, 1024)


def test_float32_is_float64_rounded() -> None:
    x64 = small(seed=3).matrix()
    x32 = small(seed=3, dtype="float32").matrix()
    assert_array_equal(x32, x64.astype(np.float32))


def test_targets_lie_in_their_ranges() -> None:
    ds = small(400, components={"water": (10.0, 20.0), "fat": (0.0, 5.0)}, seed=1)
    y = ds.target()
    assert (y.max(axis=0) <= [20.0, 5.0]).all()
    assert (y.min(axis=0) >= [10.0, 0.0]).all()
    closed = small(50, closure=True, seed=1).target()
    assert_allclose(closed.sum(axis=1), 100.0, rtol=1e-12)


@pytest.mark.parametrize("shape", ["gaussian", "voigt"])
@pytest.mark.parametrize("name", sorted(COMPONENTS))
def test_pure_component_peaks_at_its_table_band(name: str, shape: str) -> None:
    """A noise-free pure component peaks at its strongest band, and every band is a local max."""
    inst = Instrument(start=900.0, stop=2500.0, n_points=1601, resolution=8.0)  # 1 nm step
    ds = nf.generate(1, components={name: (99.0, 100.0)}, instruments=[inst], band_shape=shape,
                     **CLEAN)  # fmt: skip
    x = ds.matrix()[0]
    lam = ds.axis.values
    assert abs(lam[x.argmax()] - strongest_band(name).center) <= 2.0
    peaks = lam[1:-1][(x[1:-1] > x[:-2]) & (x[1:-1] > x[2:])]
    for band in COMPONENTS[name]:
        assert np.min(np.abs(peaks - band.center)) <= 3.0, band


def test_analytic_derivative_matches_central_differences() -> None:
    lam = np.linspace(900.0, 2500.0, 400)
    for shape in ("gaussian", "voigt"):
        _, d = pure_spectra(list(COMPONENTS), lam, resolution=8.0, band_shape=shape)
        hi, _ = pure_spectra(list(COMPONENTS), lam + 1e-4, resolution=8.0, band_shape=shape)
        lo, _ = pure_spectra(list(COMPONENTS), lam - 1e-4, resolution=8.0, band_shape=shape)
        assert_allclose(d, (hi - lo) / 2e-4, rtol=1e-6, atol=1e-9)


def test_beer_lambert_linear_and_saturating_response() -> None:
    comps = {"water": (0.0, 100.0)}
    lin = small(20, components=comps, seed=3, **CLEAN)
    y, x = lin.target(), lin.matrix()
    pure, _ = pure_spectra(["water"], lin.axis.values, resolution=SMALL.resolution)
    assert_allclose(x, (y[:, None] / 100.0) * pure, rtol=1e-12, atol=1e-15)
    bent = small(20, components=comps, seed=3, nonlinearity=1.0, **CLEAN).matrix()
    c = y / (1.0 + y / 100.0)  # c / (1 + a c / c_max)
    assert_allclose(bent, (c[:, None] / 100.0) * pure, rtol=1e-12, atol=1e-15)


def test_noise_level_and_heteroscedastic_noise() -> None:
    base: dict[str, Any] = {"seed": 8, "scatter": 0.0, "shift": 0.0, "repetitions": 1}
    clean = small(300, noise=0.0, **base).matrix()
    noisy = small(300, noise=0.01, **base).matrix()
    assert (noisy - clean).std() == pytest.approx(0.01, rel=0.03)
    hetero = small(300, noise=0.01, heteroscedastic=2.0, **base).matrix()
    ratio = (hetero - clean) / ((noisy - clean) * (1.0 + 2.0 * np.abs(clean)))
    # hetero noise = sigma * (1 + h |noise-free value|) * z, with the same z draws
    assert_allclose(ratio, 1.0, rtol=1e-9)


def test_multi_source_has_one_column_and_axis_per_instrument() -> None:
    a = Instrument(name="lab", start=900.0, stop=2500.0, n_points=200, resolution=4.0)
    b = Instrument(name="handheld", start=950.0, stop=1650.0, n_points=64, resolution=16.0)
    ds = nf.generate(10, instruments=[a, b], seed=0)
    assert ds.roles.spectra == ("spectra_lab", "spectra_handheld")
    assert [len(ds.axes[c]) for c in ds.roles.spectra] == [200, 64]
    assert ds.axes["spectra_lab"] != ds.axes["spectra_handheld"]
    assert ds.matrix("spectra_handheld").shape == (10, 64)
    assert ds.axes["spectra_handheld"].values[0] == 950.0


def test_repetitions_share_sample_and_targets_but_not_spectra() -> None:
    ds = small(20, repetitions=3, reference_error=0.5, seed=6)
    df = frame(ds)
    assert df.height == 60
    g = df.group_by("sample").agg(
        pl.col("repetition").sort(), pl.col("water").n_unique().alias("nw"), pl.len()
    )
    assert (g["len"] == 3).all()
    assert (g["nw"] == 1).all()
    assert all(r == [0, 1, 2] for r in g["repetition"].to_list())
    x = ds.matrix()
    assert not np.allclose(x[0], x[1])  # each repetition has its own scatter and noise


def test_classes_follow_their_concentration_regimes() -> None:
    comps = {"water": (0.0, 30.0), "fat": (0.0, 30.0)}
    df = frame(small(300, components=comps, n_classes=3, seed=2))
    k = df["class"].to_numpy()
    assert set(k.tolist()) == {0, 1, 2}
    # component j sits in regime (k + j) mod 3 of three 10 %-wide sub-ranges
    assert_array_equal(np.floor(df["water"].to_numpy() / 10.0), k % 3)
    assert_array_equal(np.floor(df["fat"].to_numpy() / 10.0), (k + 1) % 3)


def test_streaming_to_lance_equals_in_memory(tmp_path: Any) -> None:
    kw: dict[str, Any] = {"instruments": [SMALL, Instrument(name="b", n_points=16)],
                          "repetitions": 2, "seed": 3, "dtype": "float32"}  # fmt: skip
    uri = tmp_path / "synth.lance"
    stored = nf.generate(BLOCK_SAMPLES + 5, lance_uri=uri, batch_rows=999, **kw)
    memory = nf.generate(BLOCK_SAMPLES + 5, **kw)
    assert_frame_equal(frame(stored), frame(memory))
    reread = scan_lance(uri)
    assert dict(reread.axes) == dict(memory.axes)
    assert reread.roles == memory.roles
    import lance

    props = lance.dataset(str(uri)).read_transaction(1).transaction_properties
    assert GeneratorConfig.model_validate_json(props["nirsframe.synthetic"]).seed == 3


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"components": ["water", "gold"]}, "unknown component 'gold'"),
        ({"components": {"water": (50.0, 10.0)}}, "0 <= low < high <= 100"),
        ({"repetitions": 0}, "'repetitions'"),
        ({"band_shape": "lorentz"}, "'band_shape'"),
        ({"instruments": [SMALL, SMALL]}, "instrument names must be unique"),
    ],
)
def test_invalid_parameters_are_named(kw: dict[str, Any], match: str) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        nf.generate(3, **kw)


def test_invalid_counts_and_instruments() -> None:
    with pytest.raises(InvalidParameterError, match=r"'n_samples'.*got 0"):
        nf.generate(0)
    with pytest.raises(InvalidParameterError, match="'batch_rows'"):
        nf.generate(3, batch_rows=0)
    with pytest.raises(ValueError, match="'stop' must be greater than 'start'"):
        Instrument(start=2000.0, stop=1000.0)


def test_append_requires_the_same_axes_and_roles(tmp_path: Any) -> None:
    from nirsframe.exceptions import DatasetError

    uri = tmp_path / "a.lance"
    nf.generate(4, instruments=[SMALL], seed=1, lance_uri=uri)
    both = nf.generate(4, instruments=[SMALL], seed=2, lance_uri=uri, mode="append")
    assert both.frame.collect().height == 8
    with pytest.raises(DatasetError, match="axes or roles differ"):
        nf.generate(4, seed=3, lance_uri=uri, mode="append")
