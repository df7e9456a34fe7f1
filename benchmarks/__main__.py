"""``python -m benchmarks``: run the cases, write ``latest.json``, the markdown report and plot.

Examples
--------
>>> parse_args(["--quick", "--cases", "a"]).cases
'a'
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
from importlib import import_module
from pathlib import Path
from typing import Any

from benchmarks import harness, report
from benchmarks.cases import CASES

RESULTS = harness.REPO / "benchmarks" / "results"
DOCS = harness.REPO / "docs"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (see the module docstring)."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    ap.add_argument(
        "--quick",
        action="store_true",
        help="a run of minutes: n=1000 (streaming 10k), float64, 3 repeats, every case, six "
        "operators in case e, no peer that takes minutes at that size",
    )
    ap.add_argument("--cases", default="a,b,c,d,e", help="comma-separated: a,b,c,d,e")
    ap.add_argument("--sizes", help="comma-separated n (default 1000,10000,100000)")
    ap.add_argument("--dtypes", help="comma-separated (default float64,float32)")
    ap.add_argument("--no-peers", action="store_true", help="only nirsframe and the floor")
    ap.add_argument("--out", type=Path, help="write latest.json, benchmarks.md/.png here")
    ap.add_argument("--repeats", type=int, help="timed repeats per worker (default 5, quick 3)")
    ap.add_argument("--rounds", type=int, default=2, help="interleaved worker rounds (A B A B)")
    ap.add_argument("--p", type=int, default=1024, help="channels per spectrum")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--impls", help="comma-separated substrings of implementation names to keep")
    ap.add_argument(
        "--skip-above",
        type=float,
        help="skip a peer whose estimated worker time exceeds this (s; default 600, quick 30)",
    )
    ap.add_argument(
        "--blas-threads",
        type=int,
        help="OPENBLAS/OMP/MKL_NUM_THREADS for every worker (default: the library's own)",
    )
    ap.add_argument(
        "--append",
        action="store_true",
        help="merge into the existing latest.json (same case/impl/n/dtype replaced)",
    )
    ap.add_argument("--benches", help="comma-separated bench ids to keep (e.g. e/snv,e/msc)")
    ap.add_argument(
        "--report-only",
        action="store_true",
        help="only regenerate benchmarks.md/.png from the existing latest.json",
    )
    return ap.parse_args(argv)


def write_report(run: dict[str, Any], json_dir: Path, docs_dir: Path) -> None:
    """Write ``latest.json``, ``benchmarks.md`` and ``benchmarks.png`` of ``run``."""
    json_dir.mkdir(parents=True, exist_ok=True)
    docs_dir.mkdir(parents=True, exist_ok=True)
    (json_dir / "latest.json").write_text(json.dumps(run, indent=1))
    md = report.markdown(run)
    if report.plot(run["records"], docs_dir / "benchmarks.png"):
        md += "\n![seconds vs n](benchmarks.png)\n"
    (docs_dir / "benchmarks.md").write_text(md)


def merge(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``old`` records not re-measured in ``new``, then ``new``.

    >>> merge([{"case": "a", "implementation": "x", "n": 1, "dtype": "f", "s": 1}],
    ...       [{"case": "a", "implementation": "x", "n": 1, "dtype": "f", "s": 2}])[0]["s"]
    2
    """

    def key(r: dict[str, Any]) -> tuple[Any, ...]:
        return (r["case"], r["implementation"], r["n"], r["dtype"])

    fresh = {key(r) for r in new}
    return [r for r in old if key(r) not in fresh] + new


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmarks and write the outputs; return the run (records, machine, envs)."""
    args = parse_args(argv)
    if args.report_only:
        json_dir, docs_dir = (args.out, args.out) if args.out else (RESULTS, DOCS)
        run = json.loads((json_dir / "latest.json").read_text())
        run["records"] = report.add_ratios(run["records"])
        write_report(run, json_dir, docs_dir)
        return run
    default_sizes = "1000" if args.quick else "1000,10000,100000"
    sizes = [int(s) for s in (args.sizes or default_sizes).split(",")]
    dtypes = (args.dtypes or ("float64" if args.quick else "float64,float32")).split(",")
    repeats = args.repeats or (3 if args.quick else 5)
    # --quick keeps a run to minutes on a shared 2-core machine: peers skip above 30 s.
    skip_above = args.skip_above or (30.0 if args.quick else harness.SKIP_ABOVE_S)
    # A private numba cache for the workers: runs are isolated from other checkouts' caches,
    # and the "cache on" JIT records measure this cache.
    env = {"NUMBA_CACHE_DIR": os.environ.get("NUMBA_CACHE_DIR", str(RESULTS / ".numba-cache"))}
    if args.blas_threads:
        # One setting for every worker, peers included: on a loaded shared machine a 2-thread
        # OpenBLAS turns small products (PLS matvecs) into spin-wait storms, for everyone.
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(args.blas_threads)
    only = tuple(s for s in (args.impls or "").split(",") if s)

    peers_python = None
    envs: dict[str, Any] = {"project": harness.spawn(harness.PROJECT_PYTHON, ["info"], env)}
    if not args.no_peers:
        from benchmarks.peers import ensure_peers_venv

        peers_python = ensure_peers_venv(quiet=True)
        envs["peers"] = harness.spawn(peers_python, ["info"], env)

    notes: list[str] = []
    benches = []
    for case in args.cases.split(","):
        module = import_module(CASES[case.strip()])
        quick_ids = getattr(module, "QUICK_BENCHES", None) if args.quick else None
        benches += [b for b in module.benches() if quick_ids is None or b.id in quick_ids]
        if hasattr(module, "missing") and module.missing():
            notes.append(f"operators without a reference entry (case e): {module.missing()}")

    if args.benches:
        keep = set(args.benches.split(","))
        benches = [b for b in benches if b.id in keep]
    records: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="nirsframe-bench-") as tmp:
        for bench in benches:
            print(f"[{bench.id}]", flush=True)
            records += harness.run_bench(
                bench,
                sizes=sizes,
                dtypes=dtypes,
                p=args.p,
                repeats=repeats,
                rounds=args.rounds,
                seed=args.seed,
                peers_python=peers_python,
                tmp=Path(tmp),
                log=lambda line: print(line, flush=True),
                skip_above=skip_above,
                only=only,
                env=env,
                quick=args.quick,
                sizes_given=args.sizes is not None,
            )
    json_dir, docs_dir = (args.out, args.out) if args.out else (RESULTS, DOCS)
    argv_now = list(argv if argv is not None else sys.argv[1:])
    commands = [argv_now]
    if args.append and (json_dir / "latest.json").exists():
        previous = json.loads((json_dir / "latest.json").read_text())
        records = merge(previous["records"], records)
        commands = [*previous.get("commands", [previous["argv"]]), argv_now]
        notes = list(dict.fromkeys([*previous.get("notes", []), *notes]))
    run = {
        "argv": argv_now,
        "commands": commands,
        "blas_threads": args.blas_threads,
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "repeats": repeats,
        "rounds": args.rounds,
        "machine": report.machine_info(),
        "envs": envs,
        "notes": notes,
        "records": report.add_ratios(records),
    }
    write_report(run, json_dir, docs_dir)
    return run


if __name__ == "__main__":
    main()
