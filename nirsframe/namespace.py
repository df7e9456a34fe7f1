"""The ``nirs`` expression namespace: ``pl.col("spectra").nirs.snv()``.

Every registered operator's free function becomes a method that forwards to it with the
namespace's expression as first argument (mypy cannot see registered namespaces, so the free
functions in :mod:`nirsframe.functions` are the typed API).

>>> import numpy as np, polars as pl
>>> import nirsframe  # registers the namespace
>>> df = pl.DataFrame({"spectra": np.array([[2.0, 4.0]])})
>>> df.select(pl.col("spectra").nirs.snv()).item().to_list()
[-1.0, 1.0]
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import polars as pl

from nirsframe.operators import REGISTRY

if TYPE_CHECKING:
    from collections.abc import Callable


class NirsNamespace:
    """Spectral operations on a ``pl.Array(Float32 | Float64, P)`` column."""

    def __init__(self, expr: pl.Expr) -> None:
        self._expr = expr


def _forward(function: Callable[..., pl.Expr]) -> Callable[..., pl.Expr]:
    @functools.wraps(function)
    def method(self: NirsNamespace, **kwargs: Any) -> pl.Expr:
        return function(self._expr, **kwargs)

    return method


def install() -> None:
    """Attach one forwarding method per registered operator and register the namespace."""
    for name, info in REGISTRY.items():
        setattr(NirsNamespace, name, _forward(info.function))
    pl.api.register_expr_namespace("nirs")(NirsNamespace)


install()
