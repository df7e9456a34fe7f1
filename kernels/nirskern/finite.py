"""Whether spectra hold an infinity, in one vectorised read.

A row's float64 sum is finite unless the row holds NaN or inf (or its finite values overflow):
the elementwise test runs only for such rows. The sum vectorises (:mod:`nirskern._reduce`), so
the check reads the data at memory speed; numpy's ``np.isinf(x).any()`` writes a boolean matrix
first, and ``np.add.reduce`` runs ~4x slower than this loop.

>>> import numpy as np
>>> any_inf(np.array([[1.0, np.nan], [2.0, 3.0]])), any_inf(np.array([[1.0, -np.inf]]))
(False, True)
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from nirskern._jit import jit, jit_row
from nirskern._reduce import row_sum
from nirskern._validate import as_spectra

if TYPE_CHECKING:
    import numpy.typing as npt

    from nirskern._validate import FloatArray


@jit_row
def row_has_inf(row: FloatArray) -> bool:
    """Whether ``row`` holds +inf or -inf (NaN does not count). Kernels that reject inf call it
    on each row right after reading it, while the row is in L1: no pass of its own over the
    data (10k x 1024 float64: ~0.2 ms on one core, against 1-2 ms for a separate check)."""
    if math.isfinite(row_sum(row)):
        return False
    for v in row:  # noqa: SIM110 (numba: a plain loop, no generator)
        if math.isinf(v):
            return True
    return False


@jit
def _any_inf(x: FloatArray) -> bool:
    for i in range(x.shape[0]):  # noqa: SIM110 (numba: a plain loop, no generator)
        if row_has_inf(x[i]):
            return True
    return False


def any_inf(x: npt.ArrayLike) -> bool:
    """``True`` when ``x`` (spectra, or one spectrum) holds +inf or -inf; NaN does not count."""
    arr, _ = as_spectra(x)
    return bool(_any_inf(arr))
