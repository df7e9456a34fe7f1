"""nirskern: numba kernels for near-infrared spectra (numpy + numba only).

Every public kernel takes a 2-D ``(n_samples, n_points)`` float32/float64 array (or one 1-D
spectrum), never mutates it, and returns a new array of the same dtype. NaN rows propagate.

>>> import numpy as np
>>> from nirskern import snv
>>> snv(np.array([[1.0, 2.0, 3.0]])).round(4).tolist()
[[-1.2247, 0.0, 1.2247]]
"""

from nirskern.augment import add_polynomial, apply_noise, mask_bands, mix_rows, warp
from nirskern.baseline import detrend
from nirskern.beads import beads
from nirskern.conversion import (
    absorbance_to_reflectance,
    fraction_to_percent,
    kubelka_munk,
    log,
    percent_to_fraction,
    reflectance_to_absorbance,
)
from nirskern.derivative import derivative, norris_williams, savgol, savgol_coeffs
from nirskern.finite import any_inf
from nirskern.fused import snv_savgol
from nirskern.morphological import rolling_ball, snip
from nirskern.normalize import center_scale, column_stats, inverse_center_scale, normalize
from nirskern.orthogonal import deflate
from nirskern.pls import (
    FoldCrossProducts,
    PLSModel,
    cv_from_crossproducts,
    fold_crossproducts,
    pls_cv,
    pls_fit,
    pls_predict,
)
from nirskern.polynomial_baseline import imodpoly, modpoly
from nirskern.resample import crop, crop_mask, resample
from nirskern.scatter import emsc, local_snv, msc, rnv, snv
from nirskern.smooth import gaussian, moving_average
from nirskern.synth import mix_spectra
from nirskern.wavelet import haar, wavedec, wavelet_denoise
from nirskern.whittaker import airpls, arpls, asls, iasls

__all__ = [
    "FoldCrossProducts",
    "PLSModel",
    "absorbance_to_reflectance",
    "add_polynomial",
    "airpls",
    "any_inf",
    "apply_noise",
    "arpls",
    "asls",
    "beads",
    "center_scale",
    "column_stats",
    "crop",
    "crop_mask",
    "cv_from_crossproducts",
    "deflate",
    "derivative",
    "detrend",
    "emsc",
    "fold_crossproducts",
    "fraction_to_percent",
    "gaussian",
    "haar",
    "iasls",
    "imodpoly",
    "inverse_center_scale",
    "kubelka_munk",
    "local_snv",
    "log",
    "mask_bands",
    "mix_rows",
    "mix_spectra",
    "modpoly",
    "moving_average",
    "msc",
    "normalize",
    "norris_williams",
    "percent_to_fraction",
    "pls_cv",
    "pls_fit",
    "pls_predict",
    "reflectance_to_absorbance",
    "resample",
    "rnv",
    "rolling_ball",
    "savgol",
    "savgol_coeffs",
    "snip",
    "snv",
    "snv_savgol",
    "warp",
    "wavedec",
    "wavelet_denoise",
]
