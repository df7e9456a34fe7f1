"""IQR, z-score and MAD filters on the target: statistics, Gaussian rates, wild values, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nirsframe.exceptions import DatasetError, InvalidParameterError
from nirsframe.filters import IQRFilter, MADFilter, ZScoreFilter
from nirsframe.filters.target import MAD_SCALE


def test_statistics_match_their_definitions() -> None:
    rng = np.random.default_rng(0)
    y = rng.normal(10.0, 2.0, 101)
    new = np.array([10.0, 0.0, 25.0, np.nan])
    q1, q3 = np.percentile(y, [25, 75])
    iqr = IQRFilter(k=1.5).fit(None, y).score(None, new)
    np.testing.assert_allclose(
        iqr.statistic[:3], [max(q1 - v, v - q3, 0.0) / (q3 - q1) for v in new[:3]], rtol=1e-14
    )
    z = ZScoreFilter().fit(None, y).score(None, new)
    np.testing.assert_allclose(z.statistic[:3], np.abs(new[:3] - y.mean()) / y.std(ddof=1))
    med = np.median(y)
    mad = MADFilter().fit(None, y).score(None, new)
    scale = MAD_SCALE * np.median(np.abs(y - med))
    np.testing.assert_allclose(mad.statistic[:3], np.abs(new[:3] - med) / scale, rtol=1e-14)
    for s in (iqr, z, mad):  # a NaN target cannot be judged: NaN statistic, not flagged
        assert np.isnan(s.statistic[3]) and not s.outlier[3]


def test_tukey_fences_are_inclusive() -> None:
    f = IQRFilter().fit(None, [1.0, 2.0, 3.0, 4.0, 5.0])  # q1 = 2, q3 = 4, fences -1 and 7
    assert f.score(None, [-1.0, 7.0, 7.0001, -1.0001]).outlier.tolist() == [
        False,
        False,
        True,
        True,
    ]


def test_mad_scale_is_normal_consistent() -> None:
    stats = pytest.importorskip("scipy.stats")
    assert pytest.approx(1.0 / stats.norm.ppf(0.75), rel=2e-6) == MAD_SCALE


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        # Gaussian tail mass beyond each rule: Tukey k = 1.5 -> 2 (1 - Phi(0.6745 * 4)) = 0.698 %;
        # |z| > 3 -> 0.270 %; robust |z| > 3.5 -> 0.047 %.
        (IQRFilter, 2 * (1 - 0.5 * (1 + math.erf(4 * 0.6744897501960817 / math.sqrt(2))))),
        (ZScoreFilter, math.erfc(3.0 / math.sqrt(2))),
        (MADFilter, math.erfc(3.5 / math.sqrt(2))),
    ],
)
def test_gaussian_flag_rates(make: type, expected: float) -> None:
    # 20k training targets fix the fences to ~1 %; 400k scored values give the rate to
    # ~1e-4 (binomial sd 1.3e-4 at 0.7 %); documented tolerance: 15 % of the rate + 2e-4.
    rng = np.random.default_rng(1)
    f = make().fit(None, rng.normal(5.0, 3.0, 20_000))
    rate = f.score(None, rng.normal(5.0, 3.0, 400_000)).outlier.mean()
    assert rate == pytest.approx(expected, rel=0.15, abs=2e-4)


@pytest.mark.parametrize("cls", [IQRFilter, ZScoreFilter, MADFilter])
def test_wild_y_is_flagged_and_score_never_refits(cls: type) -> None:
    rng = np.random.default_rng(2)
    train, valid = rng.normal(20.0, 1.0, 200), rng.normal(20.0, 1.0, 50)
    f = cls().fit(None, train)
    state = f.fitted_arrays()
    clean = f.score(None, valid)
    poisoned = valid.copy()
    poisoned[:5] = [1e3, -1e3, 60.0, -20.0, 1e9]
    out = f.score(None, poisoned)
    assert out.outlier[:5].all()
    assert out.threshold == clean.threshold
    np.testing.assert_array_equal(out.statistic[5:], clean.statistic[5:])
    for k, v in f.fitted_arrays().items():
        np.testing.assert_array_equal(v, state[k])


def test_x_is_only_used_for_a_row_count_check() -> None:
    y = np.arange(10.0)
    x = np.zeros((10, 3))
    f = MADFilter().fit(x, y)
    np.testing.assert_array_equal(f.score(x, y).statistic, f.score(None, y).statistic)
    with pytest.raises(DatasetError, match="different numbers of rows; got 9 and 10"):
        f.score(x[:9], y)


def test_errors_name_parameters_and_data() -> None:
    with pytest.raises(InvalidParameterError, match="'k' parameter of filter 'iqr'"):
        IQRFilter(k=-1)
    with pytest.raises(InvalidParameterError, match="'threshold' parameter of filter 'zscore'"):
        ZScoreFilter(threshold=0)
    with pytest.raises(InvalidParameterError, match="filter 'mad' has no parameter 'k'"):
        MADFilter(k=3)
    with pytest.raises(DatasetError, match="needs a target; got y=None"):
        IQRFilter().fit(None)
    with pytest.raises(DatasetError, match=r"training target 'y' must be finite.*\[1\]"):
        ZScoreFilter().fit(None, [1.0, np.nan, 3.0])
    with pytest.raises(DatasetError, match="zero median absolute deviation"):
        MADFilter().fit(None, [1.0, 1.0, 1.0, 2.0, 5.0])
    with pytest.raises(DatasetError, match="zero interquartile range"):
        IQRFilter().fit(None, [3.0] * 6 + [4.0])
    with pytest.raises(DatasetError, match="'ddof' parameter must be smaller"):
        ZScoreFilter(ddof=1).fit(None, [2.0])
    with pytest.raises(DatasetError, match=r"'y' must be 1-D.*\(3, 2\)"):
        ZScoreFilter().fit(None, np.ones((3, 2)))
