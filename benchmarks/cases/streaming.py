"""Case (d): score a Parquet file of spectra in batches: read -> SNV -> SG(15, 2, 1) -> PLS predict.

The PLS model (10 components, no scaling) is fitted untimed on the first 2,000 preprocessed
spectra; the timed part reads the file, preprocesses and predicts every row, batch by batch
(``BATCH`` rows), so memory stays bounded whatever ``n``. Every implementation returns the
predictions. Peers: pyarrow batches + numpy/scipy + sklearn, and + chemotools; nirs4all through
its sklearn wrapper of a fitted run. nirsframe: ``pl.scan_parquet`` + expressions + the PLS
expression of ``nirsframe.models.pls`` on the streaming engine (unavailable until it exists).

Examples
--------
>>> BATCH
10000
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from benchmarks.cases.pls_cv import (
    chemotools_steps,
    in_scratch_dir,
    nirs4all_steps,
    nirsframe_models_pls,
    scipy_preprocess,
)
from benchmarks.harness import Bench, Data, Impl, Unavailable

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

MODULE = __name__
BATCH = 10_000
N_FIT = 2_000
N_COMPONENTS = 10


def write_parquet(x: np.ndarray) -> Path:
    """Write spectra as a ``fixed_size_list`` column ``spectra`` to a temporary Parquet file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(tempfile.mkdtemp(prefix="bench-d-")) / "spectra.parquet"
    values = pa.array(x.ravel())
    table = pa.table({"spectra": pa.FixedSizeListArray.from_arrays(values, x.shape[1])})
    pq.write_table(table, path, row_group_size=BATCH)
    return path


def batches(path: Path) -> Iterator[np.ndarray]:
    """The spectra of ``path``, ``BATCH`` rows at a time, as 2-D arrays."""
    import pyarrow.parquet as pq

    for batch in pq.ParquetFile(path).iter_batches(batch_size=BATCH, columns=["spectra"]):
        col = batch.column(0)
        yield col.values.to_numpy(zero_copy_only=False).reshape(len(col), -1)


def _sklearn_pls(x: np.ndarray, y: np.ndarray) -> Any:
    from sklearn.cross_decomposition import PLSRegression

    return PLSRegression(N_COMPONENTS, scale=False).fit(x[:N_FIT], y[:N_FIT])


def _numpy_sklearn(data: Data) -> Callable[[], Any]:
    path = write_parquet(data.x)
    pls = _sklearn_pls(scipy_preprocess(data.x[:N_FIT]), data.y)
    return lambda: np.concatenate([pls.predict(scipy_preprocess(b)).ravel() for b in batches(path)])


def _chemotools(data: Data) -> Callable[[], Any]:
    from sklearn.cross_decomposition import PLSRegression
    from sklearn.pipeline import make_pipeline

    path = write_parquet(data.x)
    pipe = make_pipeline(*chemotools_steps(), PLSRegression(N_COMPONENTS, scale=False))
    pipe.fit(data.x[:N_FIT], data.y[:N_FIT])
    return lambda: np.concatenate([pipe.predict(b).ravel() for b in batches(path)])


def _nirs4all(data: Data) -> Callable[[], Any]:
    import nirs4all
    from nirs4all.sklearn import NIRSPipeline
    from sklearn.cross_decomposition import PLSRegression
    from sklearn.model_selection import KFold

    in_scratch_dir()
    path = write_parquet(data.x)
    steps = [*nirs4all_steps(), KFold(2), {"model": PLSRegression(N_COMPONENTS, scale=False)}]
    result = nirs4all.run(steps, (data.x[:N_FIT], data.y[:N_FIT]), verbose=0, save_charts=False)
    model = NIRSPipeline.from_result(result)
    return lambda: np.concatenate([np.ravel(model.predict(b)) for b in batches(path)])


def _nirsframe(data: Data) -> Callable[[], Any]:
    pls_module = nirsframe_models_pls()
    import polars as pl

    import nirsframe as nf
    from benchmarks.cases.pls_cv import kernel_preprocess

    pls = pls_module.PLS(n_components=N_COMPONENTS)
    if not hasattr(pls, "to_expr"):
        raise Unavailable("nirsframe.models.pls.PLS has no to_expr (prediction expression) yet")
    path = write_parquet(data.x)
    pls.fit(kernel_preprocess(data.x[:N_FIT]), data.y[:N_FIT])
    expr = pls.to_expr(nf.savgol(nf.snv("spectra"), window_length=15, polyorder=2, deriv=1))
    plan = pl.scan_parquet(path).select(expr)
    return lambda: plan.collect(engine="streaming").to_series(0).to_numpy().ravel()


BENCH = Bench(
    "d",
    MODULE,
    (
        Impl("nirsframe streaming", "nirsframe", _nirsframe),
        Impl("numpy/scipy+sklearn", "peer", _numpy_sklearn),
        Impl("chemotools+sklearn", "peer", _chemotools),
        Impl("nirs4all", "nirs4all", _nirs4all),
    ),
    reference=("numpy/scipy+sklearn",),
)


def benches() -> list[Bench]:
    """The bench of case (d)."""
    return [BENCH]


def bench(bench_id: str) -> Bench:
    """The bench called ``bench_id``."""
    return BENCH
