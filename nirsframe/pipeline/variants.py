"""Concrete variants: what the executor runs once the spec's generators are expanded."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nirsframe.operators import get_operator

if TYPE_CHECKING:
    from collections.abc import Mapping

    from nirsframe.axis import SpectralAxis
    from nirsframe.operators._base import SpectralOperator


def _frozen(params: Mapping[str, Any]) -> str:
    return json.dumps(dict(params), sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class Step:
    """One concrete preprocessing step: a registered operator and its parameters.

    >>> Step.of("savgol", {"window_length": 15, "polyorder": 2, "deriv": 1}).label
    'savgol(deriv=1, polyorder=2, window_length=15)'
    """

    op: str
    params_json: str

    @classmethod
    def of(cls, op: str, params: Mapping[str, Any] | None = None) -> Step:
        """A step from an operator name and a parameter mapping (validated on build)."""
        get_operator(op)
        return cls(op, _frozen(params or {}))

    @property
    def params(self) -> dict[str, Any]:
        """The parameters as a dict."""
        loaded: dict[str, Any] = json.loads(self.params_json)
        return loaded

    @property
    def label(self) -> str:
        """A readable form, e.g. ``savgol(deriv=1, polyorder=2, window_length=15)``."""
        inner = ", ".join(f"{k}={v!r}" for k, v in sorted(self.params.items()))
        return f"{self.op}({inner})" if inner else self.op

    def build(self, axis: SpectralAxis) -> SpectralOperator:
        """A new operator instance, with ``x_axis`` filled from ``axis`` when it takes one."""
        info = get_operator(self.op)
        params = self.params
        op = info.estimator(**params)
        if "x_axis" in op.get_params() and params.get("x_axis") is None:
            op.set_params(x_axis=tuple(float(v) for v in axis.values))
        op.params()  # validate now, with the location known to the caller
        return op


@dataclass(frozen=True)
class ModelStep:
    """A model: ``pls`` or an allow-listed scikit-learn class path, with parameters."""

    kind: str
    params_json: str

    @classmethod
    def of(cls, kind: str, params: Mapping[str, Any] | None = None) -> ModelStep:
        """A model step from its kind and parameters."""
        return cls(kind, _frozen(params or {}))

    @property
    def params(self) -> dict[str, Any]:
        """The parameters as a dict."""
        loaded: dict[str, Any] = json.loads(self.params_json)
        return loaded

    @property
    def label(self) -> str:
        """A readable form without the component count (reported in its own column)."""
        inner = ", ".join(
            f"{k}={v!r}" for k, v in sorted(self.params.items()) if k != "n_components"
        )
        return f"{self.kind}({inner})" if inner else self.kind


@dataclass(frozen=True)
class Variant:
    """A concrete pipeline: preprocessing steps, a model, and optional target processing."""

    steps: tuple[Step, ...]
    model: ModelStep
    y_processing: tuple[Step, ...] = ()

    @property
    def preprocessing(self) -> str:
        """The preprocessing chain as ``a | b | c`` (``raw`` when empty)."""
        return " | ".join(s.label for s in self.steps) or "raw"
