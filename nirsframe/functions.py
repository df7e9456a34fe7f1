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
from nirsframe.operators.derivative import savgol
from nirsframe.operators.scatter import msc, snv

__all__ = ["detrend", "msc", "savgol", "snv"]
