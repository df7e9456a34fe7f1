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


@pytest.mark.parametrize("name", [n for n in NAMES if not REGISTRY[n].estimator.allow_inf])
def test_parallel_transform_finds_inf_in_any_row_and_accepts_nan(name: str) -> None:
    # 6 MB of spectra: row ranges on the workers, inf checked block by block (or by the kernel
    # itself for operators that find it in their own pass), here in the very last row.
    info = REGISTRY[name]
    x = synthetic_spectra(8000, 96, seed=3)
    y = x[:, :32].sum(axis=1)
    op = info.estimator(**dict(info.estimator.example)).fit(x, y)
    bad = x.copy()
    bad[-1, 50] = -np.inf
    with pytest.raises(ValueError, match="infinity"):
        op.transform(bad)
    with_nan = x.copy()
    with_nan[-1, 50] = np.nan
    out = op.transform(with_nan)
    assert np.isfinite(out[:-1]).all()


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_params_model_fields_are_the_constructor_parameters(name: str) -> None:
    # params() reads the model's fields as attributes instead of sklearn's get_params.
    op = REGISTRY[name].estimator()
    assert set(op.params_model.model_fields) == set(op.get_params(deep=False))


def test_params_follow_set_params_and_bad_values_still_raise() -> None:
    from nirsframe.exceptions import InvalidParameterError
    from nirsframe.operators import SavitzkyGolay

    op = SavitzkyGolay(window_length=15, polyorder=2)
    assert op.params().window_length == 15
    op.set_params(window_length=9)
    assert op.params().window_length == 9
    op.set_params(window_length=8)
    for _ in range(2):  # a failure is not remembered as a success
        with pytest.raises(InvalidParameterError, match="window_length"):
            op.params()
    # Equal values of another type (True == 1 == 1.0) are validated on their own: a model
    # may accept one and reject the other.
    from nirsframe.operators._base import _validated_params

    snv = StandardNormalVariate(ddof=1)
    snv.params()
    before = _validated_params.cache_info().currsize
    snv.set_params(ddof=True)
    snv.params()
    assert _validated_params.cache_info().currsize == before + 1


def test_plain_matrix_path_matches_sklearn_validation() -> None:
    # A float ndarray skips validate_data; the checks it made still hold.
    import polars as pl

    x = synthetic_spectra(6, 32, seed=1)
    op = StandardNormalVariate().fit(x)
    assert op.n_features_in_ == 32
    expecting = "X has 31 features, but StandardNormalVariate is expecting 32"
    with pytest.raises(ValueError, match=expecting):
        op.transform(x[:, :31])
    with pytest.raises(ValueError, match="0 sample"):
        op.transform(x[:0])
    with pytest.raises(ValueError, match="infinity"):
        op.fit(np.where(np.eye(6, 32, dtype=bool), np.inf, x))
    # Integer input and dataframes still go through sklearn (converted; feature names kept).
    assert op.fit_transform(np.arange(8).reshape(2, 4)).dtype == np.float64
    named = StandardNormalVariate().fit(pl.DataFrame(x, schema=[f"w{i}" for i in range(32)]))
    assert list(named.feature_names_in_[:2]) == ["w0", "w1"]
    with pytest.warns(UserWarning, match="feature names"):
        named.transform(x)
    f_order = np.asfortranarray(x)
    assert_array_equal(StandardNormalVariate().fit_transform(f_order), op.fit_transform(x))
