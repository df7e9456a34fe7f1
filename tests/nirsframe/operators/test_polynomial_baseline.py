"""ModifiedPolynomial / ImprovedModifiedPolynomial operators: faces, options, errors."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import nirsframe.functions as nff
from nirsframe.exceptions import InvalidParameterError
from nirsframe.operators import ImprovedModifiedPolynomial, ModifiedPolynomial
from tests.conftest import synthetic_spectra

pybaselines = pytest.importorskip("pybaselines")


@pytest.mark.parametrize(
    ("cls", "function", "reference"),
    [
        (ModifiedPolynomial, nff.modpoly, pybaselines.polynomial.modpoly),
        (ImprovedModifiedPolynomial, nff.imodpoly, pybaselines.polynomial.imodpoly),
    ],
)
def test_faces_agree_and_match_pybaselines(cls: type, function: object, reference: object) -> None:
    x = synthetic_spectra(5, 120, seed=7)
    op = cls(poly_order=3, output="baseline")
    base = op.fit_transform(x)
    ref = np.array([reference(row, poly_order=3)[0] for row in x])  # type: ignore[operator]
    assert_allclose(base, ref, rtol=1e-10, atol=1e-12)
    corrected = cls(poly_order=3).fit_transform(x)
    assert_allclose(corrected, x - base, atol=1e-12)
    df = pl.DataFrame({"spectra": x})
    via_function = df.select(function("spectra", poly_order=3)).to_series().to_numpy()  # type: ignore[operator]
    via_namespace = df.select(pl.col("spectra").nirs.__getattribute__(cls.name)(poly_order=3))
    assert_array_equal(via_function, corrected)
    assert_array_equal(via_namespace.to_series().to_numpy(), corrected)


def test_parameter_errors_name_the_parameter() -> None:
    with pytest.raises(InvalidParameterError, match="'poly_order'"):
        ModifiedPolynomial(poly_order=-1).fit(np.ones((2, 10)))
    with pytest.raises(InvalidParameterError, match="'num_std'"):
        ImprovedModifiedPolynomial(num_std=-0.5).fit(np.ones((2, 10)))
    with pytest.raises(InvalidParameterError, match="'output'"):
        ModifiedPolynomial(output="both").fit(np.ones((2, 10)))  # type: ignore[arg-type]


def test_defaults_are_pybaselines_defaults() -> None:
    assert ModifiedPolynomial().params().model_dump() == {
        "poly_order": 2,
        "tol": 1e-3,
        "max_iter": 250,
        "use_original": False,
        "mask_initial_peaks": False,
        "output": "corrected",
    }
    params = ImprovedModifiedPolynomial().params()
    assert params.mask_initial_peaks is True  # type: ignore[attr-defined]
    assert params.num_std == 1.0  # type: ignore[attr-defined]
