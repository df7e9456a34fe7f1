"""Case (e): every nirsframe operator against a reference implementation, from one table.

:data:`REFERENCES` maps an operator name (a key of ``nirsframe.operators.REGISTRY``) to the
parameters used for both sides and the reference callable ``fn(x, params) -> array`` (numpy,
scipy, scikit-learn, pybaselines, chemotools, PyWavelets). Adding an operator is one line. Only
names present both here and in the registry are benchmarked; a registry operator that rejects the
parameters is recorded as unavailable. Operators that expect reflectance get ``10 ** -x`` as input
on both sides (``input="reflectance"``); operators that read the spectral axis get the data's
wavelengths as the ``x_axis`` parameter on both sides (``axis=True``). Fitted operators are timed
as ``fit_transform`` on both sides.

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

#: The operators of a ``--quick`` run: one per family (scatter, derivative, baseline, fitted).
QUICK_BENCHES = ("e/snv", "e/savgol", "e/detrend", "e/asls", "e/snip", "e/msc")


@dataclass(frozen=True)
class Ref:
    """A reference: where it comes from, the shared parameters, the callable, the input kind.

    ``axis=True`` adds the data's wavelengths as ``params["x_axis"]`` (a tuple) on both sides.
    """

    source: str
    params: dict[str, Any]
    fn: Callable[[np.ndarray, dict[str, Any]], np.ndarray]
    input: Literal["spectra", "reflectance"] = "spectra"
    axis: bool = False


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


def _crop(x: np.ndarray, p: dict[str, Any]) -> np.ndarray:
    axis = np.asarray(p["x_axis"])
    return x[:, (axis >= p["lower"]) & (axis <= p["upper"])]


def _resample(x: np.ndarray, p: dict[str, Any]) -> np.ndarray:
    axis, target = np.asarray(p["x_axis"]), np.asarray(p["target"])
    return np.array([np.interp(target, axis, row) for row in x])


def _gradient(x: np.ndarray, p: dict[str, Any]) -> np.ndarray:
    for _ in range(p["deriv"]):
        x = np.gradient(x, np.asarray(p["x_axis"]), axis=1, edge_order=p["edge_order"])
    return x


def _norris_williams(x: np.ndarray, p: dict[str, Any]) -> np.ndarray:
    """Per order: centred moving average (edges repeated), then the gap difference."""
    g = p["gap"]
    for _ in range(p["deriv"]):
        x = _m("scipy.ndimage").uniform_filter1d(x, p["segment"], axis=1, mode="nearest")
        pad = np.pad(x, ((0, 0), (g, g)), mode="edge")
        x = (pad[:, 2 * g :] - pad[:, : -2 * g]) / (2 * g * p["delta"])
    return x


def _emsc(x: np.ndarray, p: dict[str, Any]) -> np.ndarray:
    scatter = _m("chemotools.scatter")
    emsc = scatter.ExtendedMultiplicativeScatterCorrection(method=p["reference"], order=p["order"])
    return emsc.fit_transform(x)


def _wavedec(wavelet: str | None) -> Callable[[np.ndarray, dict[str, Any]], np.ndarray]:
    """``np.concatenate(pywt.wavedec(x, ...))`` along the rows (``wavelet`` None: from params)."""

    def fn(x: np.ndarray, p: dict[str, Any]) -> np.ndarray:
        w = p["wavelet"] if wavelet is None else wavelet
        coeffs = _m("pywt").wavedec(x, w, mode=p["mode"], level=p["level"], axis=1)
        return np.concatenate(coeffs, axis=1)

    return fn


def _wavelet_denoise(x: np.ndarray, p: dict[str, Any]) -> np.ndarray:
    """pywt shrinkage of the details (universal threshold per spectrum when None)."""
    pywt, w = _m("pywt"), p["wavelet"]
    c = pywt.wavedec(x, w, mode=p["mode"], level=p["level"], axis=1)
    thr = p["threshold"]
    if thr is None:  # sigma * sqrt(2 ln n), sigma = median(|cD_1|) / 0.6745, one per spectrum
        sigma = np.median(np.abs(c[-1]), axis=1, keepdims=True) / 0.6745
        thr = sigma * np.sqrt(2 * np.log(x.shape[1]))
    c = [c[0], *(pywt.threshold(d, thr, p["threshold_mode"]) for d in c[1:])]
    return pywt.waverec(c, w, mode=p["mode"], axis=1)[:, : x.shape[1]]


def _epo(x: np.ndarray, p: dict[str, Any]) -> np.ndarray:
    """Without groups D = X - mean(X): remove the leading PCA directions, ``X (I - V'V)``."""
    pca = _m("sklearn.decomposition").PCA(n_components=p["n_components"], svd_solver="full")
    v = pca.fit(x).components_
    return x - (x @ v.T) @ v


def _rng() -> np.random.Generator:
    return np.random.default_rng(0)


def _interp_rows(x: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Row ``i`` of ``x`` read at ``positions[i]`` (point index; edges held): a numpy loop."""
    grid = np.arange(x.shape[1], dtype=np.float64)
    return np.array([np.interp(q, grid, row) for q, row in zip(positions, x, strict=True)])


def _stretch(x: np.ndarray, p: dict[str, Any]) -> np.ndarray:
    c = 0.5 * (x.shape[1] - 1)
    f = _rng().uniform(*p["factor"], size=(x.shape[0], 1))
    return _interp_rows(x, c + (np.arange(x.shape[1]) - c) / f)


def _mixup(x: np.ndarray, p: dict[str, Any]) -> np.ndarray:
    rng = _rng()
    lam = rng.beta(p["alpha"], p["alpha"], size=(x.shape[0], 1))
    return lam * x + (1 - lam) * x[rng.integers(0, x.shape[0], x.shape[0])]


def _spikes(x: np.ndarray, p: dict[str, Any]) -> np.ndarray:
    rng, (n, w), k = _rng(), x.shape, p["n_spikes"]
    out = x.copy()
    points = np.argpartition(rng.random((n, w)), k - 1, axis=1)[:, :k]
    out[np.arange(n)[:, None], points] += rng.uniform(*p["amplitude"], (n, k))
    return out


def _band_zero(x: np.ndarray, p: dict[str, Any]) -> np.ndarray:
    rng, out = _rng(), x.copy()
    for row in out:
        width = int(rng.integers(p["width"][0], p["width"][1] + 1))
        start = int(rng.integers(0, x.shape[1] - width + 1))
        row[start : start + width] = 0.0
    return out


def _drift(x: np.ndarray, order: int, amplitude: float) -> np.ndarray:
    t = np.linspace(-1.0, 1.0, x.shape[1])
    coef = _rng().uniform(-amplitude, amplitude, (x.shape[0], order + 1))
    return x + coef @ (t[None, :] ** np.arange(order + 1)[:, None])


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
    "reflectance_to_absorbance": Ref("numpy", {}, lambda x, p: -np.log10(x), input="reflectance"),
    "absorbance_to_reflectance": Ref("numpy", {}, lambda x, p: np.power(x.dtype.type(10), -x)),
    "log": Ref("numpy", {"offset": 0.0}, lambda x, p: np.log(x + p["offset"]), input="reflectance"),
    "percent_to_fraction": Ref("numpy", {}, lambda x, p: x / 100),
    "fraction_to_percent": Ref("numpy", {}, lambda x, p: x * 100),
    "pareto": Ref(
        "numpy", {"ddof": 0}, lambda x, p: (x - x.mean(0)) / np.sqrt(x.std(0, ddof=p["ddof"]))
    ),
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
    "beads": Ref("pybaselines", {}, lambda x, p: _rows("pybaselines.misc", "beads", x, p)),
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
    # Axis operators: x_axis is the data's wavelength axis (1000-2500 nm) on both sides.
    "crop": Ref("numpy", {"lower": 1100.0, "upper": 2400.0}, _crop, axis=True),
    "resample": Ref(
        "numpy",
        {"target": tuple(1000.0 + 2.0 * i for i in range(751)), "method": "linear"},
        _resample,
        axis=True,
    ),
    "derivative": Ref("numpy", {"deriv": 1, "edge_order": 1}, _gradient, axis=True),
    "norris_williams": Ref(
        "scipy", {"segment": 5, "gap": 5, "deriv": 1, "delta": 1.0}, _norris_williams
    ),
    "emsc": Ref("chemotools", {"order": 2, "reference": "mean"}, _emsc),
    "epo": Ref("sklearn", {"n_components": 2}, _epo),
    "haar": Ref("pywt", {"level": None, "mode": "symmetric"}, _wavedec("haar")),
    "wavelet": Ref("pywt", {"wavelet": "db4", "level": None, "mode": "symmetric"}, _wavedec(None)),
    "wavelet_denoise": Ref(
        "pywt",
        {
            "wavelet": "db4",
            "level": None,
            "mode": "symmetric",
            "threshold": None,
            "threshold_mode": "soft",
        },
        _wavelet_denoise,
    ),
    # Augmentations: nirsframe times ``augment(X)`` (one seeded copy); the peer is plain numpy.
    "additive_noise": Ref(
        "numpy", {"std": 0.01}, lambda x, p: x + _rng().normal(0, p["std"], x.shape)
    ),
    "multiplicative_noise": Ref(
        "numpy", {"std": 0.01}, lambda x, p: x * (1 + _rng().normal(0, p["std"], x.shape))
    ),
    "linear_drift": Ref(
        "numpy", {"offset": 0.01, "slope": 0.01}, lambda x, p: _drift(x, 1, p["slope"])
    ),
    "polynomial_drift": Ref(
        "numpy", {"order": 3, "amplitude": 0.01}, lambda x, p: _drift(x, p["order"], p["amplitude"])
    ),
    "wavelength_shift": Ref(
        "numpy",
        {"shift": (-2.0, 2.0)},
        lambda x, p: _interp_rows(
            x, np.arange(x.shape[1]) - _rng().uniform(*p["shift"], (x.shape[0], 1))
        ),
    ),
    "wavelength_stretch": Ref("numpy", {"factor": (0.99, 1.01)}, _stretch),
    "mixup": Ref("numpy", {"alpha": 0.4}, _mixup),
    "scatter_simulation": Ref(
        "numpy",
        {"multiplicative": (0.9, 1.1), "additive": (-0.05, 0.05)},
        lambda x, p: (
            _rng().uniform(*p["additive"], (x.shape[0], 1))
            + _rng().uniform(*p["multiplicative"], (x.shape[0], 1)) * x
        ),
    ),
    "spike_noise": Ref("numpy", {"n_spikes": 1, "amplitude": (0.05, 0.2)}, _spikes),
    "band_masking": Ref("numpy", {"width": (5, 20), "fill": "zero"}, _band_zero),
}


#: Operators whose output is a random draw (augmentations): timed, not compared.
RANDOM = frozenset(
    (
        *("additive_noise", "multiplicative_noise", "linear_drift", "polynomial_drift"),
        *("wavelength_shift", "wavelength_stretch", "mixup", "scatter_simulation"),
        *("spike_noise", "band_masking"),
    )
)


def _input(ref: Ref, data: Data) -> np.ndarray:
    if ref.input == "reflectance":
        return np.power(data.x.dtype.type(10), -data.x)
    return data.x


def _params(ref: Ref, data: Data) -> dict[str, Any]:
    if ref.axis:
        return {**ref.params, "x_axis": tuple(float(v) for v in data.axis)}
    return ref.params


def _nirsframe(name: str) -> Callable[[Data], Callable[[], Any]]:
    def build(data: Data) -> Callable[[], Any]:
        from nirsframe.exceptions import InvalidParameterError
        from nirsframe.operators import REGISTRY

        ref = REFERENCES[name]
        if name not in REGISTRY:
            raise Unavailable(f"operator {name!r} is not registered")
        op = REGISTRY[name].estimator(**_params(ref, data))
        try:
            op.params()
        except InvalidParameterError as exc:
            raise Unavailable(f"parameters {ref.params} rejected: {exc}") from exc
        x = _input(ref, data)
        if op.kind == "augmentation":  # transform is the identity: time the train-time work
            return lambda: op.augment(x)[0]  # (X_aug, y_aug): the spectra are the output
        return lambda: op.fit_transform(x)

    return build


def _reference(name: str) -> Callable[[Data], Callable[[], Any]]:
    def build(data: Data) -> Callable[[], Any]:
        ref = REFERENCES[name]
        x, params = _input(ref, data), _params(ref, data)
        return lambda: ref.fn(x, params)

    return build


def _copy(data: Data) -> Callable[[], Any]:
    import pyarrow as pa

    def run() -> np.ndarray:
        # A new matrix from Arrow's memory pool, where nirsframe puts its results: freed blocks
        # are reused, so no page of it is zeroed by the OS first (np.copy pays that: ~3 ms here).
        new = np.frombuffer(pa.allocate_buffer(data.x.nbytes), data.x.dtype)
        new = new.reshape(data.x.shape)
        np.copyto(new, data.x)
        return new

    return run


def bench(bench_id: str) -> Bench:
    """The bench ``e/<operator>`` (built from the table alone: no nirsframe import here)."""
    name = bench_id.removeprefix("e/")
    ref = REFERENCES[name]
    # Random augmentations draw from different generators on each side: nothing to compare.
    compare = name not in RANDOM
    return Bench(
        bench_id,
        MODULE,
        (
            Impl("nirsframe", "nirsframe", _nirsframe(name), compare=compare),
            Impl(ref.source, "peer", _reference(name), compare=compare),
            # One read+write pass producing a new matrix (in recycled memory, as nirsframe's
            # results), as every operator does: the fastest any of them can be here, so
            # `x floor` bounds the speed-up a memory-bound one can reach.
            Impl("floor: copy", "floor", _copy, compare=False),
        ),
        reference=(ref.source,),
    )


def benches() -> list[Bench]:
    """One bench per operator present both in the registry and in :data:`REFERENCES`."""
    from nirsframe.operators import REGISTRY

    return [bench(f"e/{name}") for name in REGISTRY if name in REFERENCES]


def target(name: str) -> float:
    """The issue's speed-up target for operator ``name``: 10x for baselines (pybaselines),
    5x for the other stateless transforms, parity for fitted operators and augmentations.

    >>> target("asls"), target("snv"), target("msc")
    (10.0, 5.0, 1.0)
    """
    from nirsframe.operators import REGISTRY

    if REFERENCES[name].source == "pybaselines":
        return 10.0
    return 5.0 if REGISTRY[name].estimator.kind == "stateless" else 1.0


def missing() -> list[str]:
    """Registry operators with no reference entry yet (listed in the report)."""
    from nirsframe.operators import REGISTRY

    return sorted(set(REGISTRY) - set(REFERENCES))
