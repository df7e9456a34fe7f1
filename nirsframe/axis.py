"""The wavelength axis: values plus a unit, carried explicitly beside the spectra column."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from nirsframe.exceptions import AxisError

AxisUnit = Literal["nm", "cm-1", "index"]
_UNITS: tuple[AxisUnit, ...] = ("nm", "cm-1", "index")
# The shared data files spell the index unit "channel_index".
_UNIT_ALIASES: dict[str, AxisUnit] = {"channel_index": "index", "cm^-1": "cm-1", "1/cm": "cm-1"}


@dataclass(frozen=True, eq=False)
class SpectralAxis:
    """Positions of the points of a spectrum: strictly monotonic, finite, with a unit.

    Wavenumber axes (``cm-1``) are often stored in decreasing order; the direction is kept.

    >>> ax = SpectralAxis([900.0, 902.0, 904.0], "nm")
    >>> len(ax), ax.unit, ax.spacing
    (3, 'nm', 2.0)
    >>> SpectralAxis.from_json(ax.to_json()) == ax
    True
    """

    values: npt.NDArray[np.float64]
    unit: AxisUnit = "nm"

    def __init__(self, values: npt.ArrayLike, unit: str = "nm") -> None:
        unit = _UNIT_ALIASES.get(unit, unit)
        if unit not in _UNITS:
            msg = f"axis 'unit' must be one of {list(_UNITS)}; got {unit!r}"
            raise AxisError(msg)
        arr = np.array(values, dtype=np.float64)
        if arr.ndim != 1 or arr.size == 0:
            msg = f"axis 'values' must be a non-empty 1-D sequence; got shape {arr.shape}"
            raise AxisError(msg)
        if not np.all(np.isfinite(arr)):
            bad = int(np.flatnonzero(~np.isfinite(arr))[0])
            msg = f"axis 'values' must be finite; got {arr[bad]} at position {bad}"
            raise AxisError(msg)
        if arr.size > 1:
            step = np.diff(arr)
            if not (np.all(step > 0) or np.all(step < 0)):
                bad = (
                    int(np.flatnonzero(np.sign(step) != np.sign(step[0]))[0]) if np.any(step) else 0
                )
                msg = (
                    "axis 'values' must be strictly monotonic; "
                    f"got {arr[bad]} then {arr[bad + 1]} at positions {bad}, {bad + 1}"
                )
                raise AxisError(msg)
        arr.setflags(write=False)
        object.__setattr__(self, "values", arr)
        object.__setattr__(self, "unit", unit)

    @classmethod
    def index(cls, n_points: int) -> SpectralAxis:
        """An axis of channel numbers ``0..n_points-1``.

        >>> SpectralAxis.index(3).values.tolist()
        [0.0, 1.0, 2.0]
        """
        return cls(np.arange(n_points, dtype=np.float64), "index")

    def __len__(self) -> int:
        return int(self.values.shape[0])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SpectralAxis):
            return NotImplemented
        return self.unit == other.unit and np.array_equal(self.values, other.values)

    def __hash__(self) -> int:
        return hash((self.unit, self.values.tobytes()))

    def __repr__(self) -> str:
        v = self.values
        return f"SpectralAxis({v[0]:g}..{v[-1]:g} {self.unit}, n={len(self)})"

    @property
    def is_uniform(self) -> bool:
        """Whether the points are equally spaced (to 1e-6 of the mean step)."""
        if len(self) < 3:
            return True
        step = np.diff(self.values)
        return bool(np.allclose(step, step[0], rtol=1e-6, atol=0.0))

    @property
    def spacing(self) -> float:
        """Mean absolute step between points (the Savitzky-Golay ``delta``)."""
        if len(self) < 2:
            return 1.0
        return float(abs(self.values[-1] - self.values[0]) / (len(self) - 1))

    def check_width(self, n_points: int, column: str = "spectra") -> None:
        """Raise :class:`AxisError` unless the axis has ``n_points`` values."""
        if len(self) != n_points:
            msg = (
                f"axis length must equal the width of column {column!r}; "
                f"got axis length {len(self)}, spectra width {n_points}"
            )
            raise AxisError(msg)

    def crop(self, lo: float, hi: float) -> tuple[SpectralAxis, npt.NDArray[np.bool_]]:
        """The sub-axis inside ``[lo, hi]`` and the mask of kept points."""
        mask = (self.values >= min(lo, hi)) & (self.values <= max(lo, hi))
        if not mask.any():
            msg = f"crop range [{lo}, {hi}] keeps no point of {self!r}"
            raise AxisError(msg)
        return SpectralAxis(self.values[mask], self.unit), mask

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict ``{"unit": ..., "values": [...]}``."""
        return {"unit": self.unit, "values": self.values.tolist()}

    def to_json(self) -> str:
        """The axis as JSON (floats written with full precision)."""
        return json.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SpectralAxis:
        """Inverse of :meth:`to_dict`."""
        try:
            return cls(data["values"], str(data["unit"]))
        except (KeyError, TypeError) as exc:
            msg = f"an axis must be a mapping with 'unit' and 'values'; got {data!r:.80}"
            raise AxisError(msg) from exc

    @classmethod
    def from_json(cls, text: str | bytes) -> SpectralAxis:
        """Inverse of :meth:`to_json`."""
        return cls.from_dict(json.loads(text))
