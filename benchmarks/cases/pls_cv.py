"""Case (b): SNV -> Savitzky-Golay(15, 2, deriv 1) -> PLS with 10 components, 5-fold CV.

Every implementation returns the RMSECV (pooled out-of-fold predictions, contiguous unshuffled
folds, PLS without scaling) at 10 components, so all of them, nirs4all included, are compared
on one number. Peers: chemotools preprocessing + sklearn ``cross_val_predict`` (what a user of
those libraries writes); scipy preprocessing + ikpls fast cross-validation; nirs4all's pipeline
through ``nirs4all.run`` on both engines. nirsframe: the pipeline engine (``nirsframe.api.run``
on a spec: snv, savgol, pls 10 components, kfold 5), the fast-CV kernel on the kernels'
preprocessing, and the ``nirsframe.models.pls.PLS`` estimator refitted per fold by sklearn's
``cross_val_predict``.

Examples
--------
>>> import numpy as np
>>> fold_ids(10).tolist()
[0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
>>> float(rmse(np.array([1.0, 2.0]), np.array([1.0, 4.0])))
1.4142135623730951
"""

from __future__ import annotations

import os
import tempfile
from importlib import import_module
from typing import TYPE_CHECKING, Any

import numpy as np

from benchmarks.harness import Bench, Data, Impl

if TYPE_CHECKING:
    from collections.abc import Callable

MODULE = __name__
N_FOLDS = 5
MAX_COMPONENTS = 10
WINDOW, ORDER, DERIV = 15, 2, 1


