"""Spectral expressions: eager == lazy == streaming, nulls, dtypes, and the bridge itself."""

from __future__ import annotations

import threading

import numpy as np
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from nirskern import savgol as nirskern_savgol
from nirskern import snv as nirskern_snv
from numpy.testing import assert_array_equal
from polars.testing import assert_frame_equal

import nirsframe as nf
from nirsframe._bridge import (
    PARALLEL_MIN_BYTES,
    RowsInto,
    map_spectra,
    matrix_to_series,
    new_matrix,
    run_blocked,
    run_parallel,
    series_to_matrix,
)
from nirsframe.exceptions import SpectralShapeError
from nirsframe.operators import SavitzkyGolay, StandardNormalVariate


def chain(col: str = "spectra") -> pl.Expr:
    return nf.savgol(nf.snv(col), window_length=15, polyorder=2, deriv=1)


def test_series_matrix_round_trip_is_zero_copy() -> None:
    x = np.random.default_rng(0).normal(size=(5, 7))
    s = pl.Series("s", x)
    m, nulls = series_to_matrix(s)
    assert nulls is None
    assert np.shares_memory(m, x)
    back = matrix_to_series("s", m)
    assert back.dtype == pl.Array(pl.Float64, 7)
    np.testing.assert_array_equal(back.to_numpy(), x)


def test_null_rows_survive_a_transform() -> None:
    s = pl.Series(
        "spectra", [[1.0, 2.0, 4.0], None, [3.0, 1.0, 0.0]], dtype=pl.Array(pl.Float64, 3)
    )
    out = pl.DataFrame(s).select(nf.snv("spectra"))["spectra"]
    assert out.is_null().to_list() == [False, True, False]
    np.testing.assert_allclose(out[0].to_numpy(), nf_snv_ref([1.0, 2.0, 4.0]), rtol=1e-12)


def nf_snv_ref(row: list[float]) -> np.ndarray:
    a = np.asarray(row)
    return (a - a.mean()) / a.std()


def test_empty_frame_keeps_schema() -> None:
    df = pl.DataFrame({"spectra": np.zeros((0, 20))})
    out = df.lazy().select(chain()).collect()
    assert out.height == 0
    assert out.schema["spectra"] == pl.Array(pl.Float64, 20)


def test_wrong_dtype_is_a_typed_error() -> None:
    df = pl.DataFrame({"spectra": [[1.0, 2.0], [1.0]]})
    with pytest.raises(SpectralShapeError, match="must be pl.Array"):
        df.select(nf.snv("spectra"))


def test_declared_dtype_and_width_change() -> None:
    lf = pl.LazyFrame({"spectra": np.ones((3, 6), dtype=np.float32)})
    assert lf.select(chain()).collect_schema()["spectra"] == pl.Array(pl.Float32, 6)
    narrow = lf.select(map_spectra(pl.col("spectra"), lambda x: x[:, :2], width=2))
    assert narrow.collect_schema()["spectra"] == pl.Array(pl.Float32, 2)
    assert narrow.collect()["spectra"].dtype == pl.Array(pl.Float32, 2)


def test_eager_lazy_streaming_identical_on_100k_rows() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(100_000, 64)).cumsum(axis=1)
    x[17] = np.nan
    df = pl.DataFrame({"id": np.arange(x.shape[0]), "spectra": x})
    df = df.with_columns(
        pl.when(pl.col("id") % 9973 == 0).then(None).otherwise(pl.col("spectra")).alias("spectra")
    )
    eager = df.select("id", chain())
    lazy = df.lazy().select("id", chain()).collect()
    streaming = df.lazy().select("id", chain()).collect(engine="streaming")
    assert_frame_equal(eager, lazy)
    assert_frame_equal(eager, streaming)
    assert eager["spectra"].null_count() == df["spectra"].null_count()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    dtype=st.sampled_from([np.float32, np.float64]),
    n=st.integers(1, 40),
    p=st.integers(15, 60),
)
def test_engines_agree_property(data: st.DataObject, dtype: type, n: int, p: int) -> None:
    x = data.draw(arrays(dtype, (n, p), elements=st.floats(-1e3, 1e3, width=32)))
    nan_rows = data.draw(st.lists(st.integers(0, n - 1), max_size=3))
    x[nan_rows] = np.nan
    df = pl.DataFrame({"spectra": x})
    expr = nf.detrend(chain(), order=2)
    eager = df.select(expr)
    assert_frame_equal(eager, df.lazy().select(expr).collect())
    assert_frame_equal(eager, df.lazy().select(expr).collect(engine="streaming"))
    assert eager["spectra"].dtype == pl.Array(pl.Float32 if dtype is np.float32 else pl.Float64, p)
    out = eager["spectra"].to_numpy()
    assert np.all(np.isnan(out[nan_rows]))


