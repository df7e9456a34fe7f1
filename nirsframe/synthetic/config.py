"""Validated parameters of the synthetic-spectra generator: instruments and the sample model.

>>> cfg = GeneratorConfig(components=["water", "fat"], seed=3)
>>> cfg.components
{'water': (5.0, 60.0), 'fat': (1.0, 30.0)}
>>> cfg.instruments[0].n_points
1024
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from nirsframe.operators._base import Params
from nirsframe.synthetic.bands import COMPONENTS

__all__ = ["DEFAULT_RANGES", "GeneratorConfig", "Instrument"]

#: Default concentration range (% w/w) of each component: typical of ground grains, feeds,
#: meat, dairy and beverages (Osborne, Fearn & Hindle 1993, ch. 8-10).
DEFAULT_RANGES: dict[str, tuple[float, float]] = {
    "water": (5.0, 60.0),
    "protein": (5.0, 40.0),
    "fat": (1.0, 30.0),
    "starch": (10.0, 70.0),
    "cellulose": (2.0, 30.0),
    "ethanol": (0.0, 40.0),
    "glucose": (0.0, 30.0),
}

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


class Instrument(Params):
    """One spectrometer: a uniform wavelength axis, its resolution and its photometric quirks.

    >>> Instrument(name="foss", start=1100, stop=2498, n_points=700).step
    2.0
    """

    name: str = "nir"
    #: First and last wavelength (nm) of the uniform axis.
    start: float = Field(900.0, gt=0)
    stop: float = Field(2500.0, gt=0)
    n_points: int = Field(1024, ge=8)
    #: FWHM (nm) of the Gaussian instrument line shape convolved with every band.
    resolution: float = Field(8.0, ge=0)
    #: Multiplies the generator's ``noise``.
    noise_scale: float = Field(1.0, ge=0)
    #: Photometric gain of this instrument (multiplies every spectrum).
    gain: float = Field(1.0, gt=0)
    #: Systematic wavelength calibration offset (nm) added to every spectrum's random shift.
    shift_offset: float = 0.0

    @field_validator("name")
    @classmethod
    def _identifier(cls, v: str) -> str:
        if not _NAME.match(v):
            msg = f"must be a letter then letters, digits or '_'; got {v!r}"
            raise ValueError(msg)
        return v

    @model_validator(mode="after")
    def _ordered(self) -> Instrument:
        if self.stop <= self.start:
            msg = f"'stop' must be greater than 'start'; got start={self.start}, stop={self.stop}"
            raise ValueError(msg)
        return self

    @property
    def step(self) -> float:
        """Spacing of the axis (nm)."""
        return (self.stop - self.start) / (self.n_points - 1)


class GeneratorConfig(Params):
    """Everything that defines a synthetic data set besides its size.

    Spectra are absorbances (log 1/R). For every physical sample, component concentrations
    (% w/w) are drawn uniformly in their ranges (or in a class regime), then optionally
    closed to 100 %. Each repetition on each
    instrument is then ``gain * exp(scatter*z1) * A(λ + δ) + offset*z2 + slope*z3*t +
    curvature*z4*t² + noise``, where ``A = Σ_k c_eff,k/100 * pure_k`` (Beer-Lambert),
    ``c_eff = c / (1 + nonlinearity * c / c_max)`` (saturating response when > 0),
    ``δ = shift_offset + shift*z5`` nm and ``t = (λ - 1700) / 800``.
    """

    components: dict[str, tuple[float, float]] = Field(
        default_factory=lambda: {
            k: DEFAULT_RANGES[k] for k in ("water", "protein", "fat", "starch")
        }
    )
    instruments: tuple[Instrument, ...] = (Instrument(),)
    repetitions: int = Field(1, ge=1)
    band_shape: Literal["gaussian", "voigt"] = "gaussian"
    nonlinearity: float = Field(0.0, ge=0)
    #: Standard deviation of the log multiplicative scatter factor.
    scatter: float = Field(0.1, ge=0)
    #: Standard deviations of the baseline offset, slope and curvature (absorbance units).
    offset: float = Field(0.05, ge=0)
    slope: float = Field(0.05, ge=0)
    curvature: float = Field(0.02, ge=0)
    #: Standard deviation of the per-spectrum wavelength shift (nm).
    shift: float = Field(0.3, ge=0)
    #: Detector noise standard deviation (absorbance units).
    noise: float = Field(2e-4, ge=0)
    #: Noise grows as ``noise * (1 + heteroscedastic * |A|)``.
    heteroscedastic: float = Field(0.0, ge=0)
    #: Rescale each sample's concentrations to sum to 100 % (a closed composition: the total
    #: absorbance then carries no information, as in real dry-matter bases).
    closure: bool = False
    #: Number of product types (0: no class column). Type ``k`` draws component ``j`` in the
    #: ``(k + j) mod n_classes``-th of ``n_classes`` equal sub-ranges of its range.
    n_classes: int = Field(0, ge=0)
    #: Standard deviation of the reference-method error added to the reported targets.
    reference_error: float = Field(0.0, ge=0)
    dtype: Literal["float32", "float64"] = "float64"
    seed: int = Field(0, ge=0)

    @field_validator("components", mode="before")
    @classmethod
    def _ranges(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = [s.strip() for s in v.split(",") if s.strip()]
        if isinstance(v, Sequence):
            v = {name: DEFAULT_RANGES.get(name, (0.0, 0.0)) for name in v}
        if not isinstance(v, Mapping):
            return v
        if not v:
            msg = "needs at least one component"
            raise ValueError(msg)
        for name, rng in v.items():
            if name not in COMPONENTS:
                msg = f"unknown component {name!r}; choose among {sorted(COMPONENTS)}"
                raise ValueError(msg)
            lo, hi = rng
            if not (0.0 <= lo < hi <= 100.0):
                msg = f"range of {name!r} must satisfy 0 <= low < high <= 100; got {tuple(rng)}"
                raise ValueError(msg)
        return {name: (float(r[0]), float(r[1])) for name, r in v.items()}

    @model_validator(mode="after")
    def _unique_instruments(self) -> GeneratorConfig:
        names = [i.name for i in self.instruments]
        if not names:
            msg = "'instruments' needs at least one instrument"
            raise ValueError(msg)
        if len(set(names)) != len(names):
            msg = f"instrument names must be unique; got {names}"
            raise ValueError(msg)
        return self

    def spectra_columns(self) -> dict[str, Instrument]:
        """Spectra column name -> instrument (``spectra`` alone, else ``spectra_<name>``)."""
        if len(self.instruments) == 1:
            return {"spectra": self.instruments[0]}
        return {f"spectra_{i.name}": i for i in self.instruments}
