"""nirskern: numba kernels for near-infrared spectra (numpy + numba only).

Every public kernel takes a 2-D ``(n_samples, n_points)`` float32/float64 array (or one 1-D
spectrum), never mutates it, and returns a new array of the same dtype. NaN rows propagate.

>>> import numpy as np
>>> from nirskern import snv
>>> snv(np.array([[1.0, 2.0, 3.0]])).round(4).tolist()
[[-1.2247, 0.0, 1.2247]]
"""

from nirskern.baseline import detrend
from nirskern.derivative import savgol, savgol_coeffs
from nirskern.conversion import (
    absorbance_to_reflectance,
    fraction_to_percent,
    kubelka_munk,
    log,
    percent_to_fraction,
    reflectance_to_absorbance,
)
from nirskern.normalize import center_scale, column_stats, inverse_center_scale, normalize
from nirskern.pls import (
    FoldCrossProducts,
    PLSModel,
    cv_from_crossproducts,
    fold_crossproducts,
    pls_cv,
    pls_fit,
    pls_predict,
)
from nirskern.scatter import emsc, local_snv, msc, rnv, snv

__all__ = [
    "FoldCrossProducts",
    "PLSModel",
    "absorbance_to_reflectance",
    "center_scale",
    "column_stats",
    "cv_from_crossproducts",
    "detrend",
    "emsc",
    "fold_crossproducts",
    "fraction_to_percent",
    "inverse_center_scale",
    "kubelka_munk",
    "local_snv",
    "log",
    "msc",
    "normalize",
    "percent_to_fraction",
    "pls_cv",
    "pls_fit",
    "pls_predict",
    "reflectance_to_absorbance",
    "rnv",
    "savgol",
    "savgol_coeffs",
    "snv",
]
