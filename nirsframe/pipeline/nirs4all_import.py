"""Convert a nirs4all pipeline file (JSON or YAML) into a nirsframe pipeline spec.

nirs4all writes a pipeline as a list of steps, or as ``{"name": ..., "pipeline": [...]}``. A step
is a class path (``"nirs4all.operators.transforms.StandardNormalVariate"``), a class dict
(``{"class": ..., "params": {...}}``), a keyword step (``{"model": ...}``,
``{"y_processing": ...}``, ``{"split": ...}``, ``{"preprocessing": ...}``) or a generator
(``_or_``, ``_range_``... with ``pick``/``arrange``/``count``/``_seed_``, and the step-level
``{"model": ..., "_range_": [...], "param": "n_components"}`` sweep). Class paths may use the
public module (``sklearn.preprocessing.MinMaxScaler``) or the internal one nirs4all writes when
it canonicalises (``sklearn.preprocessing._data.MinMaxScaler``).

The supported subset maps onto nirsframe steps with :data:`OPERATOR_RULES`,
:data:`Y_RULES`, :data:`SPLIT_RULES` and the model rules below. Parameters are renamed, and
nirs4all defaults that differ from nirsframe's are written out so the imported step computes
the same thing (``SavitzkyGolay`` smooths with ``polyorder=3`` by default, nirsframe's
``savgol`` with 2). A ``branch`` becomes ``_or_`` over its sub-pipelines; a ``branch``
followed by ``merge: features`` or ``merge: predictions`` (stacking, nested for multi-level
stacking) and ``feature_augmentation`` keep nirs4all's form, which nirsframe reads. At top
level, a per-source branch (``{"branch": {"by_source": true, "steps": {source: [...]}}}`` or
``source_branch``, with ``merge: {sources: concat}`` or ``merge_sources``) becomes
``branch: {by_source: ...}`` + ``merge_sources: concat``, and a separation branch
(``{"branch": {"by_metadata" | "by_tag": column, "steps": [...]}}`` or the metadata
partitioner, closed by ``merge: concat``) the leading ``branch: {by_metadata | by_tag: column}``
followed by its steps. Anything else -- charts, other merges, per-value steps, sample
augmentation, fine-tuning, unknown classes, or parameters without an equivalent -- is
collected, and a single
:class:`~nirsframe.exceptions.SpecError` lists every one with its place in the file and why.

>>> spec = convert_nirs4all(
...     {
...         "pipeline": [
...             {"class": "nirs4all.operators.transforms.StandardNormalVariate"},
...             {"class": "sklearn.model_selection.KFold", "params": {"n_splits": 5}},
...             {"model": {"class": "sklearn.cross_decomposition.PLSRegression",
...                        "params": {"n_components": 8}}},
...         ]
...     },
...     target="octane",
... )
>>> spec["split"], spec["steps"]
({'kfold': {'n_splits': 5}}, [{'snv': {}}, {'model': {'pls': {'n_components': 8, 'scale': True}}}])
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

from nirsframe.exceptions import SpecError
from nirsframe.models.sklearn_models import ALLOWED_MODULES
from nirsframe.operators import REGISTRY
from nirsframe.pipeline.spec import RESERVED_KEYWORDS, _parse_text, load_pipeline

__all__ = [
    "OPERATOR_RULES",
    "SKLEARN_OPERATOR_RULES",
    "SPLIT_RULES",
    "Y_RULES",
    "OpRule",
    "convert_nirs4all",
]


class _Unsupported(Exception):
    """A step or value without a nirsframe equivalent; the message is the reason."""


# -- mapping rules --------------------------------------------------------------------------------
@dataclass(frozen=True)
class OpRule:
    """How one nirs4all/scikit-learn class maps onto a nirsframe step.

    Parameters
    ----------
    name
        nirsframe name: an operator, a ``y_processing`` method, a splitter or a model.
    rename
        nirs4all parameter name -> nirsframe name (kept names map onto themselves).
    defaults
        nirs4all defaults (nirsframe names) written out because nirsframe's differ.
    fixed
        nirs4all parameter -> the values nirsframe reproduces; they are dropped from the output,
        any other value is reported as unsupported.
    ignored
        nirs4all parameters without effect on the result (``copy``...), dropped.
    constant
        Parameters always written (``deriv: 2`` for ``SecondDerivative``).
    """

    name: str
    rename: Mapping[str, str] = field(default_factory=dict)
    defaults: Mapping[str, Any] = field(default_factory=dict)
    fixed: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    ignored: frozenset[str] = frozenset({"copy"})
    constant: Mapping[str, Any] = field(default_factory=dict)

    def convert(self, params: Mapping[str, Any], what: str) -> dict[str, Any]:
        """nirsframe parameters for the nirs4all ``params`` (raises ``_Unsupported``)."""
        out: dict[str, Any] = {}
        for key, value in params.items():
            if key in self.ignored:
                continue
            if key in self.fixed:
                if _has_generator(value):
                    msg = f"{what} parameter {key!r} cannot be swept by a generator in nirsframe"
                    raise _Unsupported(msg)
                if not any(_same(value, ok) for ok in self.fixed[key]):
                    allowed = " or ".join(repr(v) for v in self.fixed[key])
                    msg = (
                        f"{what} with {key}={value!r} has no nirsframe equivalent "
                        f"(only {key}={allowed} is reproduced)"
                    )
                    raise _Unsupported(msg)
                continue
            if key not in self.rename:
                known = sorted({*self.rename, *self.fixed})
                hint = f"; mapped parameters: {', '.join(known)}" if known else ""
                msg = f"{what} parameter {key!r} has no nirsframe equivalent{hint}"
                raise _Unsupported(msg)
            out[self.rename[key]] = value
        for key, value in self.defaults.items():
            out.setdefault(key, value)
        out.update(self.constant)
        return out


def _keep(*names: str) -> dict[str, str]:
    return {n: n for n in names}


_BASELINE = ("lam", "p", "lam_1", "max_iter", "tol", "diff_order")

#: nirs4all (and scikit-learn) transformers -> nirsframe operators, by class name.
OPERATOR_RULES: dict[str, OpRule] = {
    # scatter correction
    "StandardNormalVariate": OpRule(
        "snv",
        rename=_keep("ddof"),
        fixed={"axis": (1, -1), "with_mean": (True,), "with_std": (True,)},
    ),
    "RobustStandardNormalVariate": OpRule(
        # nirs4all's k=1.4826 vs nirsframe's 1/Phi^-1(3/4)=1.482602...: 1.5e-6 relative.
        "rnv",
        fixed={"axis": (1, -1), "with_center": (True,), "with_scale": (True,), "k": (1.4826,)},
    ),
    # nirs4all's MSC ignores ``scale`` (kept for signature compatibility only).
    "MultiplicativeScatterCorrection": OpRule("msc", ignored=frozenset({"copy", "scale"})),
    # smoothing and derivatives (scipy savgol_filter, mode="interp", on both sides)
    "SavitzkyGolay": OpRule(
        "savgol",
        rename=_keep("window_length", "polyorder", "deriv", "delta"),
        defaults={"polyorder": 3},
    ),
    "Gaussian": OpRule(
        "gaussian", rename=_keep("order", "sigma"), defaults={"order": 2, "sigma": 1}
    ),
    "Derivate": OpRule(
        "derivative", rename={"order": "deriv"}, fixed={"delta": (1,), "axis": (1, -1)}
    ),
    "FirstDerivative": OpRule(
        "derivative",
        rename=_keep("edge_order"),
        fixed={"delta": (1,)},
        defaults={"edge_order": 2},
        constant={"deriv": 1},
    ),
    "SecondDerivative": OpRule(
        "derivative",
        rename=_keep("edge_order"),
        fixed={"delta": (1,)},
        defaults={"edge_order": 2},
        constant={"deriv": 2},
    ),
    "NorrisWilliams": OpRule("norris_williams", rename=_keep("gap", "segment", "deriv", "delta")),
    # baselines (nirs4all passes its parameters to pybaselines, as nirsframe's operators do)
    "Detrend": OpRule("detrend", fixed={"bp": (0,)}),  # scipy.signal.detrend: linear, per row
    "Baseline": OpRule("mean_center"),  # subtracts the training mean spectrum
    "ASLSBaseline": OpRule("asls", rename=_keep(*_BASELINE)),
    "AirPLS": OpRule("airpls", rename=_keep(*_BASELINE)),
    "ArPLS": OpRule("arpls", rename=_keep(*_BASELINE), defaults={"lam": 1e6}),
    "IASLS": OpRule("iasls", rename=_keep(*_BASELINE)),
    "ModPoly": OpRule(
        "modpoly", rename=_keep("poly_order", "max_iter", "tol"), defaults={"poly_order": 5}
    ),
    "IModPoly": OpRule(
        "imodpoly", rename=_keep("poly_order", "max_iter", "tol"), defaults={"poly_order": 5}
    ),
    "SNIP": OpRule(
        "snip",
        rename=_keep("max_half_window", "decreasing", "smooth_half_window"),
        defaults={"max_half_window": 40, "decreasing": True},
    ),
    "RollingBall": OpRule(
        "rolling_ball",
        rename=_keep("half_window", "smooth_half_window"),
        defaults={"half_window": 50},
    ),
    "BEADS": OpRule("beads", rename=_keep("lam_0", "lam_1", "lam_2", "max_iter", "tol")),
    # signal conversions (nirs4all clips R at min_value=1e-8 before the log; same on valid data)
    "ReflectanceToAbsorbance": OpRule(
        "reflectance_to_absorbance",
        fixed={"percent": (False,)},
        ignored=frozenset({"copy", "min_value"}),
    ),
    "PercentToFraction": OpRule("percent_to_fraction"),
    "FractionToPercent": OpRule("fraction_to_percent"),
}
#: nirs4all's shorthand aliases of the classes above.
_ALIASES = {
    "SNV": "StandardNormalVariate",
    "RNV": "RobustStandardNormalVariate",
    "MSC": "MultiplicativeScatterCorrection",
    "EMSC": "ExtendedMultiplicativeScatterCorrection",
}
#: scikit-learn transformers on X -> nirsframe operators.
SKLEARN_OPERATOR_RULES: dict[str, OpRule] = {
    # column autoscaling with the population std, as nirsframe's 'autoscale' (ddof=0)
    "StandardScaler": OpRule("autoscale", fixed={"with_mean": (True,), "with_std": (True,)}),
}

#: Classes whose ``AreaNormalization(method=...)`` maps onto ``normalize(norm=...)``.
_AREA_METHODS = {"abs_sum": "l1", "trapz": "area"}
#: pybaselines method names of ``PyBaselineCorrection`` -> nirsframe operators (same params).
_PYBASELINES = {
    m: m for m in ("asls", "iasls", "airpls", "arpls", "modpoly", "imodpoly", "snip", "beads")
} | {"rolling_ball": "rolling_ball"}

#: Why well-known nirs4all classes are not imported (beyond "unknown class").
_KNOWN_UNSUPPORTED = {
    "Haar": "nirs4all's Haar is a one-level DWT detail band resampled to the input width; "
    "nirsframe's 'haar' returns multi-level coefficients",
    "Wavelet": "nirs4all's Wavelet is a one-level DWT detail band resampled to the input width; "
    "nirsframe's 'wavelet' returns multi-level coefficients",
    "CropTransformer": "it crops by column index; nirsframe's 'crop' takes axis values "
    "(write {crop: {lower: ..., upper: ...}} in wavelength units)",
    "ResampleTransformer": "it resamples to a number of points by index; use nirsframe's "
    "'resample' with target axis values",
    "LocalStandardNormalVariate": "its edges pad the spectrum ('reflect') while nirsframe's "
    "'local_snv' shifts the window inward, so edge points differ",
    "Normalize": "it scales columns (L2 or global min-max); nirsframe's 'normalize' scales "
    "each spectrum",
    "SimpleScale": "it is column-wise min-max scaling, which nirsframe has no operator for",
    "MinMaxScaler": "column-wise min-max scaling of X has no nirsframe operator (use "
    "'autoscale' or 'mean_center'); as y_processing it maps to 'minmax'",
    "ExtendedMultiplicativeScatterCorrection": "nirs4all's EMSC model (polynomial in the "
    "column index, optional scaling) is not verified equal to nirsframe's 'emsc'",
    "OSC": "nirs4all's OSC (method='dosc', autoscaled X) is not verified equal to "
    "nirsframe's 'osc' (Fearn's direct OSC on centred X)",
    "EPO": "nirsframe's 'epo' needs explicit difference spectra",
    "LogTransform": "its auto_offset shifts each dataset by a data-dependent amount",
    "KubelkaMunk": "it detects percent data automatically and clips at epsilon",
    "ToAbsorbance": "its source detection and clipping are data dependent; use "
    "ReflectanceToAbsorbance",
    "FromAbsorbance": "its target detection is data dependent",
}

#: Target processors (``y_processing``), by class name.
Y_RULES: dict[str, OpRule] = {
    "MinMaxScaler": OpRule(
        "minmax", rename=_keep("feature_range"), ignored=frozenset({"copy", "clip"})
    ),
    "StandardScaler": OpRule("standard", rename=_keep("with_mean", "with_std")),
}

#: Splitters, by class name (scikit-learn and nirs4all).
SPLIT_RULES: dict[str, OpRule] = {
    "KFold": OpRule("kfold", rename=_keep("n_splits", "shuffle", "random_state")),
    "GroupKFold": OpRule("group_kfold", rename=_keep("n_splits", "shuffle", "random_state")),
    "LeaveOneOut": OpRule("loo"),
    # sklearn's ShuffleSplit defaults: n_splits=10, test_size=0.1; nirsframe's 'random' is one set.
    "ShuffleSplit": OpRule(
        "random",
        rename=_keep("test_size", "random_state"),
        fixed={"n_splits": (1,)},
        defaults={"test_size": 0.1, "random_state": None},
        ignored=frozenset({"train_size"}),
    ),
    # nirs4all's Kennard-Stone and SPXY are deterministic: random_state has no effect.
    "KennardStoneSplitter": OpRule(
        "kennard_stone",
        rename=_keep("test_size"),
        defaults={"test_size": 0.25},
        fixed={"pca_components": (None,), "metric": ("euclidean",)},
        ignored=frozenset({"random_state"}),
    ),
    "SPXYSplitter": OpRule(
        "spxy",
        rename=_keep("test_size"),
        defaults={"test_size": 0.25},
        fixed={"pca_components": (None,), "metric": ("euclidean",)},
        ignored=frozenset({"random_state"}),
    ),
}

#: scikit-learn's PLSRegression -> nirsframe's exact kernel PLS (same centring and ``scale``).
_PLS_RULE = OpRule(
    "pls",
    rename=_keep("n_components", "scale"),
    defaults={"n_components": 2, "scale": True},
    ignored=frozenset({"copy", "max_iter", "tol"}),  # NIPALS convergence settings
)

_SPLIT_MODULES = ("sklearn.model_selection", "nirs4all.operators.splitters")
_CHARTS = frozenset({"chart_2d", "chart_3d", "fold_chart", "chart_fold", "y_chart", "chart_y"})
_GENERATORS = frozenset(
    {"_or_", "_range_", "_log_range_", "_grid_", "_zip_", "_chain_", "_sample_", "_cartesian_"}
)
_STEP_GENERATORS = frozenset({"_or_", "_chain_"})
_MODIFIERS = {"count": "count", "pick": "pick", "arrange": "arrange", "_seed_": "seed"}
_UNSUPPORTED_MODIFIERS = frozenset(
    {
        "then_pick",
        "then_arrange",
        "_weights_",
        "_mutex_",
        "_requires_",
        "_depends_on_",
        "_exclude_",
        "_tags_",
        "_metadata_",
    }
)
_NOTES = frozenset({"_comment"})  # nirs4all's comment key, dropped anywhere
_TOP_IGNORED = frozenset({"description", "has_generators", "num_configurations", "_comment"})

#: Options of nirs4all's per-source branches (``source_branch`` keys) and why the others fail.
_SOURCE_OPTIONS = {
    "_merge_after_": "must be true or false",
    "_merge_strategy_": "has no nirsframe equivalent (only 'concat' maps)",
    "_default_": "has no nirsframe equivalent: list the steps of every source by name",
}
#: Options of nirs4all's separation branches and metadata partitioner, and why they fail.
_SEPARATION_OPTIONS = {
    "values": "has no nirsframe equivalent: every value of the column is its own group",
    "group_values": "has no nirsframe equivalent: every value of the column is its own group",
    "min_samples": "has no nirsframe equivalent: every group is kept (only min_samples=1 maps)",
    "cv": "has no nirsframe equivalent: the pipeline's split is drawn inside every group",
}

_KEYWORD_REASONS = {
    "branch": "a 'branch' needs a non-empty list (or mapping) of sub-pipelines",
    "merge": "'merge' must follow a 'branch' step",
    "merge_sources": "a source merge must follow a per-source branch ({'branch': "
    "{'by_source': true, 'steps': {source: [...]}}} or 'source_branch')",
    "merge_predictions": "prediction merging (stacking) is not supported yet",
    "sample_augmentation": "sample augmentation is not supported yet",
    "concat_transform": "concatenated transforms are not supported yet",
    "finetune_params": "Optuna fine-tuning is not supported; sweep parameters with generators "
    "such as {'_range_': [1, 20]}",
    "train_params": "training parameters (neural models) are not supported",
    "exclude": "sample exclusion steps are not supported yet",
    "sample_filter": "sample filtering steps are not supported yet",
    "metadata_partitioner": "its per-value steps have no nirsframe equivalent: nirsframe's "
    "separation runs the same steps in every group (write {'branch': {'by_metadata': column, "
    "'steps': [...]}})",
    "tag": "sample tagging steps are not supported yet",
    "rep_to_sources": "repetition handling steps are not supported yet",
    "rep_to_pp": "repetition handling steps are not supported yet",
    "rep_fusion": "repetition handling steps are not supported yet",
}


# -- small helpers --------------------------------------------------------------------------------
def _same(a: Any, b: Any) -> bool:
    """Equal values of the same kind (``True`` is not ``1`` here)."""
    return bool(a == b) and isinstance(a, bool) == isinstance(b, bool)


def _has_generator(value: Any) -> bool:
    if isinstance(value, Mapping):
        return any(k in _GENERATORS for k in value) or any(map(_has_generator, value.values()))
    if isinstance(value, list):
        return any(map(_has_generator, value))
    return False


def _join(loc: str, part: str | int) -> str:
    return f"{loc}[{part}]" if isinstance(part, int) else f"{loc}.{part}"


def _class_name(path: str) -> tuple[str, str, str]:
    """``(root, public module, class)`` of a dotted path (``sklearn.x._y.Cls`` -> ``sklearn.x``)."""
    module, _, cls = path.rpartition(".")
    parts = module.split(".")
    public = ".".join(p for p in parts if not p.startswith("_"))
    return parts[0], public, cls


def _numpy_array(value: Any) -> Any:
    """nirs4all writes ndarray parameters as ``{"class": "numpy.array", "params": {...}}``."""
    if isinstance(value, Mapping) and value.get("class") == "numpy.array":
        return list(value.get("params", {}).get("object", []))
    return value


@dataclass
class _Converter:
    """One conversion: the issues found so far and the hoisted split."""

    issues: list[str] = field(default_factory=list)
    split: dict[str, Any] | None = None
    split_loc: str = ""
    #: Where the separation branch is, and the ``merge: concat`` closing it.
    separated_at: str = ""
    closed_at: str = ""

    def issue(self, loc: str, reason: str) -> None:
        self.issues.append(f"{loc}: {reason}")

    # -- values ------------------------------------------------------------------------------
    def value(self, raw: Any) -> Any:
        """A parameter value with generator modifiers renamed and notes dropped."""
        raw = _numpy_array(raw)
        if isinstance(raw, list):
            return [self.value(v) for v in raw]
        if not isinstance(raw, Mapping):
            return raw
        out: dict[str, Any] = {}
        is_gen = any(k in _GENERATORS for k in raw)
        for key, item in raw.items():
            if key in _NOTES:
                continue
            if is_gen and key in _UNSUPPORTED_MODIFIERS:
                msg = f"generator modifier {key!r} is not supported"
                raise _Unsupported(msg)
            if key == "_cartesian_":
                msg = "the '_cartesian_' generator is not supported; use nested '_or_'"
                raise _Unsupported(msg)
            name = _MODIFIERS.get(str(key), str(key)) if is_gen else str(key)
            out[name] = self.value(item)
        return out

    def params(self, raw: Any) -> dict[str, Any]:
        """Parameters with generator modifiers renamed (``_seed_`` -> ``seed``)."""
        if raw is None:
            return {}
        if not isinstance(raw, Mapping):
            msg = f"'params' must be a mapping; got {raw!r}"
            raise _Unsupported(msg)
        return {str(k): self.value(v) for k, v in raw.items() if k not in _NOTES}

    # -- classes -----------------------------------------------------------------------------
    def component(self, raw: Any) -> tuple[str, dict[str, Any]]:
        """``(class path, raw params)`` of a class path or class dict."""
        if isinstance(raw, str):
            return raw, {}
        if isinstance(raw, Mapping) and isinstance(raw.get("class"), str):
            extra = [k for k in raw if k not in {"class", "params", *_NOTES}]
            if extra:
                msg = f"unexpected keys {extra} next to 'class'"
                raise _Unsupported(msg)
            params = raw.get("params") or {}
            if not isinstance(params, Mapping):
                msg = f"'params' must be a mapping; got {params!r}"
                raise _Unsupported(msg)
            return raw["class"], dict(params)
        if isinstance(raw, Mapping) and "function" in raw:
            msg = f"function steps ({raw['function']!r}) are not supported"
            raise _Unsupported(msg)
        msg = f"expected a class path or {{class: ..., params: ...}}; got {raw!r}"
        raise _Unsupported(msg)

    def operator(self, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """The nirsframe operator step of a nirs4all or scikit-learn transformer."""
        root, public, cls = _class_name(path)
        if root == "sklearn" and public == "sklearn.preprocessing":
            if cls == "FunctionTransformer" and params.get("func") is None:
                return []  # nirs4all's IdentityTransformer: no step
            if cls in SKLEARN_OPERATOR_RULES:
                return [
                    {
                        SKLEARN_OPERATOR_RULES[cls].name: SKLEARN_OPERATOR_RULES[cls].convert(
                            params, cls
                        )
                    }
                ]
            if cls in _KNOWN_UNSUPPORTED:
                msg = f"{cls}: {_KNOWN_UNSUPPORTED[cls]}"
                raise _Unsupported(msg)
            msg = f"scikit-learn transformer {path!r} has no nirsframe operator"
            raise _Unsupported(msg)
        if not (root == "nirs4all" and public.startswith("nirs4all.operators")):
            msg = f"unknown or unsupported class {path!r}"
            raise _Unsupported(msg)
        name = _ALIASES.get(cls, cls)
        params = {k: v for k, v in params.items() if k != "copy"}
        if name == "IdentityTransformer":
            return []
        if name == "AreaNormalization":
            method = params.pop("method", "sum")
            if params:
                msg = f"AreaNormalization parameters {sorted(params)} are not mapped"
                raise _Unsupported(msg)
            if method not in _AREA_METHODS:
                msg = (
                    f"AreaNormalization(method={method!r}) divides by a signed sum, which "
                    "nirsframe has no operator for ('abs_sum' and 'trapz' are mapped)"
                )
                raise _Unsupported(msg)
            return [{"normalize": {"norm": _AREA_METHODS[method]}}]
        if name == "PyBaselineCorrection":
            method = str(params.pop("method", "asls")).lower()
            if method not in _PYBASELINES:
                msg = f"pybaselines method {method!r} has no nirsframe operator"
                raise _Unsupported(msg)
            return [{_PYBASELINES[method]: params}]  # same parameter names (pybaselines')
        if name == "Resampler":
            return [self.resampler(params)]
        if name in _KNOWN_UNSUPPORTED:
            msg = f"{cls}: {_KNOWN_UNSUPPORTED[name]}"
            raise _Unsupported(msg)
        if name in OPERATOR_RULES:
            return [{OPERATOR_RULES[name].name: OPERATOR_RULES[name].convert(params, name)}]
        if ".augmentation" in public:
            msg = f"{cls} is an augmenter; sample augmentation is not supported yet"
            raise _Unsupported(msg)
        msg = f"unknown or unsupported class {path!r}"
        raise _Unsupported(msg)

    def resampler(self, params: dict[str, Any]) -> dict[str, Any]:
        target = _numpy_array(params.pop("target_wavelengths", None))
        method = params.pop("method", "linear")
        for key, default in (("crop_range", None), ("n_points", None)):
            if params.pop(key, default) is not None:
                msg = f"Resampler parameter {key!r} has no nirsframe equivalent"
                raise _Unsupported(msg)
        for key in ("fill_value", "bounds_error", "copy"):
            params.pop(key, None)  # out-of-range handling: nirsframe rejects out-of-range targets
        if params:
            msg = f"Resampler parameters {sorted(params)} are not mapped"
            raise _Unsupported(msg)
        if target is None:
            msg = "Resampler without 'target_wavelengths' has no nirsframe equivalent"
            raise _Unsupported(msg)
        if method not in ("linear", "cubic"):
            msg = f"Resampler(method={method!r}): only 'linear' and 'cubic' map"
            raise _Unsupported(msg)
        return {"resample": {"target": target, "method": method}}

    def model(self, raw: Any) -> dict[str, Any]:
        """A ``model`` step: ``pls`` for PLSRegression, else an allow-listed class path."""
        path, raw_params = self.component(raw)
        params = self.params(raw_params)
        root, public, cls = _class_name(path)
        if root == "sklearn" and public == "sklearn.cross_decomposition" and cls == "PLSRegression":
            return {"model": {"pls": _PLS_RULE.convert(params, "PLSRegression")}}
        if root == "sklearn" and public in ALLOWED_MODULES:
            return {"model": {f"{public}.{cls}": params}}
        if root == "sklearn":
            allowed = ", ".join(ALLOWED_MODULES)
            msg = f"model {path!r} is outside nirsframe's allow-list ({allowed})"
            raise _Unsupported(msg)
        msg = (
            f"model {path!r} has no nirsframe equivalent (PLSRegression and "
            "allow-listed scikit-learn estimators are supported)"
        )
        raise _Unsupported(msg)

    def y_processing(self, raw: Any) -> dict[str, Any]:
        """A ``y_processing`` step from scikit-learn's MinMaxScaler or StandardScaler."""
        path, raw_params = self.component(raw)
        params = self.params(raw_params)
        root, public, cls = _class_name(path)
        rule = Y_RULES.get(cls) if (root, public) == ("sklearn", "sklearn.preprocessing") else None
        if rule is None:
            msg = f"y_processing {path!r} is not supported (MinMaxScaler and StandardScaler are)"
            raise _Unsupported(msg)
        return {"y_processing": {rule.name: rule.convert(params, cls)}}

    def splitter(self, path: str, params: dict[str, Any], loc: str) -> None:
        _, public, cls = _class_name(path)
        known = any(public.startswith(m) for m in _SPLIT_MODULES)
        rule = SPLIT_RULES.get(cls) if known else None
        if rule is None:
            msg = (
                f"splitter {path!r} has no nirsframe equivalent (mapped: {', '.join(SPLIT_RULES)})"
            )
            raise _Unsupported(msg)
        if _has_generator(params):
            msg = "nirsframe does not sweep splitter parameters with generators"
            raise _Unsupported(msg)
        converted = {rule.name: rule.convert(params, cls)}
        if self.split is not None:
            msg = (
                f"a second split (the first is at {self.split_loc}); nirsframe has one "
                "cross-validation split, a hold-out test set comes from the dataset's split column"
            )
            raise _Unsupported(msg)
        self.split, self.split_loc = converted, loc

    @staticmethod
    def is_splitter(path: str) -> bool:
        """Whether a class path names a cross-validation splitter."""
        public = _class_name(path)[1]
        return any(public.startswith(m) for m in _SPLIT_MODULES)

    @staticmethod
    def is_model(path: str) -> bool:
        """Whether a class path names an estimator nirs4all would run as a model."""
        root, public, _ = _class_name(path)
        return root == "sklearn" and public in ALLOWED_MODULES

    # -- steps -------------------------------------------------------------------------------
    def step(self, raw: Any, loc: str, *, nested: bool = False) -> list[Any]:
        """The nirsframe steps of one nirs4all step (issues recorded, never raised)."""
        try:
            return self._step(raw, loc, nested=nested)
        except _Unsupported as exc:
            self.issue(loc, str(exc))
            return []

    def _step(self, raw: Any, loc: str, *, nested: bool) -> list[Any]:
        if raw is None:
            return []
        if isinstance(raw, list):  # a sub-pipeline (an '_or_' option written as a list)
            return [
                s for i, sub in enumerate(raw) for s in self.step(sub, _join(loc, i), nested=nested)
            ]
        if isinstance(raw, str):
            if raw in _CHARTS or raw.startswith("chart_") or raw.endswith("_chart"):
                msg = (
                    f"{raw!r} draws a chart; nirsframe pipelines have no chart "
                    "steps (plot the run results instead)"
                )
                raise _Unsupported(msg)
            if "." not in raw:
                msg = f"unknown step {raw!r}"
                raise _Unsupported(msg)
            return self.class_step(raw, {}, loc, nested=nested)
        if not isinstance(raw, Mapping):
            msg = f"a step must be a class path or a mapping; got {raw!r}"
            raise _Unsupported(msg)
        node = {k: v for k, v in raw.items() if k not in _NOTES}
        kind = _branch_kind(node)
        if kind == "filter":
            msg = (
                "a branch separating rows with a fitted sample filter (by_filter, sample "
                "partitioner) has no nirsframe equivalent; nirsframe separates by a column "
                "(by_metadata, by_tag)"
            )
            raise _Unsupported(msg)
        if kind is not None:
            msg = (
                f"a {'per-source' if kind == 'source' else 'separation'} branch inside a "
                "branch or generator; nirsframe reads it at the top level of the pipeline only"
            )
            raise _Unsupported(msg)
        node = _normalise_sweep(node)
        generators = [k for k in node if k in _GENERATORS]
        if generators:
            return [self.generator(node, generators, loc)]
        if "class" in node:
            path, params = self.component(node)
            return self.class_step(path, params, loc, nested=nested)
        if set(node) == {"branch"}:
            return [self.branch(node["branch"], _join(loc, "branch"))]
        if set(node) in ({"feature_augmentation"}, {"feature_augmentation", "action"}):
            return [self.feature_augmentation(node, _join(loc, "feature_augmentation"))]
        for key in node:
            if key in _CHARTS or key.startswith("chart_") or key.endswith("_chart"):
                msg = f"{key!r} draws a chart; nirsframe pipelines have no chart steps"
                raise _Unsupported(msg)
            if key in _KEYWORD_REASONS or key in RESERVED_KEYWORDS:
                reason = _KEYWORD_REASONS.get(key, "this nirs4all keyword is not supported yet")
                msg = f"{key!r}: {reason}"
                raise _Unsupported(msg)
        if "model" in node:
            extra = [k for k in node if k not in {"model", "name"}]
            if extra:
                msg = f"model step keys {extra} are not supported"
                raise _Unsupported(msg)
            return [self.model(node["model"])]  # 'name' only labels it
        if "split" in node:
            extra = [k for k in node if k not in {"split", "group"}]
            if extra:
                msg = f"split step keys {extra} are not supported"
                raise _Unsupported(msg)
            return self.split_step(
                node["split"], _join(loc, "split"), node.get("group"), nested=nested
            )
        if len(node) != 1:
            msg = f"a step with keys {list(node)} is not a nirs4all step nirsframe knows"
            raise _Unsupported(msg)
        ((key, body),) = node.items()
        here = _join(loc, key)
        if key == "y_processing":
            return [self.y_processing(body)]
        if key == "preprocessing":
            path, params = self.component(body)
            return self.class_step(path, params, here, nested=nested)
        msg = f"unknown nirs4all keyword {key!r}"
        raise _Unsupported(msg)

    def class_step(self, path: str, params: dict[str, Any], loc: str, *, nested: bool) -> list[Any]:
        if self.is_splitter(path):
            return self.split_step(
                path if not params else {"class": path, "params": params}, loc, None, nested=nested
            )
        if self.is_model(path):  # nirs4all runs a bare estimator step as a model
            return [self.model({"class": path, "params": params})]
        return self.operator(path, self.params(params))

    def split_step(self, body: Any, loc: str, group: Any, *, nested: bool) -> list[Any]:
        """Record the split (nirsframe has one, at top level); it leaves no step."""
        if nested:
            msg = "a split inside a generator; nirsframe has one top-level split"
            raise _Unsupported(msg)
        path, params = self.component(body)
        self.splitter(path, self.params(params), loc)
        if group is not None and self.split is not None and "group_kfold" not in self.split:
            msg = (
                f"'group': {group!r} with {_class_name(path)[2]}; grouped splitting maps only "
                "for GroupKFold (the group column is then the dataset's group role)"
            )
            raise _Unsupported(msg)
        return []

    def branch(self, raw: Any, loc: str) -> dict[str, Any]:
        """nirs4all's ``branch`` (duplication) as ``_or_`` over its sub-pipelines.

        Each branch is one alternative (its name, in the mapping form, is dropped); several
        model steps at the end of a branch become an ``_or_`` over them, as at top level.
        """
        return {"_or_": [_merge_models(*sub, self) for sub in self.sub_pipelines(raw, loc)]}

    def sub_pipelines(self, raw: Any, loc: str) -> list[tuple[list[Any], list[str]]]:
        """Each branch of a ``branch`` step converted: its steps and their places."""
        named = isinstance(raw, Mapping)
        branches = list(raw.items()) if named else list(enumerate(raw or []))
        if not isinstance(raw, Mapping | list) or not branches:
            raise _Unsupported(_KEYWORD_REASONS["branch"])
        out = []
        for key, sub in branches:
            where = _join(loc, str(key)) if named else _join(loc, int(key))
            items = sub if isinstance(sub, list) else [sub]
            locs = [_join(where, i) for i in range(len(items))]
            out.append(self.sequence(items, locs, nested=True))
        return out

    def sequence(
        self, raws: list[Any], locs: list[str], *, nested: bool = False
    ) -> tuple[list[Any], list[str]]:
        """The steps of a list of nirs4all steps (with the place of each): a ``branch``
        followed by ``merge`` is kept as the pair nirsframe reads (feature merge or stack); at
        top level, per-source and separation branches become nirsframe's ``by_source`` and
        ``by_metadata``/``by_tag`` forms."""
        steps: list[Any] = []
        where: list[str] = []
        i = 0
        while i < len(raws):
            raw, loc = raws[i], locs[i]
            nxt = raws[i + 1] if i + 1 < len(raws) else None
            used, kind = 1, _branch_kind(raw)
            pair: list[Any] = []
            pair_where: list[str] = []
            try:
                if kind == "source" and not nested:
                    strategy = _source_merge(nxt)  # its merge goes with it
                    used += strategy is not None
                    merged = [] if strategy is None else self.source_merge(strategy, locs[i + 1])
                    pair = [self.by_source(raw, loc), *merged]
                elif kind == "separation" and not nested:
                    first, inner, inner_where = self.separation(raw, loc, steps)
                    # the stateless operators before it compute the same inside every group
                    pair, pair_where = [first, *steps, *inner], [loc, *where, *inner_where]
                    steps, where = [], []
                elif kind is None and _is_branch(raw) and _is_merge(nxt):
                    pair, used = self.merged(raw["branch"], nxt["merge"], loc, locs[i + 1]), 2
                elif self.separated_at and not nested and _is_merge(raw):
                    pair = [self.close_separation(raw["merge"], loc)]
                else:
                    # an unsupported separation or per-source branch takes its merge along
                    used += kind is not None and (_is_merge(nxt) or _source_merge(nxt) is not None)
                    pair = self._step(raw, loc, nested=nested)
            except _Unsupported as exc:
                self.issue(loc, str(exc))
                pair = []
            if pair and not nested and self.closed_at and self.closed_at != loc:
                msg = (
                    f"a step after the 'merge: concat' at {self.closed_at} runs once on the "
                    "reassembled groups; nirsframe's separation runs the whole pipeline, "
                    "model included, in every group"
                )
                self.issue(loc, msg)
                pair = []
            steps.extend(pair)
            where.extend(pair_where or [loc] * len(pair))
            i += used
        return steps, where

    def merged(self, branch: Any, merge: Any, loc: str, merge_loc: str) -> list[Any]:
        """``branch`` + ``merge: features | predictions`` as nirsframe reads the pair."""
        if isinstance(merge, Mapping) and set(merge) == {"features"}:
            merge = {"features": self.value(merge["features"])}
        elif merge not in ("features", "predictions"):
            msg = (
                f"'merge': {merge!r}: nirs4all's model selection, aggregation and mixed merges "
                "have no nirsframe equivalent; use 'features' or 'predictions' (stacking)"
            )
            self.issue(merge_loc, msg)
            return []
        subs = self.sub_pipelines(branch, _join(loc, "branch"))
        if merge == "predictions":
            for i, (steps, _) in enumerate(subs):
                if sum(map(_is_model_step, steps)) > 1:
                    msg = "a stacked branch with several models; give each model its own branch"
                    self.issue(_join(_join(loc, "branch"), i), msg)
        return [{"branch": [steps for steps, _ in subs]}, {"merge": merge}]

    def by_source(self, raw: Mapping[str, Any], loc: str) -> dict[str, Any]:
        """nirs4all's per-source branch as ``{branch: {by_source: {source: [steps]}}}``.

        nirs4all writes ``{"branch": {"by_source": true, "steps": {"NIR": [...], ...}}}`` or,
        before its v2 syntax, ``{"source_branch": {"NIR": [...], "_merge_after_": ...}}``.
        """
        if "source_branch" in raw:
            body, here = raw["source_branch"], _join(loc, "source_branch")
            per_source, options = body, {}
            if _dict(body):  # else 'auto': no steps, for sources it does not name
                options = {k: v for k, v in body.items() if k in _SOURCE_OPTIONS}
                per_source = {k: v for k, v in body.items() if k not in _SOURCE_OPTIONS}
        else:
            body, here = dict(raw["branch"]), _join(_join(loc, "branch"), "steps")
            if body.pop("by_source") not in (True, "auto"):
                msg = f"'by_source' must be true or 'auto'; got {raw['branch']['by_source']!r}"
                raise _Unsupported(msg)
            per_source, options = body.pop("steps", None), body
        for key, value in options.items():
            if key == "_merge_after_" and isinstance(value, bool):
                continue
            if key == "_merge_strategy_" and value == "concat":
                continue
            reason = _SOURCE_OPTIONS.get(key, "has no nirsframe equivalent")
            msg = f"per-source branch option {key!r}: {value!r} {reason}"
            raise _Unsupported(msg)
        if not _dict(per_source) or not per_source:
            msg = (
                "per-source steps must name every source ({source: [steps], ...}): nirsframe "
                f"merges the spectra columns its by_source names; got {per_source!r}"
            )
            raise _Unsupported(msg)
        out: dict[str, list[Any]] = {}
        for name, sub in per_source.items():
            items = [] if sub is None else sub if isinstance(sub, list) else [sub]
            locs = [_join(_join(here, str(name)), j) for j in range(len(items))]
            steps, _ = self.sequence(items, locs, nested=True)
            if any(not _is_preprocessing_step(st) for st in steps):
                msg = (
                    f"source {name!r} holds a model or y_processing step; per-source steps "
                    "are preprocessing only (the model follows the source merge)"
                )
                raise _Unsupported(msg)
            out[str(name)] = steps
        return {"branch": {"by_source": out}}

    def source_merge(self, raw: Any, loc: str) -> list[dict[str, Any]]:
        """``merge_sources``/``merge: {sources: ...}`` as ``merge_sources: concat`` (the one
        strategy both share; issues are recorded at ``loc``)."""
        plain = (
            _dict(raw)
            and set(raw) <= {"strategy", "mode", "sources", "on_incompatible"}
            and raw.get("sources", "all") == "all"
        )  # no weights, no selected sources
        strategy = raw.get("strategy", raw.get("mode", "concat")) if plain else raw
        if strategy != "concat":
            msg = (
                f"source merge {raw!r}: only 'concat' maps (nirs4all's 'stack' and 'dict' "
                "feed neural networks; weights and source selection have no equivalent)"
            )
            self.issue(loc, msg)
            return []
        return [{"merge_sources": "concat"}]

    def separation(
        self, raw: Mapping[str, Any], loc: str, before: list[Any]
    ) -> tuple[dict[str, Any], list[Any], list[str]]:
        """A separation branch (one pipeline per value of a column) as nirsframe's leading
        ``{branch: {by_metadata | by_tag: column}}``, with the steps nirs4all runs inside it.

        nirs4all writes ``{"branch": {"by_metadata": "site", "steps": [...]}}`` (or
        ``by_tag``), closed by ``{"merge": "concat"}``; its earlier metadata partitioner is
        ``{"branch": [...], "by": "metadata_partitioner", "column": "site"}``.
        """
        if self.separated_at:
            msg = f"a second separation branch (the first is at {self.separated_at})"
            raise _Unsupported(msg)
        self.separated_at = loc  # its 'merge: concat' is read even if it is unsupported
        fitted = [next(iter(st)) for st in before if not _is_stateless(st)]
        if fitted:
            msg = (
                f"steps before the separation branch ({', '.join(map(str, fitted))}) are "
                "fitted on every group at once; nirsframe separates the whole pipeline (only "
                "stateless operators may come first): move them into the branch's 'steps'"
            )
            raise _Unsupported(msg)
        key, column, inner, options, here = _separation_parts(raw, loc)
        for option, value in options.items():
            if option == "min_samples" and _same(value, 1):
                continue
            reason = _SEPARATION_OPTIONS.get(option, "has no nirsframe equivalent")
            msg = f"separation branch option {option!r}: {value!r} {reason}"
            raise _Unsupported(msg)
        if not isinstance(column, str) or not column:
            msg = f"a separation branch needs a column name; got {column!r}"
            raise _Unsupported(msg)
        if not isinstance(inner, list):
            msg = (
                "per-value steps ({value: [steps]}) have no nirsframe equivalent: nirsframe's "
                "separation runs the same steps in every group"
            )
            raise _Unsupported(msg)
        locs = [_join(here, j) for j in range(len(inner))]
        steps, where = self.sequence(inner, locs)
        return {"branch": {key: column}}, steps, where

    def close_separation(self, merge: Any, loc: str) -> dict[str, Any]:
        """The ``merge: concat`` reassembling the groups of the separation branch."""
        if merge != "concat":
            msg = (
                f"'merge': {merge!r} after the separation branch at {self.separated_at}: only "
                "'concat' (reassemble the groups' predictions) maps; a meta-model over the "
                "groups has no nirsframe equivalent"
            )
            raise _Unsupported(msg)
        self.closed_at = loc
        return {"merge": "concat"}

    def feature_augmentation(self, node: Mapping[str, Any], loc: str) -> dict[str, Any]:
        """``feature_augmentation`` (each operation a view, ``action`` kept) in nirsframe's
        mapping form."""
        ops = node["feature_augmentation"]
        if not isinstance(ops, list) or not ops:
            msg = (
                "'feature_augmentation' needs a list of operations (a generator of view sets, "
                f"with pick/size, is not supported); got {ops!r}"
            )
            raise _Unsupported(msg)
        views = [self.step(op, _join(loc, i), nested=True) for i, op in enumerate(ops)]
        return {"feature_augmentation": {"views": views, "action": node.get("action", "add")}}

    def generator(self, node: dict[str, Any], keys: list[str], loc: str) -> dict[str, Any]:
        if len(keys) != 1 or keys[0] not in _STEP_GENERATORS:
            msg = (
                f"generator {keys} at step level (only '_or_' and '_chain_' choose steps; "
                "other generators belong inside parameters or use 'param')"
            )
            raise _Unsupported(msg)
        key = keys[0]
        out: dict[str, Any] = {}
        options = node[key]
        if not isinstance(options, list):
            msg = f"{key!r} needs a list of options; got {options!r}"
            raise _Unsupported(msg)
        selects = "pick" in node or "arrange" in node
        converted: list[Any] = []
        for i, option in enumerate(options):
            steps = self.step(option, _join(_join(loc, key), i), nested=True)
            if len(steps) == 1:
                converted.append(steps[0])
            elif selects:
                msg = "'pick'/'arrange' over options that are not exactly one step"
                raise _Unsupported(msg)
            else:
                converted.append(steps)
        out[key] = converted
        for mod, value in node.items():
            if mod == key:
                continue
            if mod in _UNSUPPORTED_MODIFIERS or mod not in _MODIFIERS:
                msg = f"generator modifier {mod!r} is not supported"
                raise _Unsupported(msg)
            out[_MODIFIERS[mod]] = self.value(value)
        return out


