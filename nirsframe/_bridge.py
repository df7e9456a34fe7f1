"""Spectra columns <-> ndarrays, and the one ``map_batches`` wrapper every spectral expression uses.

A spectra column is ``pl.Array(Float32 | Float64, P)``; its values buffer is a C-contiguous
``(n, P)`` matrix, read without a copy. Null rows arrive as NaN rows and leave as nulls.

Nested spectral expressions fuse: ``map_spectra(map_spectra(e, f), g)`` is one UDF that pushes
blocks of rows through ``f`` then ``g`` while they are cache resident (:func:`run_blocked`), on
the shared worker threads (:func:`run_parallel`), writing into one output matrix.
"""

from __future__ import annotations

import mmap
import os
import threading
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa
from threadpoolctl import ThreadpoolController

from nirsframe.exceptions import SpectralShapeError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

T = TypeVar("T")
A = TypeVar("A")

FloatMatrix = npt.NDArray[np.floating]
SPECTRA_DTYPES = (pl.Float32, pl.Float64)


#: A batch below this many bytes runs on the calling thread: handing it to the workers would cost
#: more than it saves (~50 us per call against ~1 ms of work for 4 MiB of spectra).
PARALLEL_MIN_BYTES = 1 << 22


@dataclass(frozen=True)
class RowsInto:
    """A row-wise matrix function that can also write its result into a given matrix.

    Calling it returns a new matrix (as any row function); :func:`run_blocked` calls ``into``
    for the last step of a chain instead, so the result goes straight into the output column:
    no block allocation and no copy.

    >>> double = RowsInto(lambda x, out: np.multiply(x, 2.0, out=out))
    >>> out = np.empty((1, 2))
    >>> _ = double.into(np.array([[1.0, 2.0]]), out)
    >>> double(np.array([[1.0, 2.0]])).tolist(), out.tolist()
    ([[2.0, 4.0]], [[2.0, 4.0]])
    """

    #: ``into(x, out)`` writes the result for the rows of ``x`` into ``out`` (same rows, right
    #: width and dtype) and returns ``out``.
    into: Callable[[FloatMatrix, FloatMatrix], Any]
    #: Output width when it differs from the input's (``None``: the same width).
    width: int | None = None
    #: Inputs below this many bytes run on the calling thread (:func:`run_parallel`).
    min_parallel_bytes: int = PARALLEL_MIN_BYTES
    #: What the step computes, ``(operator name, validated parameters)``: adjacent tagged steps
    #: with a fused kernel run as one step (:func:`register_fusion`).
    tag: tuple[str, Any] | None = None

    def __call__(self, x: FloatMatrix) -> FloatMatrix:
        out = np.empty((x.shape[0], x.shape[1] if self.width is None else self.width), x.dtype)
        self.into(x, out)
        return out


def check_spectra_dtype(dtype: pl.DataType, column: str) -> tuple[int, Any]:
    """Return ``(width, inner dtype)`` of a spectra column dtype or raise.

    >>> check_spectra_dtype(pl.Array(pl.Float64, 4), "spectra")
    (4, Float64)
    """
    if not isinstance(dtype, pl.Array) or dtype.inner not in SPECTRA_DTYPES:
        hint = (
            " (a list column: convert it with nf.to_spectra_column(), which checks the widths)"
            if isinstance(dtype, pl.List)
            else ""
        )
        msg = f"column {column!r} must be pl.Array(Float32 | Float64, P); got {dtype}{hint}"
        raise SpectralShapeError(msg)
    return int(dtype.size), dtype.inner


def series_to_matrix(s: pl.Series) -> tuple[FloatMatrix, npt.NDArray[np.bool_] | None]:
    """The ``(n, P)`` matrix of a spectra series (a read-only view when possible) and its null mask.

    >>> x, nulls = series_to_matrix(pl.Series("s", np.ones((2, 3))))
    >>> x.shape, nulls
    ((2, 3), None)
    """
    check_spectra_dtype(s.dtype, s.name)
    if s.n_chunks() > 1:
        s = s.rechunk()
    nulls = s.is_null().to_numpy() if s.null_count() else None
    x = s.to_numpy()
    if x.ndim != 2:  # zero rows of an Array column may come back 1-D
        width, _ = check_spectra_dtype(s.dtype, s.name)
        x = x.reshape(len(s), width)
    return x, nulls


