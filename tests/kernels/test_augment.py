"""nirskern.add_polynomial: the formula, NaN rows, inf rejected, ``out=``."""

from __future__ import annotations

import nirskern
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from tests.conftest import synthetic_spectra


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_add_polynomial_is_scaled_x_plus_coef_at_basis(dtype: type) -> None:
    x = synthetic_spectra(6, 20, seed=1).astype(dtype)
    x[2] = np.nan
    rng = np.random.default_rng(0)
    scale, coef = rng.uniform(0.5, 2.0, 6), rng.normal(size=(6, 3))
    basis = np.linspace(-1.0, 1.0, 20)[None, :] ** np.arange(3)[:, None]
    got = nirskern.add_polynomial(x, scale, coef, basis)
    expected = scale[:, None] * x.astype(np.float64) + coef @ basis
    assert got.dtype == dtype
    assert_allclose(got, expected.astype(dtype), rtol=1e-6 if dtype == np.float32 else 1e-14)
    assert np.isnan(got[2]).all()
    out = np.full_like(x, 7.0)
    assert nirskern.add_polynomial(x, scale, coef, basis, out=out) is out
    assert_array_equal(out, got)


def test_add_polynomial_rejects_inf_and_a_bad_out() -> None:
    x = np.array([[1.0, np.inf]])
    with pytest.raises(ValueError, match="must not contain inf"):
        nirskern.add_polynomial(x, [1.0], np.zeros((1, 0)), np.zeros((0, 2)))
    with pytest.raises(ValueError, match="'out' must be an array of shape"):
        nirskern.add_polynomial(
            np.ones((1, 2)), [1.0], np.zeros((1, 0)), np.zeros((0, 2)), out=np.empty((2, 2))
        )
