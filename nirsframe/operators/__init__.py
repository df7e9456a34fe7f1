"""Spectral operators (sklearn transformers) and their registry.

>>> from nirsframe.operators import SavitzkyGolay
>>> SavitzkyGolay(window_length=15, polyorder=2, deriv=1).params().window_length
15
"""

from nirsframe.operators._base import Params, SpectralOperator
from nirsframe.operators.baseline import Detrend
from nirsframe.operators.conversion import (
    AbsorbanceToReflectance,
    FractionToPercent,
    KubelkaMunk,
    Logarithm,
    PercentToFraction,
    ReflectanceToAbsorbance,
)
from nirsframe.operators.derivative import SavitzkyGolay
from nirsframe.operators.normalize import Autoscale, MeanCenter, Normalize, ParetoScaling
from nirsframe.operators.registry import REGISTRY, OperatorInfo, get_operator
from nirsframe.operators.scatter import (
    ExtendedMultiplicativeScatterCorrection,
    LocalStandardNormalVariate,
    MultiplicativeScatterCorrection,
    RobustNormalVariate,
    StandardNormalVariate,
)

__all__ = [
    "REGISTRY",
    "AbsorbanceToReflectance",
    "Autoscale",
    "Detrend",
    "ExtendedMultiplicativeScatterCorrection",
    "FractionToPercent",
    "KubelkaMunk",
    "LocalStandardNormalVariate",
    "Logarithm",
    "MeanCenter",
    "MultiplicativeScatterCorrection",
    "Normalize",
    "OperatorInfo",
    "Params",
    "ParetoScaling",
    "PercentToFraction",
    "ReflectanceToAbsorbance",
    "RobustNormalVariate",
    "SavitzkyGolay",
    "SpectralOperator",
    "StandardNormalVariate",
    "get_operator",
]
