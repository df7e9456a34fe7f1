"""Run each (bench, implementation, n, dtype) in its own worker process and collect records.

A worker (``python -m benchmarks.harness '<json spec>'``) rebuilds the synthetic data from its
seed, prepares the implementation (untimed), times a first call (which includes any JIT
compilation), then ``repeats`` more calls (each a loop of calls lasting at least
:data:`MIN_REPEAT_S` when calls are short), saves the last output to ``.npy`` and prints one
JSON line: seconds (median of the repeats, per call), first_call_s, peak RSS (high-water mark
reset once the input is generated, so only the implementation's own peak counts; ``data_mb``
is the input size). A first call slower than :data:`SLOW_FIRST_CALL_S` gets one repeat.
Benches with ``data="lazy"`` build their own data (the streaming case writes Lance in chunks
through ``prepare``, untimed). The parent interleaves workers (A B A B ...), compares every
output with the bench's reference (max abs diff), and skips a peer whose time extrapolated
from the smaller sizes exceeds :data:`SKIP_ABOVE_S`.

Examples
--------
>>> median([3.0, 1.0, 2.0])
2.0
"""

from __future__ import annotations

import gc
import json
import math
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from benchmarks.data import make_spectra

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

REPO = Path(__file__).resolve().parent.parent
PROJECT_PYTHON = REPO / ".venv" / "bin" / "python"
SKIP_ABOVE_S = 600.0  # a peer whose estimated worker time exceeds 10 minutes is skipped
WORKER_TIMEOUT_S = 3600.0
SLOW_FIRST_CALL_S = 20.0  # above this, a worker times one repeat instead of ``repeats``
#: A repeat lasts at least this long: calls shorter than this are looped and the repeat's time
#: divided by the calls (sub-millisecond calls timed one at a time are mostly timer noise).
MIN_REPEAT_S = 0.05
MAX_CALLS = 1000
#: A first call (JIT included) under this gets an untimed warm call that sizes the loop.
PROBE_BELOW_S = 1.0

Role = Literal["nirsframe", "floor", "peer", "nirs4all"]
median = statistics.median
DISTRIBUTIONS = (
    *("numpy", "scipy", "scikit-learn", "numba", "polars", "pyarrow", "threadpoolctl"),
    *("nirsframe", "chemotools", "ikpls", "nirs4all", "pybaselines", "PyWavelets", "matplotlib"),
)


class Unavailable(Exception):
    """Raised by a build function when an implementation cannot run here (reason in the message)."""


@dataclass(frozen=True)
class Data:
    """What a build function receives: spectra ``x`` (n, p), targets ``y`` (n,), the axis, and
    the generation parameters (a bench with ``data="lazy"`` gets 0-row ``x``/``y`` and builds its
    own data from ``n, p, dtype, seed``, e.g. in chunks to disk)."""

    x: np.ndarray
    y: np.ndarray
    axis: np.ndarray
    n: int = 0
    p: int = 0
    dtype: str = "float64"
    seed: int = 0


@dataclass(frozen=True)
class Impl:
    """One implementation of a bench.

    ``build(data)`` does the untimed preparation and returns the zero-argument callable that is
    timed; ``output`` turns what that callable returns into the ndarray compared across
    implementations (untimed). Roles ``nirsframe`` and ``floor`` run in the project's ``.venv``,
    ``peer`` and ``nirs4all`` in the peers venv.
    """

    name: str
    role: Role
    build: Callable[[Data], Callable[[], Any]]
    output: Callable[[Any], np.ndarray] = np.asarray
    compare: bool = True
    env: dict[str, str] = field(default_factory=dict)
    #: Part of ``--quick`` runs (peers that take minutes even at the smallest size are not).
    quick: bool = True

    @property
    def venv(self) -> Literal["project", "peers"]:
        """Which interpreter runs this implementation."""
        return "project" if self.role in ("nirsframe", "floor") else "peers"