def new_matrix(n: int, p: int, dtype: npt.DTypeLike) -> FloatMatrix:
    """An uninitialised ``(n, p)`` matrix in memory from Arrow's pool (mimalloc or jemalloc).

    The results of spectral steps live here rather than in numpy's own blocks: numpy maps a new
    block from the OS for each large array, whose pages the kernel zeroes on first write (800 MB:
    ~30 ms, the cost of a copy into a warm matrix); the pool keeps freed blocks for the next
    result, as Polars' own allocator does for its columns.

    >>> new_matrix(2, 3, np.float64).shape
    (2, 3)
    """
    dtype = np.dtype(dtype)
    buf = pa.allocate_buffer(n * p * dtype.itemsize)
    return np.frombuffer(buf, dtype=dtype).reshape(n, p)


def matrix_to_series(
    name: str, x: FloatMatrix, nulls: npt.NDArray[np.bool_] | None = None
) -> pl.Series:
    """A spectra series over ``x`` (no copy), with ``nulls`` rows set to null.

    >>> matrix_to_series("s", np.ones((2, 3)), np.array([False, True])).null_count()
    1
    """
    if x.ndim != 2:
        msg = f"spectra must be a 2-D matrix; got shape {x.shape}"
        raise SpectralShapeError(msg)
    x = np.ascontiguousarray(x)
    n, p = x.shape
    values = pa.array(x.reshape(-1))
    mask = pa.array(nulls) if nulls is not None and nulls.any() else None
    arr = pa.FixedSizeListArray.from_arrays(values, p, mask=mask)
    s = pl.Series(name, arr)
    if len(s) != n:  # pragma: no cover - guards a pyarrow contract
        msg = f"internal error: expected {n} rows, got {len(s)}"
        raise SpectralShapeError(msg)
    return s


#: Fused steps by the names of the two adjacent steps they replace (:func:`register_fusion`).
_FUSIONS: dict[tuple[str, str], Callable[[Any, Any], RowsInto | None]] = {}


def register_fusion(first: str, second: str, build: Callable[[Any, Any], RowsInto | None]) -> None:
    """Run a step tagged ``first`` followed by one tagged ``second`` as ``build(p1, p2)``.

    ``build`` gets the two steps' parameters and returns one step computing exactly what the two
    compute (same bits), or ``None`` when it cannot for these parameters.
    """
    _FUSIONS[(first, second)] = build


def _fuse_last(steps: tuple[tuple[Any, int | None], ...]) -> tuple[tuple[Any, int | None], ...]:
    """``steps`` with its last two replaced by their fused step when a rule applies."""
    if len(steps) < 2:
        return steps
    (first, first_width), (second, second_width) = steps[-2], steps[-1]
    if not (
        isinstance(first, RowsInto)
        and isinstance(second, RowsInto)
        and first.tag is not None
        and second.tag is not None
    ):
        return steps
    build = _FUSIONS.get((first.tag[0], second.tag[0]))
    fused = None if build is None else build(first.tag[1], second.tag[1])
    if fused is None:
        return steps
    return (*steps[:-2], (fused, first_width if second_width is None else second_width))


#: Attribute under which an expression built by :func:`map_spectra` keeps its source expression
#: and row steps, so that a spectral expression applied to it extends the same UDF.
_STEPS_ATTR = "_nirsframe_steps"


def map_spectra(
    expr: pl.Expr,
    fn: Callable[[FloatMatrix], FloatMatrix],
    *,
    width: int | None = None,
) -> pl.Expr:
    """Apply a row-wise matrix function to a spectra expression, elementwise.

    ``fn`` takes an ``(n, P)`` matrix and returns an ``(n, P')`` matrix whose row ``i`` depends
    only on input row ``i``: that is what makes ``is_elementwise=True`` safe and lets the
    streaming engine call it per morsel. ``width`` is ``P'`` when it differs from ``P``. The
    result has the input's dtype.

    When ``expr`` itself comes from ``map_spectra``, the two fuse into one UDF over ``expr``'s
    source that runs both functions block by block (results are identical; the intermediate
    matrix never reaches main memory and Polars makes one call instead of two). Two adjacent
    steps with a fused kernel (:func:`register_fusion`) become that kernel, row by row.

    >>> df = pl.DataFrame({"s": np.array([[1.0, 2.0]])})
    >>> df.select(map_spectra(pl.col("s"), lambda x: 2 * x)).item().to_list()
    [2.0, 4.0]
    >>> twice = map_spectra(map_spectra(pl.col("s"), lambda x: x + 1), lambda x: 2 * x)
    >>> df.select(twice).item().to_list()
    [4.0, 6.0]
    """
    source, steps = getattr(expr, _STEPS_ATTR, (expr, ()))
    steps = _fuse_last((*steps, (fn, width)))
    widths = [w for _, w in steps if w is not None]
    out_width = widths[-1] if widths else None
    fns = tuple(f for f, _ in steps)

    def batch(s: pl.Series) -> pl.Series:
        x, nulls = series_to_matrix(s)
        out = new_matrix(x.shape[0], x.shape[1] if out_width is None else out_width, x.dtype)
        if x.shape[0]:
            run_parallel(x, fns, out)
        return matrix_to_series(s.name, out, nulls)

    dtype = (
        pl.self_dtype()
        if out_width is None
        else pl.self_dtype().inner_dtype().wrap_in_array(width=out_width)
    )
    mapped = source.map_batches(batch, return_dtype=dtype, is_elementwise=True)
    setattr(mapped, _STEPS_ATTR, (source, steps))
    return mapped


