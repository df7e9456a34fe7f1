"""Ratios, the machine description, the markdown table and the log-log plot of a run.

Examples
--------
>>> recs = [
...     {"case": "a", "n": 10, "dtype": "float64", "role": "floor", "seconds": 1.0},
...     {"case": "a", "n": 10, "dtype": "float64", "role": "nirsframe", "seconds": 2.0},
...     {"case": "a", "n": 10, "dtype": "float64", "role": "nirs4all", "seconds": 8.0},
... ]
>>> add_ratios(recs)[1]["vs_floor"], recs[1]["vs_nirs4all"], recs[1]["vs_best_peer"]
(2.0, 4.0, 4.0)
"""

from __future__ import annotations

import os
import platform
from collections import defaultdict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path


def add_ratios(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add ``vs_floor`` (seconds / fastest floor), ``vs_nirs4all`` (fastest nirs4all / seconds)
    and ``vs_best_peer`` (fastest peer or nirs4all / seconds) to each timed record, per
    (case, n, dtype). Ratios above 1 in the last two mean "faster than them"."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for rec in records:
        groups[rec["case"], rec["n"], rec["dtype"]].append(rec)

    def best(recs: list[dict[str, Any]], roles: tuple[str, ...]) -> float | None:
        times = [r["seconds"] for r in recs if r["role"] in roles and r.get("seconds")]
        return min(times) if times else None

    for recs in groups.values():
        floor = best(recs, ("floor",))
        n4a = best(recs, ("nirs4all",))
        peer = best(recs, ("peer", "nirs4all"))
        for rec in recs:
            s = rec.get("seconds")
            peak, data = rec.get("peak_rss_mb"), rec.get("data_mb")
            rec["rss_vs_data"] = peak / data if peak and data else None
            rec["vs_floor"] = s / floor if s and floor else None
            rec["vs_nirs4all"] = n4a / s if s and n4a else None
            rec["vs_best_peer"] = peer / s if s and peer else None
    return records


def machine_info() -> dict[str, Any]:
    """Cores, CPU model, memory and OS of this machine."""
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next(
                (ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), ""
            )
    except OSError:
        pass
    mem_gb = None
    try:
        with open("/proc/meminfo") as f:
            kib = int(next(ln for ln in f if ln.startswith("MemTotal")).split()[1])
        mem_gb = round(kib / 1024**2, 1)
    except (OSError, StopIteration):
        pass
    return {
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)),
        "cpu": model or platform.processor(),
        "memory_gb": mem_gb,
        "os": platform.platform(),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
    }


#: What each case measures and what each peer does, printed above its table.
CASE_NOTES: dict[str, list[str]] = {
    "a/jit": [
        "`first call s` is the first call of the kernel in a fresh process, after another kernel",
        "started numba there (untimed): its compilation (cache off) or its load from numba's",
        "on-disk cache (cache on). `first kernel of a process` includes numba's one-time",
        "start-up in the process.",
        "",
    ],
    "b": [
        "SNV -> SG(15, 2, 1) -> PLS 10 components, 5-fold contiguous KFold; every",
        "implementation returns the RMSECV (pooled out-of-fold predictions) at 10 components.",
        "nirsframe pipeline = `nirsframe.api.run` on a spec; chemotools+sklearn = one",
        "`cross_val_predict`; scipy+ikpls = fast CV (1..10 components in one pass); nirs4all =",
        "`nirs4all.run` (computes in float32, so its check differs at ~1e-5).",
        "",
    ],
    "c": [
        "4 preprocessings (SNV, MSC, SG deriv 1, SNV+SG) x PLS 1..20, 5-fold KFold, best RMSECV.",
        "nirsframe pipeline = one spec with `_or_` x `_range_`, MSC fitted per training fold;",
        "chemotools+sklearn = `cross_val_predict` per (chain, count) (MSC refitted per fold in",
        "the sklearn pipeline); scipy+ikpls = stateless chains by fast CV on the preprocessed",
        "matrix, MSC per fold (reference = training-fold mean) then ikpls fitted per fold;",
        "nirs4all = one pipeline with `_or_` and `_range_` (its preprocessing before the",
        "splitter is fitted on all rows: MSC is not per fold there). Floor = one XᵀX per chain.",
        "",
    ],
    "d": [
        "N float32 spectra (1024) from a Lance dataset -> SNV -> SG(15, 2, 1) -> PLS(10) fitted",
        "on 2,000 rows (untimed) -> predictions written to a NEW Lance dataset. nirsframe =",
        "`pl.scan_pyarrow_dataset` + `FittedChain.to_expr` + `collect_batches(engine=",
        '"streaming")` into `lance.write_dataset`; peers loop over Lance batches. Floor = Lance',
        "read + write copy of the spectra. `check` compares the predictions read back.",
        "",
    ],
}


