"""The one place for numba options.

Kernels are serial ``nogil`` loops with numpy's error model (x/0 gives inf or NaN, no
exception): Polars runs them on several morsels at once, which is both faster on small machines
and safe (a ``parallel=True`` kernel called from two Polars threads
aborts under numba's default threading layer). ``fastmath`` stays off: NIR spectra carry NaN rows
that must propagate.

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
