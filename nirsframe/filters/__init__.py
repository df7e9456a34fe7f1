"""Outlier filters: fitted on training rows, they flag rows without ever dropping them.

Spectral filters (PCA/PLS model of the training spectra): :class:`HotellingT2`,
:class:`QResiduals`, :class:`Leverage`. Target filters: :class:`IQRFilter`,
:class:`ZScoreFilter`, :class:`MADFilter`. :func:`parse_filter` builds one from a spec.

>>> import numpy as np
>>> f = parse_filter({"zscore": {"threshold": 2.0}}).fit(None, [1.0, 2.0, 3.0, 4.0, 5.0])
>>> f.score(None, [3.0, 7.0]).outlier.tolist()
[False, True]
"""

from nirsframe.filters._base import FilterScores, OutlierFilter
from nirsframe.filters.registry import FILTERS, parse_filter
from nirsframe.filters.spectral import (
    HotellingT2,
    HotellingT2Params,
    Leverage,
    LeverageParams,
    QResiduals,
    QResidualsParams,
)
from nirsframe.filters.target import (
    IQRFilter,
    IQRParams,
    MADFilter,
    MADParams,
    ZScoreFilter,
    ZScoreParams,
)

__all__ = [
    "FILTERS",
    "FilterScores",
    "HotellingT2",
    "HotellingT2Params",
    "IQRFilter",
    "IQRParams",
    "Leverage",
    "LeverageParams",
    "MADFilter",
    "MADParams",
    "OutlierFilter",
    "QResiduals",
    "QResidualsParams",
    "ZScoreFilter",
    "ZScoreParams",
    "parse_filter",
]
