"""Spectral operators (sklearn transformers) and their registry.

>>> from nirsframe.operators import SavitzkyGolay
>>> SavitzkyGolay(window_length=15, polyorder=2, deriv=1).params().window_length
15
"""

from nirsframe.operators._base import Params, SpectralOperator
from nirsframe.operators.baseline import Detrend
from nirsframe.operators.derivative import SavitzkyGolay
from nirsframe.operators.registry import REGISTRY, OperatorInfo, get_operator
from nirsframe.operators.scatter import MultiplicativeScatterCorrection, StandardNormalVariate

__all__ = [
    "REGISTRY",
    "Detrend",
    "MultiplicativeScatterCorrection",
    "OperatorInfo",
    "Params",
    "SavitzkyGolay",
    "SpectralOperator",
    "StandardNormalVariate",
    "get_operator",
]
