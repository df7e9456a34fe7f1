"""Typed errors and warnings. Every error is also a builtin, so ``except ValueError`` still works.

>>> issubclass(SpectralShapeError, ValueError)
True
"""

from __future__ import annotations

from sklearn.exceptions import NotFittedError

__all__ = [
    "AxisError",
    "BundleError",
    "DatasetError",
    "GraphKindError",
    "InvalidParameterError",
    "NirsframeError",
    "NirsframeWarning",
    "NotFittedError",
    "SpecError",
    "SpectralShapeError",
    "TargetTypeError",
    "WorkspaceError",
]


class NirsframeError(Exception):
    """Base class of every error raised by nirsframe."""


class SpectralShapeError(NirsframeError, ValueError):
    """Spectra are ragged, have the wrong width, or are not a fixed-width float column."""


class AxisError(NirsframeError, ValueError):
    """A wavelength axis is invalid (not monotonic, not finite, wrong unit or length)."""


class DatasetError(NirsframeError, ValueError):
    """A dataset breaks its contract (missing column, duplicate ids, empty frame...)."""


class TargetTypeError(NirsframeError, TypeError):
    """A target column is not numeric."""


class InvalidParameterError(NirsframeError, ValueError):
    """An operator, model or splitter parameter is out of its allowed range."""


class SpecError(NirsframeError, ValueError):
    """A pipeline specification is invalid; the message names the location and a fix."""


class WorkspaceError(NirsframeError, RuntimeError):
    """A workspace operation cannot be carried out (missing run, failed commit...)."""


class GraphKindError(NirsframeError, ValueError):
    """An operation needs one fitted chain per model and the run stores a graph it cannot split
    into such chains (e.g. explaining a multi-source model); the message names the graph kind
    and what to do instead."""


class BundleError(NirsframeError, ValueError):
    """A bundle is tampered, truncated, unsigned when a signature is required, or malformed."""


class NirsframeWarning(UserWarning):
    """Warnings raised by nirsframe (flat spectra, suspicious data...)."""
