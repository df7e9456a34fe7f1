"""Conversion operators: the three faces agree and parameters are validated."""

from __future__ import annotations

import nirskern
import numpy as np
import polars as pl
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import nirsframe  # noqa: F401  (registers the nirs namespace)
from nirsframe import functions
from nirsframe.exceptions import InvalidParameterError
from nirsframe.operators import (
    REGISTRY,
    AbsorbanceToReflectance,
    FractionToPercent,
    KubelkaMunk,
    Logarithm,
    PercentToFraction,
    ReflectanceToAbsorbance,
)
from tests.conftest import synthetic_spectra

CLASSES = {
    "reflectance_to_absorbance": ReflectanceToAbsorbance,
    "absorbance_to_reflectance": AbsorbanceToReflectance,
    "kubelka_munk": KubelkaMunk,
    "log": Logarithm,
    "percent_to_fraction": PercentToFraction,
    "fraction_to_percent": FractionToPercent,
}


@pytest.fixture
def r() -> np.ndarray:
    x = synthetic_spectra(15, 50, seed=3)
    return 0.05 + 0.9 * (x - x.min()) / np.ptp(x)


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_faces_agree(name: str, r: np.ndarray) -> None:
    assert REGISTRY[name].estimator is CLASSES[name]
    expected = getattr(nirskern, name)(r)
    assert_array_equal(CLASSES[name]().fit_transform(r), expected)
    df = pl.DataFrame({"spectra": r.astype(np.float32)})
    got = df.select(getattr(functions, name)("spectra"))
    assert got.schema["spectra"] == pl.Array(pl.Float32, 50)
    assert_array_equal(got["spectra"].to_numpy(), getattr(nirskern, name)(r.astype(np.float32)))
    via_ns = df.select(getattr(pl.col("spectra").nirs, name)())
    assert via_ns.equals(got)


def test_round_trip_through_expressions(r: np.ndarray) -> None:
    df = pl.DataFrame({"spectra": r})
    back = df.select(
        functions.absorbance_to_reflectance(functions.reflectance_to_absorbance("spectra"))
    )
    assert_allclose(back["spectra"].to_numpy(), r, rtol=1e-14)
    pct = df.select(functions.percent_to_fraction(functions.fraction_to_percent("spectra")))
    assert_allclose(pct["spectra"].to_numpy(), r, rtol=1e-15)


def test_log_offset(r: np.ndarray) -> None:
    shifted = r - 0.5
    assert_allclose(Logarithm(offset=1.0).fit_transform(shifted), np.log(shifted + 1.0), rtol=1e-15)
    df = pl.DataFrame({"spectra": shifted})
    got = df.select(functions.log(offset=1.0))["spectra"].to_numpy()
    assert_allclose(got, np.log(shifted + 1.0), rtol=1e-15)
    with pytest.raises(InvalidParameterError, match="'offset' parameter of log: must be finite"):
        Logarithm(offset=float("nan")).fit_transform(r)
    with pytest.raises(InvalidParameterError, match="'offset'"):
        functions.log(offset="a")  # type: ignore[arg-type]
