"""Typed free functions returning Polars expressions: the documented face of every operator.

``nf.snv("spectra")`` is the same as ``pl.col("spectra").nirs.snv()`` and as
``StandardNormalVariate().to_expr("spectra")``. Each function lives beside its operator class.

>>> import numpy as np, polars as pl
>>> import nirsframe as nf
>>> df = pl.DataFrame({"spectra": np.array([[1.0, 2.0, 3.0]])})
>>> df.select(nf.snv("spectra")).item().round(4).to_list()
[-1.2247, 0.0, 1.2247]
"""

from nirsframe.models.selection import cars, mcuve, vip_selection
from nirsframe.operators.augmentation import (
    additive_noise,
    band_masking,
    linear_drift,
    mixup,
    multiplicative_noise,
    polynomial_drift,
    scatter_simulation,
    spike_noise,
    wavelength_shift,
    wavelength_stretch,
)
from nirsframe.operators.axis_ops import crop, resample
from nirsframe.operators.baseline import detrend
from nirsframe.operators.chain import chain
from nirsframe.operators.conversion import (
    absorbance_to_reflectance,
    fraction_to_percent,
    kubelka_munk,
    log,
    percent_to_fraction,
    reflectance_to_absorbance,
)
from nirsframe.operators.derivative import derivative, norris_williams, savgol
from nirsframe.operators.morphological import rolling_ball, snip
from nirsframe.operators.normalize import autoscale, mean_center, normalize, pareto
from nirsframe.operators.orthogonal import epo, osc
from nirsframe.operators.polynomial_baseline import imodpoly, modpoly
from nirsframe.operators.scatter import emsc, local_snv, msc, rnv, snv
from nirsframe.operators.smooth import gaussian, moving_average
from nirsframe.operators.wavelet import haar, wavelet, wavelet_denoise
from nirsframe.operators.whittaker import airpls, arpls, asls, beads, iasls

__all__ = [
    "absorbance_to_reflectance",
    "additive_noise",
    "airpls",
    "arpls",
    "asls",
    "autoscale",
    "band_masking",
    "beads",
    "cars",
    "chain",
    "crop",
    "derivative",
    "detrend",
    "emsc",
    "epo",
    "fraction_to_percent",
    "gaussian",
    "haar",
    "iasls",
    "imodpoly",
    "kubelka_munk",
    "linear_drift",
    "local_snv",
    "log",
    "mcuve",
    "mean_center",
    "mixup",
    "modpoly",
    "moving_average",
    "msc",
    "multiplicative_noise",
    "normalize",
    "norris_williams",
    "osc",
    "pareto",
    "percent_to_fraction",
    "polynomial_drift",
    "reflectance_to_absorbance",
    "resample",
    "rnv",
    "rolling_ball",
    "savgol",
    "scatter_simulation",
    "snip",
    "snv",
    "spike_noise",
    "vip_selection",
    "wavelength_shift",
    "wavelength_stretch",
    "wavelet",
    "wavelet_denoise",
]
