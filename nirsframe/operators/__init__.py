"""Spectral operators (sklearn transformers) and their registry.

>>> from nirsframe.operators import SavitzkyGolay
>>> SavitzkyGolay(window_length=15, polyorder=2, deriv=1).params().window_length
15
"""

from nirsframe.models.selection import (
    CompetitiveAdaptiveReweightedSampling,
    MonteCarloUninformativeVariableElimination,
    VipSelection,
)
from nirsframe.operators._base import Params, SpectralOperator
from nirsframe.operators.augmentation import (
    AdditiveNoise,
    Augmentation,
    BandMasking,
    LinearBaselineDrift,
    Mixup,
    MultiplicativeNoise,
    PolynomialBaselineDrift,
    ScatterSimulation,
    SpikeNoise,
    WavelengthShift,
    WavelengthStretch,
)
from nirsframe.operators.axis_ops import Crop, Resample
from nirsframe.operators.baseline import Detrend
from nirsframe.operators.conversion import (
    AbsorbanceToReflectance,
    FractionToPercent,
    KubelkaMunk,
    Logarithm,
    PercentToFraction,
    ReflectanceToAbsorbance,
)
from nirsframe.operators.derivative import Derivative, NorrisWilliams, SavitzkyGolay
from nirsframe.operators.fusions import FUSED
from nirsframe.operators.morphological import RollingBall, Snip
from nirsframe.operators.normalize import Autoscale, MeanCenter, Normalize, ParetoScaling
from nirsframe.operators.orthogonal import (
    ExternalParameterOrthogonalization,
    OrthogonalSignalCorrection,
)
from nirsframe.operators.polynomial_baseline import ImprovedModifiedPolynomial, ModifiedPolynomial
from nirsframe.operators.registry import REGISTRY, OperatorInfo, get_operator
from nirsframe.operators.scatter import (
    ExtendedMultiplicativeScatterCorrection,
    LocalStandardNormalVariate,
    MultiplicativeScatterCorrection,
    RobustNormalVariate,
    StandardNormalVariate,
)
from nirsframe.operators.smooth import GaussianFilter, MovingAverage
from nirsframe.operators.wavelet import Haar, Wavelet, WaveletDenoise
from nirsframe.operators.whittaker import (
    AdaptiveIterativelyReweightedPLS,
    AsymmetricallyReweightedPLS,
    AsymmetricLeastSquares,
    Beads,
    ImprovedAsymmetricLeastSquares,
)

__all__ = [
    "FUSED",
    "REGISTRY",
    "AbsorbanceToReflectance",
    "AdaptiveIterativelyReweightedPLS",
    "AdditiveNoise",
    "AsymmetricLeastSquares",
    "AsymmetricallyReweightedPLS",
    "Augmentation",
    "Autoscale",
    "BandMasking",
    "Beads",
    "CompetitiveAdaptiveReweightedSampling",
    "Crop",
    "Derivative",
    "Detrend",
    "ExtendedMultiplicativeScatterCorrection",
    "ExternalParameterOrthogonalization",
    "FractionToPercent",
    "GaussianFilter",
    "Haar",
    "ImprovedAsymmetricLeastSquares",
    "ImprovedModifiedPolynomial",
    "KubelkaMunk",
    "LinearBaselineDrift",
    "LocalStandardNormalVariate",
    "Logarithm",
    "MeanCenter",
    "Mixup",
    "ModifiedPolynomial",
    "MonteCarloUninformativeVariableElimination",
    "MovingAverage",
    "MultiplicativeNoise",
    "MultiplicativeScatterCorrection",
    "Normalize",
    "NorrisWilliams",
    "OperatorInfo",
    "OrthogonalSignalCorrection",
    "Params",
    "ParetoScaling",
    "PercentToFraction",
    "PolynomialBaselineDrift",
    "ReflectanceToAbsorbance",
    "Resample",
    "RobustNormalVariate",
    "RollingBall",
    "SavitzkyGolay",
    "ScatterSimulation",
    "Snip",
    "SpectralOperator",
    "SpikeNoise",
    "StandardNormalVariate",
    "VipSelection",
    "WavelengthShift",
    "WavelengthStretch",
    "Wavelet",
    "WaveletDenoise",
    "get_operator",
]