def _normalise_sweep(node: dict[str, Any]) -> dict[str, Any]:
    """nirs4all's step-level sweeps rewritten in nested form (as nirs4all's generator does).

    ``{"model": {"class": P}, "_range_": [1, 5], "param": "n_components"}`` and
    ``{"model": {"class": P}, "_grid_": {"alpha": [...]}}`` become
    ``{"model": {"class": P, "params": {...generator...}}}``; other nodes are returned as is.
    """
    gens = [k for k in node if k in _GENERATORS]
    if len(gens) != 1:
        return node
    key = gens[0]
    mods: dict[str, Any] = {m: node[m] for m in ("count", "_seed_") if m in node}
    base = {k: v for k, v in node.items() if k not in {key, "param", *mods}}
    if isinstance(node.get("param"), str):
        sweep: dict[str, Any] = {node["param"]: {key: node[key], **mods}}
    elif key == "_grid_" and isinstance(node[key], Mapping) and not mods:
        # a full grid is the cartesian product of per-parameter alternatives, which also
        # combines with static parameters (a '_grid_' mapping cannot hold them)
        sweep = {str(p): {"_or_": list(v)} for p, v in node[key].items()}
    elif key in ("_grid_", "_zip_") and isinstance(node[key], Mapping):
        sweep = {key: node[key], **mods}
    else:
        return node
    for wrapper in (None, "model", "y_processing"):
        op = base if wrapper is None else base.get(wrapper)
        if isinstance(op, str):
            op = {"class": op}
        if isinstance(op, Mapping) and "class" in op:
            params = {**dict(op.get("params") or {}), **sweep}
            injected = {**op, "params": params}
            return injected if wrapper is None else {**base, wrapper: injected}
    return node