#: Bytes of input rows per block in :func:`run_blocked`: a block and the intermediate results of
#: a few steps stay in the L2 cache (512 KiB-1 MiB per core here), so a chain of row-wise steps
#: reads the matrix from main memory once and writes the result once, instead of once per step.
BLOCK_BYTES = 1 << 19


def block_rows(n_points: int, itemsize: int, block_bytes: int | None = None) -> int:
    """Rows per block of :func:`run_blocked` for spectra of ``n_points`` values
    (``block_bytes`` defaults to :data:`BLOCK_BYTES`).

    >>> block_rows(1024, 8)
    64
    """
    size = BLOCK_BYTES if block_bytes is None else block_bytes
    return max(1, size // max(1, n_points * itemsize))


def run_blocked(
    x: FloatMatrix,
    fns: Sequence[Callable[[FloatMatrix], FloatMatrix]],
    *,
    rows: int | None = None,
    out: FloatMatrix | None = None,
) -> FloatMatrix:
    """Apply the row-wise functions ``fns`` in order to ``x``, ``rows`` rows at a time.

    Equal to ``fns[-1](...fns[0](x))`` for row-wise functions (row ``i`` of each result depends
    only on row ``i`` of its input), but each block of rows runs through every step while it is
    cache resident: one pass over main memory instead of one per step. The result has the dtype
    of ``x`` (as :func:`map_spectra`); its width is the last step's. It is written into ``out``
    when given (of the right shape), else into a new matrix; a last step that is a
    :class:`RowsInto` writes each block straight into ``out``.

    >>> x = np.arange(6.0).reshape(3, 2)
    >>> run_blocked(x, [lambda a: a + 1, lambda a: 2 * a], rows=2).tolist()
    [[2.0, 4.0], [6.0, 8.0], [10.0, 12.0]]
    """
    n = x.shape[0]
    step = rows if rows is not None else block_rows(x.shape[1], x.dtype.itemsize)
    *head, last = fns
    for start in range(0, n, step):
        y = x[start : start + step]
        rows_in = y.shape[0]
        for fn in head:
            y = fn(y)
        if out is not None and isinstance(last, RowsInto):
            _check_rows(y, rows_in, out.shape[1], last.width)
            last.into(y, out[start : start + rows_in])
            continue
        y = last(y)
        if out is None:
            out = np.empty((n, y.shape[1]), dtype=x.dtype)
        _check_rows(y, rows_in, out.shape[1], y.shape[1])
        out[start : start + rows_in] = y
    if out is None:  # zero rows: run the steps once on the empty matrix for the output width
        y = x
        for fn in fns:
            y = fn(y)
        out = np.empty((0, y.shape[1]), dtype=x.dtype)
    return out


def _check_rows(y: FloatMatrix, n_rows: int, out_width: int, width: int | None) -> None:
    """Raise unless a step's result ``y`` (of ``width`` columns) fills ``n_rows`` output rows."""
    got = (y.shape[0], y.shape[1] if width is None else width)
    if got != (n_rows, out_width):
        msg = f"a row function returned shape {got}; expected {n_rows} rows of width {out_width}"
        raise SpectralShapeError(msg)


#: Row ranges per worker thread: several, so a worker slowed by other load on the machine does not
#: hold the whole batch back.
CHUNKS_PER_WORKER = 4

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_local = threading.local()


def _mark_worker() -> None:
    _local.is_worker = True


def _workers() -> ThreadPoolExecutor:
    """The process's spectral worker threads (as many as Polars' thread pool), made on first use."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(
                max_workers=pl.thread_pool_size(),
                thread_name_prefix="nirsframe",
                initializer=_mark_worker,
            )
        return _pool


def _forget_pool() -> None:  # pragma: no cover - runs in a forked child
    global _pool
    _pool = None


os.register_at_fork(after_in_child=_forget_pool)  # a child does not inherit the threads


def run_parallel(
    x: FloatMatrix,
    fns: Sequence[Callable[[FloatMatrix], FloatMatrix]],
    out: FloatMatrix,
) -> FloatMatrix:
    """:func:`run_blocked` into ``out``, over row ranges on the shared worker threads.

    The kernels release the GIL, so row ranges run in parallel. Every call, from any Polars
    thread, queues its ranges on one pool of ``pl.thread_pool_size()`` workers: the streaming
    engine's concurrent calls share the cores instead of oversubscribing them. Numba's own
    ``parallel=True`` is not used (it aborts when two Polars threads enter it). Small batches
    (below the smallest ``min_parallel_bytes`` of the steps, :data:`PARALLEL_MIN_BYTES` by
    default), and calls made from a worker, run on the calling thread. A single function has
    nothing to fuse with: it is called once per range, not per block (some operators prepare
    weights per call), and a :class:`RowsInto` writes its range straight into ``out``.

    >>> x = np.arange(6.0).reshape(3, 2)
    >>> run_parallel(x, [lambda a: 2 * a], np.empty((3, 2))).tolist()
    [[0.0, 2.0], [4.0, 6.0], [8.0, 10.0]]
    """
    n = x.shape[0]
    n_workers = pl.thread_pool_size()
    min_bytes = min(getattr(fn, "min_parallel_bytes", PARALLEL_MIN_BYTES) for fn in fns)
    if n_workers < 2 or x.nbytes < min_bytes or getattr(_local, "is_worker", False):
        return run_blocked(x, fns, rows=max(n, 1) if len(fns) == 1 else None, out=out)
    touch = out.nbytes < FIRST_TOUCH_MAX_BYTES
    pool = _workers()
    block = block_rows(x.shape[1], x.dtype.itemsize)
    chunk = -(-n // (n_workers * CHUNKS_PER_WORKER))
    chunk = -(-chunk // block) * block  # whole blocks per range
    rows = chunk if len(fns) == 1 else None
    futures = []
    for a in range(0, n, chunk):
        if touch:  # this range's pages, before a worker writes them (see first_touch)
            first_touch(out[a : a + chunk])
        futures.append(
            pool.submit(run_blocked, x[a : a + chunk], fns, rows=rows, out=out[a : a + chunk])
        )
    wait(futures)
    for f in futures:
        f.result()  # re-raise the first failure
    return out


#: Outputs below this many bytes are first touched on the calling thread before the workers
#: write them (:func:`first_touch`); larger ones fault in on the workers.
FIRST_TOUCH_MAX_BYTES = 1 << 28


def first_touch(out: FloatMatrix) -> None:
    """Write one value per memory page of ``out`` on the calling thread (the pages of a new
    matrix are then mapped before the workers fill it).

    On the project VM, two threads faulting in the pages of one new 80 MB matrix at once took
    7 to 25 ms (per process, at random) where one thread took 4 ms: SNV, normalisation or SG on
    10k x 1024 float64 then ran 2-3x slower. Touched first, they take 8-9 ms every time (about
    1 ms more than the fast case). Above :data:`FIRST_TOUCH_MAX_BYTES` the workers' own faults
    cost less than one thread touching everything (800 MB: ~40 ms on one thread).

    >>> out = np.empty((2, 1024))
    >>> first_touch(out)
    """
    flat = out.reshape(-1)
    flat[:: max(1, mmap.PAGESIZE // out.itemsize)] = 0


def map_tasks(fn: Callable[[A], T], tasks: Sequence[A]) -> list[T]:
    """``[fn(task) for task in tasks]``, run on the shared worker threads (in any order).

    For GIL-releasing work (numba kernels, BLAS products) split into independent tasks; BLAS
    runs one thread per call meanwhile. With one worker, a single task, or when called from a
    worker, the tasks run on the calling thread.

    >>> map_tasks(lambda v: v * v, [1, 2, 3])
    [1, 4, 9]
    """
    if pl.thread_pool_size() < 2 or len(tasks) < 2 or getattr(_local, "is_worker", False):
        return [fn(task) for task in tasks]
    # Each worker is a core: BLAS threads of their own would oversubscribe them (measured on
    # the 2-core machine, PLS views at 100k: 1.05 s with 1 BLAS thread, 1.70 s with 2).
    with _blas_controller().limit(limits=1, user_api="blas"):
        futures = [_workers().submit(fn, task) for task in tasks]
        wait(futures)
    return [f.result() for f in futures]


_controller: ThreadpoolController | None = None


def _blas_controller() -> ThreadpoolController:
    """The process's threadpoolctl controller (inspecting the loaded libraries once)."""
    global _controller
    with _pool_lock:
        if _controller is None:
            _controller = ThreadpoolController()
        return _controller
