"""Typed free functions returning Polars expressions: the documented face of every operator.

``nf.snv("spectra")`` is the same as ``pl.col("spectra").nirs.snv()`` and as
``StandardNormalVariate().to_expr("spectra")``. Each function lives beside its operator class.

>>> import numpy as np, polars as pl
>>> import nirsframe as nf
>>> df = pl.DataFrame({"spectra": np.array([[1.0, 2.0, 3.0]])})
>>> df.select(nf.snv("spectra")).item().round(4).to_list()
[-1.2247, 0.0, 1.2247]
"""

from nirsframe.operators.baseline import detrend
from nirsframe.operators.conversion import (
    absorbance_to_reflectance,
    fraction_to_percent,
    kubelka_munk,
    log,
    percent_to_fraction,
    reflectance_to_absorbance,
)
from nirsframe.operators.derivative import savgol
from nirsframe.operators.normalize import autoscale, mean_center, normalize, pareto
from nirsframe.operators.scatter import emsc, local_snv, msc, rnv, snv

__all__ = [
    "absorbance_to_reflectance",
    "autoscale",
    "detrend",
    "emsc",
    "fraction_to_percent",
    "kubelka_munk",
    "local_snv",
    "log",
    "mean_center",
    "msc",
    "normalize",
    "pareto",
    "percent_to_fraction",
    "reflectance_to_absorbance",
    "rnv",
    "savgol",
    "snv",
]
