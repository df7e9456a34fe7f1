"""Models: PLS (every component count from one fit), PLS-DA, OPLS; wavelength selection."""

from nirsframe.models.opls import OPLS, OplsParams
from nirsframe.models.pls import PLS, PlsParams
from nirsframe.models.plsda import PLSDA, PlsdaParams

__all__ = ["OPLS", "PLS", "PLSDA", "OplsParams", "PlsParams", "PlsdaParams"]