def _dict(raw: Any) -> TypeGuard[Mapping[Any, Any]]:
    return isinstance(raw, Mapping)


def _branch_kind(raw: Any) -> str | None:
    """``"source"``, ``"separation"`` or ``"filter"`` for nirs4all's sample- or source-splitting
    branches (``by_source``, ``source_branch``, ``by_metadata``/``by_tag``, the metadata
    partitioner, ``by_filter`` and the sample partitioners); ``None`` for other steps.

    >>> _branch_kind({"branch": {"by_metadata": "site"}}), _branch_kind({"branch": [[]]})
    ('separation', None)
    """
    if not _dict(raw):
        return None
    if set(raw) == {"source_branch"}:
        return "source"
    if "branch" not in raw:
        return None
    if raw.get("by") == "metadata_partitioner":
        return "separation"
    body = raw["branch"]
    if set(raw) != {"branch"} or not _dict(body):
        return None
    if "by_source" in body:
        return "source"
    if "by_metadata" in body or "by_tag" in body or body.get("by") == "metadata_partitioner":
        return "separation"
    if "by_filter" in body or body.get("by") in ("sample_partitioner", "outlier_excluder"):
        return "filter"
    return None


def _separation_parts(
    raw: Mapping[str, Any], loc: str
) -> tuple[str, Any, Any, dict[str, Any], str]:
    """``(by_metadata | by_tag, column, steps, other options, place of the steps)``."""
    body = raw["branch"]
    here = _join(loc, "branch")
    if raw.get("by") == "metadata_partitioner":  # the options are next to 'branch'
        options = {k: v for k, v in raw.items() if k not in {"branch", "by"}}
        if not _dict(body):
            return "by_metadata", options.pop("column", None), body, options, here
        here = _join(here, "steps")
    elif "by_metadata" not in body and "by_tag" not in body:  # metadata partitioner inside
        options, here = {}, _join(here, "steps")
    else:
        key = "by_tag" if "by_tag" in body else "by_metadata"
        options = {k: v for k, v in body.items() if k not in {key, "steps"}}
        return key, body[key], body.get("steps", []), options, _join(here, "steps")
    options |= {k: v for k, v in body.items() if k not in {"by", "steps"}}
    return "by_metadata", options.pop("column", None), body.get("steps", []), options, here


