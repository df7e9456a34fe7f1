"""The typed pipeline specification: load, validate, expand, serialise and hash pipeline files.

A pipeline file (YAML or JSON) holds ``name``, ``target``, ``split``, ``steps`` and optionally
``variant_cap``. A step is ``{operator: {params}}`` (an entry of
:data:`nirsframe.operators.REGISTRY`), ``{model: {name: {params}}}`` (``pls``, ``plsda``,
``opls`` or an allow-listed scikit-learn class path),
``{y_processing: {autoscale | center | standard | minmax: {params}}}``, a generator
(see :mod:`nirsframe.pipeline.generators`) or one of nirs4all's keywords (``branch`` with
``merge``, ``feature_augmentation``, ...). Every error is a :class:`SpecError` naming its place
in the file (``steps[0]._or_[2].detrend.order``) and, for names, the closest valid one.

>>> spec = load_pipeline('''
... name: demo
... target: octane
... split: {kfold: {n_splits: 5}}
... steps:
...   - _or_: [{snv: {}}, {msc: {}}]
...   - model: {pls: {n_components: {_range_: [1, 3]}}}
... ''')
>>> [v.label for v in expand(spec)][:2]
['snv | pls(n_components=1)', 'snv | pls(n_components=2)']
>>> len(pipeline_hash(spec))
64
"""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_serializer,
    model_validator,
)