def test_nested_spectral_expressions_fuse_into_one_udf() -> None:
    calls: list[str] = []

    def add(x: np.ndarray) -> np.ndarray:
        calls.append("add")
        return x + 1

    def crop(x: np.ndarray) -> np.ndarray:
        calls.append("crop")
        return 2 * x[:, :2]

    df = pl.DataFrame({"spectra": np.arange(12.0).reshape(3, 4)})
    inner = map_spectra(pl.col("spectra"), add)
    outer = map_spectra(inner, crop, width=2)
    plan = df.lazy().select(outer).explain()
    assert plan.count("python_udf") == 1
    out = df.select(outer)["spectra"]
    assert out.dtype == pl.Array(pl.Float64, 2)
    assert_array_equal(out.to_numpy(), 2 * (np.arange(12.0).reshape(3, 4)[:, :2] + 1))
    assert calls == ["add", "crop"]
    # The inner expression still works on its own, and a renamed one is not fused into.
    assert_array_equal(df.select(inner)["spectra"].to_numpy(), np.arange(12.0).reshape(3, 4) + 1)
    renamed = map_spectra(inner.alias("spectra"), lambda x: x)
    assert df.lazy().select(renamed).explain().count("python_udf") == 2


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_run_parallel_equals_run_blocked(dtype: type) -> None:
    p = 256
    n = 3 * PARALLEL_MIN_BYTES // (p * np.dtype(dtype).itemsize) + 5  # several ranges
    x = np.random.default_rng(2).normal(size=(n, p)).astype(dtype)
    x[[0, n // 2, n - 1]] = np.nan
    fns = [nirskern_snv, lambda a: nirskern_savgol(a, 15, 2, deriv=1)]
    out = run_parallel(x, fns, np.full_like(x, 7.0))  # first touched, then every row written
    assert_array_equal(out, run_blocked(x, fns))


def test_run_parallel_raises_the_failure_of_a_worker() -> None:
    x = np.ones((PARALLEL_MIN_BYTES // 64 + 1, 8))  # just above the parallel threshold

    def fail(a: np.ndarray) -> np.ndarray:
        msg = "bad block"
        raise ValueError(msg)

    with pytest.raises(ValueError, match="bad block"):
        run_parallel(x, [fail], np.empty_like(x))


def test_a_step_may_raise_the_size_below_which_it_runs_on_the_calling_thread() -> None:
    if pl.thread_pool_size() < 2:
        pytest.skip("one worker: everything runs on the calling thread")
    x = np.ones((2 * PARALLEL_MIN_BYTES // 64, 8))
    threads: set[str] = set()

    def record(a: np.ndarray, out: np.ndarray) -> None:
        threads.add(threading.current_thread().name)
        out[:] = a

    run_parallel(x, [RowsInto(record)], np.empty_like(x))
    assert threads and all(t.startswith("nirsframe") for t in threads)  # the workers
    threads.clear()
    serial = RowsInto(record, min_parallel_bytes=x.nbytes + 1)
    out = run_parallel(x, [serial], np.empty_like(x))
    assert threads == {threading.current_thread().name}
    assert_array_equal(out, x)
    # A chain runs on the workers when any of its steps is worth it.
    threads.clear()
    run_parallel(x, [lambda a: a, serial], np.empty_like(x))
    assert threading.current_thread().name not in threads


def test_run_blocked_checks_the_output_width() -> None:
    with pytest.raises(
        SpectralShapeError, match=r"returned shape \(3, 2\); expected 3 rows of width 4"
    ):
        run_blocked(np.ones((3, 4)), [lambda a: a[:, :2]], out=np.empty((3, 4)))


def test_run_blocked_checks_the_row_count() -> None:
    with pytest.raises(SpectralShapeError, match=r"returned shape \(1, 4\); expected 3 rows"):
        run_blocked(np.ones((3, 4)), [lambda a: a[:1]], out=np.empty((3, 4)))


def test_a_last_step_that_writes_into_the_output_gives_the_same_result() -> None:
    x = np.random.default_rng(3).normal(size=(300, 40))
    steps = [StandardNormalVariate().row_function(), SavitzkyGolay(window_length=7).row_function()]
    assert isinstance(steps[-1], RowsInto)
    want = steps[1](steps[0](x))
    for rows in (1, 7, 300):
        out = np.full_like(x, np.nan)
        assert run_blocked(x, steps, rows=rows, out=out) is out
        np.testing.assert_array_equal(out, want)
    np.testing.assert_array_equal(run_blocked(x, steps, rows=7), want)
    bad = RowsInto(lambda a, out: None, width=5)
    with pytest.raises(SpectralShapeError, match="width 40"):
        run_blocked(x, [bad], out=np.empty_like(x))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(0, 5), (3, 0), (4, 7)])
def test_new_matrix_is_a_writeable_aligned_matrix(dtype: type, shape: tuple[int, int]) -> None:
    m = new_matrix(*shape, dtype)
    assert m.shape == shape
    assert m.dtype == dtype
    assert m.flags.writeable
    assert m.flags.c_contiguous
    if m.size:
        assert m.ctypes.data % 64 == 0


def test_results_live_in_arrows_pool_and_return_to_it() -> None:
    # Spectral results are allocated from Arrow's memory pool (recycled by its allocator), and
    # a result's memory is held by the Polars column built over it, without a copy.
    x = np.random.default_rng(0).normal(size=(64, 512))
    df = pl.DataFrame({"s": x})
    expr = nf.snv("s")
    before = pa.total_allocated_bytes()
    out = df.select(expr)
    assert pa.total_allocated_bytes() - before >= x.nbytes
    assert_array_equal(out["s"].to_numpy(), nirskern_snv(x))
    del out
    assert pa.total_allocated_bytes() - before < x.nbytes
    op_out = StandardNormalVariate().fit_transform(x)
    assert pa.total_allocated_bytes() - before >= x.nbytes
    assert_array_equal(op_out, nirskern_snv(x))
