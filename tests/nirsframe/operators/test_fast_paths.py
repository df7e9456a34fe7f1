"""SpectralOperator fast paths: one validation in fit_transform; conversions accept inf."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from nirsframe.operators import REGISTRY, ReflectanceToAbsorbance, StandardNormalVariate
from tests.conftest import synthetic_spectra

NAMES = sorted(n for n, info in REGISTRY.items() if info.estimator.kind != "augmentation")


@pytest.mark.parametrize("name", NAMES)
def test_fit_transform_equals_fit_then_transform(name: str) -> None:
    info = REGISTRY[name]
    x = synthetic_spectra(30, 96, seed=5)
    y = x[:, :32].sum(axis=1)
    a = info.estimator(**dict(info.estimator.example)).fit_transform(x, y)
    b = info.estimator(**dict(info.estimator.example)).fit(x, y).transform(x)
    assert_array_equal(a, b)


def test_conversions_accept_inf_with_ieee_semantics() -> None:
    x = np.array([[0.0, 0.5, 1.0]])
    out = ReflectanceToAbsorbance().fit_transform(x)
    assert out[0, 0] == np.inf
    assert_array_equal(out[0, 1:], -np.log10(x[0, 1:]))


def test_other_operators_still_reject_inf() -> None:
    with pytest.raises(ValueError, match="infinity"):
        StandardNormalVariate().fit_transform(np.array([[1.0, np.inf, 2.0]]))