def _source_merge(raw: Any) -> Any:
    """The strategy of a ``merge_sources`` or ``merge: {sources: ...}`` step, else ``None``.

    >>> _source_merge({"merge": {"sources": "concat"}}), _source_merge({"merge": "concat"})
    ('concat', None)
    """
    if _dict(raw) and set(raw) == {"merge_sources"}:
        return raw["merge_sources"]
    if (
        _dict(raw)
        and set(raw) == {"merge"}
        and _dict(raw["merge"])
        and set(raw["merge"]) == {"sources"}
    ):
        return raw["merge"]["sources"]
    return None


def _is_stateless(step: Any) -> bool:
    """Whether a converted step is a stateless operator (the same on any group of rows)."""
    name = next(iter(step)) if _dict(step) and len(step) == 1 else None
    return name in REGISTRY and REGISTRY[name].kind == "stateless"


def _is_preprocessing_step(step: Any) -> bool:
    return not _is_model_step(step) and not (_dict(step) and "y_processing" in step)


def _is_branch(raw: Any) -> TypeGuard[Mapping[str, Any]]:
    return isinstance(raw, Mapping) and set(raw) == {"branch"}


def _is_merge(raw: Any) -> TypeGuard[Mapping[str, Any]]:
    return isinstance(raw, Mapping) and set(raw) == {"merge"}


