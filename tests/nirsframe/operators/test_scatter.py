"""Scatter operators: the three faces agree, parameters are validated, fitted state persists.

Numerics are tested against numpy/chemotools in tests/kernels/test_scatter.py; the shared
contract (dtype, layouts, NaN rows, lazy/streaming, sklearn checks) in test_contract.py.
"""

from __future__ import annotations

import nirskern
import numpy as np
import polars as pl
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import nirsframe  # noqa: F401  (registers the nirs namespace)
from nirsframe.exceptions import InvalidParameterError
from nirsframe.functions import emsc, local_snv, rnv
from nirsframe.operators import (
    REGISTRY,
    ExtendedMultiplicativeScatterCorrection,
    LocalStandardNormalVariate,
    RobustNormalVariate,
)
from tests.conftest import synthetic_spectra

chemotools_scatter = pytest.importorskip("chemotools.scatter")


@pytest.fixture
def frame() -> tuple[np.ndarray, pl.DataFrame]:
    x = synthetic_spectra(20, 80, seed=1)
    return x, pl.DataFrame({"spectra": x})


def test_registered_with_spelled_out_classes() -> None:
    assert REGISTRY["rnv"].estimator is RobustNormalVariate
    assert REGISTRY["local_snv"].estimator is LocalStandardNormalVariate
    assert REGISTRY["emsc"].estimator is ExtendedMultiplicativeScatterCorrection
    assert REGISTRY["emsc"].kind == "fitted"


def test_rnv_faces_agree(frame: tuple[np.ndarray, pl.DataFrame]) -> None:
    x, df = frame
    expected = nirskern.rnv(x)
    assert_array_equal(RobustNormalVariate().fit_transform(x), expected)
    assert_array_equal(df.select(rnv("spectra"))["spectra"].to_numpy(), expected)
    via_ns = df.select(pl.col("spectra").nirs.rnv())  # type: ignore[attr-defined]
    assert_array_equal(via_ns["spectra"].to_numpy(), expected)


def test_local_snv_faces_agree_and_validate(frame: tuple[np.ndarray, pl.DataFrame]) -> None:
    x, df = frame
    expected = nirskern.local_snv(x, window_length=15, ddof=1)
    op = LocalStandardNormalVariate(window_length=15, ddof=1)
    assert_array_equal(op.fit_transform(x), expected)
    out = df.select(local_snv(window_length=15, ddof=1))["spectra"].to_numpy()
    assert_array_equal(out, expected)
    with pytest.raises(InvalidParameterError, match="window_length"):
        LocalStandardNormalVariate(window_length=2).fit(x)
    with pytest.raises(InvalidParameterError, match="odd"):
        LocalStandardNormalVariate(window_length=10).fit_transform(x)


def test_emsc_fit_matches_chemotools(frame: tuple[np.ndarray, pl.DataFrame]) -> None:
    x, df = frame
    t = np.linspace(0.0, 1.0, x.shape[1])
    water = np.exp(-0.5 * ((t - 0.6) / 0.03) ** 2)[None, :]
    op = ExtendedMultiplicativeScatterCorrection(order=2, interferents=water).fit(x)
    ct = chemotools_scatter.ExtendedMultiplicativeScatterCorrection(
        order=2, interferences=water
    ).fit(x)
    assert_allclose(op.reference_, ct.reference_, rtol=1e-14)
    assert_allclose(op.transform(x), ct.transform(x), rtol=1e-12, atol=1e-12)
    lazy = df.lazy().select(op.to_expr("spectra")).collect(engine="streaming")
    assert_array_equal(lazy["spectra"].to_numpy(), op.transform(x))
    via_fn = df.select(emsc(reference=op.reference_, order=2, interferents=water))
    assert_array_equal(via_fn["spectra"].to_numpy(), op.transform(x))


def test_emsc_median_reference_and_params_json_round_trip(
    frame: tuple[np.ndarray, pl.DataFrame],
) -> None:
    x, _ = frame
    op = ExtendedMultiplicativeScatterCorrection(
        order=1, reference="median", interferents=x[:1], x_axis=np.arange(80.0)
    ).fit(x)
    assert_allclose(op.reference_, np.median(x, axis=0))
    params = op.params()
    assert type(params).model_validate_json(params.model_dump_json()) == params
    rebuilt = ExtendedMultiplicativeScatterCorrection.from_fitted(
        params.model_dump(), op.fitted_arrays()
    )
    assert_array_equal(rebuilt.transform(x), op.transform(x))


def test_emsc_maps_reference_onto_itself(frame: tuple[np.ndarray, pl.DataFrame]) -> None:
    x, _ = frame
    op = ExtendedMultiplicativeScatterCorrection(order=3).fit(x)
    assert_allclose(op.transform(op.reference_[None, :])[0], op.reference_, rtol=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"order": -1}, "'order' parameter"),
        ({"reference": "mode"}, "'reference' parameter"),
        ({"interferents": np.ones((1, 79))}, "'interferents' must be"),
        ({"interferents": np.ones((1, 80))}, "linearly dependent"),
        ({"x_axis": np.ones(80)}, "'x_axis' must be"),
    ],
)
def test_emsc_errors_at_fit(
    frame: tuple[np.ndarray, pl.DataFrame], kwargs: dict[str, object], match: str
) -> None:
    x, _ = frame
    with pytest.raises(InvalidParameterError, match=match):
        ExtendedMultiplicativeScatterCorrection(**kwargs).fit(x)  # type: ignore[arg-type]


def test_emsc_function_validates_eagerly() -> None:
    with pytest.raises(InvalidParameterError, match="linearly dependent"):
        emsc(reference=np.ones(10))
    with pytest.raises(InvalidParameterError, match="'reference' must be a finite 1-D"):
        emsc(reference=[[1.0, 2.0]])
