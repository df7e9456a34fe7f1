"""Case (e): every nirsframe operator against a reference implementation, from one table.

:data:`REFERENCES` maps an operator name (a key of ``nirsframe.operators.REGISTRY``) to the
parameters used for both sides and the reference callable ``fn(x, params) -> array`` (numpy,
scipy, scikit-learn, pybaselines, chemotools). Adding an operator is one line. Only names present
both here and in the registry are benchmarked; a registry operator that rejects the parameters
is recorded as unavailable. Operators that expect reflectance get ``10 ** -x`` as input on both
sides (``input="reflectance"``). Fitted operators are timed as ``fit_transform`` on both sides.

Examples
--------
>>> import numpy as np
>>> ref = REFERENCES["snv"]
>>> ref.fn(np.array([[1.0, 2.0, 3.0]]), ref.params).round(4).tolist()
[[-1.2247, 0.0, 1.2247]]
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from benchmarks.harness import Bench, Data, Impl, Unavailable

if TYPE_CHECKING:
    from collections.abc import Callable

MODULE = __name__


@dataclass(frozen=True)
class Ref:
    """A reference: where it comes from, the shared parameters, the callable, the input kind."""

    source: str
    params: dict[str, Any]
    fn: Callable[[np.ndarray, dict[str, Any]], np.ndarray]
    input: Literal["spectra", "reflectance"] = "spectra"


def _m(name: str) -> Any:
    return import_module(name)


def _rows(module: str, func: str, x: np.ndarray, p: dict[str, Any]) -> np.ndarray:
    """Apply a pybaselines function spectrum by spectrum; return ``x - baseline``."""
    fn = getattr(_m(module), func)
    out = np.empty_like(x)
    for i, row in enumerate(x):
        out[i] = row - fn(row, **p)[0]
    return out


def _snv(x: np.ndarray, p: dict[str, Any]) -> np.ndarray:
    return (x - x.mean(1, keepdims=True)) / x.std(1, ddof=p["ddof"], keepdims=True)


def _rnv(x: np.ndarray, p: dict[str, Any]) -> np.ndarray:
    med = np.median(x, axis=1, keepdims=True)
    return (x - med) / (1.482602218505602 * np.median(np.abs(x - med), axis=1, keepdims=True))


def _local_snv(x: np.ndarray, p: dict[str, Any]) -> np.ndarray:
    w, h = p["window_length"], p["window_length"] // 2
    win = np.lib.stride_tricks.sliding_window_view(x, w, axis=1)
    mean, std = win.mean(-1), win.std(-1, ddof=p["ddof"])
    # Edge windows are shifted inward (the first h points use x[:w], the last h use x[-w:]).
    mean = np.pad(mean, ((0, 0), (h, h)), mode="edge")
    std = np.pad(std, ((0, 0), (h, h)), mode="edge")
    return (x - mean) / std


def _msc(x: np.ndarray, p: dict[str, Any]) -> np.ndarray:
    scatter = _m("chemotools.scatter")
    return scatter.MultiplicativeScatterCorrection(method=p["reference"]).fit_transform(x)


def _scaler(with_std: bool) -> Callable[[np.ndarray, dict[str, Any]], np.ndarray]:
    def fn(x: np.ndarray, p: dict[str, Any]) -> np.ndarray:
        scaler = _m("sklearn.preprocessing").StandardScaler(with_std=with_std)
        return scaler.fit_transform(x)

    return fn


# One line per operator: name -> Ref(source, params shared by both sides, reference callable).
REFERENCES: dict[str, Ref] = {
    "snv": Ref("numpy", {"ddof": 0}, _snv),
    "rnv": Ref("numpy", {}, _rnv),
    "local_snv": Ref("numpy", {"window_length": 31, "ddof": 0}, _local_snv),
    "msc": Ref("chemotools", {"reference": "mean"}, _msc),
    "savgol": Ref(
        "scipy",
        {"window_length": 15, "polyorder": 2, "deriv": 1},
        lambda x, p: _m("scipy.signal").savgol_filter(x, axis=1, **p),
    ),
    "detrend": Ref("scipy", {"order": 1}, lambda x, p: _m("scipy.signal").detrend(x, axis=1)),
    "normalize": Ref(
        "sklearn", {"norm": "l2"}, lambda x, p: _m("sklearn.preprocessing").normalize(x, **p)
    ),
    "gaussian": Ref(
        "scipy",
        {"sigma": 2.0},
        lambda x, p: _m("scipy.ndimage").gaussian_filter1d(x, p["sigma"], axis=1),
    ),
    "moving_average": Ref(
        "scipy",
        {"window_length": 11},
        lambda x, p: _m("scipy.ndimage").uniform_filter1d(x, p["window_length"], axis=1),
    ),
    "mean_center": Ref("sklearn", {}, _scaler(with_std=False)),
    "autoscale": Ref("sklearn", {}, _scaler(with_std=True)),
    "to_absorbance": Ref("numpy", {}, lambda x, p: -np.log10(x), input="reflectance"),
    "kubelka_munk": Ref("numpy", {}, lambda x, p: (1 - x) ** 2 / (2 * x), input="reflectance"),
    "asls": Ref(
        "pybaselines",
        {"lam": 1e6, "p": 0.01},
        lambda x, p: _rows("pybaselines.whittaker", "asls", x, p),
    ),
    "iasls": Ref(
        "pybaselines",
        {"lam": 1e6, "p": 0.01},
        lambda x, p: _rows("pybaselines.whittaker", "iasls", x, p),
    ),
    "airpls": Ref(
        "pybaselines", {"lam": 1e6}, lambda x, p: _rows("pybaselines.whittaker", "airpls", x, p)
    ),
    "arpls": Ref(
        "pybaselines", {"lam": 1e5}, lambda x, p: _rows("pybaselines.whittaker", "arpls", x, p)
    ),
    "modpoly": Ref(
        "pybaselines",
        {"poly_order": 2},
        lambda x, p: _rows("pybaselines.polynomial", "modpoly", x, p),
    ),
    "imodpoly": Ref(
        "pybaselines",
        {"poly_order": 2},
        lambda x, p: _rows("pybaselines.polynomial", "imodpoly", x, p),
    ),
    "rolling_ball": Ref(
        "pybaselines",
        {"half_window": 30},
        lambda x, p: _rows("pybaselines.morphological", "rolling_ball", x, p),
    ),
    "snip": Ref(
        "pybaselines",
        {"max_half_window": 40},
        lambda x, p: _rows("pybaselines.smooth", "snip", x, p),
    ),
}


def _input(ref: Ref, data: Data) -> np.ndarray:
    if ref.input == "reflectance":
        return np.power(data.x.dtype.type(10), -data.x)
    return data.x


def _nirsframe(name: str) -> Callable[[Data], Callable[[], Any]]:
    def build(data: Data) -> Callable[[], Any]:
        from nirsframe.exceptions import InvalidParameterError
        from nirsframe.operators import REGISTRY

        ref = REFERENCES[name]
        if name not in REGISTRY:
            raise Unavailable(f"operator {name!r} is not registered")
        op = REGISTRY[name].estimator(**ref.params)
        try:
            op.params()
        except InvalidParameterError as exc:
            raise Unavailable(f"parameters {ref.params} rejected: {exc}") from exc
        x = _input(ref, data)
        return lambda: op.fit_transform(x)

    return build


def _reference(name: str) -> Callable[[Data], Callable[[], Any]]:
    def build(data: Data) -> Callable[[], Any]:
        ref = REFERENCES[name]
        x = _input(ref, data)
        return lambda: ref.fn(x, ref.params)

    return build


def bench(bench_id: str) -> Bench:
    """The bench ``e/<operator>`` (built from the table alone: no nirsframe import here)."""
    name = bench_id.removeprefix("e/")
    ref = REFERENCES[name]
    return Bench(
        bench_id,
        MODULE,
        (
            Impl("nirsframe", "nirsframe", _nirsframe(name)),
            Impl(ref.source, "peer", _reference(name)),
        ),
        reference=(ref.source,),
    )


def benches() -> list[Bench]:
    """One bench per operator present both in the registry and in :data:`REFERENCES`."""
    from nirsframe.operators import REGISTRY

    return [bench(f"e/{name}") for name in REGISTRY if name in REFERENCES]


def missing() -> list[str]:
    """Registry operators with no reference entry yet (listed in the report)."""
    from nirsframe.operators import REGISTRY

    return sorted(set(REGISTRY) - set(REFERENCES))