def fold_ids(n: int, n_folds: int = N_FOLDS) -> np.ndarray:
    """Contiguous fold ids, the same split as ``KFold(n_folds, shuffle=False)``."""
    sizes = np.full(n_folds, n // n_folds)
    sizes[: n % n_folds] += 1
    return np.repeat(np.arange(n_folds), sizes)


def rmse(y: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Root mean squared error of predictions ``pred`` (any shape holding ``len(y)`` values)."""
    return np.sqrt(np.mean((np.ravel(pred) - y) ** 2))


def scipy_preprocess(x: np.ndarray, chain: str = "snv+sg1") -> np.ndarray:
    """numpy/scipy preprocessing chains used by the peers (SG edges: scipy's ``interp``)."""
    from scipy.signal import detrend, savgol_filter

    out = x
    for step in chain.split("+"):
        if step == "snv":
            out = (out - out.mean(1, keepdims=True)) / out.std(1, keepdims=True)
        elif step.startswith("sg"):
            out = savgol_filter(out, WINDOW, ORDER, deriv=int(step[2:]), axis=1)
        elif step == "detrend":
            out = detrend(out, axis=1)
    return out


def kernel_preprocess(x: np.ndarray, chain: str = "snv+sg1") -> np.ndarray:
    """The same chains through nirsframe's kernels."""
    import nirskern

    out = x
    for step in chain.split("+"):
        if step == "snv":
            out = nirskern.snv(out)
        elif step.startswith("sg"):
            out = nirskern.savgol(out, WINDOW, ORDER, deriv=int(step[2:]))
        elif step == "detrend":
            out = nirskern.detrend(out, 1)
    return out


def chemotools_steps(chain: str = "snv+sg1") -> list[Any]:
    """chemotools transformers for a chain (SG with ``mode="interp"`` to match scipy)."""
    from chemotools.baseline import LinearCorrection
    from chemotools.derivative import SavitzkyGolay
    from chemotools.scatter import MultiplicativeScatterCorrection, StandardNormalVariate

    steps: list[Any] = []
    for step in chain.split("+"):
        if step == "snv":
            steps.append(StandardNormalVariate())
        elif step == "msc":  # reference = mean spectrum of the rows it is fitted on
            steps.append(MultiplicativeScatterCorrection())
        elif step.startswith("sg"):
            steps.append(SavitzkyGolay(WINDOW, ORDER, deriv=int(step[2:]), mode="interp"))
        elif step == "detrend":
            steps.append(LinearCorrection())
    return steps


def nirs4all_steps(chain: str = "snv+sg1") -> list[Any]:
    """nirs4all transformers for a chain."""
    from nirs4all.operators.transforms import (
        Detrend,
        MultiplicativeScatterCorrection,
        SavitzkyGolay,
        StandardNormalVariate,
    )

    steps: list[Any] = []
    for step in chain.split("+"):
        if step == "snv":
            steps.append(StandardNormalVariate())
        elif step == "msc":
            steps.append(MultiplicativeScatterCorrection())
        elif step.startswith("sg"):
            steps.append(SavitzkyGolay(WINDOW, ORDER, deriv=int(step[2:])))
        elif step == "detrend":
            steps.append(Detrend())
    return steps


def sklearn_rmsecv(x: np.ndarray, y: np.ndarray, chain: str, counts: list[int]) -> np.ndarray:
    """chemotools + sklearn: one ``cross_val_predict`` per component count."""
    from sklearn.cross_decomposition import PLSRegression
    from sklearn.model_selection import KFold, cross_val_predict
    from sklearn.pipeline import make_pipeline

    out = []
    for k in counts:
        pipe = make_pipeline(*chemotools_steps(chain), PLSRegression(k, scale=False))
        pred = cross_val_predict(pipe, x, y, cv=KFold(N_FOLDS))
        out.append(rmse(y, pred))
    return np.asarray(out)


def ikpls_rmsecv(x: np.ndarray, y: np.ndarray, chain: str, a: int) -> np.ndarray:
    """scipy preprocessing + ikpls fast CV; RMSECV for 1..a components (pooled folds)."""
    from ikpls.fast_cross_validation.numpy import PLS

    xp = scipy_preprocess(x, chain)
    pls = PLS(center_X=True, center_Y=True, scale_X=False, scale_Y=False, dtype=np.float64)

    def sse(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
        return ((y_pred[..., 0] - y_true[:, 0]) ** 2).sum(axis=1)

    per_fold = pls.cross_validate(xp, y, a, fold_ids(len(y)), sse, n_jobs=1, verbose=0)
    return np.sqrt(np.sum(list(per_fold.values()), axis=0) / len(y))


def kernel_rmsecv(x: np.ndarray, y: np.ndarray, chain: str, a: int) -> np.ndarray:
    """nirsframe kernels: preprocessing + one-pass fast CV; RMSECV for 1..a components."""
    from nirskern.pls import pls_cv

    pred = pls_cv(kernel_preprocess(x, chain), y, fold_ids(len(y)), a)  # (a, n, 1)
    return np.sqrt(np.mean((pred[:, :, 0] - y) ** 2, axis=1))


def nirs4all_best_rmse(x: np.ndarray, y: np.ndarray, pipelines: list[Any], engine: str) -> float:
    """Run ``nirs4all.run`` on ``(x, y)`` (no artifacts, no refit); return the best RMSECV.

    ``cv_best_score`` is the RMSE of the pooled out-of-fold predictions (``best_rmse`` is NaN
    without a refit). nirs4all computes in float32.
    """
    import nirs4all

    result = nirs4all.run(
        pipelines,
        (x, y),
        engine=engine,
        verbose=0,
        save_artifacts=False,
        save_charts=False,
        refit=False,
    )
    return float(result.cv_best_score)


def in_scratch_dir() -> None:
    """nirs4all writes a workspace into the working directory: keep it out of the repo."""
    os.chdir(tempfile.mkdtemp(prefix="nirs4all-bench-"))


def nirs4all_pipeline(chain: str, k: int) -> list[Any]:
    """A nirs4all pipeline: the chain, 5-fold KFold, PLS(k) without scaling."""
    from sklearn.cross_decomposition import PLSRegression
    from sklearn.model_selection import KFold

    return [*nirs4all_steps(chain), KFold(N_FOLDS), {"model": PLSRegression(k, scale=False)}]


def nirsframe_models_pls() -> Any:
    """``nirsframe.models.pls`` (imported inside the worker, never in the peers' venv)."""
    return import_module("nirsframe.models.pls")


def savgol_spec(deriv: int = DERIV) -> dict[str, Any]:
    """The nirsframe pipeline step of the Savitzky-Golay filter used by every case."""
    return {"savgol": {"window_length": WINDOW, "polyorder": ORDER, "deriv": deriv}}


def nirsframe_run(x: np.ndarray, y: np.ndarray, steps: list[Any]) -> Any:
    """``nirsframe.api.run`` of ``steps`` (a spec's step list) on ``(x, y)``, 5-fold KFold."""
    from nirsframe.api import run

    spec = {"name": "bench", "target": "y", "split": {"kfold": {"n_splits": N_FOLDS}}}
    return run({**spec, "steps": steps}, (x, y))


# -- implementations -----------------------------------------------------------------------------
def _last(v: np.ndarray) -> np.ndarray:
    return np.asarray(v, dtype=np.float64).ravel()[-1:]


def _kernels(data: Data) -> Callable[[], Any]:
    return lambda: _last(kernel_rmsecv(data.x, data.y, "snv+sg1", MAX_COMPONENTS))


def _nirsframe_pipeline(data: Data) -> Callable[[], Any]:
    steps = [{"snv": {}}, savgol_spec(), {"model": {"pls": {"n_components": MAX_COMPONENTS}}}]

    def run() -> np.ndarray:
        ranking = nirsframe_run(data.x, data.y, steps).ranking
        return ranking["rmsecv"].to_numpy()[:1]

    return run


def _nirsframe_estimator(data: Data) -> Callable[[], Any]:
    pls = nirsframe_models_pls()
    from sklearn.model_selection import KFold, cross_val_predict

    def run() -> np.ndarray:
        xp = kernel_preprocess(data.x, "snv+sg1")
        est = pls.PLS(n_components=MAX_COMPONENTS)
        pred = cross_val_predict(est, xp, data.y, cv=KFold(N_FOLDS))
        return np.array([rmse(data.y, pred)])

    return run


def _floor(data: Data) -> Callable[[], Any]:
    # One XᵀX of the (preprocessed-size) matrix: what any PLS CV must at least do once.
    x = np.asarray(data.x, dtype=np.float64)
    return lambda: x.T @ x


def _sklearn(data: Data) -> Callable[[], Any]:
    return lambda: _last(sklearn_rmsecv(data.x, data.y, "snv+sg1", [MAX_COMPONENTS]))


def _ikpls(data: Data) -> Callable[[], Any]:
    return lambda: _last(ikpls_rmsecv(data.x, data.y, "snv+sg1", MAX_COMPONENTS))


def _nirs4all(engine: str) -> Callable[[Data], Callable[[], Any]]:
    def build(data: Data) -> Callable[[], Any]:
        in_scratch_dir()
        pipeline = nirs4all_pipeline("snv+sg1", MAX_COMPONENTS)
        return lambda: np.array([nirs4all_best_rmse(data.x, data.y, pipeline, engine)])

    return build


BENCH = Bench(
    "b",
    MODULE,
    (
        Impl("nirsframe pipeline", "nirsframe", _nirsframe_pipeline),
        Impl("nirsframe kernels (fast CV)", "nirsframe", _kernels),
        Impl("nirsframe models.pls", "nirsframe", _nirsframe_estimator),
        Impl("chemotools+sklearn", "peer", _sklearn),
        Impl("scipy+ikpls fast CV", "peer", _ikpls),
        Impl("nirs4all dag-ml", "nirs4all", _nirs4all("dag-ml"), quick=False),
        Impl("nirs4all legacy", "nirs4all", _nirs4all("legacy")),
        Impl("floor: XᵀX", "floor", _floor, compare=False),
    ),
    reference=("chemotools+sklearn", "scipy+ikpls fast CV", "nirsframe kernels (fast CV)"),
)


def benches() -> list[Bench]:
    """The bench of case (b)."""
    return [BENCH]


def bench(bench_id: str) -> Bench:
    """The bench called ``bench_id``."""
    return BENCH
