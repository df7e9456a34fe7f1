"""Input checks shared by every public kernel wrapper."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.floating]

#: Message of the ValueError raised on inf by the kernels that reject it on request (sklearn's).
INF_MESSAGE = "Input X contains infinity or a value too large for dtype('{}')."


def as_spectra(x: npt.ArrayLike, name: str = "x") -> tuple[FloatArray, bool]:
    """Return ``x`` as a C-contiguous 2-D float32/float64 array and whether it was 1-D.

    Integer and other inputs become float64; float32 stays float32 so that every kernel compiles
    at most twice. The input is never modified (a view is returned only when no copy is needed).

    >>> arr, was_1d = as_spectra([1, 2, 3])
    >>> arr.shape, arr.dtype, was_1d
    ((1, 3), dtype('float64'), True)
    """
    arr = np.asarray(x)
    if arr.dtype not in (np.float32, np.float64):
        if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
            msg = f"'{name}' must be a numeric array, not dtype {arr.dtype}"
            raise TypeError(msg)
        arr = arr.astype(np.float64)
    was_1d = arr.ndim == 1
    if was_1d:
        arr = arr[np.newaxis, :]
    if arr.ndim != 2:
        msg = f"'{name}' must be 1-D or 2-D (n_samples, n_points); got shape {arr.shape}"
        raise ValueError(msg)
    return np.ascontiguousarray(arr), was_1d


def restore(out: FloatArray, was_1d: bool) -> FloatArray:  # noqa: FBT001
    """Undo the 1-D promotion of :func:`as_spectra`.

    >>> restore(np.zeros((1, 3)), True).shape
    (3,)
    """
    return out[0] if was_1d else out


def output(
    out: FloatArray | None, arr: FloatArray, *, was_1d: bool, n_points: int | None = None
) -> FloatArray:
    """The 2-D matrix a kernel writes into: ``out`` when given (checked), else a new one.

    ``out`` must have the result's shape (1-D when the input was 1-D), the dtype of ``arr``, and
    must not overlap ``arr`` (kernels read a row after they start writing its result).
    ``n_points`` is the output width when it differs from the input's.

    >>> x = np.ones((2, 3))
    >>> out = np.empty((2, 3))
    >>> output(out, x, was_1d=False) is out
    True
    >>> output(None, x, was_1d=False).shape
    (2, 3)
    """
    shape = (arr.shape[0], arr.shape[1] if n_points is None else n_points)
    if out is None:
        return np.empty(shape, dtype=arr.dtype)
    expected = shape[1:] if was_1d else shape
    if not isinstance(out, np.ndarray) or out.shape != expected or out.dtype != arr.dtype:
        got = (getattr(out, "shape", None), getattr(out, "dtype", type(out).__name__))
        msg = f"'out' must be an array of shape {expected} and dtype {arr.dtype}; got {got}"
        raise ValueError(msg)
    if not out.flags.writeable:
        msg = "'out' must be writeable"
        raise ValueError(msg)
    if np.may_share_memory(out, arr):
        msg = "'out' must not overlap the input"
        raise ValueError(msg)
    return out[np.newaxis, :] if was_1d else out


def check_int(value: object, name: str, *, minimum: int) -> int:
    """Check that ``value`` is an integer >= ``minimum`` and return it.

    >>> check_int(3, "order", minimum=0)
    3
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        msg = f"'{name}' must be an integer, not {type(value).__name__}"
        raise TypeError(msg)
    if value < minimum:
        msg = f"'{name}' must be >= {minimum}; got {name}={value}"
        raise ValueError(msg)
    return int(value)