@dataclass(frozen=True)
class Bench:
    """A workload and its implementations; ``reference`` names the impls compared against, in order
    of preference (the first one that ran is used)."""

    id: str
    module: str
    impls: tuple[Impl, ...]
    reference: tuple[str, ...] = ()
    fixed_n: int | None = None  # benches that do not scale with n (the JIT record) run once
    dtypes: tuple[str, ...] | None = None  # restrict dtypes (None: all requested)
    # Sizes of their own when the command line gives none (--quick, then full run), e.g. the
    # streaming case runs at 100k / 1M rather than at the matrix cases' sizes.
    quick_sizes: tuple[int, ...] | None = None
    full_sizes: tuple[int, ...] | None = None
    # "matrix": the worker generates X in memory; "lazy": the bench generates its own data.
    data: Literal["matrix", "lazy"] = "matrix"
    # Untimed, before the peak-RSS reset: e.g. write the bench's on-disk data set once.
    prepare: Callable[[Data], Any] | None = None

    def impl(self, name: str) -> Impl:
        """The implementation called ``name``."""
        for impl in self.impls:
            if impl.name == name:
                return impl
        msg = f"bench {self.id!r} has no implementation {name!r}"
        raise KeyError(msg)


# -- worker side --------------------------------------------------------------------------------
def _maxrss_mb() -> float:
    """Peak resident memory of this worker, MiB.

    ``/proc/self/status`` VmHWM first: Linux carries ``ru_maxrss`` over fork and exec, so a
    worker forked from a parent holding large arrays would report the parent's peak.
    ``resource.getrusage`` (KiB on Linux) elsewhere.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _reset_peak_rss() -> None:
    """Reset the VmHWM high-water mark to the current RSS (Linux ``clear_refs`` 5), so that the
    peak reported excludes temporaries of the data generation; a no-op where unsupported."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def run_worker(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one implementation as described by ``spec`` (in this process) and return its timings."""
    bench: Bench = import_module(spec["module"]).bench(spec["bench"])
    impl = bench.impl(spec["impl"])
    n, p, dtype, seed = spec["n"], spec["p"], spec["dtype"], spec["seed"]
    if bench.data == "lazy":
        x, y, axis = make_spectra(0, p, dtype=dtype, seed=seed)
    else:
        x, y, axis = make_spectra(n, p, dtype=dtype, seed=seed)
    # Input size the memory ratio is taken against: X as the bench would hold it in memory.
    data_mb = n * p * np.dtype(dtype).itemsize / 2**20
    data = Data(x, y, axis, n, p, dtype, seed)
    if bench.prepare is not None:
        bench.prepare(data)
    gc.collect()
    _reset_peak_rss()
    base_rss = _maxrss_mb()
    try:
        run = impl.build(data)
    except Unavailable as exc:
        return {"unavailable": str(exc)}
    t0 = time.perf_counter()
    result = run()
    first = time.perf_counter() - t0
    times = []
    # A slow first call (nirs4all searches take minutes) gets a single timed repeat: the
    # median of one is what the budget allows on a shared machine.
    repeats = spec["repeats"] if first < SLOW_FIRST_CALL_S else 1
    calls = 1
    if first < PROBE_BELOW_S:  # a warm call (untimed) sizes the loop of calls per repeat
        t0 = time.perf_counter()
        result = run()
        calls = min(MAX_CALLS, max(1, math.ceil(MIN_REPEAT_S / (time.perf_counter() - t0))))
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(calls):
            result = run()
        times.append((time.perf_counter() - t0) / calls)
    if spec.get("out"):
        np.save(spec["out"], np.asarray(impl.output(result)))
    return {
        "seconds": median(times),
        "first_call_s": first,
        "times": times,
        "peak_rss_mb": _maxrss_mb(),
        "data_rss_mb": base_rss,
        "data_mb": data_mb,
    }


def environment_info() -> dict[str, Any]:
    """Interpreter, library versions and BLAS of *this* process (run in each venv)."""
    from importlib import metadata

    versions = {}
    for dist in DISTRIBUTIONS:
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    blas: list[dict[str, Any]] = []
    try:
        import threadpoolctl

        np.ones((2, 2)) @ np.ones((2, 2))  # make sure BLAS is loaded
        blas = [
            {k: i.get(k) for k in ("internal_api", "version", "num_threads", "architecture")}
            for i in threadpoolctl.threadpool_info()
        ]
    except ImportError:
        pass
    return {"python": sys.version.split()[0], "versions": versions, "blas": blas}