def _is_model_step(step: Any) -> bool:
    if isinstance(step, Mapping) and "model" in step:
        return True
    if isinstance(step, Mapping) and any(k in step for k in _STEP_GENERATORS):
        key = next(k for k in _STEP_GENERATORS if k in step)
        return all(_is_model_step(o) for o in step[key])
    return False


def _merge_models(steps: list[Any], locs: list[str], conv: _Converter) -> list[Any]:
    """nirs4all evaluates every model step; nirsframe one model per variant: '_or_' them."""
    positions = [i for i, s in enumerate(steps) if _is_model_step(s)]
    if len(positions) <= 1:
        return steps
    first = positions[0]
    for i in range(first, len(steps)):
        step = steps[i]
        if not (_is_model_step(step) or (isinstance(step, Mapping) and "y_processing" in step)):
            conv.issue(
                locs[i],
                "a preprocessing step between two models; nirsframe variants "
                "apply every preprocessing before their single model",
            )
            return steps
    models = [steps[i] for i in positions]
    rest = [s for i, s in enumerate(steps) if i not in positions]
    return [*rest, {"_or_": models}]


# -- reading --------------------------------------------------------------------------------------
def _read(source: str | os.PathLike[str] | Mapping[str, Any] | list[Any]) -> Any:
    if isinstance(source, Mapping | list):
        return source
    text_is_path = isinstance(source, os.PathLike) or (
        "\n" not in source and not source.lstrip().startswith(("{", "[")) and Path(source).is_file()
    )
    if text_is_path:
        path = Path(source)
        text, as_json = path.read_text(encoding="utf-8"), path.suffix.lower() == ".json"
    else:
        text = str(source)
        as_json = text.lstrip().startswith(("{", "["))
    # the spec's own reader: YAML 1.2 floats ('1e-3'), duplicate keys rejected
    return _parse_text(text, as_json=as_json)


