"""``reject_inf=True`` of the kernels that check each row while it is in cache: an inf anywhere
raises sklearn's ValueError, NaN passes, and without the request inf flows through."""

from __future__ import annotations

from typing import Any

import nirskern
import numpy as np
import pytest
from nirskern.finite import row_has_inf
from numpy.testing import assert_array_equal

from tests.conftest import synthetic_spectra

_KERNELS = {
    "gaussian": lambda a, **kw: nirskern.gaussian(a, 2.0, order=1, **kw),
    "gaussian_longer_filter": lambda a, **kw: nirskern.gaussian(a, 8.0, **kw),  # 65 taps
    "moving_average": lambda a, **kw: nirskern.moving_average(a, 7, **kw),
    "savgol": lambda a, **kw: nirskern.savgol(a, 11, 3, deriv=1, **kw),
    "norris_williams": lambda a, **kw: nirskern.norris_williams(a, deriv=2, **kw),
    "normalize": lambda a, **kw: nirskern.normalize(a, "l2", **kw),
    "wavedec": lambda a, **kw: nirskern.wavedec(a, "db2", **kw),
}


@pytest.mark.parametrize("name", sorted(_KERNELS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("where", [(0, 0), (5, 39), (3, 4)])
def test_inf_anywhere_raises_on_request(name: str, dtype: type, where: tuple[int, int]) -> None:
    fn: Any = _KERNELS[name]
    x = synthetic_spectra(6, 40, seed=9).astype(dtype)
    ref = fn(x)
    assert_array_equal(fn(x, reject_inf=True), ref)
    for value in (np.inf, -np.inf):
        bad = x.copy()
        bad[where] = value
        with pytest.raises(ValueError, match="Input X contains infinity"):
            fn(bad, reject_inf=True)
        fn(bad)  # not requested: no error
    with_nan = x.copy()
    with_nan[where] = np.nan
    assert_array_equal(fn(with_nan, reject_inf=True), fn(with_nan))


def test_row_has_inf_ignores_nan_and_overflowing_sums() -> None:
    big = np.full(8, 1e308)  # the sum overflows: the elementwise test decides
    assert not row_has_inf(big)
    assert not row_has_inf(np.array([1.0, np.nan, 2.0]))
    assert row_has_inf(np.array([np.nan, -np.inf]))
    assert row_has_inf(np.array([1.0, np.inf], dtype=np.float32))
    assert not row_has_inf(np.empty(0))