#: (case, implementation, peer implementation or None for memory, target, label)
TARGETS = (
    ("c", "nirsframe pipeline", "nirs4all", 100.0, "speed-up vs fastest nirs4all engine"),
    ("c", "nirsframe pipeline", "scipy+ikpls", 2.0, "speed-up vs scipy+ikpls"),
    ("c", "nirsframe pipeline", None, 2.0, "peak RSS / data size (at most)"),
    ("b", "nirsframe pipeline", "nirs4all", 50.0, "speed-up vs fastest nirs4all engine"),
    ("b", "nirsframe pipeline", "scipy+ikpls fast CV", 1.0, "speed-up vs scipy+ikpls"),
    ("d", "nirsframe streaming", "rss_gb", 2.0, "peak RSS GiB (at most; target at 1M)"),
    ("d", "nirsframe streaming", "numpy/scipy+sklearn", 1.0, "speed-up vs numpy/scipy+sklearn"),
    ("d", "nirsframe streaming", "floor", 1.0, "seconds / Lance copy floor (informative)"),
)


def targets(records: list[dict[str, Any]]) -> list[str]:
    """The issue's targets, per size: measured value, target, met or missed."""
    by_key = {(r["case"], r["implementation"], r["n"], r["dtype"]): r for r in records}
    rows = []
    for case, impl, peer, target, label in TARGETS:
        for (c, name, n, dtype), rec in sorted(by_key.items(), key=lambda kv: kv[0][2]):
            if c != case or name != impl or not rec.get("seconds"):
                continue
            if peer is None:
                value, ok = rec.get("rss_vs_data"), None
                # Below ~100 MB of input the interpreter and imports (~150-300 MB) dominate.
                if value is not None and (rec.get("data_mb") or 0) >= 100:
                    ok = value <= target
            elif peer == "floor":
                value, ok = rec.get("vs_floor"), None
            elif peer == "rss_gb":
                value = rec["peak_rss_mb"] / 1024
                ok = value <= target if n >= 1_000_000 else None
            else:
                peers = [
                    r["seconds"]
                    for (c2, name2, n2, d2), r in by_key.items()
                    if (c2, n2, d2) == (c, n, dtype) and name2.startswith(peer) and r.get("seconds")
                ]
                value = min(peers) / rec["seconds"] if peers else None
                ok = value >= target if value is not None else None
                if value is None:  # say why: skipped, unavailable, not run
                    why = [
                        str(r.get("result_check"))
                        for (c2, name2, n2, d2), r in by_key.items()
                        if (c2, n2, d2) == (c, n, dtype) and name2.startswith(peer)
                    ]
                    value = "; ".join(why) or "not run"
            verdict = "n/a" if ok is None else ("met" if ok else "missed")
            rows.append(
                f"| {case} | {impl} | {n} | {dtype} | {label} | {_fmt(value)} | {target:g} "
                f"| {verdict} |"
            )
    if not rows:
        return []
    head = "| case | implementation | n | dtype | measure | value | target | verdict |"
    note = "Memory verdicts only where the input is at least 100 MB (n/a below)."
    return ["## Targets", "", note, "", head, "|" + "---|" * 8, *rows, ""]


