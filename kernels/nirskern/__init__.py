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
from nirskern.scatter import msc, snv

__all__ = ["detrend", "msc", "savgol", "savgol_coeffs", "snv"]
