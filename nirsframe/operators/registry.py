"""The operator registry: one entry per operator, the source of the pipeline spec, docs and tests.

>>> from nirsframe.operators import REGISTRY
>>> REGISTRY["snv"].estimator.__name__
'StandardNormalVariate'
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nirsframe.exceptions import InvalidParameterError

if TYPE_CHECKING:
    from collections.abc import Callable

    import polars as pl

    from nirsframe.operators._base import OperatorKind, Params, SpectralOperator


@dataclass(frozen=True)
class OperatorInfo:
    """What the registry knows of one operator."""

    name: str
    estimator: type[SpectralOperator]
    params: type[Params]
    kind: OperatorKind
    summary: str
    function: Callable[..., pl.Expr]


REGISTRY: dict[str, OperatorInfo] = {}


def register_operator(cls: type[SpectralOperator], function: Callable[..., Any]) -> None:
    """Add an operator class and its expression function to :data:`REGISTRY` as ``cls.name``.

    The function becomes ``nf.<name>`` and ``pl.col(...).nirs.<name>``.
    """
    if cls.name in REGISTRY:
        msg = f"operator {cls.name!r} is registered twice"
        raise InvalidParameterError(msg)
    doc = (cls.__doc__ or "").strip().splitlines()
    summary = doc[0] if doc else ""
    REGISTRY[cls.name] = OperatorInfo(cls.name, cls, cls.params_model, cls.kind, summary, function)


def get_operator(name: str) -> OperatorInfo:
    """The registry entry for ``name``, or an error suggesting the closest names."""
    try:
        return REGISTRY[name]
    except KeyError:
        close = difflib.get_close_matches(name, REGISTRY, n=3)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        msg = f"unknown operator {name!r}{hint}"
        raise InvalidParameterError(msg) from None
