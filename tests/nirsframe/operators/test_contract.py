"""The contract every registered operator keeps (see docs/operators.md)."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.utils.estimator_checks import parametrize_with_checks

from nirsframe.operators import REGISTRY, SpectralOperator
from tests.conftest import synthetic_spectra

NAMES = sorted(REGISTRY)


def make(name: str) -> SpectralOperator:
    info = REGISTRY[name]
    return info.estimator(**dict(info.estimator.example))


def fitted(name: str, x: np.ndarray) -> SpectralOperator:
    op = make(name)
    y = x[:, : x.shape[1] // 3].sum(axis=1)
    return op.fit(x, y)


def data(dtype: Any = np.float64) -> np.ndarray:
    return synthetic_spectra(30, 96, seed=3).astype(dtype)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_input_unchanged_and_dtype_kept(name: str, dtype: Any) -> None:
    x = data(dtype)
    before = x.copy()
    out = fitted(name, x).transform(x)
    assert_array_equal(x, before)
    assert out.dtype == dtype
    assert out.shape[0] == x.shape[0]
    assert np.all(np.isfinite(out))


@pytest.mark.parametrize("name", NAMES)
def test_memory_layouts_agree(name: str) -> None:
    x = data()
    op = fitted(name, x)
    ref = op.transform(x)
    assert_array_equal(op.transform(np.asfortranarray(x)), ref)
    wide = np.zeros((x.shape[0] * 2, x.shape[1] * 2))
    wide[::2, ::2] = x
    assert_array_equal(op.transform(wide[::2, ::2]), ref)


@pytest.mark.parametrize("name", NAMES)
def test_nan_row_propagates_and_one_row_works(name: str) -> None:
    x = data()
    op = fitted(name, x)
    ref = op.transform(x)
    bad = x.copy()
    bad[4] = np.nan
    out = op.transform(bad)
    assert np.all(np.isnan(out[4]))
    keep = np.arange(x.shape[0]) != 4
    assert_allclose(out[keep], ref[keep], rtol=1e-12, atol=1e-12)
    assert_allclose(op.transform(x[2:3]), ref[2:3], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_eager_lazy_streaming_and_faces_agree(name: str) -> None:
    x = data()
    op = fitted(name, x)
    info = REGISTRY[name]
    df = pl.DataFrame({"id": np.arange(x.shape[0]), "spectra": x})
    expr = op.to_expr("spectra")
    eager = df.select(expr)
    lazy = df.lazy().select(expr).collect()
    streaming = df.lazy().select(expr).collect(engine="streaming")
    assert eager.equals(lazy)
    assert eager.equals(streaming)
    assert_array_equal(eager["spectra"].to_numpy(), op.transform(x))
    if info.kind == "stateless":
        via_function = df.select(info.function("spectra", **dict(info.estimator.example)))
        assert via_function.equals(eager)
        via_namespace = df.select(
            getattr(pl.col("spectra").nirs, name)(**dict(info.estimator.example))
        )
        assert via_namespace.equals(eager)


@pytest.mark.parametrize("name", NAMES)
def test_params_json_and_fitted_state_round_trip(name: str) -> None:
    info = REGISTRY[name]
    params = make(name).params()
    assert info.params.model_validate_json(params.model_dump_json()) == params
    x = data()
    op = fitted(name, x)
    rebuilt = info.estimator.from_fitted(op.get_params(), op.fitted_arrays())
    assert_array_equal(rebuilt.transform(x), op.transform(x))


_SHORT = "sklearn's generic checks use spectra of 2-10 points, shorter than the filter window"
#: Checks an operator is known to fail, with the reason (parametrize_with_checks keeps them strict).
_AXIS_96 = "crop's example x_axis has 96 points; sklearn's generic checks use other widths"
EXPECTED_FAILED_CHECKS: dict[str, dict[str, str]] = {
    "emsc": dict.fromkeys(
        (
            "check_dict_unchanged",
            "check_dont_overwrite_parameters",
            "check_estimators_fit_returns_self",
            "check_estimators_overwrite_params",
            "check_estimators_pickle",
            "check_f_contiguous_array_estimator",
            "check_fit2d_1feature",
            "check_fit2d_predict1d",
            "check_fit_check_is_fitted",
            "check_fit_idempotent",
            "check_fit_score_takes_y",
            "check_methods_sample_order_invariance",
            "check_methods_subset_invariance",
            "check_n_features_in",
            "check_pipeline_consistency",
            "check_readonly_memmap_input",
            "check_transformer_data_not_an_array",
            "check_transformer_general",
            "check_transformer_preserve_dtypes",
        ),
        "sklearn's generic checks use 1-5 points; emsc of order 2 fits 4 terms per spectrum",
    ),
    "osc": {
        "check_fit2d_1feature": (
            "with one feature nothing is orthogonal to y: osc raises rather than remove nothing"
        ),
    },
    "crop": dict.fromkeys(
        (
            "check_dict_unchanged",
            "check_dtype_object",
            "check_estimators_dtypes",
            "check_estimators_pickle",
            "check_f_contiguous_array_estimator",
            "check_fit_idempotent",
            "check_fit_score_takes_y",
            "check_methods_sample_order_invariance",
            "check_methods_subset_invariance",
            "check_pipeline_consistency",
            "check_transformer_data_not_an_array",
            "check_transformer_general",
            "check_transformer_preserve_dtypes",
            "check_transformers_unfitted_stateless",
        ),
        _AXIS_96,
    ),
    "savgol": dict.fromkeys(
        (
            "check_dict_unchanged",
            "check_dtype_object",
            "check_estimators_dtypes",
            "check_estimators_pickle",
            "check_f_contiguous_array_estimator",
            "check_fit_idempotent",
            "check_fit_score_takes_y",
            "check_methods_sample_order_invariance",
            "check_methods_subset_invariance",
            "check_pipeline_consistency",
            "check_transformer_data_not_an_array",
            "check_transformer_general",
            "check_transformer_preserve_dtypes",
            "check_transformers_unfitted_stateless",
        ),
        _SHORT,
    ),
}
_NO_N_ITER = (
    "max_iter caps the reweighting of each spectrum inside transform; the stateless fit "
    "runs no iterations, so there is no n_iter_ to report"
)
EXPECTED_FAILED_CHECKS.update(
    {
        name: {"check_transformer_n_iter": _NO_N_ITER}
        for name in ("asls", "iasls", "airpls", "arpls", "beads", "modpoly", "imodpoly")
    }
)
EXPECTED_FAILED_CHECKS["local_snv"] = EXPECTED_FAILED_CHECKS["savgol"]


def _expected(estimator: SpectralOperator) -> dict[str, str]:
    return EXPECTED_FAILED_CHECKS.get(estimator.name, {})


@parametrize_with_checks([make(name) for name in NAMES], expected_failed_checks=_expected)
def test_sklearn_conformance(estimator: SpectralOperator, check: Any) -> None:
    check(estimator)