def operator_targets(records: list[dict[str, Any]]) -> list[str]:
    """Case (e) in one table: each operator against its reference, with the floor's bound.

    ``bound`` = reference seconds / floor seconds: the largest speed-up an operator could show if
    it ran at the speed of one read+write pass of the matrix (the floor); a target above it
    cannot be met on this machine by any implementation that returns a new matrix.
    """
    from benchmarks.cases.operators import REFERENCES, target

    by_key = {(r["case"], r["implementation"], r["n"], r["dtype"]): r for r in records}
    rows = []
    for (case, impl, n, dtype), rec in sorted(by_key.items(), key=lambda kv: kv[0]):
        name = case.removeprefix("e/")
        if not case.startswith("e/") or impl != "nirsframe" or name not in REFERENCES:
            continue
        ref = by_key.get((case, REFERENCES[name].source, n, dtype), {})
        floor = by_key.get((case, "floor: copy", n, dtype), {})
        ours, theirs = rec.get("seconds"), ref.get("seconds")
        if not ours or not theirs or not floor.get("seconds"):  # a floor: the same run
            continue
        speedup, goal = theirs / ours, target(name)
        bound = theirs / floor["seconds"]
        verdict = "met" if speedup >= goal else "missed"
        if verdict == "missed" and bound < goal:
            verdict = "missed (target above the floor's bound)"
        rows.append(
            f"| {name} | {n} | {dtype} | {_fmt(ours, 4)} | {REFERENCES[name].source} "
            f"| {_fmt(theirs, 4)} | {_fmt(speedup)} | {goal:g} | {_fmt(bound)} "
            f"| {_fmt(ours / floor['seconds'])} | {verdict} |"
        )
    if not rows:
        return []
    head = (
        "| operator | n | dtype | seconds | reference | reference s | speed-up | target "
        "| bound (reference / floor) | x floor | verdict |"
    )
    note = (
        "Case (e) by operator. Targets: baselines 10x pybaselines, other stateless transforms 5x,"
        " fitted operators and augmentations at least parity. `bound` is the reference's time"
        " over one read+write pass producing a new matrix in recycled memory (`floor: copy`:"
        " `np.copyto` into a block from Arrow's memory pool, where nirsframe puts its results;"
        " same run): the most any implementation returning a new matrix can gain over the"
        " reference here."
    )
    return ["## Operators (case e)", "", note, "", head, "|" + "---|" * 11, *rows, ""]


def _fmt(v: Any, digits: int = 3) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.{digits}g}"
    return str(v)


def _env_lines(name: str, env: dict[str, Any]) -> list[str]:
    if not env:
        return [f"- **{name}**: not used in this run"]
    versions = ", ".join(f"{k} {v}" for k, v in sorted(env.get("versions", {}).items()))
    blas = "; ".join(
        f"{b.get('internal_api')} {b.get('version')} ({b.get('architecture')}, "
        f"{b.get('num_threads')} threads)"
        for b in env.get("blas", [])
    )
    return [f"- **{name}**: Python {env.get('python')}; {versions}", f"  - BLAS: {blas or 'n/a'}"]


