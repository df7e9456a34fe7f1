"""nf.chain: fused row-block execution equals the nested expressions; run_blocked itself."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from numpy.testing import assert_array_equal

import nirsframe as nf
from nirsframe._bridge import block_rows, run_blocked
from nirsframe.exceptions import InvalidParameterError
from nirsframe.operators import (
    Autoscale,
    Crop,
    MultiplicativeScatterCorrection,
    Normalize,
    SavitzkyGolay,
    StandardNormalVariate,
)
from tests.conftest import synthetic_spectra


def _nested(expr: pl.Expr | str, ops: list) -> pl.Expr:
    out = pl.col(expr) if isinstance(expr, str) else expr
    for op in ops:
        out = op.to_expr(out)
    return out


@pytest.mark.parametrize("rows", [1, 3, 7, 64, 1000])
def test_run_blocked_equals_sequential_application(rows: int) -> None:
    x = synthetic_spectra(50, 40, seed=1)
    snv = StandardNormalVariate().row_function()
    sg = SavitzkyGolay(window_length=7, polyorder=2, deriv=1).row_function()
    assert_array_equal(run_blocked(x, [snv, sg], rows=rows), sg(snv(x)))


def test_run_blocked_keeps_dtype_and_changes_width() -> None:
    x = synthetic_spectra(9, 12, seed=2).astype(np.float32)
    out = run_blocked(x, [lambda a: a[:, :5] * 2.0], rows=4)
    assert out.dtype == np.float32
    assert out.shape == (9, 5)
    assert_array_equal(out, (x[:, :5] * 2.0).astype(np.float32))


def test_block_rows_targets_the_block_size() -> None:
    assert block_rows(1024, 8, 1 << 19) == 64
    assert block_rows(10**7, 8, 1 << 19) == 1


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("engine", ["in-memory", "streaming"])
def test_chain_equals_nested_expressions(dtype: type, engine: str) -> None:
    x = synthetic_spectra(300, 96, seed=3).astype(dtype)
    x[5] = np.nan  # a NaN row stays NaN through the fused steps
    ops = [
        StandardNormalVariate(),
        SavitzkyGolay(window_length=11, polyorder=2, deriv=1),
        Normalize(norm="l2"),
    ]
    df = pl.DataFrame({"spectra": x})
    fused = df.lazy().select(nf.chain("spectra", ops)).collect(engine=engine)
    nested = df.lazy().select(_nested("spectra", ops)).collect(engine=engine)
    assert fused.schema == nested.schema
    assert_array_equal(fused.to_series().to_numpy(), nested.to_series().to_numpy())


def test_chain_with_fitted_and_axis_changing_operators() -> None:
    x = synthetic_spectra(40, 60, seed=4)
    msc = MultiplicativeScatterCorrection().fit(x)
    crop = Crop(lower=10.0, upper=49.0, x_axis=tuple(float(i) for i in range(60)))
    auto = Autoscale().fit(crop.fit_transform(msc.transform(x)))
    ops = [msc, crop, auto, StandardNormalVariate()]
    df = pl.DataFrame({"spectra": x, "id": np.arange(40)})
    fused = df.select(nf.chain("spectra", ops))
    nested = df.select(_nested("spectra", ops))
    assert fused.schema == nested.schema
    assert_array_equal(fused.to_series().to_numpy(), nested.to_series().to_numpy())


def test_chain_of_nothing_is_the_column_and_rejects_non_operators() -> None:
    df = pl.DataFrame({"spectra": synthetic_spectra(3, 8)})
    assert df.select(nf.chain("spectra", [])).equals(df.select("spectra"))
    with pytest.raises(InvalidParameterError, match="position 1"):
        nf.chain("spectra", [StandardNormalVariate(), "savgol"])  # type: ignore[list-item]


def test_chain_of_unfitted_operator_raises() -> None:
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        nf.chain("spectra", [MultiplicativeScatterCorrection()])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_snv_then_savgol_runs_fused_with_the_steps_bits(dtype: type) -> None:
    x = synthetic_spectra(300, 48, seed=8).astype(dtype)
    x[7] = np.nan
    df = pl.DataFrame({"spectra": x})
    snv, sg = StandardNormalVariate(ddof=1), SavitzkyGolay(window_length=9, polyorder=3, deriv=1)
    expr = sg.to_expr(snv.to_expr("spectra"))
    assert len(expr._nirsframe_steps[1]) == 1  # type: ignore[attr-defined]
    expected = sg.transform(snv.transform(x))
    for frame in (
        df.select(expr),
        df.lazy().select(expr).collect(),
        df.lazy().select(expr).collect(engine="streaming"),
        df.select(nf.chain("spectra", [snv, sg])),
    ):
        assert_array_equal(frame.to_series().to_numpy(), expected)


def test_savgol_on_the_axis_spacing_is_not_fused_and_still_right() -> None:
    x = synthetic_spectra(20, 30, seed=9)
    axis = tuple(1000.0 + 2.0 * i for i in range(30))
    snv = StandardNormalVariate()
    sg = SavitzkyGolay(window_length=5, polyorder=2, deriv=1, delta="axis", x_axis=axis)
    expr = sg.to_expr(snv.to_expr("spectra"))
    assert len(expr._nirsframe_steps[1]) == 2  # type: ignore[attr-defined]
    got = pl.DataFrame({"spectra": x}).select(expr).to_series().to_numpy()
    assert_array_equal(got, sg.transform(snv.transform(x)))
