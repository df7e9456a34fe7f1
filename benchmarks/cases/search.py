"""Case (c): a search of 4 preprocessing chains x PLS {5, 10, 15} components, 5-fold CV.

All chains are stateless (SNV, Savitzky-Golay, linear detrend), so preprocessing the whole
matrix once is leakage-free. Every implementation returns the best RMSECV over the 12 variants.
Peers: chemotools + sklearn ``cross_val_predict`` per variant; scipy + ikpls fast CV per chain
(all counts from one CV); nirs4all's ``run`` over the list of 12 pipelines (both engines).
nirsframe: kernels + fast CV, and ``nirsframe.pipeline`` (unavailable until it has a search
entry point).

Examples
--------
>>> len(CHAINS) * len(COUNTS)
12
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

import numpy as np

from benchmarks.cases.pls_cv import (
    ikpls_rmsecv,
    in_scratch_dir,
    kernel_rmsecv,
    nirs4all_best_rmse,
    nirs4all_pipeline,
    sklearn_rmsecv,
)
from benchmarks.harness import Bench, Data, Impl, Unavailable

if TYPE_CHECKING:
    from collections.abc import Callable

MODULE = __name__
CHAINS = ("snv+sg1", "sg1", "sg2", "snv+detrend")
COUNTS = (5, 10, 15)


def _best(per_chain: list[np.ndarray]) -> np.ndarray:
    return np.array([min(float(np.min(v)) for v in per_chain)])


def _kernels(data: Data) -> Callable[[], Any]:
    idx = np.array(COUNTS) - 1
    return lambda: _best([kernel_rmsecv(data.x, data.y, c, max(COUNTS))[idx] for c in CHAINS])


def _nirsframe_pipeline(data: Data) -> Callable[[], Any]:
    try:
        pipeline = import_module("nirsframe.pipeline")
    except ImportError as exc:
        raise Unavailable(f"nirsframe.pipeline: {exc}") from exc
    search = getattr(pipeline, "search_rmsecv", None)
    if search is None:
        raise Unavailable("nirsframe.pipeline has no search entry point (search_rmsecv) yet")
    variants = [(c, k) for c in CHAINS for k in COUNTS]
    return lambda: np.array([float(np.min(search(data.x, data.y, variants)))])


def _sklearn(data: Data) -> Callable[[], Any]:
    return lambda: _best([sklearn_rmsecv(data.x, data.y, c, list(COUNTS)) for c in CHAINS])


def _ikpls(data: Data) -> Callable[[], Any]:
    idx = np.array(COUNTS) - 1
    return lambda: _best([ikpls_rmsecv(data.x, data.y, c, max(COUNTS))[idx] for c in CHAINS])


def _nirs4all(engine: str) -> Callable[[Data], Callable[[], Any]]:
    def build(data: Data) -> Callable[[], Any]:
        in_scratch_dir()
        pipelines = [nirs4all_pipeline(c, k) for c in CHAINS for k in COUNTS]
        return lambda: np.array([nirs4all_best_rmse(data.x, data.y, pipelines, engine)])

    return build


BENCH = Bench(
    "c",
    MODULE,
    (
        Impl("nirsframe kernels (fast CV)", "nirsframe", _kernels),
        Impl("nirsframe pipeline", "nirsframe", _nirsframe_pipeline),
        Impl("chemotools+sklearn", "peer", _sklearn),
        Impl("scipy+ikpls fast CV", "peer", _ikpls),
        Impl("nirs4all dag-ml", "nirs4all", _nirs4all("dag-ml")),
        Impl("nirs4all legacy", "nirs4all", _nirs4all("legacy")),
    ),
    reference=("chemotools+sklearn", "scipy+ikpls fast CV", "nirsframe kernels (fast CV)"),
)


def benches() -> list[Bench]:
    """The bench of case (c)."""
    return [BENCH]


def bench(bench_id: str) -> Bench:
    """The bench called ``bench_id``."""
    return BENCH
