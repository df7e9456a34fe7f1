"""Operator-level behaviour of the Whittaker and BEADS baselines (numeric parity: tests/kernels)."""

from __future__ import annotations

import nirskern
import numpy as np
import polars as pl
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import nirsframe as nf
from nirsframe.exceptions import InvalidParameterError
from nirsframe.operators import (
    REGISTRY,
    AdaptiveIterativelyReweightedPLS,
    AsymmetricallyReweightedPLS,
    AsymmetricLeastSquares,
    Beads,
    ImprovedAsymmetricLeastSquares,
)
from tests.conftest import synthetic_spectra

CLASSES = {
    "asls": AsymmetricLeastSquares,
    "iasls": ImprovedAsymmetricLeastSquares,
    "airpls": AdaptiveIterativelyReweightedPLS,
    "arpls": AsymmetricallyReweightedPLS,
    "beads": Beads,
}


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_registered_with_function_and_class(name: str) -> None:
    info = REGISTRY[name]
    assert info.estimator is CLASSES[name]
    assert info.kind == "stateless"
    assert getattr(nf, name) is info.function


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_output_corrected_plus_baseline_is_input(name: str) -> None:
    x = synthetic_spectra(6, 150, seed=1)
    corrected = CLASSES[name]().fit_transform(x)
    baseline = CLASSES[name](output="baseline").fit_transform(x)
    assert_allclose(corrected + baseline, x, rtol=0, atol=1e-12)
    assert_array_equal(corrected, getattr(nirskern, name)(x))


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_expression_faces_agree(name: str) -> None:
    x = synthetic_spectra(5, 120, seed=2)
    df = pl.DataFrame({"spectra": x})
    via_function = df.select(getattr(nf, name)("spectra", output="baseline"))
    via_namespace = df.select(getattr(pl.col("spectra").nirs, name)(output="baseline"))
    assert via_function.equals(via_namespace)
    expected = CLASSES[name](output="baseline").fit_transform(x)
    assert_array_equal(via_function["spectra"].to_numpy(), expected)


def test_non_default_parameters_reach_the_kernel() -> None:
    x = synthetic_spectra(4, 100, seed=3)
    op = AsymmetricLeastSquares(lam=1e3, p=0.05, diff_order=1, max_iter=7, tol=1e-5)
    assert_array_equal(
        op.fit_transform(x), nirskern.asls(x, lam=1e3, p=0.05, diff_order=1, max_iter=7, tol=1e-5)
    )
    b = Beads(freq_cutoff=0.01, lam_0=0.5, cost_function="l1_v1", smooth_half_window=2)
    assert_array_equal(
        b.fit_transform(x),
        nirskern.beads(x, freq_cutoff=0.01, lam_0=0.5, cost_function="l1_v1", smooth_half_window=2),
    )


@pytest.mark.parametrize(
    ("op", "match"),
    [
        (AsymmetricLeastSquares(p=1.5), "'p'"),
        (AsymmetricLeastSquares(lam=-1.0), "'lam'"),
        (ImprovedAsymmetricLeastSquares(diff_order=1), "'diff_order'"),
        (AdaptiveIterativelyReweightedPLS(output="both"), "'output'"),  # type: ignore[arg-type]
        (AsymmetricallyReweightedPLS(max_iter=-1), "'max_iter'"),
        (Beads(freq_cutoff=0.7), "'freq_cutoff'"),
        (Beads(cost_function=3), "'cost_function'"),  # type: ignore[arg-type]
    ],
)
def test_invalid_parameters_are_typed_errors(op: object, match: str) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        op.fit_transform(np.ones((2, 30)))  # type: ignore[attr-defined]


def test_params_round_trip_json() -> None:
    op = Beads(smooth_half_window=3, cost_function="l1_v2", output="baseline")
    params = op.params()
    assert type(params).model_validate_json(params.model_dump_json()) == params
