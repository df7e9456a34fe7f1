"""Deterministic synthetic NIR spectra, generated inside each worker from a seed.

Each spectrum is a mixture of a few pure components (sums of Gaussian absorption bands), plus a
smooth baseline (offset, slope, curvature), a multiplicative scatter factor and white noise. The
target is the first component's concentration, so PLS has something real to find. Workers build
the data themselves from ``(n, p, dtype, seed)``: nothing large crosses a process boundary.

Examples
--------
>>> x, y, axis = make_spectra(4, p=16, seed=1)
>>> x.shape, y.shape, axis.shape, x.dtype.name
((4, 16), (4,), (16,), 'float64')
>>> bool((make_spectra(4, p=16, seed=1)[0] == x).all())
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Iterator

N_COMPONENTS = 5
BANDS_PER_COMPONENT = 4
WAVELENGTHS = (1000.0, 2500.0)  # nm: the usual NIR range


def make_spectra(
    n: int, p: int = 1024, *, dtype: str = "float64", seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(X, y, wavelengths)``: ``n`` spectra of ``p`` channels, targets and the axis.

    Parameters
    ----------
    n, p
        Number of spectra and of channels.
    dtype
        ``"float64"`` or ``"float32"`` for ``X`` (``y`` and the axis stay float64).
    seed
        Everything is drawn from ``numpy.random.default_rng(seed)``: same seed, same data.
    """
    rng = np.random.default_rng(seed)
    axis, pure = _pure_components(rng, p)
    x, y = _mixtures(rng, axis, pure, n)
    return np.ascontiguousarray(x, dtype=dtype), y, axis


def iter_spectra(
    n: int, p: int = 1024, *, dtype: str = "float64", seed: int = 0, chunk: int = 50_000
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``(X, y)`` chunks of at most ``chunk`` rows, ``n`` rows in all, in bounded memory.

    The pure components are those of :func:`make_spectra` with the same ``seed`` (same
    population); the mixtures of chunk ``i`` are drawn from ``default_rng([seed, i])``.

    >>> sum(len(y) for _, y in iter_spectra(7, p=8, chunk=3))
    7
    """
    axis, pure = _pure_components(np.random.default_rng(seed), p)
    for i, start in enumerate(range(0, n, chunk)):
        x, y = _mixtures(np.random.default_rng([seed, i]), axis, pure, min(chunk, n - start))
        yield np.ascontiguousarray(x, dtype=dtype), y


def _pure_components(rng: np.random.Generator, p: int) -> tuple[np.ndarray, np.ndarray]:
    axis = np.linspace(*WAVELENGTHS, p)
    # Pure component spectra: Gaussian bands with random centre, width (20-120 nm) and height.
    centres = rng.uniform(*WAVELENGTHS, size=(N_COMPONENTS, BANDS_PER_COMPONENT, 1))
    widths = rng.uniform(20.0, 120.0, size=(N_COMPONENTS, BANDS_PER_COMPONENT, 1))
    heights = rng.uniform(0.2, 1.0, size=(N_COMPONENTS, BANDS_PER_COMPONENT, 1))
    return axis, (heights * np.exp(-0.5 * ((axis - centres) / widths) ** 2)).sum(axis=1)


def _mixtures(
    rng: np.random.Generator, axis: np.ndarray, pure: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    p = axis.shape[0]
    conc = rng.dirichlet(np.ones(N_COMPONENTS), size=n)  # closed mixtures, rows sum to 1
    x = conc @ pure
    # Baseline: offset + slope + curvature on a centred, scaled axis.
    t = (axis - axis.mean()) / (axis.max() - axis.min())
    basis = np.stack([np.ones(p), t, t**2])
    x += rng.normal(0.0, [0.1, 0.05, 0.02], size=(n, 3)) @ basis
    # Multiplicative scatter (path length) around 1, then detector noise.
    x *= rng.uniform(0.8, 1.2, size=(n, 1))
    x += rng.normal(0.0, 1e-3, size=(n, p))
    y = 100.0 * conc[:, 0] + rng.normal(0.0, 0.1, size=n)
    return x, y
