"""The one place for numba options.

Kernels are serial ``nogil`` loops with numpy's error model (x/0 gives inf or NaN, no
exception): Polars runs them on several morsels at once, which is both faster on small machines
and safe (a ``parallel=True`` kernel called from two Polars threads
aborts under numba's default threading layer). ``fastmath`` stays off in kernels: NIR spectra
carry NaN rows that must propagate, and a rewritten ``(x - mean) * s`` would lose precision.
The one exception is :func:`jit_reduction`, for the row sums of ``nirskern._reduce``.

The on-disk cache is on by default so that a second process starts warm; set
``NIRSFRAME_NUMBA_CACHE=0`` to turn it off (e.g. for a read-only install without a writable
``NUMBA_CACHE_DIR``).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, TypeVar

from numba import njit

if TYPE_CHECKING:
    from collections.abc import Callable

F = TypeVar("F", bound="Callable[..., Any]")

CACHE = os.environ.get("NIRSFRAME_NUMBA_CACHE", "1") != "0"


def jit(fn: F) -> F:
    """Compile ``fn`` lazily as a serial, GIL-free numba kernel.

    >>> @jit
    ... def twice(x):
    ...     return 2 * x
    >>> twice(2.0)
    4.0
    """
    return njit(nogil=True, cache=CACHE, fastmath=False, error_model="numpy")(fn)  # type: ignore[return-value]


def jit_row(fn: F) -> F:
    """Compile a per-row helper as :func:`jit` does, inlined into the kernels that call it
    (numba IR inlining: the row loop of a caller then optimises as one function).

    >>> @jit_row
    ... def twice(x):
    ...     return 2 * x
    >>> twice(2.0)
    4.0
    """
    return njit(nogil=True, cache=CACHE, fastmath=False, error_model="numpy", inline="always")(fn)  # type: ignore[return-value]


def jit_reduction(fn: F) -> F:
    """Compile a sum over a row as :func:`jit` does, but allowing reassociation.

    ``fastmath={"reassoc"}`` is the one flag that lets LLVM vectorise a floating-point sum (it
    keeps several vector accumulators and adds them at the end). It does not assume away NaN or
    inf (no ``nnan``/``ninf``): they still propagate. The order of the additions is fixed by the
    compiled code, not by the address of the row, so a row gives the same bits wherever it sits
    in memory (tested). Use it only for reductions: reassociation is allowed for every operation
    in ``fn``.

    >>> @jit_reduction
    ... def total(r):
    ...     s = 0.0
    ...     for v in r:
    ...         s += v
    ...     return s
    >>> import numpy as np
    >>> total(np.arange(10.0))
    45.0
    """
    return njit(nogil=True, cache=CACHE, fastmath={"reassoc"}, error_model="numpy")(fn)  # type: ignore[return-value]