def markdown(run: dict[str, Any]) -> str:
    """The whole report: machine and environments first, then one table per case."""
    m = run["machine"]
    commands = run.get("commands", [run["argv"]])
    threads = run.get("blas_threads")
    lines = [
        "# Benchmarks against the field",
        "",
        f"Generated on {run['date']} by (in order, later runs replacing rows of earlier ones):",
        "",
        *[f"    python -m benchmarks {' '.join(c)}" for c in commands],
        "",
        f"BLAS threads per worker: {threads if threads else 'library default'} (the same for",
        "every implementation, peers included).",
        "",
        "Each row comes from one worker process per (case, implementation, n, dtype), run",
        f"interleaved over {run['rounds']} round(s). `seconds` is the median of the timed repeats",
        f"({run['repeats']} per round, pooled; a repeat of calls under 50 ms loops the call for",
        "at least 50 ms and counts the mean per call); `first call` is the best first call of",
        "the rounds (it includes numba JIT compilation or cache loading). `peak RSS` is the",
        "worker's peak resident memory (VmHWM, reset once the input is generated, so the",
        "generator's",
        "temporaries are excluded), `RSS with data` the same just before the build step",
        "(interpreter, imports and generated input). `check` is the max abs difference from the",
        "case's reference implementation (named in the JSON); `n/a` for the floor.",
        "Ratios: `x floor` = seconds / fastest floor; `nirs4all/this` and `best peer/this` are",
        "speed-ups (above 1: this implementation is faster). `RSS/data` = peak RSS / size of",
        "the input matrix X (n x p x itemsize; interpreter and imports included, so it only means",
        "something at large n). Synthetic spectra: 1024 channels.",
        "",
        "## Machine",
        "",
        f"- {m['cpu']}; {m['cores']} cores ({m['usable_cores']} usable); {m['memory_gb']} GiB;",
        f"  {m['os']}; OPENBLAS_CORETYPE={m['OPENBLAS_CORETYPE']}",
        *_env_lines("project .venv", run["envs"].get("project", {})),
        *_env_lines("peers venv", run["envs"].get("peers", {})),
        "",
    ]
    lines += targets(run["records"])
    lines += operator_targets(run["records"])
    if run.get("notes"):
        lines += ["## Notes", "", *[f"- {n}" for n in run["notes"]], ""]
    by_case: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for rec in run["records"]:
        by_case[rec["case"]].append(rec)
    lines += ["## Results", ""]
    header = (
        "| implementation | n | dtype | seconds | first call s | peak RSS MB | RSS with data MB"
        " | RSS/data | check | x floor | nirs4all/this | best peer/this |"
    )
    for case, recs in by_case.items():
        lines += [f"### {case}", "", *CASE_NOTES.get(case, []), header, "|" + "---|" * 12]
        for r in sorted(recs, key=lambda r: (r["dtype"], r["n"])):
            lines.append(
                f"| {r['implementation']} | {r['n']} | {r['dtype']} | {_fmt(r['seconds'], 4)} "
                f"| {_fmt(r['first_call_s'])} | {_fmt(r['peak_rss_mb'], 4)} "
                f"| {_fmt(r.get('data_rss_mb'), 4)} | {_fmt(r.get('rss_vs_data'))} "
                f"| {_fmt(r['result_check'], 2)} | {_fmt(r.get('vs_floor'))} "
                f"| {_fmt(r.get('vs_nirs4all'))} | {_fmt(r.get('vs_best_peer'))} |"
            )
        lines.append("")
    return "\n".join(lines)


def plot(records: list[dict[str, Any]], path: Path) -> bool:
    """Seconds vs n, log-log, one panel per case with several sizes; False without matplotlib."""
    try:
        import matplotlib as mpl

        mpl.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    series: dict[str, dict[tuple[str, str], list[tuple[int, float]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for r in records:
        if r.get("seconds"):
            series[r["case"]][r["implementation"], r["dtype"]].append((r["n"], r["seconds"]))
    cases = [c for c, s in series.items() if any(len(v) > 1 for v in s.values())]
    if not cases:
        return False
    cols = min(3, len(cases))
    rows = -(-len(cases) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 3.8 * rows), squeeze=False)
    for ax, case in zip(axes.flat, cases, strict=False):
        # nirsframe first, so it has the same colour in every panel.
        items = sorted(
            series[case].items(),
            key=lambda kv: (not kv[0][0].startswith(("nirsframe", "nirskern")), kv[0]),
        )
        for (impl, dtype), pts in items:
            pts.sort()
            ax.plot(
                [p[0] for p in pts],
                [p[1] for p in pts],
                marker="o",
                linestyle="-" if dtype == "float64" else "--",
                label=f"{impl} ({dtype})",
            )
        ax.set(xscale="log", yscale="log", title=case, xlabel="n spectra", ylabel="seconds")
        ax.grid(visible=True, which="both", alpha=0.3)
        ax.legend(fontsize=6)
    for ax in list(axes.flat)[len(cases) :]:
        ax.set_visible(False)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return True
