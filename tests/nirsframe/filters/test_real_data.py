"""Sanity checks on the Tecator meat data (240 x 100, 850-1050 nm): stable properties only.

With every filter fitted on the 129 ``train`` rows (fat as y for PLS leverage), measured flags:

* Hotelling T² (A = 5, 0.99): rows 33, 34, 43, 138, 139, 203, 216, 219-222.
* Q residuals (A = 5, 0.99): rows 34, 85, 88, 130, 139, 173, 178-180.
* PCA leverage (A = 5, k = 3): rows 33, 34, 138, 139, 203, 219-222; PLS leverage adds 85, 179.
* fat: IQR flags 222; z-score 219, 221, 222; MAD 217-219, 221, 222. Water and protein: none.

Rows 216-239 are the ``extra_E1``/``extra_E2`` samples (fat only); 219-222 carry 55-58 % fat, far
beyond the training range (<= ~49 %), and are flagged by every spectral filter and by fat.
"""

from __future__ import annotations

import numpy as np
import pytest

from nirsframe.filters import HotellingT2, Leverage, MADFilter, QResiduals, ZScoreFilter
from tests.conftest import SHARED_DATA

pl = pytest.importorskip("polars")
TECATOR = SHARED_DATA / "tecator.parquet"
pytestmark = pytest.mark.skipif(not TECATOR.exists(), reason="shared Tecator data not available")

HIGH_FAT = [219, 220, 221, 222]


@pytest.fixture(scope="module")
def tecator() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    frame = pl.read_parquet(TECATOR)
    x = np.array(frame["spectrum"].to_list(), dtype=np.float64)
    return x, frame["fat"].to_numpy(), (frame["split"] == "train").to_numpy()


def test_high_fat_extras_are_flagged_by_spectral_filters(tecator: tuple) -> None:
    x, fat, train = tecator
    for f in (HotellingT2(n_components=5), Leverage(n_components=5)):
        s = f.fit(x[train]).score(x)
        assert s.outlier[HIGH_FAT].all(), type(f).__name__
        # The training rows are mostly in control: a handful flagged at most.
        assert s.outlier[train].mean() < 0.05
    pls = Leverage(n_components=5, method="pls").fit(x[train], fat[train]).score(x)
    assert pls.outlier[HIGH_FAT].all()
    q = QResiduals(n_components=5).fit(x[train]).score(x)
    assert 0 < q.outlier.sum() < 0.1 * len(x)


def test_high_fat_extras_are_flagged_on_y(tecator: tuple) -> None:
    _, fat, train = tecator
    for f in (ZScoreFilter(), MADFilter()):
        s = f.fit(None, fat[train]).score(None, fat)
        assert s.outlier[[219, 221, 222]].all()
        assert not s.outlier[train].any()  # fences fitted on train hold every train row here


def test_fitting_on_train_only_ignores_the_other_rows(tecator: tuple) -> None:
    x, _, train = tecator
    f = HotellingT2(n_components=5).fit(x[train])
    threshold = f.threshold_
    all_rows = f.score(x)
    assert all_rows.threshold == threshold
    # Equal up to BLAS blocking (row results may differ in the last bit with the row count).
    np.testing.assert_allclose(all_rows.statistic[train], f.score(x[train]).statistic, rtol=1e-12)
