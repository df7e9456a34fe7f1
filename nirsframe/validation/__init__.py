"""Validation: cross-validation splitters (fold-id vectors) and regression metrics."""

from nirsframe.validation.metrics import bias, r2, regression_metrics, rmse, rpd, sep
from nirsframe.validation.splitters import SPLITTERS, Splitter, parse_split, split_indices

__all__ = [
    "SPLITTERS",
    "Splitter",
    "bias",
    "parse_split",
    "r2",
    "regression_metrics",
    "rmse",
    "rpd",
    "sep",
    "split_indices",
]