from nirsframe.exceptions import NirsframeError, SpecError
from nirsframe.models.opls import OplsParams
from nirsframe.models.pls import PlsParams
from nirsframe.models.plsda import PlsdaParams
from nirsframe.models.sklearn_models import ALLOWED_MODULES, resolve_estimator_class
from nirsframe.operators import REGISTRY, Params
from nirsframe.pipeline.generators import (
    GENERATOR_KEYS,
    compile_value,
    expand_value,
    generator_key,
    has_generator,
    join_loc,
    suggest,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

__all__ = [
    "DEFAULT_VARIANT_CAP",
    "MODELS",
    "RESERVED_KEYWORDS",
    "Y_PROCESSORS",
    "AutoscaleParams",
    "CenterParams",
    "GeneratorStep",
    "MinMaxParams",
    "ModelStep",
    "OperatorStep",
    "Pipeline",
    "StandardParams",
    "Step",
    "Variant",
    "YProcessingStep",
    "canonical_json",
    "expand",
    "load_pipeline",
    "parse_step",
    "pipeline_hash",
]

DEFAULT_VARIANT_CAP = 10_000
TOP_LEVEL_KEYS = ("name", "target", "split", "steps", "variant_cap", "separate_by")

#: nirs4all keywords understood by the file format but not implemented yet: rejected by name.
RESERVED_KEYWORDS = frozenset(
    {
        "source_branch",
        "concat_transform",
        "finetune_params",
        "train_params",
        "chart_2d",
        "chart_3d",
        "fold_chart",
        "y_chart",
        "rep_to_sources",
        "rep_to_pp",
    }
)


# -- parameter models of the built-in models and target processors --------------------------------
class AutoscaleParams(Params):
    """Target autoscaling: centre on the training mean, divide by the training std."""

    ddof: int = Field(default=0, ge=0, description="delta degrees of freedom of the std")


class CenterParams(Params):
    """Target mean-centring (no parameters)."""


class StandardParams(Params):
    """Target standard scaling with scikit-learn's ``StandardScaler`` parameter names."""

    with_mean: bool = True
    with_std: bool = True


class MinMaxParams(Params):
    """Target min-max scaling onto ``feature_range`` (scikit-learn's ``MinMaxScaler`` name)."""

    feature_range: tuple[float, float] = (0.0, 1.0)

    @model_validator(mode="after")
    def _ordered(self) -> MinMaxParams:
        lo, hi = self.feature_range
        if not lo < hi:
            msg = f"'feature_range' must satisfy min < max; got {list(self.feature_range)}"
            raise ValueError(msg)
        return self


#: Target processors accepted by ``y_processing`` steps.
Y_PROCESSORS: dict[str, type[Params]] = {
    "autoscale": AutoscaleParams,
    "center": CenterParams,
    "standard": StandardParams,
    "minmax": MinMaxParams,
}
#: Built-in models (besides allow-listed scikit-learn class paths).
MODELS: dict[str, type[Params]] = {"pls": PlsParams, "plsda": PlsdaParams, "opls": OplsParams}


# -- validation helpers ---------------------------------------------------------------------------
def _fail(loc: str, msg: str) -> SpecError:
    return SpecError(f"{loc or '<root>'}: {msg}")


def _format_errors(exc: ValidationError, loc: str) -> str:
    parts = []
    for err in exc.errors():
        where = loc
        for p in err["loc"]:
            where = join_loc(where, p)
        text = err["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {text}; got {err.get('input')!r}")
    return "; ".join(parts)


def _field_adapter(model: type[BaseModel], name: str) -> TypeAdapter[Any]:
    info = model.model_fields[name]
    form: Any = Annotated[info.annotation, info]
    return TypeAdapter(form)


def _check_params(
    model: type[BaseModel], params: Mapping[str, Any], loc: str, owner: str, cap: int
) -> None:
    """Check names, then values: the whole model when concrete, field by field otherwise."""
    for key in params:
        if key not in model.model_fields:
            names = sorted(model.model_fields)
            hint = suggest(str(key), names) or (
                f" (it has {', '.join(map(repr, names))})" if names else " (it has none)"
            )
            raise _fail(join_loc(loc, str(key)), f"{owner} has no parameter {key!r}{hint}")
    if not has_generator(params):
        try:
            model.model_validate(dict(params))
        except ValidationError as exc:
            raise SpecError(_format_errors(exc, loc)) from None
        return
    # With generators, cross-field checks wait for the concrete variants (see :func:`expand`);
    # each candidate value is still checked against its field here, where its place is known.
    for key, value in params.items():
        here = join_loc(loc, str(key))
        adapter = _field_adapter(model, str(key))
        for candidate in expand_value(value, here, cap=cap) if has_generator(value) else [value]:
            try:
                adapter.validate_python(candidate)
            except ValidationError as exc:
                text = "; ".join(e["msg"] for e in exc.errors())
                raise _fail(here, f"{text}; got {candidate!r}") from None


def _body(raw: Any, loc: str, what: str) -> dict[str, Any]:
    """A step's parameter mapping (``None``, as YAML writes ``snv:``, means no parameters)."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise _fail(loc, f"the parameters of {what} must be a mapping; got {raw!r}")
    for key in raw:
        if not isinstance(key, str):
            raise _fail(loc, f"parameter names must be strings; got {key!r}")
    return dict(raw)


def _single(raw: Any, loc: str, example: str) -> tuple[str, Any]:
    if not isinstance(raw, Mapping) or len(raw) != 1:
        raise _fail(loc, f"expected one {{name: {{params}}}} entry such as {example}; got {raw!r}")
    ((name, body),) = raw.items()
    return str(name), body


def _reserved(name: str, loc: str) -> SpecError:
    msg = (
        f"{name!r} is a nirs4all keyword that nirsframe does not support yet; "
        "it comes in a later release"
    )
    return _fail(loc, msg)


# -- steps ----------------------------------------------------------------------------------------
class _StepBase(BaseModel):
    """Common base: immutable, unknown fields forbidden, serialised in the file's own form."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def to_raw(self) -> dict[str, Any]:
        """The step as written in a pipeline file."""
        raise NotImplementedError

    @model_serializer
    def _serialize(self) -> dict[str, Any]:
        return self.to_raw()

    @property
    def is_concrete(self) -> bool:
        """Whether the step holds no generator."""
        return not has_generator(self.to_raw())


class OperatorStep(_StepBase):
    """``{op: {params}}``: a registered spectral operator."""

    op: str
    params: dict[str, Any] = Field(default_factory=dict)

    def to_raw(self) -> dict[str, Any]:
        """``{op: params}``."""
        return {self.op: self.params}

    def validated_params(self) -> Params:
        """The operator's typed parameters (defaults filled); the step must be concrete."""
        return REGISTRY[self.op].params.model_validate(self.params)

    @property
    def label(self) -> str:
        """Readable form, e.g. ``savgol(deriv=1, polyorder=2, window_length=15)``."""
        return _label(self.op, self.params)


class ModelStep(_StepBase):
    """``{model: {name: {params}}}``: ``pls`` or an allow-listed scikit-learn class path."""

    model: str
    params: dict[str, Any] = Field(default_factory=dict)

    def to_raw(self) -> dict[str, Any]:
        """``{"model": {model: params}}``."""
        return {"model": {self.model: self.params}}

    @property
    def is_sklearn(self) -> bool:
        """Whether the model is a scikit-learn class path (not a built-in name)."""
        return self.model not in MODELS

    def validated_params(self) -> Params:
        """The typed parameters of a built-in model (scikit-learn models have none)."""
        if self.is_sklearn:
            msg = f"model {self.model!r} is a scikit-learn class; its parameters are untyped"
            raise SpecError(msg)
        return MODELS[self.model].model_validate(self.params)

    def estimator_class(self) -> type[Any]:
        """The scikit-learn class of an allow-listed class path."""
        return resolve_estimator_class(self.model)

    @property
    def label(self) -> str:
        """Readable form, e.g. ``pls(n_components=5)``."""
        return _label(self.model, self.params)


class YProcessingStep(_StepBase):
    """``{y_processing: {method: {params}}}``: a target transform from :data:`Y_PROCESSORS`."""

    method: str
    params: dict[str, Any] = Field(default_factory=dict)

    def to_raw(self) -> dict[str, Any]:
        """``{"y_processing": {method: params}}``."""
        return {"y_processing": {self.method: self.params}}

    def validated_params(self) -> Params:
        """The typed parameters of the target processor."""
        return Y_PROCESSORS[self.method].model_validate(self.params)

    @property
    def label(self) -> str:
        """Readable form, e.g. ``y:autoscale``."""
        return "y:" + _label(self.method, self.params)


class GeneratorStep(_StepBase):
    """A step-level generator (``_or_``, ``_chain_``) kept as written until :func:`expand`."""

    node: dict[str, Any]

    def to_raw(self) -> dict[str, Any]:
        """The generator mapping as written."""
        return self.node


class StackStep(_StepBase):
    """``{stack: {branches: [[steps..., model], ...], meta: {name: {params}}}}``: stacking.

    nirs4all's ``branch: [...]`` followed by ``merge: {predictions: {model: ...}}`` (or by
    ``merge: predictions`` and a ``model`` step) is read as this step. Each branch is a complete
    pipeline ending with its model, or a nested stack; the meta-model learns from their
    out-of-fold predictions (nested cross-validation at every level, see
    :mod:`nirsframe.pipeline.stacking`).
    """

    #: A branch is a chain ending with its model, or one nested stack (multi-level stacking).
    branches: list[list[OperatorStep | ModelStep | YProcessingStep | GeneratorStep | StackStep]]
    meta: ModelStep

    def to_raw(self) -> dict[str, Any]:
        """``{"stack": {"branches": [...], "meta": {model: params}}}``."""
        return {
            "stack": {
                "branches": [[s.to_raw() for s in branch] for branch in self.branches],
                "meta": {self.meta.model: self.meta.params},
            }
        }

    @property
    def label(self) -> str:
        """Readable form, e.g. ``stack(2 branches) -> Ridge(alpha=1.0)``."""
        return f"stack({len(self.branches)} branches) -> {self.meta.label}"


class SourcesStep(_StepBase):
    """``{sources: {branches: {name: [steps...]}, merge: concat | average}}``: per-source chains.

    nirs4all's ``branch: {by_source: {...}}`` (optionally followed by ``merge_sources: ...``)
    is read as this step. ``name`` is a spectra column or ``spectra_<name>``; the model after it
    sees the merged sources.
    """

    branches: dict[str, list[OperatorStep | GeneratorStep]] = Field(default_factory=dict)
    #: Feature augmentation: several chains over the primary spectra column, concatenated.
    views: list[list[OperatorStep | GeneratorStep]] = Field(default_factory=list)
    merge: str = "concat"

    def to_raw(self) -> dict[str, Any]:
        """``{"sources": {"branches": {...}, "views": [...], "merge": ...}}``."""
        body: dict[str, Any] = {"merge": self.merge}
        if self.branches:
            body["branches"] = {k: [s.to_raw() for s in v] for k, v in self.branches.items()}
        if self.views:
            body["views"] = [[s.to_raw() for s in v] for v in self.views]
        return {"sources": body}

    @property
    def label(self) -> str:
        """Readable form, e.g. ``sources(nir: snv; mir: raw -> concat)``."""
        named = [(k, v) for k, v in self.branches.items()] + [("view", v) for v in self.views]
        parts = "; ".join(
            f"{k}: {' | '.join(_step_label(s) for s in v) or 'raw'}" for k, v in named
        )
        return f"sources({parts} -> {self.merge})"


class AugmentStep(_StepBase):
    """``{sample_augmentation: {ops: [{name: {params}}...], count: 1, balance: false, seed: 0}}``.

    Train-only: every fold's model is fitted on its training rows plus ``count`` seeded
    augmented copies of each (made by each listed augmentation operator, applied to the model's
    input); validation and test rows are never augmented. ``balance`` (classification) adds
    copies to the smaller classes only, up to the size of the largest.
    """

    ops: list[dict[str, dict[str, Any]]]
    count: int = 1
    balance: bool = False
    seed: int = 0

    def to_raw(self) -> dict[str, Any]:
        """``{"sample_augmentation": {...}}``."""
        body = {"ops": self.ops, "count": self.count, "balance": self.balance, "seed": self.seed}
        return {"sample_augmentation": body}

    @property
    def label(self) -> str:
        """Readable form, e.g. ``augment(additive_noise x2)``."""
        names = ", ".join(next(iter(o)) for o in self.ops)
        return f"augment({names} x{self.count}{', balanced' if self.balance else ''})"


def _parse_augment(raw: Any, loc: str) -> AugmentStep:
    if isinstance(raw, list):
        raw = {"ops": raw}
    body = _body(raw, loc, "'sample_augmentation'")
    keys = ["ops", "count", "balance", "seed"]
    unknown = sorted(set(body) - set(keys))
    if unknown:
        raise _fail(join_loc(loc, unknown[0]), f"unknown key{suggest(unknown[0], keys)}")
    items = body.get("ops")
    if not isinstance(items, list) or not items:
        raise _fail(join_loc(loc, "ops"), f"needs a list of augmentation operators; got {items!r}")
    ops: list[dict[str, dict[str, Any]]] = []
    for i, item in enumerate(items):
        where = join_loc(join_loc(loc, "ops"), i)
        name, params = (
            (item, {}) if isinstance(item, str) else _single(item, where, "{additive_noise: {}}")
        )
        info = REGISTRY.get(str(name))
        if info is None or info.kind != "augmentation":
            names = [n for n, inf in REGISTRY.items() if inf.kind == "augmentation"]
            raise _fail(
                where, f"{name!r} is not an augmentation operator{suggest(str(name), names)}"
            )
        params = _body(params, join_loc(where, str(name)), f"operator {name!r}")
        _check_params(info.params, params, join_loc(where, str(name)), f"operator {name!r}", 1)
        ops.append({str(name): params})
    count, seed, balance = body.get("count", 1), body.get("seed", 0), body.get("balance", False)
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise _fail(join_loc(loc, "count"), f"must be an integer >= 1; got {count!r}")
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise _fail(join_loc(loc, "seed"), f"must be an integer; got {seed!r}")
    if not isinstance(balance, bool):
        raise _fail(join_loc(loc, "balance"), f"must be true or false; got {balance!r}")
    return AugmentStep(ops=ops, count=count, balance=balance, seed=seed)


class FinetuneStep(_StepBase):
    """``{finetune: {model: {name: {params}}, space: {param: [values] | {low, high, log, int}},
    search: grid | random | optuna, n_trials: 20, seed: 0, inner_split: {...}}}``.

    Replaces the ``model`` step: the model's parameters are tuned by an inner cross-validation
    inside every outer fold (see :mod:`nirsframe.pipeline.finetune`).
    """

    model: ModelStep
    space: dict[str, Any]
    search: str = "grid"
    n_trials: int = 20
    seed: int = 0
    inner_split: dict[str, dict[str, Any]] | None = None

    def to_raw(self) -> dict[str, Any]:
        """``{"finetune": {...}}``."""
        body: dict[str, Any] = {
            "model": {self.model.model: self.model.params},
            "space": self.space,
            "search": self.search,
            "n_trials": self.n_trials,
            "seed": self.seed,
        }
        if self.inner_split is not None:
            body["inner_split"] = self.inner_split
        return {"finetune": body}

    @property
    def label(self) -> str:
        """Readable form, e.g. ``finetune(pls: n_components, grid)``."""
        return f"finetune({self.model.model}: {', '.join(sorted(self.space))}, {self.search})"


def _parse_finetune(raw: Any, loc: str, cap: int) -> FinetuneStep:
    body = _body(raw, loc, "'finetune'")
    keys = ["model", "space", "search", "n_trials", "seed", "inner_split"]
    unknown = sorted(set(body) - set(keys))
    if unknown:
        raise _fail(join_loc(loc, unknown[0]), f"unknown key{suggest(unknown[0], keys)}")
    for key in ("model", "space"):
        if key not in body:
            raise _fail(loc, f"missing {key!r}")
    model = _parse_model(body["model"], join_loc(loc, "model"), cap)
    space = body["space"]
    if not isinstance(space, Mapping) or not space:
        raise _fail(join_loc(loc, "space"), f"needs a mapping parameter -> values; got {space!r}")
    search = body.get("search", "grid")
    if search not in ("grid", "random", "optuna"):
        raise _fail(join_loc(loc, "search"), f"must be grid, random or optuna; got {search!r}")
    n_trials, seed = body.get("n_trials", 20), body.get("seed", 0)
    if not isinstance(n_trials, int) or isinstance(n_trials, bool) or n_trials < 1:
        raise _fail(join_loc(loc, "n_trials"), f"must be an integer >= 1; got {n_trials!r}")
    inner = body.get("inner_split")
    if inner is not None:
        inner = _check_split(inner)
    return FinetuneStep(
        model=model,
        space=dict(space),
        search=search,
        n_trials=n_trials,
        seed=int(seed),
        inner_split=inner,
    )


def _step_label(step: OperatorStep | GeneratorStep) -> str:
    return step.label if isinstance(step, OperatorStep) else json.dumps(step.to_raw())


class FilterStep(_StepBase):
    """``{exclude: filter}`` or ``{tag: filter}``: outlier filters on the model's input.

    Each filter is fitted on every fold's training rows (after preprocessing). ``exclude``
    leaves the flagged training rows out of the model's fit; ``tag`` only reports them.
    Validation and test rows are always predicted; flagged rows are listed in the result.
    """

    action: str
    filters: list[dict[str, Any]]

    def to_raw(self) -> dict[str, Any]:
        """``{action: [filter, ...]}``."""
        return {self.action: self.filters}

    @property
    def label(self) -> str:
        """Readable form, e.g. ``exclude(hotelling_t2)``."""
        return f"{self.action}({', '.join(next(iter(f)) for f in self.filters)})"


Step = (
    OperatorStep
    | ModelStep
    | YProcessingStep
    | GeneratorStep
    | StackStep
    | SourcesStep
    | FilterStep
    | AugmentStep
    | FinetuneStep
)
ConcreteStep = (
    OperatorStep
    | ModelStep
    | YProcessingStep
    | StackStep
    | SourcesStep
    | FilterStep
    | AugmentStep
    | FinetuneStep
)


def _label(name: str, params: Mapping[str, Any]) -> str:
    inner = ", ".join(f"{k}={v!r}" for k, v in sorted(params.items()))
    return f"{name}({inner})" if inner else name


def _parse_model(raw: Any, loc: str, cap: int) -> ModelStep:
    name, body = _single(raw, loc, "{pls: {n_components: 10}}")
    here = join_loc(loc, name)
    if name in GENERATOR_KEYS:
        msg = f"put {name!r} at step level to try several models: {{{name}: [{{model: ...}}, ...]}}"
        raise _fail(here, msg)
    params = _body(body, here, f"model {name!r}")
    if name in MODELS:
        _check_params(MODELS[name], params, here, f"model {name!r}", cap)
        return ModelStep(model=name, params=params)
    if "." not in name:
        hint = (
            suggest(name, list(MODELS)) or " (or a class path such as 'sklearn.linear_model.Ridge')"
        )
        raise _fail(here, f"unknown model {name!r}{hint}")
    # resolve_estimator_class compares the module with ALLOWED_MODULES as a string before it
    # imports anything, so a file can never make nirsframe import an arbitrary module.
    module, _, cls_name = name.rpartition(".")
    if module in ALLOWED_MODULES and not cls_name.startswith("_"):
        available = _estimators(module)
        if cls_name not in available:
            msg = f"{module} has no estimator class {cls_name!r}{suggest(cls_name, available)}"
            raise _fail(here, msg)
    try:
        cls = resolve_estimator_class(name)
    except SpecError as exc:
        raise _fail(here, str(exc)) from None
    valid = sorted(cls._get_param_names())
    for key in params:
        if key not in valid:
            hint = suggest(key, valid)
            raise _fail(join_loc(here, key), f"model {name!r} has no parameter {key!r}{hint}")
    if not has_generator(params):
        _check_estimator(cls, params, here)
    return ModelStep(model=name, params=params)


def _estimators(module: str) -> list[str]:
    mod = importlib.import_module(module)  # only ever called with an allow-listed module
    return [n for n, v in vars(mod).items() if isinstance(v, type) and hasattr(v, "fit")]


def _check_estimator(cls: type[Any], params: Mapping[str, Any], loc: str) -> None:
    """Run scikit-learn's own parameter constraints on a concrete parameter set."""
    try:
        estimator = cls(**params)
        validate = getattr(estimator, "_validate_params", None)
        if validate is not None:
            validate()
    except (ValueError, TypeError) as exc:
        raise _fail(loc, str(exc)) from None


def _parse_y(raw: Any, loc: str, cap: int) -> YProcessingStep:
    name, body = _single(raw, loc, "{autoscale: {}}")
    here = join_loc(loc, name)
    if name not in Y_PROCESSORS:
        hint = suggest(name, list(Y_PROCESSORS)) or f" (known: {', '.join(sorted(Y_PROCESSORS))})"
        raise _fail(here, f"unknown y_processing method {name!r}{hint}")
    params = _body(body, here, f"y_processing {name!r}")
    _check_params(Y_PROCESSORS[name], params, here, f"y_processing {name!r}", cap)
    return YProcessingStep(method=name, params=params)


_STEP_GENERATORS = ("_or_", "_chain_")


def _parse_generator(raw: Mapping[str, Any], key: str, loc: str, cap: int) -> GeneratorStep:
    if key not in _STEP_GENERATORS:
        msg = f"{key!r} generates values, not steps; use it inside parameters or use '_or_'"
        raise _fail(join_loc(loc, key), msg)
    compile_value(raw, loc)  # structure, modifiers and nested generators
    options = raw[key]
    for i, option in enumerate(options):
        here = join_loc(join_loc(loc, key), i)
        for j, sub in enumerate(option) if isinstance(option, list) else [(None, option)]:
            parse_step(sub, here if j is None else join_loc(here, j), cap=cap)
    return GeneratorStep(node=dict(raw))


def _parse_stack(raw: Any, loc: str, cap: int) -> StackStep:
    body = _body(raw, loc, "'stack'")
    unknown = sorted(set(body) - {"branches", "meta"})
    if unknown:
        raise _fail(
            join_loc(loc, unknown[0]), f"unknown key{suggest(unknown[0], ['branches', 'meta'])}"
        )
    branches = body.get("branches")
    if not isinstance(branches, list) or len(branches) < 2:
        raise _fail(
            join_loc(loc, "branches"), f"needs a list of at least two branches; got {branches!r}"
        )
    parsed: list[list[Any]] = []
    for i, branch in enumerate(branches):
        where = join_loc(loc, f"branches[{i}]")
        seq = rewrite_branches(branch if isinstance(branch, list) else [branch], where)
        steps = [parse_step(st, join_loc(where, j), cap=cap) for j, st in enumerate(seq)]
        nested = len(steps) == 1 and isinstance(steps[0], StackStep)
        if not nested and (not steps or not isinstance(steps[-1], ModelStep)):
            msg = "each stacked branch must end with a 'model' step or be one nested stack"
            raise _fail(where, msg)
        parsed.append(steps)
    if "meta" not in body:
        raise _fail(loc, "missing 'meta': the meta-model, e.g. {sklearn.linear_model.Ridge: {}}")
    meta = _parse_model(body["meta"], join_loc(loc, "meta"), cap)
    return StackStep(branches=parsed, meta=meta)


def _parse_filters(action: str, raw: Any, loc: str) -> FilterStep:
    from nirsframe.filters import parse_filter

    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise _fail(loc, f"'{action}' needs at least one filter, e.g. {{hotelling_t2: {{}}}}")
    filters: list[dict[str, Any]] = []
    for i, item in enumerate(items):
        where = join_loc(loc, i) if isinstance(raw, list) else loc
        parse_filter(item, where)  # validates names and parameters (SpecError)
        if isinstance(item, str):
            item = {item: {}}
        ((name, params),) = dict(item).items()
        filters.append({str(name): dict(params or {})})
    return FilterStep(action=action, filters=filters)


def _parse_chain_list(raw: Any, where: str, cap: int) -> list[Any]:
    seq = raw if isinstance(raw, list) else [raw]
    steps = [parse_step(st, join_loc(where, j), cap=cap) for j, st in enumerate(seq)]
    for st in steps:
        if not isinstance(st, OperatorStep | GeneratorStep):
            raise _fail(where, "per-source branches and views hold preprocessing steps only")
    return steps


def _parse_sources(raw: Any, loc: str, cap: int) -> SourcesStep:
    body = _body(raw, loc, "'sources'")
    keys = ["branches", "views", "merge"]
    unknown = sorted(set(body) - set(keys))
    if unknown:
        raise _fail(join_loc(loc, unknown[0]), f"unknown key{suggest(unknown[0], keys)}")
    branches = body.get("branches", {})
    views = body.get("views", [])
    if not isinstance(branches, Mapping) or not isinstance(views, list) or not (branches or views):
        msg = (
            f"needs 'branches' (source -> steps) or 'views' (a list of chains); got {dict(body)!r}"
        )
        raise _fail(loc, msg)
    merge = body.get("merge", "concat")
    if merge not in ("concat", "average"):
        raise _fail(join_loc(loc, "merge"), f"must be 'concat' or 'average'; got {merge!r}")
    parsed = {
        str(name): _parse_chain_list(steps, join_loc(join_loc(loc, "branches"), str(name)), cap)
        for name, steps in branches.items()
    }
    parsed_views = [
        _parse_chain_list(v, join_loc(loc, f"views[{i}]"), cap) if v else []
        for i, v in enumerate(views)
    ]
    return SourcesStep(branches=parsed, views=parsed_views, merge=merge)


#: ``feature_augmentation`` actions (nirs4all's names and meanings).
FEATURE_ACTIONS = ("add", "replace", "extend")


def _is_preprocessing(raw: Any) -> bool:
    """Whether a raw step only transforms spectra: an operator, or ``_or_``/``_chain_`` of such.

    >>> _is_preprocessing({"snv": {}}), _is_preprocessing({"model": {"pls": {}}})
    (True, False)
    """
    if not isinstance(raw, Mapping) or not raw:
        return False
    for key in _STEP_GENERATORS:
        if key in raw:
            options = raw[key]
            return isinstance(options, list) and all(
                all(map(_is_preprocessing, o)) if isinstance(o, list) else _is_preprocessing(o)
                for o in options
            )
    name = next(iter(raw))
    return len(raw) == 1 and name in REGISTRY and REGISTRY[name].kind != "augmentation"


def _is_views(raw: Any) -> bool:
    """Whether a raw step is a ``sources`` step of views only (concatenated)."""
    if not isinstance(raw, Mapping) or set(raw) != {"sources"}:
        return False
    body = raw["sources"]
    return (
        isinstance(body, Mapping)
        and set(body) <= {"views", "merge"}
        and isinstance(body.get("views"), list)
        and body.get("merge", "concat") == "concat"
    )


def _take_views(out: list[Any]) -> list[list[Any]]:
    """The views a feature augmentation or feature merge builds on, taken off the end of ``out``:
    those of a views step, else the trailing run of preprocessing steps (``[[]]``: raw).

    >>> out = [{"y_processing": {"center": {}}}, {"snv": {}}]
    >>> _take_views(out), out
    ([[{'snv': {}}]], [{'y_processing': {'center': {}}}])
    """
    if out and _is_views(out[-1]):
        return [_as_list(v) for v in out.pop()["sources"]["views"]]
    start = len(out)
    while start > 0 and _is_preprocessing(out[start - 1]):
        start -= 1
    chain = out[start:]
    del out[start:]
    return [chain]


def _unique(views: list[list[Any]]) -> list[list[Any]]:
    seen: set[str] = set()
    out = []
    for view in views:
        key = json.dumps(view, sort_keys=True, default=str)
        if key not in seen:
            seen.add(key)
            out.append(view)
    return out


def _feature_augmentation(
    raw: Any, action: Any, loc: str, before: list[list[Any]]
) -> dict[str, Any]:
    """``feature_augmentation`` as a ``sources`` step of views of the primary spectra column.

    ``before`` holds the current views ``V`` (the preceding chain, raw when none, or the views
    of a preceding augmentation); the step lists chains ``C``. As in nirs4all: ``add``
    (default) keeps ``V`` and chains every ``C`` after every ``V`` (n + n·m views); ``replace``
    keeps the chained views only (n·m); ``extend`` keeps ``V`` and chains every ``C`` after the
    first view only, skipping duplicates (n + m). The views are concatenated for the model.

    >>> _feature_augmentation([{"snv": {}}], "extend", "s", [[], [{"msc": {}}]])["sources"]
    {'views': [[], [{'msc': {}}], [{'snv': {}}]], 'merge': 'concat'}
    """
    if isinstance(raw, Mapping) and "views" in raw:
        unknown = sorted(set(raw) - {"views", "action"})
        if unknown or (action is not None and "action" in raw):
            msg = f"unknown key {unknown[0]!r}" if unknown else "'action' is given twice"
            raise _fail(loc, f"{msg}; expected {{views: [...], action: add|replace|extend}}")
        raw, action = raw["views"], raw.get("action")
    if not isinstance(raw, list) or not raw:
        msg = f"expects a non-empty list of chains or {{views: [...], action: ...}}; got {raw!r}"
        raise _fail(loc, msg)
    action = "add" if action is None else action
    if action not in FEATURE_ACTIONS:
        msg = f"'action' must be one of {', '.join(FEATURE_ACTIONS)}; got {action!r}"
        raise _fail(loc, msg)
    chains = [c if isinstance(c, list) else [c] for c in raw]
    if action == "extend":
        views = _unique([*before, *([*before[0], *c] for c in chains)])
    else:
        chained = [[*v, *c] for v in before for c in chains]
        views = chained if action == "replace" else [*before, *chained]
    return {"sources": {"views": views, "merge": "concat"}}


def _merge_features(
    branches: list[list[Any]], merge: Any, loc: str, before: list[list[Any]]
) -> dict[str, Any]:
    """``branch`` + ``merge: features``: each branch's preprocessed spectra, concatenated.

    Branches run after the current views (``before``, see :func:`_take_views`);
    ``merge: {features: [0, 2]}`` keeps the listed branches only.
    """
    chosen = merge["features"] if isinstance(merge, Mapping) else "all"
    if chosen != "all":
        if not isinstance(chosen, list) or not all(
            isinstance(i, int) and 0 <= i < len(branches) for i in chosen
        ):
            msg = f"'features' must be 'all' or a list of branch indices < {len(branches)}"
            raise _fail(loc, f"{msg}; got {chosen!r}")
        branches = [branches[i] for i in chosen]
    for i, branch in enumerate(branches):
        if not all(map(_is_preprocessing, branch)):
            msg = (
                f"branch {i} holds a non-preprocessing step; 'merge: features' concatenates "
                "preprocessed spectra (end branches with models and use 'merge: predictions' "
                "to stack them)"
            )
            raise _fail(loc, msg)
    views = [[*v, *b] for v in before for b in branches]
    return {"sources": {"views": views, "merge": "concat"}}


def _branches_as_lists(raw: Any, loc: str) -> list[Any]:
    """``branch`` as a list of step lists (a dict of named branches keeps its order)."""
    if isinstance(raw, Mapping):
        raw = list(raw.values())
    if not isinstance(raw, list) or not raw:
        raise _fail(
            loc, f"'branch' must be a non-empty list (or mapping) of step lists; got {raw!r}"
        )
    return [b if isinstance(b, list) else [b] for b in raw]


def _separation(steps: list[Any]) -> tuple[list[Any], str | None]:
    """A leading ``branch: {by_metadata: column}`` (or ``by_tag``), optionally closed by
    ``merge: concat`` at the end, as the pipeline's ``separate_by`` column."""
    if not steps or not isinstance(steps[0], Mapping) or set(steps[0]) != {"branch"}:
        return steps, None
    body = steps[0]["branch"]
    if (
        not isinstance(body, Mapping)
        or len(body) != 1
        or next(iter(body)) not in ("by_metadata", "by_tag")
    ):
        return steps, None
    column = next(iter(body.values()))
    if isinstance(column, Mapping):
        column = column.get("column")
    if not isinstance(column, str) or not column:
        msg = f"by_metadata needs a column name; got {column!r}"
        raise _fail(loc="steps[0].branch", msg=msg)
    rest = list(steps[1:])
    if rest and isinstance(rest[-1], Mapping) and rest[-1] == {"merge": "concat"}:
        rest = rest[:-1]
    return rest, column


_MERGE_FORMS = (
    "'merge: features' (concatenate the branches' spectra), 'merge: predictions' followed by "
    "a 'model' step or 'merge: {predictions: {model: {...}}}' (stacking)"
)


def _merge_step(
    branches: list[list[Any]], rest: list[Any], out: list[Any], loc: str
) -> tuple[dict[str, Any], int]:
    """The step a ``branch`` + ``merge`` pair becomes, and how many raw steps it used.

    ``rest`` starts at the ``merge`` step; preprocessing steps just before the branch (taken
    off ``out``) run first in every branch.
    """
    merge = rest[0]["merge"]
    where = join_loc(loc, "merge")
    if merge == "features" or (isinstance(merge, Mapping) and set(merge) == {"features"}):
        return _merge_features(branches, merge, where, _take_views(out)), 2
    if merge == "predictions":
        nxt = rest[1] if len(rest) > 1 else None
        if not (isinstance(nxt, Mapping) and set(nxt) == {"model"}):
            msg = (
                "'merge: predictions' must be followed by the meta-model's 'model' step; "
                f"got {nxt!r}"
            )
            raise _fail(where, msg)
        meta, used = nxt["model"], 3
    elif isinstance(merge, Mapping) and set(merge) == {"predictions"}:
        meta, used = merge["predictions"], 2
        if isinstance(meta, Mapping) and set(meta) == {"model"}:
            meta = meta["model"]
    else:
        raise _fail(where, f"supported forms are {_MERGE_FORMS}; got {merge!r}")
    prefix = [] if out and _is_views(out[-1]) else _take_views(out)[0]
    return {"stack": {"branches": [[*prefix, *b] for b in branches], "meta": meta}}, used


def rewrite_branches(steps: list[Any], loc: str = "steps") -> list[Any]:
    """nirs4all's ``branch`` and ``feature_augmentation`` forms in nirsframe's terms.

    ``branch`` + ``merge: predictions`` is a ``stack`` step, ``branch`` + ``merge: features``
    and ``feature_augmentation`` are ``sources`` views, a ``branch`` alone is ``_or_`` over
    its sub-pipelines (duplication). Operator steps after views run on every view.

    >>> rewrite_branches([{"branch": [[{"snv": {}}], [{"msc": {}}]]}])
    [{'_or_': [[{'snv': {}}], [{'msc': {}}]]}]
    """
    out: list[Any] = []
    i = 0
    while i < len(steps):
        step = steps[i]
        here = join_loc(loc, i)
        keys = set(step) if isinstance(step, Mapping) else set()
        if (
            keys == {"branch"}
            and isinstance(step["branch"], Mapping)
            and set(step["branch"]) == {"by_source"}
        ):
            nxt = steps[i + 1] if i + 1 < len(steps) else None
            merge = "concat"
            if isinstance(nxt, Mapping) and set(nxt) == {"merge_sources"}:
                merge = nxt["merge_sources"]
                i += 1
            out.append({"sources": {"branches": step["branch"]["by_source"], "merge": merge}})
        elif keys in ({"feature_augmentation"}, {"feature_augmentation", "action"}):
            where = join_loc(here, "feature_augmentation")
            before = _take_views(out)
            out.append(
                _feature_augmentation(
                    step["feature_augmentation"], step.get("action"), where, before
                )
            )
        elif keys == {"branch"}:
            branches = _branches_as_lists(step["branch"], join_loc(here, "branch"))
            nxt = steps[i + 1] if i + 1 < len(steps) else None
            if isinstance(nxt, Mapping) and set(nxt) == {"merge"}:
                merged, used = _merge_step(branches, steps[i + 1 :], out, join_loc(loc, i + 1))
                out.append(merged)
                i += used
                continue
            out.append({"_or_": branches})
        elif out and _is_views(out[-1]) and len(keys) == 1 and next(iter(keys)) in REGISTRY:
            # an operator after views transforms every view (as nirs4all does every processing)
            views = out[-1]["sources"]["views"]
            out[-1] = {
                "sources": {"views": [[*_as_list(v), step] for v in views], "merge": "concat"}
            }
        else:
            out.append(step)
        i += 1
    return out


def _as_list(view: Any) -> list[Any]:
    """A view written as one step or a chain, as a chain."""
    return view if isinstance(view, list) else [view]


def parse_step(raw: Any, loc: str = "steps[0]", *, cap: int = DEFAULT_VARIANT_CAP) -> Step:
    """Validate one step as written in a file and return its typed form.

    >>> parse_step({"savgol": {"window_length": 15}}).label
    'savgol(window_length=15)'
    >>> parse_step({"detrend": {"ordre": 1}}, "steps[2]")
    Traceback (most recent call last):
    ...
    nirsframe.exceptions.SpecError: steps[2].detrend.ordre: operator 'detrend' has no parameter 'ordre'; did you mean 'order'?
    """  # noqa: E501
    if isinstance(
        raw,
        OperatorStep
        | ModelStep
        | YProcessingStep
        | GeneratorStep
        | StackStep
        | SourcesStep
        | FilterStep
        | AugmentStep
        | FinetuneStep,
    ):
        return raw
    if not isinstance(raw, Mapping):
        msg = f"a step must be a mapping such as {{snv: {{}}}}; got {raw!r}"
        raise _fail(loc, msg)
    key = generator_key(raw, loc)
    if key is not None:
        return _parse_generator(raw, key, loc, cap)
    if len(raw) != 1:
        names = list(raw)
        for name in names:
            if name in RESERVED_KEYWORDS:
                raise _reserved(name, join_loc(loc, name))
        msg = f"a step has exactly one key (an operator, 'model' or 'y_processing'); got {names}"
        raise _fail(loc, msg)
    ((name, body),) = raw.items()
    name = str(name)
    here = join_loc(loc, name)
    if name == "model":
        return _parse_model(body, here, cap)
    if name == "y_processing":
        return _parse_y(body, here, cap)
    if name == "stack":
        return _parse_stack(body, here, cap)
    if name == "sources":
        return _parse_sources(body, here, cap)
    if name in ("exclude", "tag"):
        return _parse_filters(name, body, here)
    if name == "sample_augmentation":
        return _parse_augment(body, here)
    if name == "finetune":
        return _parse_finetune(body, here, cap)
    if name in ("branch", "merge"):
        msg = (
            f"'{name}' must come as a pair: a 'branch' step immediately followed by "
            "'merge: {predictions: {model: ...}}' (stacking); a 'branch' alone is a set of "
            "alternatives"
        )
        raise _fail(here, msg)
    if name in RESERVED_KEYWORDS:
        raise _reserved(name, here)
    if name == "split":
        raise _fail(here, "'split' is a top-level key in nirsframe, not a step; move it out")
    if name not in REGISTRY:
        candidates = [*REGISTRY, "model", "y_processing"]
        raise _fail(here, f"unknown operator {name!r}{suggest(name, candidates)}")
    params = _body(body, here, f"operator {name!r}")
    _check_params(REGISTRY[name].params, params, here, f"operator {name!r}", cap)
    return OperatorStep(op=name, params=params)


# -- the pipeline ---------------------------------------------------------------------------------
def _split_module() -> Any:
    """``nirsframe.validation.splitters`` when it exists (it is optional for the spec)."""
    try:
        found = importlib.util.find_spec("nirsframe.validation.splitters")
    except ModuleNotFoundError:
        return None
    return None if found is None else importlib.import_module("nirsframe.validation.splitters")


def _check_split(raw: Any) -> dict[str, dict[str, Any]]:
    name, body = _single(raw, "split", "{venetian: {n_splits: 10}}")
    if has_generator(raw):
        raise _fail(loc="split", msg="generators are only allowed inside steps")
    params = _body(body, join_loc("split", name), f"splitter {name!r}")
    splitters = _split_module()
    if splitters is not None:
        if name not in splitters.SPLITTERS:
            hint = suggest(name, list(splitters.SPLITTERS))
            known = f" (known: {', '.join(sorted(splitters.SPLITTERS))})"
            raise _fail(join_loc("split", name), f"unknown splitter {name!r}{hint}{known}")
        try:
            splitters.parse_split({name: params})
        except (NirsframeError, ValueError, TypeError) as exc:
            raise _fail(join_loc("split", name), str(exc)) from None
    return {name: params}


def _check_target(raw: Any) -> str | list[str]:
    if isinstance(raw, str) and raw:
        return raw
    if (
        isinstance(raw, list)
        and raw
        and all(isinstance(t, str) and t for t in raw)
        and len(set(raw)) == len(raw)
    ):
        return list(raw)
    msg = f"'target' must be a column name or a non-empty list of distinct names; got {raw!r}"
    raise _fail(loc="target", msg=msg)


class Pipeline(BaseModel):
    """A validated pipeline document; generators stay in place until :func:`expand`.

    Build it with :func:`load_pipeline` (which raises :class:`SpecError`); ``model_validate``
    works too but wraps the same message in a pydantic ``ValidationError``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    target: str | list[str]
    split: dict[str, dict[str, Any]] | None = None
    #: Separation branches: one model per value of this metadata column (predictions
    #: reassembled). nirs4all's ``branch: {by_metadata: column}`` + ``merge: concat``.
    separate_by: str | None = None
    steps: list[Step]
    variant_cap: int = Field(default=DEFAULT_VARIANT_CAP, ge=1)

    reserved: ClassVar[frozenset[str]] = RESERVED_KEYWORDS

    @model_validator(mode="before")
    @classmethod
    def _check_document(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            msg = f"a pipeline must be a mapping with keys {list(TOP_LEVEL_KEYS)}; got {data!r}"
            raise _fail(loc="", msg=msg)
        for key in data:
            if key in RESERVED_KEYWORDS:
                raise _reserved(str(key), str(key))
            if key not in TOP_LEVEL_KEYS:
                hint = suggest(str(key), TOP_LEVEL_KEYS) or f" (keys: {', '.join(TOP_LEVEL_KEYS)})"
                raise _fail(str(key), f"unknown key {key!r}{hint}")
        for key in ("name", "target", "steps"):
            if key not in data:
                raise _fail(loc="", msg=f"missing required key {key!r}")
        out = dict(data)
        if not isinstance(out["name"], str) or not out["name"].strip():
            raise _fail(loc="name", msg=f"'name' must be a non-empty string; got {out['name']!r}")
        cap = out.get("variant_cap", DEFAULT_VARIANT_CAP)
        if not isinstance(cap, int) or isinstance(cap, bool) or cap < 1:
            raise _fail(
                loc="variant_cap", msg=f"'variant_cap' must be an integer >= 1; got {cap!r}"
            )
        out["target"] = _check_target(out["target"])
        if out.get("split") is not None:
            out["split"] = _check_split(out["split"])
        steps = out["steps"]
        if not isinstance(steps, list) or not steps:
            raise _fail(
                loc="steps", msg=f"'steps' must be a non-empty list of steps; got {steps!r}"
            )
        steps, separate_by = _separation(steps)
        if separate_by is not None:
            if out.get("separate_by") not in (None, separate_by):
                msg = "given twice with different columns"
                raise _fail(loc="separate_by", msg=msg)
            out["separate_by"] = separate_by
        steps = rewrite_branches(steps)
        out["steps"] = [parse_step(s, join_loc("steps", i), cap=cap) for i, s in enumerate(steps)]
        return out

    def to_dict(self) -> dict[str, Any]:
        """The document as plain JSON data (``split``, ``separate_by`` left out when absent)."""
        data = self.model_dump(mode="json")
        for key in ("split", "separate_by"):
            if data[key] is None:
                del data[key]
        return data

    def to_json(self, *, indent: int | None = 2) -> str:
        """The document as JSON text (loads back to an equal :class:`Pipeline`)."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    def to_yaml(self) -> str:
        """The document as YAML text (loads back to an equal :class:`Pipeline`)."""
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True)

    @property
    def is_concrete(self) -> bool:
        """Whether no step holds a generator."""
        return all(s.is_concrete for s in self.steps)

    @property
    def n_variants(self) -> int:
        """The number of variants :func:`expand` yields, computed without building them."""
        return math.prod(
            compile_value(s.to_raw(), join_loc("steps", i)).n for i, s in enumerate(self.steps)
        )


