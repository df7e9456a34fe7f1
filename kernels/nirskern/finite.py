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

from nirskern._jit import jit
from nirskern._reduce import row_sum
from nirskern._validate import as_spectra

if TYPE_CHECKING:
    import numpy.typing as npt

    from nirskern._validate import FloatArray


@jit
def _any_inf(x: FloatArray) -> bool:
    for i in range(x.shape[0]):
        if not math.isfinite(row_sum(x[i])):
            for v in x[i]:
                if math.isinf(v):
                    return True
    return False


def any_inf(x: npt.ArrayLike) -> bool:
    """``True`` when ``x`` (spectra, or one spectrum) holds +inf or -inf; NaN does not count."""
    arr, _ = as_spectra(x)
    return bool(_any_inf(arr))
