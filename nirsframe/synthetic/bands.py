"""NIR absorption bands of common sample constituents, for synthetic spectra.

Each component is a list of :class:`Band` (centre in nm, full width at half maximum in nm, peak
absorbance of the pure component, assignment). Centres are the literature band positions;
widths and relative heights are rounded from published pure-component spectra so that a
mixture of fractions summing to 1 peaks near 1 absorbance unit, as a 1-2 mm path or diffuse
reflectance (log 1/R) spectrum of a food or feed does. They are realistic, not a calibration.

>>> [b.center for b in COMPONENTS["water"]]
[970.0, 1190.0, 1450.0, 1940.0]
>>> strongest_band("fat").center
2310.0

References
----------
Workman, J. & Weyer, L. (2012). *Practical Guide and Spectral Atlas for Interpretive
Near-Infrared Spectroscopy*, 2nd ed. CRC Press (band tables, chapters 3-11).
Osborne, B. G., Fearn, T. & Hindle, P. H. (1993). *Practical NIR Spectroscopy with Applications
in Food and Beverage Analysis*, 2nd ed. Longman (table 2.2, food constituent bands).
Shenk, J. S., Workman, J. & Westerhaus, M. O. (2008). Application of NIR spectroscopy to
agricultural products. In Burns & Ciurczak (eds.), *Handbook of Near-Infrared Analysis*, 3rd ed.,
CRC Press, 347-386 (protein, starch, cellulose, oil band assignments).
Curcio, J. A. & Petty, C. C. (1951). The near infrared absorption spectrum of liquid water.
*J. Opt. Soc. Am.* 41(5), 302-304 (water 970/1190/1450/1940 nm).
Hazen, K. H., Arnold, M. A. & Small, G. W. (1998). Measurement of glucose in water with
first-overtone NIR spectra. *Appl. Spectrosc.* 52(12), 1597-1605 (glucose bands).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

from nirsframe.exceptions import InvalidParameterError

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["COMPONENTS", "Band", "component_bands", "strongest_band"]


@dataclass(frozen=True)
class Band:
    """One absorption band: centre (nm), FWHM (nm), peak absorbance of the pure component."""

    center: float
    fwhm: float
    height: float
    assignment: str


def _b(center: float, fwhm: float, height: float, assignment: str) -> Band:
    return Band(float(center), float(fwhm), float(height), assignment)


_TABLE: dict[str, tuple[Band, ...]] = {
    # O-H of liquid water: 2nd overtone, combination (2v+d), 1st overtone, combination (v+d).
    "water": (
        _b(970, 60, 0.05, "O-H 2nd overtone"),
        _b(1190, 70, 0.08, "O-H combination 2v1+v3 / v+d"),
        _b(1450, 90, 0.50, "O-H 1st overtone (v1+v3)"),
        _b(1940, 100, 1.00, "O-H combination v2+v3"),
    ),
    # Proteins: N-H overtones, amide combinations, C-H of side chains.
    "protein": (
        _b(1020, 50, 0.05, "N-H 2nd overtone"),
        _b(1510, 60, 0.35, "N-H 1st overtone"),
        _b(1690, 50, 0.20, "C-H 1st overtone"),
        _b(2050, 60, 0.70, "N-H combination (amide A + amide II)"),
        _b(2180, 50, 0.80, "amide I + amide III / C=O + N-H combination"),
        _b(2300, 40, 0.35, "C-H combination"),
    ),
    # Lipids: CH2/CH3 overtones and combinations.
    "fat": (
        _b(930, 30, 0.03, "C-H 3rd overtone"),
        _b(1210, 40, 0.12, "C-H 2nd overtone"),
        _b(1390, 40, 0.10, "C-H combination 2v+d"),
        _b(1725, 25, 0.55, "CH2 1st overtone (asym.)"),
        _b(1760, 25, 0.50, "CH2 1st overtone (sym.)"),
        _b(2310, 25, 1.00, "CH2 combination v+d"),
        _b(2345, 25, 0.85, "CH2 combination v+d"),
    ),
    # Starch: O-H and C-H of glucose polymers.
    "starch": (
        _b(1200, 40, 0.10, "C-H 2nd overtone"),
        _b(1580, 70, 0.30, "O-H 1st overtone (bonded)"),
        _b(1930, 80, 0.30, "O-H combination"),
        _b(2100, 60, 0.90, "O-H + C-O combination"),
        _b(2280, 40, 0.40, "C-H + C-H2 combination"),
    ),
    # Cellulose (fibre): O-H and C-H of beta-glucan chains.
    "cellulose": (
        _b(1200, 40, 0.10, "C-H 2nd overtone"),
        _b(1490, 60, 0.40, "O-H 1st overtone"),
        _b(1780, 40, 0.15, "C-H 1st overtone"),
        _b(2100, 60, 0.70, "O-H + C-O combination"),
        _b(2270, 30, 0.60, "O-H + C-C stretch combination"),
        _b(2340, 30, 0.50, "C-H combination"),
    ),
    # Ethanol: CH3/CH2 overtones, free and bonded O-H.
    "ethanol": (
        _b(905, 30, 0.03, "CH3 3rd overtone"),
        _b(1190, 40, 0.10, "CH3 2nd overtone"),
        _b(1410, 40, 0.20, "O-H 1st overtone (free)"),
        _b(1580, 80, 0.25, "O-H 1st overtone (bonded)"),
        _b(1695, 30, 0.45, "CH3 1st overtone"),
        _b(2080, 60, 0.35, "O-H + C-O combination"),
        _b(2270, 30, 0.75, "C-H + C-O combination"),
        _b(2310, 30, 0.60, "C-H combination"),
    ),
    # Glucose (in aqueous matrix): O-H, C-H and combination bands.
    "glucose": (
        _b(1540, 70, 0.30, "O-H 1st overtone"),
        _b(1690, 40, 0.20, "C-H 1st overtone"),
        _b(2100, 60, 0.70, "O-H + C-O combination"),
        _b(2270, 30, 0.55, "C-H combination"),
        _b(2330, 30, 0.40, "C-H combination"),
    ),
}

#: Every known component and its bands (read-only).
COMPONENTS: Mapping[str, tuple[Band, ...]] = MappingProxyType(_TABLE)


def component_bands(name: str) -> tuple[Band, ...]:
    """The bands of component ``name``, or an :class:`InvalidParameterError` naming the choices.

    >>> len(component_bands("protein"))
    6
    """
    try:
        return COMPONENTS[name]
    except KeyError:
        msg = f"unknown component {name!r}; choose among {sorted(COMPONENTS)}"
        raise InvalidParameterError(msg) from None


def strongest_band(name: str) -> Band:
    """The band of largest peak absorbance of component ``name``.

    >>> strongest_band("water").center
    1940.0
    """
    return max(component_bands(name), key=lambda b: b.height)
