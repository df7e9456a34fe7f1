"""Case (a): SNV then Savitzky-Golay(window 15, order 2, first derivative), row-wise.

Implementations: nirsframe's Polars expression (streaming and eager engines) and raw kernels,
numpy/scipy, chemotools, nirs4all's transformer classes, and the floor (one read+write pass of
the matrix). A second bench, ``a/jit``, records the first-call cost of each kernel in a fresh
process with numba's on-disk cache off, then on.

Examples
--------
>>> [i.name for i in bench("a").impls][:2]
['nirsframe streaming', 'nirsframe eager']
"""

from __future__ import annotations

from typing import Any

import numpy as np

from benchmarks.harness import Bench, Data, Impl

WINDOW, ORDER, DERIV = 15, 2, 1
MODULE = __name__


def _frame_output(frame: Any) -> np.ndarray:
    return np.asarray(frame.to_series(0).to_numpy())


def _nirsframe(engine: str | None, *, fused: bool = False) -> Any:
    def build(data: Data) -> Any:
        import polars as pl

        import nirsframe as nf
        from nirsframe.operators import SavitzkyGolay, StandardNormalVariate

        df = pl.DataFrame({"spectra": data.x})
        expr = nf.savgol(nf.snv("spectra"), window_length=WINDOW, polyorder=ORDER, deriv=DERIV)
        if fused:  # nf.chain: one UDF, row blocks through both kernels while cache resident
            sg = SavitzkyGolay(window_length=WINDOW, polyorder=ORDER, deriv=DERIV)
            expr = nf.chain("spectra", [StandardNormalVariate(), sg])
        if engine is None:
            return lambda: df.select(expr)
        return lambda: df.lazy().select(expr).collect(engine=engine)

    return build


def _kernels(data: Data) -> Any:
    import nirskern

    return lambda: nirskern.savgol(nirskern.snv(data.x), WINDOW, ORDER, deriv=DERIV)


def _numpy_scipy(data: Data) -> Any:
    from scipy.signal import savgol_filter

    def run() -> np.ndarray:
        x = data.x
        snv = (x - x.mean(axis=1, keepdims=True)) / x.std(axis=1, keepdims=True)  # ddof=0
        return savgol_filter(snv, WINDOW, ORDER, deriv=DERIV, axis=1)  # mode="interp"

    return run


def _chemotools(data: Data) -> Any:
    from chemotools.derivative import SavitzkyGolay
    from chemotools.scatter import StandardNormalVariate
    from sklearn.pipeline import make_pipeline

    # chemotools defaults to mode="nearest"; ask for scipy's "interp" so results are comparable.
    pipe = make_pipeline(
        StandardNormalVariate(),
        SavitzkyGolay(window_length=WINDOW, polyorder=ORDER, deriv=DERIV, mode="interp"),
    )
    return lambda: pipe.fit_transform(data.x)


def _nirs4all(data: Data) -> Any:
    # A preprocessing-only chain is not a nirs4all pipeline run (that needs a model and a
    # splitter), so the transformer classes are used directly, as nirs4all's steps call them.
    from nirs4all.operators.transforms import SavitzkyGolay, StandardNormalVariate

    snv = StandardNormalVariate()
    sg = SavitzkyGolay(window_length=WINDOW, polyorder=ORDER, deriv=DERIV)
    return lambda: sg.fit_transform(snv.fit_transform(data.x))


def _copyto(data: Data) -> Any:
    out = np.empty_like(data.x)
    return lambda: np.copyto(out, data.x) or out


def _copy(data: Data) -> Any:
    return lambda: data.x.copy()


def _jit(kernel: str, *, numba_started: bool = True) -> Any:
    """The first call of ``kernel`` in a fresh process. With ``numba_started``, another kernel
    (``nirskern.any_inf``) is called first, untimed: the timed call is then this kernel's own
    compilation or cache load, without numba's one-time start-up in the process (~0.2 s)."""

    def build(data: Data) -> Any:
        import nirskern

        if numba_started:
            nirskern.any_inf(np.zeros((1, 1)))
        fn = {
            "snv": lambda: nirskern.snv(data.x),
            "savgol": lambda: nirskern.savgol(data.x, WINDOW, ORDER, deriv=DERIV),
        }[kernel]
        return fn

    return build


_CACHE_OFF = {"NIRSFRAME_NUMBA_CACHE": "0"}

BENCHES = (
    Bench(
        "a",
        MODULE,
        (
            Impl("nirsframe streaming", "nirsframe", _nirsframe("streaming"), _frame_output),
            Impl("nirsframe eager", "nirsframe", _nirsframe(None), _frame_output),
            Impl(
                "nirsframe chain streaming",
                "nirsframe",
                _nirsframe("streaming", fused=True),
                _frame_output,
            ),
            Impl("nirsframe chain eager", "nirsframe", _nirsframe(None, fused=True), _frame_output),
            Impl("nirskern kernels", "nirsframe", _kernels),
            Impl("numpy/scipy", "peer", _numpy_scipy),
            Impl("chemotools", "peer", _chemotools),
            Impl("nirs4all", "nirs4all", _nirs4all),
            Impl("floor: copyto", "floor", _copyto, compare=False),
            Impl("floor: copy", "floor", _copy, compare=False),
        ),
        reference=("numpy/scipy", "nirskern kernels"),
    ),
    # First call of each kernel in a fresh process: compile (cache off) vs load (cache on), once
    # numba has started in the process; and the first kernel of a process, start-up included.
    # The cache-on workers run after the cache-off ones and after case (a): the cache is warm.
    Bench(
        "a/jit",
        MODULE,
        (
            *(
                Impl(f"{k} jit {label}", "nirsframe", _jit(k), compare=False, env=env)
                for k in ("snv", "savgol")
                for label, env in (("cache off", _CACHE_OFF), ("cache on", {}))
            ),
            Impl(
                "snv first kernel of a process, cache on",
                "nirsframe",
                _jit("snv", numba_started=False),
                compare=False,
            ),
        ),
        fixed_n=100,
        dtypes=("float64",),
    ),
)


def benches() -> list[Bench]:
    """The benches of case (a)."""
    return list(BENCHES)


def bench(bench_id: str) -> Bench:
    """The bench called ``bench_id``."""
    return next(b for b in BENCHES if b.id == bench_id)
