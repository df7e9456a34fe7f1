"""Haar / Wavelet / WaveletDenoise operators: width handling, faces, axis, errors."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import nirsframe.functions as nff
from nirsframe.axis import SpectralAxis
from nirsframe.exceptions import InvalidParameterError, SpectralShapeError
from nirsframe.operators import Haar, Wavelet, WaveletDenoise
from tests.conftest import synthetic_spectra

pywt = pytest.importorskip("pywt")


def test_wavelet_matches_pywt_and_width_is_resolved_lazily() -> None:
    x = synthetic_spectra(6, 101, seed=8)
    ref = np.array([np.concatenate(pywt.wavedec(r, "db3", level=3)) for r in x])
    op = Wavelet(wavelet="db3", level=3)
    assert_allclose(op.fit_transform(x), ref, rtol=0, atol=1e-12)
    df = pl.DataFrame({"spectra": x})
    # Unfitted (free function): Polars infers the output width at plan time.
    lazy = df.lazy().select(nff.wavelet("spectra", wavelet="db3", level=3))
    assert lazy.collect_schema()["spectra"] == pl.Array(pl.Float64, ref.shape[1])
    assert_array_equal(lazy.collect(engine="streaming").to_series().to_numpy(), op.transform(x))
    # Fitted: the width is declared from n_features_in_.
    fitted = df.lazy().select(op.to_expr("spectra"))
    assert fitted.collect_schema()["spectra"] == pl.Array(pl.Float64, ref.shape[1])
    assert fitted.collect().equals(lazy.collect())


def test_float32_columns_stay_float32_and_nulls_stay_null() -> None:
    x = synthetic_spectra(4, 64).astype(np.float32)
    df = pl.DataFrame({"spectra": x}).with_columns(
        pl.when(pl.int_range(pl.len()) == 1)
        .then(None)
        .otherwise(pl.col("spectra"))
        .alias("spectra")
    )
    out = df.select(nff.haar("spectra", level=2))
    assert out.schema["spectra"] == pl.Array(pl.Float32, 64)
    assert out["spectra"].null_count() == 1
    empty = pl.DataFrame({"spectra": x[:0]}).lazy().select(nff.haar("spectra", level=2)).collect()
    assert empty.schema["spectra"] == pl.Array(pl.Float32, 64)


def test_fitted_decomposition_checks_the_input_width() -> None:
    op = Haar(level=1).fit(synthetic_spectra(3, 40))
    df = pl.DataFrame({"spectra": synthetic_spectra(3, 42)})
    with pytest.raises(SpectralShapeError, match="fitted on spectra of 40 points"):
        df.select(op.to_expr("spectra"))


def test_output_axis_is_the_coefficient_index() -> None:
    axis = SpectralAxis(np.linspace(1100.0, 2498.0, 700), "nm")
    width = sum(len(c) for c in pywt.wavedec(np.zeros(700), "db4"))
    assert Wavelet().output_axis(axis) == SpectralAxis.index(width)
    assert WaveletDenoise().output_axis(axis) == axis


def test_denoise_matches_pywt_universal_soft_threshold() -> None:
    x = synthetic_spectra(3, 128, seed=9)
    out = WaveletDenoise(wavelet="db4").fit_transform(x)
    for row, got in zip(x, out, strict=True):
        c = pywt.wavedec(row, "db4")
        thr = np.median(np.abs(c[-1])) / 0.6745 * np.sqrt(2 * np.log(row.size))
        c = [c[0]] + [pywt.threshold(d, thr, "soft") for d in c[1:]]
        assert_allclose(got, pywt.waverec(c, "db4")[: row.size], rtol=0, atol=1e-12)
    df = pl.DataFrame({"spectra": x})
    via_namespace = df.select(pl.col("spectra").nirs.wavelet_denoise())
    assert_array_equal(via_namespace.to_series().to_numpy(), out)


def test_parameter_errors_name_the_parameter() -> None:
    with pytest.raises(InvalidParameterError, match="'wavelet'"):
        Wavelet(wavelet="sym4").fit(np.ones((2, 16)))  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="'level'"):
        Haar(level=-1).fit(np.ones((2, 16)))
    with pytest.raises(InvalidParameterError, match="'threshold_mode'"):
        WaveletDenoise(threshold_mode="garrote").fit(np.ones((2, 16)))  # type: ignore[arg-type]
