"""Shared fixtures: realistic synthetic spectra and the shared real datasets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def synthetic_spectra(n: int = 40, p: int = 120, seed: int = 0) -> np.ndarray:
    """Smooth NIR-like spectra: Gaussian bands, a sloped baseline, scatter and noise."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 1.0, p)
    centres = np.array([0.2, 0.45, 0.7, 0.85])
    widths = np.array([0.05, 0.08, 0.04, 0.06])
    bands = np.exp(-0.5 * ((t[None, :] - centres[:, None]) / widths[:, None]) ** 2)
    conc = rng.uniform(0.2, 1.0, size=(n, centres.size))
    x = conc @ bands
    x = x * rng.uniform(0.8, 1.2, size=(n, 1)) + rng.uniform(-0.1, 0.1, size=(n, 1))
    x += rng.normal(0.0, 0.02, size=(n, 1)) * t[None, :]
    x += rng.normal(0.0, 1e-3, size=x.shape)
    return x + 0.5


@pytest.fixture
def spectra() -> np.ndarray:
    """40 x 120 float64 synthetic spectra."""
    return synthetic_spectra()


def shared_datasets() -> list[Path]:
    """Every Parquet file of the shared data folder (empty when the folder is absent)."""
    return sorted(SHARED_DATA.glob("*.parquet"))
