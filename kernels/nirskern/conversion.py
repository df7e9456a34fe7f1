"""Intensity conversions: reflectance, absorbance, Kubelka-Munk, logarithms and percentages.

Speed choice, measured on the project machine (2 cores, best of 5, 200k x 64 and 2k x 1024):

- Transcendental functions go through numpy's vectorised (SIMD) ufuncs with ``out=``: a numba
  scalar ``log10`` loop took 74.5 ms against numpy's 15.0 ms (float64, 200k x 64; 50 vs 6.8 ms in
  float32), and ``10.0 ** -a`` in numba 105 ms against 13 ms for ``np.exp(-a * ln 10)``.
- Purely arithmetic conversions (Kubelka-Munk, percentages) are numba loops: one pass without
  temporaries, 5.5 ms against 17.1 ms for the equivalent chain of numpy ufuncs.

Every function keeps float32/float64, writes into ``out`` when given (same shape and dtype, not
overlapping ``x``), never mutates its input and propagates NaN (elementwise, so
a NaN row stays NaN and other rows are unaffected). Values outside a conversion's domain follow
IEEE/numpy semantics without a ``RuntimeWarning``: ``R = 0`` gives ``+inf`` absorbance, ``R < 0``
gives NaN.

References
----------
Kubelka & Munk (1931), Z. Tech. Phys. 12, 593-601.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from nirskern._jit import jit
from nirskern._validate import FloatArray, as_spectra, output, restore

if TYPE_CHECKING:
    from collections.abc import Iterator

#: ln(10), so that 10**-a is computed as exp(-a * ln 10): 4x faster than np.power and within
#: 1e-15 relative of it in float64 (a few ulp in float32) for the absorbances of NIR spectra.
_LN10 = math.log(10.0)

#: Elements per block when two ufuncs run one after the other (256 KiB of float64): the second
#: ufunc reads the first one's output from cache instead of main memory (one pass over the data
#: instead of two; ~3 us of Python per block).
_BLOCK = 1 << 15


def _output(out: FloatArray | None, arr: FloatArray, *, was_1d: bool) -> FloatArray:
    """:func:`nirskern._validate.output`, C-contiguous (the ufuncs run on flat blocks)."""
    res = output(out, arr, was_1d=was_1d)
    if not res.flags.c_contiguous:
        msg = "'out' must be C-contiguous"
        raise ValueError(msg)
    return res


def _blocks(arr: FloatArray, out: FloatArray) -> Iterator[tuple[FloatArray, FloatArray]]:
    """Matching flat blocks of the C-contiguous ``arr`` and ``out``."""
    src = arr.reshape(-1)
    dst = out.reshape(-1)
    for start in range(0, src.shape[0], _BLOCK):
        yield src[start : start + _BLOCK], dst[start : start + _BLOCK]


def reflectance_to_absorbance(x: npt.ArrayLike, *, out: FloatArray | None = None) -> FloatArray:
    """Absorbance (pseudo-absorbance) ``log10(1 / R)`` of reflectance (or transmittance) ``R``.

    ``R`` is a fraction (0-1]; convert percentages first with :func:`percent_to_fraction`.

    >>> reflectance_to_absorbance(np.array([[1.0, 0.1, 0.01]])).tolist()
    [[-0.0, 1.0, 2.0]]
    """
    arr, was_1d = as_spectra(x)
    res = _output(out, arr, was_1d=was_1d)
    # numpy ufuncs, not a numba loop: see the module docstring for the measured speeds.
    with np.errstate(divide="ignore", invalid="ignore"):
        for a, o in _blocks(arr, res):
            np.log10(a, out=o)
            np.negative(o, out=o)
    return restore(res, was_1d) if out is None else out


def absorbance_to_reflectance(x: npt.ArrayLike, *, out: FloatArray | None = None) -> FloatArray:
    """Reflectance ``10 ** -A`` of absorbance ``A`` (inverse of :func:`reflectance_to_absorbance`).

    >>> absorbance_to_reflectance(np.array([[0.0, 1.0, 2.0]])).round(12).tolist()
    [[1.0, 0.1, 0.01]]
    """
    arr, was_1d = as_spectra(x)
    res = _output(out, arr, was_1d=was_1d)
    # exp(-A ln 10) through numpy's SIMD exp (see _LN10); the constant is cast to the input dtype
    # so that float32 stays float32.
    factor = arr.dtype.type(-_LN10)
    with np.errstate(over="ignore"):
        for a, o in _blocks(arr, res):
            np.multiply(a, factor, out=o)
            np.exp(o, out=o)
    return restore(res, was_1d) if out is None else out


@jit
def _kubelka_munk(x: FloatArray, out: FloatArray) -> None:
    n, p = x.shape
    for i in range(n):
        for j in range(p):
            r = x[i, j]
            d = 1.0 - r
            # (1 - R)^2 / (2 R): R = 0 gives inf, R < 0 a negative value (error_model numpy).
            out[i, j] = d * d / (2.0 * r)


def kubelka_munk(x: npt.ArrayLike, *, out: FloatArray | None = None) -> FloatArray:
    """Kubelka-Munk function ``(1 - R)^2 / (2 R)`` of reflectance ``R`` (a fraction).

    >>> kubelka_munk(np.array([[1.0, 0.5, 0.25]])).tolist()
    [[0.0, 0.25, 1.125]]
    """
    arr, was_1d = as_spectra(x)
    res = output(out, arr, was_1d=was_1d)
    _kubelka_munk(arr, res)
    return restore(res, was_1d) if out is None else out


def log(x: npt.ArrayLike, *, offset: float = 0.0, out: FloatArray | None = None) -> FloatArray:
    """Natural logarithm ``ln(x + offset)``; ``offset`` shifts spectra with values <= 0.

    >>> log(np.array([[1.0, np.e]])).round(12).tolist()
    [[0.0, 1.0]]
    >>> log(np.array([[0.0, 1.0]]), offset=1.0).round(6).tolist()
    [[0.0, 0.693147]]
    """
    arr, was_1d = as_spectra(x)
    if isinstance(offset, bool) or not isinstance(offset, int | float | np.floating | np.integer):
        msg = f"'offset' must be a real number, not {type(offset).__name__}"
        raise TypeError(msg)
    if not math.isfinite(float(offset)):
        msg = f"'offset' must be finite; got offset={offset}"
        raise ValueError(msg)
    res = _output(out, arr, was_1d=was_1d)
    shift = arr.dtype.type(offset)
    # numpy's vectorised log (see the module docstring); in place on the shifted block.
    with np.errstate(divide="ignore", invalid="ignore"):
        if offset == 0.0:
            np.log(arr, out=res)
        else:
            for a, o in _blocks(arr, res):
                np.add(a, shift, out=o)
                np.log(o, out=o)
    return restore(res, was_1d) if out is None else out


@jit
def _scale(x: FloatArray, factor: np.floating, divide: bool, out: FloatArray) -> None:  # noqa: FBT001
    n, p = x.shape
    for i in range(n):
        for j in range(p):
            # Division by 100 (not multiplication by 0.01, which is not exactly representable)
            # keeps percent -> fraction correctly rounded.
            out[i, j] = x[i, j] / factor if divide else x[i, j] * factor


def percent_to_fraction(x: npt.ArrayLike, *, out: FloatArray | None = None) -> FloatArray:
    """Divide by 100: reflectance or transmittance in percent to a fraction.

    >>> percent_to_fraction(np.array([[50.0, 100.0]])).tolist()
    [[0.5, 1.0]]
    """
    arr, was_1d = as_spectra(x)
    res = output(out, arr, was_1d=was_1d)
    _scale(arr, arr.dtype.type(100.0), True, res)  # float32 data: float32 arithmetic
    return restore(res, was_1d) if out is None else out


def fraction_to_percent(x: npt.ArrayLike, *, out: FloatArray | None = None) -> FloatArray:
    """Multiply by 100: a fraction to percent.

    >>> fraction_to_percent(np.array([[0.5, 1.0]])).tolist()
    [[50.0, 100.0]]
    """
    arr, was_1d = as_spectra(x)
    res = output(out, arr, was_1d=was_1d)
    _scale(arr, arr.dtype.type(100.0), False, res)
    return restore(res, was_1d) if out is None else out
