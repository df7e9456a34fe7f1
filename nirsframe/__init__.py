"""nirsframe: dataframe-native NIR spectroscopy chemometrics.

>>> import numpy as np, polars as pl
>>> import nirsframe as nf
>>> df = pl.DataFrame({"spectra": np.array([[1.0, 2.0, 3.0]])})
>>> df.select(nf.snv("spectra")).item().round(4).to_list()
[-1.2247, 0.0, 1.2247]
"""

from nirsframe import functions
from nirsframe import namespace as _namespace  # registers pl.col(...).nirs
from nirsframe.axis import SpectralAxis
from nirsframe.exceptions import (
    AxisError,
    DatasetError,
    InvalidParameterError,
    NirsframeError,
    SpectralShapeError,
)
from nirsframe.functions import *  # noqa: F403  (one expression function per operator)
from nirsframe.synthetic import generate

__version__ = "0.1.0"

__all__ = [
    "AxisError",
    "DatasetError",
    "InvalidParameterError",
    "NirsframeError",
    "SpectralAxis",
    "SpectralShapeError",
    "__version__",
    "generate",
    *functions.__all__,
]
del _namespace

# The Python surface (search, replay, explain, report, sessions, retraining).
from nirsframe.api import (  # noqa: E402
    explain,
    explain_nodes,
    predict,
    report,
    retrain,
    run,
    session,
)

__all__ += ["explain", "explain_nodes", "predict", "report", "retrain", "run", "session"]
