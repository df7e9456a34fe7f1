"""Regression models: PLS with every component count from one fit."""

from nirsframe.models.pls import PLS, PlsParams

__all__ = ["PLS", "PlsParams"]
