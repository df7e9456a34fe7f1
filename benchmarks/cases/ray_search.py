"""Generation and the streamed PLS search over Lance, local vs Ray (not in ``-m benchmarks``).

Run it on its own::

    .venv/bin/python -m benchmarks.cases.ray_search --n 100000

``nf.generate`` writes ``n`` float32 spectra (1024 points) with each engine (the two datasets
are compared bit for bit), then one search (raw, SNV, MSC, SNV + SG(15, 2, 1) x PLS 1-15,
5-fold) runs in memory (``nf.run``), streamed in this process (``engine="local"``) and on a
local Ray (``engine="ray"``, first and warm job). Prints one JSON document.

Examples
--------
>>> parse_args(["--n", "1000"]).n
1000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

SPEC: dict[str, Any] = {
    "name": "bench",
    "target": "fat",
    "split": {"kfold": {"n_splits": 5}},
    "steps": [
        {
            "_or_": [
                [],
                {"snv": {}},
                {"msc": {}},
                [{"snv": {}}, {"savgol": {"window_length": 15, "polyorder": 2, "deriv": 1}}],
            ]
        },
        {"model": {"pls": {"n_components": {"_range_": [1, 15]}}}},
    ],
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (see the module docstring)."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.cases.ray_search", description=__doc__)
    ap.add_argument("--n", type=int, default=100_000, help="spectra to generate and search")
    ap.add_argument("--num-cpus", type=int, default=None, help="CPUs of the local Ray")
    ap.add_argument("--workdir", type=Path, default=None, help="keep the data here")
    return ap.parse_args(argv)


def _timed(fn: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, round(time.perf_counter() - t0, 2)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark and return its JSON document."""
    import lance
    import numpy as np
    import ray

    import nirsframe as nf

    args = parse_args(argv)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="nf-ray-search-"))
    local_uri, ray_uri = str(work / "local.lance"), str(work / "ray.lance")
    for uri in (local_uri, ray_uri):
        shutil.rmtree(uri, ignore_errors=True)
    kw: dict[str, Any] = {"dtype": "float32", "seed": 0}
    out: dict[str, Any] = {"n": args.n, "machine": platform.machine(), "cpus": os.cpu_count()}
    _, out["generate_local_s"] = _timed(lambda: nf.generate(args.n, lance_uri=local_uri, **kw))
    _, out["ray_init_s"] = _timed(
        lambda: ray.init(num_cpus=args.num_cpus, include_dashboard=False, log_to_driver=False)
    )
    ray.data.DataContext.get_current().enable_progress_bars = False
    _, out["generate_ray_s"] = _timed(
        lambda: nf.generate(args.n, lance_uri=ray_uri, engine="ray", **kw)
    )
    out["generated_identical"] = (
        lance.dataset(local_uri).to_table().equals(lance.dataset(ray_uri).to_table())
    )
    memory, out["run_in_memory_s"] = _timed(lambda: nf.run(SPEC, local_uri))
    local, out["run_local_s"] = _timed(lambda: nf.run(SPEC, local_uri, engine="local"))
    _, out["run_ray_first_s"] = _timed(lambda: nf.run(SPEC, local_uri, engine="ray"))
    warm, out["run_ray_warm_s"] = _timed(lambda: nf.run(SPEC, local_uri, engine="ray"))
    ray.shutdown()

    def rmsecv(res: Any) -> Any:
        return res.ranking.sort("variant")["rmsecv"].to_numpy()

    out["variants"] = memory.ranking.height
    out["best_rmsecv"] = float(memory.best["rmsecv"])
    out["max_rel_rmsecv_local_vs_memory"] = float(
        np.max(np.abs(rmsecv(local) - rmsecv(memory)) / rmsecv(memory))
    )
    out["ray_equals_local_bitwise"] = bool(
        local.ranking.equals(warm.ranking) and local.oof.equals(warm.oof)
    )
    out["units"] = local.extra["units"]
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)
    return out


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
