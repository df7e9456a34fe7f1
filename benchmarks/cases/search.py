"""Case (c): 4 preprocessings (SNV, MSC, SG deriv 1, SNV+SG) x PLS 1..20 components, 5-fold CV.

Every implementation returns the best RMSECV of the 80 variants (pooled out-of-fold predictions,
contiguous unshuffled folds, PLS without scaling). MSC is fitted per training fold wherever the
library allows it:

- nirsframe pipeline: one spec, ``_or_`` over the chains x ``_range_`` [1, 20] components,
  through ``nirsframe.api.run`` (MSC per fold inside the engine).
- chemotools + sklearn: ``cross_val_predict`` of a sklearn pipeline per (chain, count), so MSC
  is refitted on each training fold (80 x 5 fits).
- scipy + ikpls: the stateless chains preprocessed once then ikpls fast CV (all counts from one
  CV); MSC per fold in numpy (reference = training-fold mean), then ikpls fitted per fold.
- nirs4all: one pipeline with nirs4all's own ``_or_`` and ``_range_`` generators; its
  preprocessing before the splitter is fitted on all rows (MSC is not per fold there).
- floor: one XᵀX (BLAS ``syrk``/``gemm``) per preprocessing chain, i.e. 4 of them.

Examples
--------
>>> len(CHAINS) * len(COUNTS)
80
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from benchmarks.cases.pls_cv import (
    N_FOLDS,
    fold_ids,
    ikpls_rmsecv,
    in_scratch_dir,
    nirs4all_best_rmse,
    nirs4all_steps,
    nirsframe_run,
    savgol_spec,
    sklearn_rmsecv,
)
from benchmarks.harness import Bench, Data, Impl

if TYPE_CHECKING:
    from collections.abc import Callable

MODULE = __name__
CHAINS = ("snv", "msc", "sg1", "snv+sg1")
COUNTS = tuple(range(1, 21))


def msc(x: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Multiplicative scatter correction of the rows of ``x`` against ``reference``.

    Each row is regressed on the reference by least squares (``x_i = a + b r``), then corrected
    to ``(x_i - a) / b``: chemotools' and nirsframe's definition.

    >>> r = np.array([1.0, 2.0, 4.0])
    >>> msc(np.array([3.0 + 2.0 * r]), r).round(12).tolist()
    [[1.0, 2.0, 4.0]]
    """
    rc = reference - reference.mean()
    xm = x.mean(axis=1, keepdims=True)
    b = ((x - xm) @ rc / (rc @ rc))[:, np.newaxis]
    a = xm - b * reference.mean()
    return (x - a) / b


def ikpls_msc_rmsecv(x: np.ndarray, y: np.ndarray, a: int) -> np.ndarray:
    """MSC fitted per training fold + ikpls (algorithm 2, XᵀX-based) per fold; 1..a RMSECV."""
    from ikpls.numpy import PLS

    folds = fold_ids(len(y))
    sse = np.zeros(a)
    for k in range(N_FOLDS):
        tr, va = folds != k, folds == k
        ref = x[tr].mean(axis=0)
        pls = PLS(algorithm=2, center_X=True, center_Y=True, scale_X=False, scale_Y=False)
        pls.fit(msc(x[tr], ref), y[tr], a)
        pred = pls.predict(msc(x[va], ref))  # (a, n_val, 1): every component count
        sse += ((pred[..., 0] - y[va]) ** 2).sum(axis=1)
    return np.sqrt(sse / len(y))


def _best(per_chain: list[np.ndarray]) -> np.ndarray:
    return np.array([min(float(np.min(v)) for v in per_chain)])


def nirsframe_steps() -> list[Any]:
    """The search as one nirsframe spec: ``_or_`` over the chains x ``_range_`` of counts."""
    sg = savgol_spec(1)
    chains = [{"snv": {}}, {"msc": {}}, sg, [{"snv": {}}, sg]]
    counts = {"_range_": [COUNTS[0], COUNTS[-1]]}
    return [{"_or_": chains}, {"model": {"pls": {"n_components": counts}}}]


def _nirsframe_pipeline(data: Data) -> Callable[[], Any]:
    steps = nirsframe_steps()

    def run() -> np.ndarray:
        ranking = nirsframe_run(data.x, data.y, steps).ranking
        if ranking.height != len(CHAINS) * len(COUNTS):
            msg = (
                f"nirsframe ranked {ranking.height} variants, expected {len(CHAINS) * len(COUNTS)}"
            )
            raise RuntimeError(msg)
        return np.array([float(ranking["rmsecv"].min())])

    return run


def _floor(data: Data) -> Callable[[], Any]:
    x = np.asarray(data.x, dtype=np.float64)
    return lambda: [x.T @ x for _ in CHAINS]


def _sklearn(data: Data) -> Callable[[], Any]:
    return lambda: _best([sklearn_rmsecv(data.x, data.y, c, list(COUNTS)) for c in CHAINS])


def _ikpls(data: Data) -> Callable[[], Any]:
    a = max(COUNTS)

    def one(chain: str) -> np.ndarray:
        if chain == "msc":
            return ikpls_msc_rmsecv(np.asarray(data.x, dtype=np.float64), data.y, a)
        return ikpls_rmsecv(data.x, data.y, chain, a)

    return lambda: _best([one(c) for c in CHAINS])


def _nirs4all(engine: str) -> Callable[[Data], Callable[[], Any]]:
    def build(data: Data) -> Callable[[], Any]:
        from sklearn.cross_decomposition import PLSRegression
        from sklearn.model_selection import KFold

        in_scratch_dir()
        chains = [nirs4all_steps(c) for c in CHAINS]
        pipeline = [
            {"_or_": [c[0] if len(c) == 1 else c for c in chains]},
            KFold(N_FOLDS),
            {
                "model": PLSRegression(scale=False),
                "_range_": [COUNTS[0], COUNTS[-1]],
                "param": "n_components",
            },
        ]
        return lambda: np.array([nirs4all_best_rmse(data.x, data.y, pipeline, engine)])

    return build


BENCH = Bench(
    "c",
    MODULE,
    (
        Impl("nirsframe pipeline", "nirsframe", _nirsframe_pipeline),
        # A search takes 10 s (chemotools) to minutes (nirs4all) even at 1k: full runs only.
        Impl("chemotools+sklearn", "peer", _sklearn, quick=False),
        Impl("scipy+ikpls", "peer", _ikpls),
        Impl("nirs4all dag-ml", "nirs4all", _nirs4all("dag-ml"), quick=False),
        Impl("nirs4all legacy", "nirs4all", _nirs4all("legacy"), quick=False),
        Impl("floor: 4 XᵀX", "floor", _floor, compare=False),
    ),
    reference=("scipy+ikpls", "chemotools+sklearn", "nirsframe pipeline"),
)


def benches() -> list[Bench]:
    """The bench of case (c)."""
    return [BENCH]


def bench(bench_id: str) -> Bench:
    """The bench called ``bench_id``."""
    return BENCH