def convert_nirs4all(
    source: str | os.PathLike[str] | Mapping[str, Any] | list[Any],
    *,
    target: str = "y",
    name: str | None = None,
) -> dict[str, Any]:
    """A nirsframe pipeline spec (a dict) from a nirs4all pipeline file, text, list or mapping.

    nirs4all pipeline files hold no target (the dataset config does): ``target`` names it
    (:func:`nirsframe.api.run` can override it too). ``name`` defaults to the file's ``name``.
    The result is validated with :func:`~nirsframe.pipeline.spec.load_pipeline`.

    Raises
    ------
    SpecError
        Listing every unsupported step, each with its location (``pipeline[3].model``) and why.

    Examples
    --------
    >>> convert_nirs4all([{"y_processing": "sklearn.preprocessing.MinMaxScaler"},
    ...                   {"model": "sklearn.cross_decomposition.PLSRegression"}])["steps"]
    [{'y_processing': {'minmax': {}}}, {'model': {'pls': {'n_components': 2, 'scale': True}}}]
    """
    doc = _read(source)
    if isinstance(doc, list):
        steps_raw, doc_name = doc, None
    elif isinstance(doc, Mapping) and isinstance(doc.get("pipeline"), list):
        steps_raw, doc_name = doc["pipeline"], doc.get("name")
        extra = [k for k in doc if k not in {"pipeline", "name", *_TOP_IGNORED}]
        if extra:
            msg = f"nirs4all pipeline keys {extra} are not supported (expected 'name', 'pipeline')"
            raise SpecError(msg)
    else:
        msg = (
            "a nirs4all pipeline is a list of steps or a mapping with a 'pipeline' list; "
            f"got {type(doc).__name__}"
        )
        raise SpecError(msg)
    conv = _Converter()
    steps, locs = conv.sequence(steps_raw, [f"pipeline[{i}]" for i in range(len(steps_raw))])
    if not conv.issues:  # a closing 'merge: concat' is no step between two models
        tail = steps[-1:] if conv.closed_at else []
        steps = [*_merge_models(steps[: len(steps) - len(tail)], locs, conv), *tail]
    if conv.issues:
        count = len(conv.issues)
        head = f"cannot import the nirs4all pipeline: {count} unsupported step{'s' * (count > 1)}"
        raise SpecError("\n  - ".join([head + ":", *conv.issues]))
    spec: dict[str, Any] = {"name": name or str(doc_name or "nirs4all-import"), "target": target}
    if conv.split is not None:
        spec["split"] = conv.split
    spec["steps"] = steps
    try:
        load_pipeline(spec)
    except SpecError as exc:
        msg = f"the converted pipeline is invalid: {exc}"
        raise SpecError(msg) from None
    return spec
