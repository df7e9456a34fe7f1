"""Case (d): score a Lance dataset of spectra into a new Lance dataset, in bounded memory.

``n`` float32 spectra (1024 channels) are written once to a Lance dataset (untimed, in chunks,
cached in :data:`DATA_DIR` across workers). A PLS model (10 components, no scaling) is fitted
untimed on the first 2,000 preprocessed spectra. The timed part reads every spectrum from Lance,
applies SNV -> Savitzky-Golay(15, 2, 1), predicts, and writes the predictions (``y_pred``) to a
NEW Lance dataset. The compared output is that dataset read back (untimed). Nothing holds the
whole matrix: the worker generates no in-memory X (``data="lazy"``), so peak RSS is what the
pipeline itself needs.

- nirsframe: ``pl.scan_pyarrow_dataset(lance.dataset(uri))`` + ``FittedChain.to_expr`` (fitted
  SNV, SG and PLS as one elementwise expression) + ``collect_batches(engine="streaming")`` into
  ``lance.write_dataset`` through a ``RecordBatchReader``.
- peers: a loop over ``LanceDataset.to_batches`` (``BATCH`` rows) with numpy/scipy + sklearn,
  chemotools + sklearn, or nirs4all's sklearn wrapper of a fitted run, into the same writer.
- floor: a Lance read + write copy of the spectra column.

Examples
--------
>>> BATCH, N_FIT
(10000, 2000)
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from benchmarks.cases.pls_cv import (
    DERIV,
    ORDER,
    WINDOW,
    chemotools_steps,
    in_scratch_dir,
    nirs4all_steps,
    scipy_preprocess,
)
from benchmarks.data import iter_spectra
from benchmarks.harness import Bench, Data, Impl

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

MODULE = __name__
BATCH = 10_000
N_FIT = 2_000
N_COMPONENTS = 10
DATA_DIR = Path(tempfile.gettempdir()) / "nirsframe-bench-data"


def source_uri(data: Data) -> str:
    """The Lance dataset of ``data``'s spectra and targets, written on first use (atomically:
    built under a temporary name, then renamed)."""
    import lance
    import pyarrow as pa

    uri = DATA_DIR / f"d-{data.n}-{data.p}-{data.dtype}-{data.seed}.lance"
    if uri.exists():
        return str(uri)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    tmp = DATA_DIR / f".{uri.name}.{os.getpid()}"
    value = pa.float32() if data.dtype == "float32" else pa.float64()
    schema = pa.schema([("spectra", pa.list_(value, data.p)), ("y", pa.float64())])

    def chunks() -> Iterator[pa.RecordBatch]:
        for x, y in iter_spectra(data.n, data.p, dtype=data.dtype, seed=data.seed):
            spectra = pa.FixedSizeListArray.from_arrays(pa.array(x.ravel()), data.p)
            yield pa.record_batch([spectra, pa.array(y)], schema=schema)

    lance.write_dataset(pa.RecordBatchReader.from_batches(schema, chunks()), str(tmp))
    tmp.rename(uri)
    return str(uri)


def training_rows(uri: str) -> tuple[np.ndarray, np.ndarray]:
    """The first :data:`N_FIT` spectra and targets (the model's training set)."""
    import lance

    table = lance.dataset(uri).head(N_FIT)
    col = table.column("spectra").combine_chunks()
    x = col.values.to_numpy().reshape(len(col), -1)
    return x, table.column("y").to_numpy()


class Sink:
    """Fresh output URIs for the timed calls; keeps only the last dataset on disk."""

    def __init__(self) -> None:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        self.root = Path(tempfile.mkdtemp(prefix="bench-d-out-", dir=DATA_DIR))
        atexit.register(shutil.rmtree, self.root, ignore_errors=True)
        self.count = 0
        self.last: Path | None = None

    def next(self) -> str:
        """A new URI; the previous output is removed first (disk stays bounded)."""
        if self.last is not None:
            shutil.rmtree(self.last, ignore_errors=True)
        self.count += 1
        self.last = self.root / f"out-{self.count}.lance"
        return str(self.last)


def write_predictions(uri: str, batches: Iterator[np.ndarray]) -> str:
    """Write 1-D prediction arrays as column ``y_pred`` of a new Lance dataset at ``uri``."""
    import lance
    import pyarrow as pa

    schema = pa.schema([("y_pred", pa.float64())])
    reader = pa.RecordBatchReader.from_batches(
        schema, (pa.record_batch([pa.array(np.ravel(b))], schema=schema) for b in batches)
    )
    lance.write_dataset(reader, uri)
    return uri


def read_predictions(uri: str) -> np.ndarray:
    """Column ``y_pred`` of the dataset at ``uri`` (untimed), then the dataset is removed."""
    import lance

    out = lance.dataset(uri).to_table(columns=["y_pred"]).column(0).to_numpy()
    shutil.rmtree(Path(uri).parent, ignore_errors=True)
    return np.asarray(out)


def spectra_batches(uri: str) -> Iterator[np.ndarray]:
    """The spectra of ``uri``, :data:`BATCH` rows at a time, as 2-D arrays (no copy)."""
    import lance

    for batch in lance.dataset(uri).to_batches(columns=["spectra"], batch_size=BATCH):
        col = batch.column(0)
        yield col.values.to_numpy(zero_copy_only=False).reshape(len(col), -1)


# -- implementations -----------------------------------------------------------------------------
def chain_expr(uri: str) -> Any:
    """The fitted SNV -> SG -> PLS chain of nirsframe as one Polars expression (``y_pred``)."""
    from nirsframe.models.pls import PLS
    from nirsframe.operators import SavitzkyGolay, StandardNormalVariate
    from nirsframe.workspace.chain import FittedChain

    x, y = training_rows(uri)
    snv = StandardNormalVariate().fit(x)
    sg = SavitzkyGolay(window_length=WINDOW, polyorder=ORDER, deriv=DERIV).fit(x)
    pls = PLS(n_components=N_COMPONENTS).fit(sg.transform(snv.transform(x)), y)
    return FittedChain.from_estimators([snv, sg], pls).to_expr("spectra")


def _nirsframe_batches(data: Data) -> Callable[[], Any]:
    # The same expression evaluated per Lance batch by the in-memory engine: memory bounded by
    # construction (one batch in flight), for comparison with the streaming engine's peak.
    import lance
    import polars as pl

    uri = source_uri(data)
    expr = chain_expr(uri)
    sink = Sink()

    def batches() -> Iterator[np.ndarray]:
        for batch in lance.dataset(uri).to_batches(columns=["spectra"], batch_size=BATCH):
            yield pl.DataFrame(pl.from_arrow(batch)).select(expr).to_series(0).to_numpy()

    return lambda: write_predictions(sink.next(), batches())


def _nirsframe(data: Data) -> Callable[[], Any]:
    import lance
    import polars as pl
    import pyarrow as pa

    uri = source_uri(data)
    expr = chain_expr(uri)
    sink = Sink()
    schema = pa.schema([("y_pred", pa.float64())])

    def run() -> str:
        # batch_size: the rows per morsel reaching the chain's UDF. Polars' default (100k rows,
        # 400 MB of float32 spectra, several copies along the chain) is what sets peak RSS;
        # BATCH rows is what the peers use too.
        scan = pl.scan_pyarrow_dataset(lance.dataset(uri), batch_size=BATCH)
        plan = scan.select(expr)
        frames = plan.collect_batches(engine="streaming")
        batches = (b for df in frames for b in df.to_arrow().to_batches())
        out = sink.next()
        lance.write_dataset(pa.RecordBatchReader.from_batches(schema, batches), out)
        return out

    return run


def _numpy_sklearn(data: Data) -> Callable[[], Any]:
    from sklearn.cross_decomposition import PLSRegression

    uri = source_uri(data)
    x, y = training_rows(uri)
    pls = PLSRegression(N_COMPONENTS, scale=False).fit(scipy_preprocess(x), y)
    sink = Sink()

    def run() -> str:
        preds = (pls.predict(scipy_preprocess(b)) for b in spectra_batches(uri))
        return write_predictions(sink.next(), preds)

    return run


def _chemotools(data: Data) -> Callable[[], Any]:
    from sklearn.cross_decomposition import PLSRegression
    from sklearn.pipeline import make_pipeline

    uri = source_uri(data)
    x, y = training_rows(uri)
    pipe = make_pipeline(*chemotools_steps(), PLSRegression(N_COMPONENTS, scale=False))
    pipe.fit(x, y)
    sink = Sink()
    return lambda: write_predictions(sink.next(), (pipe.predict(b) for b in spectra_batches(uri)))


def _nirs4all(data: Data) -> Callable[[], Any]:
    import nirs4all
    from nirs4all.sklearn import NIRSPipeline
    from sklearn.cross_decomposition import PLSRegression
    from sklearn.model_selection import KFold

    uri = source_uri(data)
    x, y = training_rows(uri)
    in_scratch_dir()
    steps = [*nirs4all_steps(), KFold(2), {"model": PLSRegression(N_COMPONENTS, scale=False)}]
    result = nirs4all.run(steps, (x, y), verbose=0, save_charts=False)
    model = NIRSPipeline.from_result(result)
    sink = Sink()
    return lambda: write_predictions(sink.next(), (model.predict(b) for b in spectra_batches(uri)))


def _floor(data: Data) -> Callable[[], Any]:
    import lance

    uri = source_uri(data)
    sink = Sink()

    def run() -> str:
        reader = lance.dataset(uri).scanner(columns=["spectra"], batch_size=BATCH).to_reader()
        out = sink.next()
        lance.write_dataset(reader, out)
        return out

    return run


BENCH = Bench(
    "d",
    MODULE,
    (
        Impl("nirsframe streaming", "nirsframe", _nirsframe, read_predictions),
        Impl("nirsframe per batch", "nirsframe", _nirsframe_batches, read_predictions),
        Impl("numpy/scipy+sklearn", "peer", _numpy_sklearn, read_predictions),
        Impl("chemotools+sklearn", "peer", _chemotools, read_predictions),
        Impl("nirs4all", "nirs4all", _nirs4all, read_predictions, quick=False),
        Impl("floor: Lance copy", "floor", _floor, compare=False),
    ),
    reference=("numpy/scipy+sklearn",),
    dtypes=("float32",),
    quick_sizes=(10_000,),
    full_sizes=(100_000, 1_000_000),
    data="lazy",
    prepare=source_uri,
)


def benches() -> list[Bench]:
    """The bench of case (d)."""
    return [BENCH]


def bench(bench_id: str) -> Bench:
    """The bench called ``bench_id``."""
    return BENCH
