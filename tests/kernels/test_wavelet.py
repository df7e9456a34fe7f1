"""Wavelet decompositions and denoising vs PyWavelets.

``wavedec`` equals ``np.concatenate(pywt.wavedec(...))`` and ``wavelet_denoise`` equals
``pywt.waverec`` of ``pywt.threshold``-ed details, to <= 4e-15 relative on real and random spectra
(asserted at 1e-12 relative to max |x|) for every wavelet, mode and level tried, including odd
lengths and levels above ``pywt.dwt_max_level``. float32 inputs are computed in float64 on the
widened input: only the output rounding differs (asserted at 1e-6 relative).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import polars as pl
import pytest
from nirskern.wavelet import (
    WAVELETS,
    coefficient_lengths,
    dwt_max_level,
    filter_bank,
    haar,
    wavedec,
    wavelet_denoise,
)
from numpy.testing import assert_allclose, assert_array_equal

from tests.conftest import SHARED_DATA, synthetic_spectra

pywt = pytest.importorskip("pywt")

NAMES = ("haar", "db2", "db3", "db4")
MODES = ("symmetric", "reflect", "periodic", "zero", "constant")


def real_rows(name: str, n: int = 2) -> np.ndarray:
    path = SHARED_DATA / f"{name}.parquet"
    if not path.exists():
        pytest.skip(f"shared dataset {name} absent")
    return np.array(pl.read_parquet(path, columns=["spectrum"])["spectrum"].head(n).to_list())


def ref_wavedec(x: np.ndarray, wavelet: str, level: int | None, mode: str) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pywt warns for levels above dwt_max_level
        return np.array(
            [np.concatenate(pywt.wavedec(r, wavelet, mode=mode, level=level)) for r in x]
        )


def ref_denoise(
    x: np.ndarray, wavelet: str, level: int | None, mode: str, threshold: float | None, tmode: str
) -> np.ndarray:
    out = []
    for r in x:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            c = pywt.wavedec(r, wavelet, mode=mode, level=level)
        thr = threshold
        if thr is None:
            thr = np.median(np.abs(c[-1])) / 0.6745 * np.sqrt(2 * np.log(r.size))
        c = [c[0]] + [pywt.threshold(d, thr, tmode) for d in c[1:]]
        out.append(pywt.waverec(c, wavelet, mode=mode)[: r.size])
    return np.array(out)


def inputs() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    data = [rng.normal(size=(2, 101)), rng.normal(size=(2, 7))]
    for name in ("tecator", "beer"):
        path = SHARED_DATA / f"{name}.parquet"
        if path.exists():
            data.append(real_rows(name))
    return data


@pytest.mark.parametrize("wavelet", NAMES)
def test_filter_banks_equal_pywt(wavelet: str) -> None:
    ref = pywt.Wavelet(wavelet).filter_bank
    for ours, theirs in zip(filter_bank(wavelet), ref, strict=True):
        assert_array_equal(ours, np.asarray(theirs))


@pytest.mark.parametrize("wavelet", NAMES)
@pytest.mark.parametrize("mode", MODES)
def test_wavedec_parity(wavelet: str, mode: str) -> None:
    for x in inputs():
        for level in (None, 1, 2, 6):
            try:
                ref = ref_wavedec(x, wavelet, level, mode)
            except ValueError:  # pywt refuses mode="reflect" on 1-point approximations
                with pytest.raises(ValueError, match="mode='reflect' needs at least 2 points"):
                    wavedec(x, wavelet, level, mode)
                continue
            got = wavedec(x, wavelet, level, mode)
            assert_allclose(got, ref, rtol=0, atol=1e-12 * np.abs(x).max())
            assert got.shape[1] == sum(coefficient_lengths(x.shape[1], wavelet, level))


@pytest.mark.parametrize("wavelet", NAMES)
@pytest.mark.parametrize("mode", ["symmetric", "periodic", "zero"])
def test_denoise_parity(wavelet: str, mode: str) -> None:
    for x in inputs():
        for level, threshold, tmode in [(None, None, "soft"), (2, 0.05, "hard"), (3, None, "hard")]:
            got = wavelet_denoise(x, wavelet, level, mode, threshold, tmode)
            ref = ref_denoise(x, wavelet, level, mode, threshold, tmode)
            assert got.shape == x.shape
            assert_allclose(got, ref, rtol=0, atol=1e-12 * np.abs(x).max())


@pytest.mark.parametrize("wavelet", NAMES)
def test_zero_threshold_reconstructs_exactly(wavelet: str) -> None:
    x = synthetic_spectra(3, 97, seed=2)
    assert_allclose(wavelet_denoise(x, wavelet, threshold=0.0), x, rtol=0, atol=1e-12)


def test_haar_is_wavedec_haar_and_max_level_matches_pywt() -> None:
    x = synthetic_spectra(3, 64)
    assert_array_equal(haar(x, 3), wavedec(x, "haar", 3))
    for n in (1, 6, 7, 64, 1000):
        for w in NAMES:
            assert dwt_max_level(n, len(filter_bank(w)[0])) == pywt.dwt_max_level(n, w)
    assert "db4" in WAVELETS


@pytest.mark.parametrize(
    "kernel", [lambda x: wavedec(x, "db3", 3), lambda x: wavelet_denoise(x, "db2")]
)
def test_kernel_contract(kernel: Any) -> None:
    x = synthetic_spectra(5, 90, seed=4)
    before = x.copy()
    ref = kernel(x)
    assert_array_equal(x, before)
    assert_array_equal(kernel(np.asfortranarray(x)), ref)
    assert_array_equal(kernel(x[1]), ref[1])
    bad = x.copy()
    bad[2, 5] = np.nan
    out = kernel(bad)
    assert np.all(np.isnan(out[2]))
    keep = np.arange(5) != 2
    assert_array_equal(out[keep], ref[keep])
    out32 = kernel(x.astype(np.float32))
    assert out32.dtype == np.float32
    assert_allclose(out32, ref, rtol=0, atol=1e-6 * np.abs(ref).max())


@pytest.mark.parametrize(
    "kernel",
    [
        lambda x, **kw: wavedec(x, "db3", 3, **kw),
        lambda x, **kw: wavedec(x, "haar", **kw),
        lambda x, **kw: wavelet_denoise(x, "db2", **kw),
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_reject_inf_finds_inf_in_any_row_and_only_on_request(kernel: Any, dtype: type) -> None:
    x = synthetic_spectra(6, 64, seed=2).astype(dtype)
    ref = kernel(x)
    for value in (np.inf, -np.inf):
        bad = x.copy()
        bad[5, 63] = value
        with pytest.raises(ValueError, match=r"infinity or a value too large for dtype\('float"):
            kernel(bad, reject_inf=True)
        bad[5, 0] = np.nan  # a NaN in the same row does not hide the inf
        with pytest.raises(ValueError, match="infinity"):
            kernel(bad, reject_inf=True)
        flowed = kernel(bad)  # without the request: no error
        assert_array_equal(flowed[:5], ref[:5])
    with_nan = x.copy()
    with_nan[1, 7] = np.nan
    out = kernel(with_nan, reject_inf=True)
    assert np.isnan(out[1]).all()
    assert_array_equal(np.delete(out, 1, axis=0), np.delete(ref, 1, axis=0))


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda x: wavedec(x, "sym4"), "'wavelet' must be one of"),
        (lambda x: wavedec(x, "db2", mode="smooth"), "'mode' must be one of"),
        (lambda x: wavedec(x, "db2", level=-1), "'level' must be >= 0"),
        (lambda x: wavelet_denoise(x, threshold=-1.0), "'threshold' must be a finite number"),
        (lambda x: wavelet_denoise(x, threshold_mode="garrote"), "'threshold_mode' must be"),
    ],
)
def test_errors_name_the_parameter(call: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call(np.ones((2, 32)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_wavedec_writes_into_out(dtype: type) -> None:
    from nirskern.wavelet import wavedec

    x = synthetic_spectra(5, 64, seed=3).astype(dtype)
    expected = wavedec(x, "db4", 2)
    out = np.full(expected.shape, 7.0, dtype=dtype)
    assert wavedec(x, "db4", 2, out=out) is out
    assert_array_equal(out, expected)
    with pytest.raises(ValueError, match="'out' must be an array of shape"):
        wavedec(x, "db4", 2, out=np.empty((5, 64), dtype=dtype))


def test_median_abs_is_numba_median_bit_for_bit() -> None:
    # The universal threshold's median (nirskern._select's histogram selection) against numba's
    # np.median(np.abs(d)), on odd and even lengths, ties, constant and sorted data.
    from nirskern._select import NBINS
    from nirskern.wavelet import _median_abs
    from numba import njit

    ref = njit(lambda d: np.median(np.abs(d)))
    rng = np.random.default_rng(5)

    def draw(kind: int, n: int) -> np.ndarray:
        if kind == 0:
            return rng.normal(size=n)
        if kind == 1:
            return np.round(rng.normal(size=n) * 2)  # few distinct values
        if kind == 2:
            return rng.standard_cauchy(size=n)
        if kind == 3:
            return np.sort(rng.normal(size=n))
        if kind == 4:
            return rng.choice([0.0, -0.0, 1.0, 2.0, -3.0], size=n)
        return np.full(n, -0.25)

    counts = np.empty(NBINS, dtype=np.int64)
    for trial in range(300):
        n = int(rng.integers(1, 700))
        d = draw(trial % 6, n)
        got = _median_abs(d, np.empty(n), counts, np.empty(n, dtype=np.int32))
        want = ref(d)
        assert np.float64(got).tobytes() == np.float64(want).tobytes(), (n, trial % 6)


def test_denoise_parity_with_ties_and_long_rows() -> None:
    # Long rows take several narrowing rounds of the median; quantised rows tie.
    rng = np.random.default_rng(6)
    x = rng.normal(size=(6, 1024))
    x[1] = np.round(x[1])
    x[2] = np.round(x[2] * 4) / 4
    x[3] = np.cumsum(x[3])
    for wavelet in ("haar", "db4"):
        got = wavelet_denoise(x, wavelet)
        ref = ref_denoise(x, wavelet, None, "symmetric", None, "soft")
        assert_allclose(got, ref, rtol=0, atol=1e-12 * np.abs(x).max())


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("p", [1, 2, 3, 5])
@pytest.mark.parametrize("wavelet", ["haar", "db2", "db4"])
def test_levels_above_the_maximum_on_tiny_spectra(dtype: type, p: int, wavelet: str) -> None:
    # Below the filter length the level lengths grow: every level's scratch must hold them
    # (an undersized buffer read past its end and gave a different answer on each call).
    x = np.random.default_rng(p).normal(size=(4, p)).astype(dtype)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    for level in (1, 2, 3):
        for mode in ("symmetric", "periodic", "zero"):
            with warnings.catch_warnings():  # pywt warns that every coefficient feels the ends
                warnings.simplefilter("ignore")
                ref = pywt.wavedec(x, wavelet, mode=mode, level=level, axis=1)
            ref = np.concatenate(ref, axis=1)
            got = [wavedec(x, wavelet, level, mode=mode) for _ in range(3)]
            assert_allclose(got[0], ref, rtol=tol, atol=tol)
            assert all(np.array_equal(got[0], g) for g in got[1:])
            if p > 1:  # one point: sqrt(2 ln 1) = 0 and pywt's soft threshold of 0 is 0/0
                den = wavelet_denoise(x, wavelet, level=level, mode=mode)
                want = ref_denoise(x, wavelet, level, mode, None, "soft")
                assert_allclose(den, want, atol=tol)