# -- parent side --------------------------------------------------------------------------------
def _python(impl: Impl, peers_python: Path | None) -> Path:
    if impl.venv == "project":
        return PROJECT_PYTHON if PROJECT_PYTHON.exists() else Path(sys.executable)
    if peers_python is None:
        msg = f"{impl.name} needs the peers venv"
        raise RuntimeError(msg)
    return peers_python


def spawn(python: Path, args: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``python -m benchmarks.harness ARGS`` from the repo root and parse its last line."""
    proc = subprocess.run(
        [str(python), "-m", "benchmarks.harness", *args],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=WORKER_TIMEOUT_S,
        check=False,
    )
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"exit {proc.returncode}: {tail[:300]}"}
    parsed: dict[str, Any] = json.loads(lines[-1])
    return parsed


def _estimate(previous: list[tuple[int, float]], n: int) -> float | None:
    """Extrapolate a worker's total time to ``n`` from the sizes already run (power law, exponent
    from the last two sizes, clipped to [1, 2]; linear when only one size is known)."""
    if not previous:
        return None
    (n1, t1) = previous[-1]
    exponent = 1.0
    if len(previous) >= 2:
        (n0, t0) = previous[-2]
        if t0 > 0 and n1 > n0:
            exponent = min(2.0, max(1.0, math.log(t1 / t0) / math.log(n1 / n0)))
    return t1 * (n / n1) ** exponent


def max_abs_diff(a_path: Path, b_path: Path) -> float | str:
    """``max |a - b|`` over two saved outputs (NaN where both are NaN counts as equal)."""
    a = np.load(a_path, mmap_mode="r")
    b = np.load(b_path, mmap_mode="r")
    if a.shape != b.shape:
        return f"shape {b.shape} vs reference {a.shape}"
    diff = np.abs(a.astype(np.float64) - b.astype(np.float64))
    both_nan = np.isnan(a) & np.isnan(b)
    diff[both_nan] = 0.0
    return float(diff.max()) if diff.size else 0.0


def run_bench(
    bench: Bench,
    *,
    sizes: Iterable[int],
    dtypes: Iterable[str],
    p: int,
    repeats: int,
    rounds: int,
    seed: int,
    peers_python: Path | None,
    tmp: Path,
    log: Callable[[str], None] = print,
    skip_above: float = SKIP_ABOVE_S,
    only: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
    quick: bool = False,
    sizes_given: bool = True,
) -> list[dict[str, Any]]:
    """All records of one bench: sizes ascending, implementations interleaved over ``rounds``.

    ``only`` keeps implementations whose name contains one of its substrings; ``env`` is added
    to every worker's environment. Without ``sizes_given``, a bench with sizes of its own
    (``quick_sizes`` / ``full_sizes``) uses those; a bench restricted to dtypes none of which
    was requested runs its own ``dtypes``.
    """
    impls = [
        i
        for i in bench.impls
        if (i.venv == "project" or peers_python is not None)
        and (not only or any(s in i.name for s in only))
        and (i.quick or not quick)
    ]
    own = bench.quick_sizes if quick else bench.full_sizes
    if bench.fixed_n:
        sizes = [bench.fixed_n]
    elif own and not sizes_given:
        sizes = sorted(own)
    else:
        sizes = sorted(set(sizes))
    dtypes = list(dtypes)
    if bench.dtypes is not None:
        dtypes = [d for d in dtypes if d in bench.dtypes] or list(bench.dtypes)
    records: list[dict[str, Any]] = []
    for dtype in dtypes:
        history: dict[str, list[tuple[int, float]]] = {i.name: [] for i in impls}
        dead: dict[str, str] = {}  # impl -> status that stops it for larger sizes
        for n in sizes:
            runs: dict[str, list[dict[str, Any]]] = {i.name: [] for i in impls}
            status: dict[str, str] = {}
            for impl in impls:
                if impl.name in dead:
                    status[impl.name] = dead[impl.name]
                    continue
                est = _estimate(history[impl.name], n)
                if impl.role in ("peer", "nirs4all") and est is not None and est > skip_above:
                    status[impl.name] = dead[impl.name] = f"skipped: est {est:.0f} s"
            outputs: dict[str, Path] = {}
            for r in range(rounds):
                for impl in impls:
                    if impl.name in status:
                        continue
                    stem = re.sub(r"[^A-Za-z0-9]+", "_", f"{bench.id}-{impl.name}-{n}-{dtype}")
                    out = tmp / f"{stem}.npy"
                    spec = {
                        "module": bench.module,
                        "bench": bench.id,
                        "impl": impl.name,
                        "n": n,
                        "p": p,
                        "dtype": dtype,
                        "seed": seed,
                        "repeats": repeats,
                        "out": str(out) if r == 0 and impl.compare else None,
                    }
                    worker_env = {**(env or {}), **impl.env}
                    res = spawn(_python(impl, peers_python), [json.dumps(spec)], worker_env)
                    if "unavailable" in res or "error" in res:
                        key = "unavailable" if "unavailable" in res else "error"
                        status[impl.name] = dead[impl.name] = f"{key}: {res[key]}"
                        log(f"  {bench.id} {impl.name} n={n} {dtype}: {status[impl.name]}")
                        continue
                    runs[impl.name].append(res)
                    if spec["out"]:
                        outputs[impl.name] = out
            ref_name = next((name for name in bench.reference if name in outputs), None)
            if ref_name is None and not bench.reference and outputs:
                ref_name = next(iter(outputs))
            for impl in impls:
                rec = _record(bench, impl, n, p, dtype, runs[impl.name], status.get(impl.name))
                if impl.name in outputs and ref_name is not None:
                    check = max_abs_diff(outputs[ref_name], outputs[impl.name])
                    rec["result_check"] = check
                    rec["reference"] = ref_name
                elif impl.name in outputs:
                    rec["result_check"] = "no reference output"
                if rec["seconds"] is not None:
                    total = rec["first_call_s"] + rec["n_timed"] * rec["seconds"]
                    history[impl.name].append((n, total))
                    log(
                        f"  {bench.id:<14} {impl.name:<26} n={n:<7} {dtype}  "
                        f"{rec['seconds']:.4g} s  first {rec['first_call_s']:.3g} s  "
                        f"{rec['peak_rss_mb']:.0f} MB  check {rec['result_check']}"
                    )
                records.append(rec)
            for path in outputs.values():
                path.unlink(missing_ok=True)
    return records


def _record(
    bench: Bench,
    impl: Impl,
    n: int,
    p: int,
    dtype: str,
    runs: list[dict[str, Any]],
    status: str | None,
) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "case": bench.id,
        "implementation": impl.name,
        "role": impl.role,
        "n": n,
        "p": p,
        "dtype": dtype,
        "seconds": None,
        "first_call_s": None,
        "peak_rss_mb": None,
        "result_check": status if status else ("n/a" if not impl.compare else None),
    }
    if runs:
        # Pool the repeats of every round; the first call is the best of rounds (a first round
        # may also be paying for a cold numba cache or a cold page cache).
        rec["seconds"] = median([t for r in runs for t in r["times"]])
        rec["n_timed"] = max(len(r["times"]) for r in runs)
        rec["first_call_s"] = min(r["first_call_s"] for r in runs)
        rec["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
        rec["data_rss_mb"] = max(r["data_rss_mb"] for r in runs)
        rec["data_mb"] = runs[0].get("data_mb")
    return rec


if __name__ == "__main__":
    # Re-import under the package name so that ``Unavailable`` raised by case modules is the same
    # class as the one caught in ``run_worker`` (this file also runs as ``__main__``).
    from benchmarks import harness

    arg = sys.argv[1]
    payload = harness.environment_info() if arg == "info" else harness.run_worker(json.loads(arg))
    sys.stdout.write(json.dumps(payload) + "\n")