# -- loading --------------------------------------------------------------------------------------
class _Loader(yaml.SafeLoader):
    """Safe YAML loader with YAML 1.2 floats (``1e-3``) and duplicate keys rejected."""


# PyYAML follows YAML 1.1, where ``1e-3`` (no dot) is a *string*; YAML 1.2 and JSON read a float.
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def _mapping_without_duplicates(loader: _Loader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            line = key_node.start_mark.line + 1
            msg = f"line {line}: duplicate key {key!r} (the later value would silently win)"
            raise SpecError(msg)
        seen.add(key)
    return loader.construct_mapping(node, deep=True)


_Loader.add_constructor("tag:yaml.org,2002:map", _mapping_without_duplicates)


def _json_pairs(pairs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            msg = f"duplicate key {key!r} (the later value would silently win)"
            raise SpecError(msg)
        out[key] = value
    return out


def _parse_text(text: str, *, as_json: bool) -> Any:
    try:
        if as_json:
            return json.loads(text, object_pairs_hook=_json_pairs)
        return yaml.load(text, Loader=_Loader)  # a SafeLoader subclass
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        msg = f"cannot parse the pipeline {'JSON' if as_json else 'YAML'}: {exc}"
        raise SpecError(msg) from None


def load_pipeline(source: str | os.PathLike[str] | Mapping[str, Any] | Pipeline) -> Pipeline:
    """A validated :class:`Pipeline` from a file path, YAML/JSON text, or a mapping.

    A ``str`` naming an existing file is read as a file (``.json`` as JSON, anything else as
    YAML, which also reads JSON); any other string is parsed as YAML/JSON text.

    >>> load_pipeline({"name": "p", "target": "y", "steps": [{"snv": {}}]}).steps[0].label
    'snv'
    """
    if isinstance(source, Pipeline):
        return source
    if not isinstance(source, str | os.PathLike):
        data: Any = source  # a mapping (or anything else, which validation reports)
    else:
        path = Path(source)
        if isinstance(source, os.PathLike) or _names_a_file(source):
            data = _parse_text(path.read_text(encoding="utf-8"), as_json=path.suffix == ".json")
        else:
            text = str(source)
            data = _parse_text(text, as_json=text.lstrip().startswith("{"))
    return _validate(data)


def _names_a_file(text: str) -> bool:
    if "\n" in text or text.lstrip().startswith("{"):
        return False
    try:
        return Path(text).is_file()
    except OSError:  # e.g. a one-line document longer than the OS allows for a name
        return False


def _validate(data: Any) -> Pipeline:
    try:
        return Pipeline.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        original = err.get("ctx", {}).get("error")
        if isinstance(original, SpecError):
            raise original from None
        raise SpecError(_format_errors(exc, "")) from None


# -- canonical form and hash ----------------------------------------------------------------------
def _normalise(value: Any) -> Any:
    if isinstance(value, float):
        if not math.isfinite(value):
            msg = f"the spec holds a non-finite number {value!r}; it cannot be hashed"
            raise SpecError(msg)
        return 0.0 if value == 0 else value  # -0.0 and 0.0 mean the same parameter
    if isinstance(value, Mapping):
        return {str(k): _normalise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_normalise(v) for v in value]
    return value


def canonical_json(spec: Pipeline | Mapping[str, Any] | str | os.PathLike[str]) -> str:
    """The spec as compact JSON with sorted keys: equal for equivalent files.

    Floats print as Python's shortest round-trip ``repr`` (stable across platforms); ``-0.0``
    becomes ``0.0``; defaults (``variant_cap``) are written out so omitting them changes nothing.

    >>> canonical_json({"target": "y", "name": "p", "steps": [{"snv": {}}]})
    '{"name":"p","separate_by":null,"split":null,"steps":[{"snv":{}}],"target":"y","variant_cap":10000}'
    """
    pipeline = load_pipeline(spec)
    data = _normalise(pipeline.model_dump(mode="json"))
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def pipeline_hash(spec: Pipeline | Mapping[str, Any] | str | os.PathLike[str]) -> str:
    """SHA-256 (hex) of :func:`canonical_json`."""
    return hashlib.sha256(canonical_json(spec).encode("utf-8")).hexdigest()


# -- expansion ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Variant:
    """One concrete pipeline produced by :func:`expand` (no generator left)."""

    index: int
    pipeline: Pipeline

    @property
    def steps(self) -> list[ConcreteStep]:
        """The concrete steps in order."""
        return [s for s in self.pipeline.steps if not isinstance(s, GeneratorStep)]

    @property
    def label(self) -> str:
        """The steps' labels joined by ``" | "``."""
        return " | ".join(s.label for s in self.steps)

    @property
    def hash(self) -> str:
        """:func:`pipeline_hash` of the concrete pipeline."""
        return pipeline_hash(self.pipeline)


def _alternatives(
    step: Step, loc: str, cap: int, parse: Callable[..., Step]
) -> list[tuple[ConcreteStep, ...]]:
    """Each concrete value of one step, as a sequence of concrete steps (checked in full)."""
    out = []
    for i, value in enumerate(expand_value(step.to_raw(), loc, cap=cap)):
        where = f"{loc} (alternative {i})"
        seq = value if isinstance(value, list) else [value]
        steps = []
        for j, raw in enumerate(seq):
            parsed = parse(raw, where if len(seq) == 1 else join_loc(where, j), cap=cap)
            assert not isinstance(parsed, GeneratorStep)
            steps.append(parsed)
        out.append(tuple(steps))
    return out


def expand(spec: Pipeline | Mapping[str, Any] | str | os.PathLike[str]) -> list[Variant]:
    """Every concrete variant of ``spec``, in deterministic order (the last step varies fastest).

    The count is computed combinatorially first; above ``variant_cap`` a :class:`SpecError`
    states it before anything is built.
    """
    pipeline = load_pipeline(spec)
    total = pipeline.n_variants
    if total > pipeline.variant_cap:
        msg = (
            f"pipeline {pipeline.name!r} expands to {total} variants, above "
            f"variant_cap={pipeline.variant_cap}; narrow the generators, draw a random subset "
            "with 'count', or raise 'variant_cap'"
        )
        raise SpecError(msg)
    per_step = [
        _alternatives(s, join_loc("steps", i), pipeline.variant_cap, parse_step)
        for i, s in enumerate(pipeline.steps)
    ]
    variants = []
    for index, combo in enumerate(itertools.product(*per_step)):
        steps: list[Step] = [s for seq in combo for s in seq]
        variants.append(Variant(index, pipeline.model_copy(update={"steps": steps})))
    return variants
