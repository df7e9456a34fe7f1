"""Concrete variants: what the executor runs once the spec's generators are expanded."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from nirsframe.exceptions import SpecError
from nirsframe.operators import get_operator
from nirsframe.pipeline.spec import (
    AugmentStep,
    FilterStep,
    FinetuneStep,
    ModelStep,
    OperatorStep,
    SourcesStep,
    StackStep,
    YProcessingStep,
)
from nirsframe.pipeline.targets import TargetTransform

if TYPE_CHECKING:
    from collections.abc import Mapping

    from nirsframe.axis import SpectralAxis
    from nirsframe.operators._base import SpectralOperator
    from nirsframe.pipeline.spec import Variant


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
class ModelChoice:
    """A model: ``pls`` or an allow-listed scikit-learn class path, with parameters."""

    kind: str
    params_json: str

    @classmethod
    def of(cls, kind: str, params: Mapping[str, Any] | None = None) -> ModelChoice:
        """A model step from its kind and parameters."""
        return cls(kind, _frozen(params or {}))

    @property
    def params(self) -> dict[str, Any]:
        """The parameters as a dict."""
        loaded: dict[str, Any] = json.loads(self.params_json)
        return loaded

    @property
    def label(self) -> str:
        """A readable form; a ``pls``/``plsda`` component count is reported in its own column.

        >>> ModelChoice.of("opls", {"n_components": 1, "n_orthogonal": 3}).label
        'opls(n_components=1, n_orthogonal=3)'
        """
        own_column = self.kind in ("pls", "plsda")
        inner = ", ".join(
            f"{k}={v!r}"
            for k, v in sorted(self.params.items())
            if not (own_column and k == "n_components")
        )
        return f"{self.kind}({inner})" if inner else self.kind


@dataclass(frozen=True)
class YStep:
    """A target transform (``y_processing``): method and parameters."""

    method: str
    params_json: str

    @classmethod
    def of(cls, method: str, params: Mapping[str, Any] | None = None) -> YStep:
        """A target step from its method and parameters."""
        return cls(method, _frozen(params or {}))

    def build(self) -> TargetTransform:
        """A new, unfitted target transform."""
        loaded: dict[str, Any] = json.loads(self.params_json)
        return TargetTransform.build(self.method, loaded)


@dataclass(frozen=True)
class Candidate:
    """A concrete pipeline: preprocessing steps, a model, and optional target processing."""

    steps: tuple[Step, ...]
    model: ModelChoice
    y_processing: tuple[YStep, ...] = ()
    #: Multi-source: one chain per spectra column (``""`` is the primary column, for feature
    #: augmentation views), merged by ``merge``; ``steps`` is then empty.
    sources: tuple[tuple[str, tuple[Step, ...]], ...] = ()
    merge: str = "concat"
    #: Outlier filters on the model input: ``(action, filter spec JSON)`` with action
    #: ``exclude`` (flagged training rows are left out of the fit) or ``tag`` (reported only).
    filters: tuple[tuple[str, str], ...] = ()
    #: Train-only sample augmentation of the model input (the step's JSON), or ``""``.
    augmentation: str = ""

    @property
    def preprocessing(self) -> str:
        """The preprocessing chain as ``a | b | c`` (``raw`` when empty)."""
        if self.augmentation:
            plain = replace(self, augmentation="")
            return f"{plain.preprocessing} + augment"
        if self.sources:
            parts = [
                f"{col}: {' | '.join(s.label for s in ch) or 'raw'}" for col, ch in self.sources
            ]
            return f"{self.merge}[{'; '.join(parts)}]"
        return " | ".join(s.label for s in self.steps) or "raw"


def from_spec(variant: Variant) -> Candidate:
    """The executable candidate of one expanded spec variant.

    >>> from nirsframe.pipeline.spec import expand
    >>> spec = {"name": "d", "target": "y", "steps": [{"snv": {}}, {"model": {"pls": {}}}]}
    >>> from_spec(expand(spec)[0]).preprocessing
    'snv'
    """
    steps: list[Step] = []
    ys: list[YStep] = []
    models: list[ModelChoice] = []
    sources: tuple[tuple[str, tuple[Step, ...]], ...] = ()
    merge = "concat"
    filters: list[tuple[str, str]] = []
    augmentation = ""
    for step in variant.steps:
        if isinstance(step, AugmentStep):
            if models:
                msg = f"variant {variant.index}: 'sample_augmentation' must come before the model"
                raise SpecError(msg)
            augmentation = json.dumps(step.to_raw()["sample_augmentation"], sort_keys=True)
            continue
        if isinstance(step, FilterStep):
            if models:
                msg = f"variant {variant.index}: '{step.action}' must come before the model"
                raise SpecError(msg)
            filters.extend((step.action, _frozen(f)) for f in step.filters)
            continue
        if isinstance(step, SourcesStep):
            if steps or sources or models:
                msg = f"variant {variant.index}: per-source branches must come first"
                raise SpecError(msg)
            named = [*step.branches.items(), *(("", v) for v in step.views)]
            sources = tuple(
                (name, tuple(Step.of(s.op, s.params) for s in chain if isinstance(s, OperatorStep)))
                for name, chain in named
            )
            merge = step.merge
        elif isinstance(step, OperatorStep):
            if sources:
                msg = f"variant {variant.index}: steps after per-source branches are not supported"
                raise SpecError(msg)
            if models:
                msg = f"variant {variant.index}: preprocessing step {step.label!r} after the model"
                raise SpecError(msg)
            steps.append(Step.of(step.op, step.params))
        elif isinstance(step, ModelStep):
            models.append(ModelChoice.of(step.model, step.params))
        elif isinstance(step, FinetuneStep):
            models.append(ModelChoice.of(step.model.model, step.model.params))
        elif isinstance(step, YProcessingStep):
            ys.append(YStep.of(step.method, step.params))
        elif isinstance(step, StackStep):
            msg = f"variant {variant.index} is a stack; read it with stack_from_spec()"
            raise SpecError(msg)
    if len(models) != 1:
        msg = (
            f"variant {variant.index} ({variant.label}) must have exactly one model step; "
            f"got {len(models)}"
        )
        raise SpecError(msg)
    model = models[0]
    if model.kind == "pls" and model.params.get("scale"):
        # PLS(scale=True) standardises each wavelength on the training rows (std with n - 1, as
        # scikit-learn): a fitted autoscale step, learned per fold like any other. Scaling is
        # column-wise, so scaling a concatenation of sources is scaling each source.
        scaler = Step.of("autoscale", {"ddof": 1})
        if sources and merge != "concat":
            msg = f"variant {variant.index}: pls 'scale: true' after merge {merge!r} of sources"
            raise SpecError(msg)
        if sources:
            sources = tuple((name, (*chain, scaler)) for name, chain in sources)
        else:
            steps.append(scaler)
        params = {k: v for k, v in model.params.items() if k != "scale"}
        model = ModelChoice.of("pls", params)
    return Candidate(tuple(steps), model, tuple(ys), sources, merge, tuple(filters), augmentation)


@dataclass(frozen=True)
class Stack:
    """A nested stack used as one base of another (multi-level stacking).

    It reads like a candidate in rankings: ``preprocessing`` names its bases, ``model`` is its
    meta-model.

    >>> inner = Stack((Candidate((), ModelChoice.of("pls")),) * 2, ModelChoice.of("pls"))
    >>> inner.preprocessing
    'stack(raw | pls, raw | pls)'
    """

    base: tuple[Candidate | Stack, ...]
    meta: ModelChoice

    @property
    def model(self) -> ModelChoice:
        """The meta-model."""
        return self.meta

    @property
    def preprocessing(self) -> str:
        """``stack(base | model, ...)``."""
        return "stack(" + ", ".join(f"{b.preprocessing} | {b.model.label}" for b in self.base) + ")"


def stack_from_spec(variant: Variant) -> tuple[list[Candidate | Stack], ModelChoice] | None:
    """The bases and meta-model of a stacking variant (``None`` for other variants).

    A stack must be the variant's only step: its branches are complete pipelines or nested
    stacks (:class:`Stack`).
    """
    stacks = [s for s in variant.steps if isinstance(s, StackStep)]
    if not stacks:
        return None
    if len(variant.steps) != 1:
        msg = f"variant {variant.index}: a 'stack' (branch + merge) must be the only step"
        raise SpecError(msg)
    nested = _stack(stacks[0], variant)
    return list(nested.base), nested.meta


def _stack(step: StackStep, variant: Variant) -> Stack:
    bases: list[Candidate | Stack] = []
    for branch in step.branches:
        if len(branch) == 1 and isinstance(branch[0], StackStep):
            bases.append(_stack(branch[0], variant))
            continue
        sub = variant.pipeline.model_copy(update={"steps": branch})
        bases.append(from_spec(variant.__class__(variant.index, sub)))
    return Stack(tuple(bases), ModelChoice.of(step.meta.model, step.meta.params))


def finetune_from_spec(variant: Variant) -> tuple[Candidate, FinetuneStep] | None:
    """The base candidate and the tuning step of a ``finetune`` variant (else ``None``)."""
    steps = [s for s in variant.steps if isinstance(s, FinetuneStep)]
    if not steps:
        return None
    return from_spec(variant), steps[0]
