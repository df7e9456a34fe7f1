"""The scipy-free F / Beta / normal quantiles against scipy (a dev-only dependency)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from nirsframe.exceptions import InvalidParameterError
from nirsframe.filters._distributions import beta_cdf, beta_ppf, f_ppf, normal_ppf

stats = pytest.importorskip("scipy.stats")
special = pytest.importorskip("scipy.special")

DFN = [1, 2, 3, 5, 10, 20, 50, 200, 1000]
DFD = [1, 2, 3, 5, 10, 30, 99, 100, 101, 1000, 100_000, 1_000_000]
PROBS = [1e-9, 0.01, 0.5, 0.9, 0.95, 0.99, 0.999, 0.9999, 1 - 1e-9]


def test_f_ppf_matches_scipy_to_1e_10() -> None:
    # Measured worst relative error on this grid: 1.9e-11 (at dfd = 1e6, where the power term
    # a ln x + b ln(1 - x) loses digits); 6e-13 at dfd = 1e5 and ~1e-13 for dfd <= 1000.
    worst = 0.0
    for dfn, dfd, q in itertools.product(DFN, DFD, PROBS):
        ours, ref = f_ppf(q, dfn, dfd), float(stats.f.ppf(q, dfn, dfd))
        worst = max(worst, abs(ours - ref) / ref)
    assert worst < 1e-10


def test_f_ppf_non_integer_degrees_of_freedom() -> None:
    for dfn, dfd in [(0.5, 0.7), (2.5, 17.3), (7.25, 1234.5)]:
        assert f_ppf(0.99, dfn, dfd) == pytest.approx(stats.f.ppf(0.99, dfn, dfd), rel=1e-10)


def test_beta_cdf_matches_scipy() -> None:
    worst = 0.0
    for a, b in itertools.product([0.5, 1.0, 2.5, 10.0, 49.0, 51.0, 500.0], [0.5, 1.0, 3.0, 50.0]):
        for x in np.linspace(0.001, 0.999, 41):
            worst = max(worst, abs(beta_cdf(float(x), a, b) - float(special.betainc(a, b, x))))
    assert worst < 1e-12  # measured 4e-14 on this grid
    assert beta_cdf(0.0, 2.0, 3.0) == 0.0
    assert beta_cdf(1.0, 2.0, 3.0) == 1.0


@pytest.mark.parametrize(("a", "b"), [(0.5, 0.5), (1.0, 1.0), (2.5, 40.0), (40.0, 2.5), (3.0, 1e4)])
@pytest.mark.parametrize("q", [1e-6, 0.05, 0.5, 0.99, 1 - 1e-9])
def test_beta_ppf_inverts_cdf_and_keeps_complement_precise(a: float, b: float, q: float) -> None:
    x, one_minus_x = beta_ppf(q, a, b)
    assert x == pytest.approx(float(stats.beta.ppf(q, a, b)), rel=1e-10)
    # The complement is solved directly, not as 1 - x: compare it to scipy's upper quantile.
    assert one_minus_x == pytest.approx(float(stats.beta.isf(q, b, a)), rel=1e-10)


def test_normal_ppf_matches_scipy() -> None:
    for q in [1e-10, 0.01, 0.5, 0.95, 0.99, 0.999]:
        assert normal_ppf(q) == pytest.approx(float(stats.norm.ppf(q)), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("q", [0.0, 1.0, -0.5, float("nan")])
def test_quantiles_reject_probabilities_outside_0_1(q: float) -> None:
    with pytest.raises(InvalidParameterError, match="'q' must be in the open interval"):
        beta_ppf(q, 1.0, 1.0)
    with pytest.raises(InvalidParameterError, match="'q' must be in the open interval"):
        normal_ppf(q)


def test_f_ppf_rejects_non_positive_degrees_of_freedom() -> None:
    with pytest.raises(InvalidParameterError, match=r"'dfn' and 'dfd' must be positive.*dfd=0"):
        f_ppf(0.99, 3, 0)
