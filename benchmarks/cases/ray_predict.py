"""Batch prediction over Lance, local engine vs Ray engine (not part of ``python -m benchmarks``).

Run it on its own (it writes ``n`` float32 spectra to a temporary Lance dataset first)::

    .venv/bin/python -m benchmarks.cases.ray_predict --n 1000000
    .venv/bin/python -m benchmarks.cases.ray_predict --n 100000 --ray-address auto

A chain SNV -> Savitzky-Golay(15, 2, deriv 1) -> PLS(10) is fitted untimed on the first 2,000
spectra and recorded as a run. One :func:`~nirsframe.engine.job.prepare_job` (source content
hash, lineage) is timed separately and shared by both engines, so the engine timings compare
read -> predict -> write -> one commit. The Ray side reports ``ray.init`` and its first job
(worker start, imports, JIT) apart from a warm job. The two outputs are compared bit for bit.
Prints one JSON document.

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

import numpy as np

from benchmarks.data import make_spectra

CHUNK = 50_000
N_FIT = 2_000


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (see the module docstring)."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.cases.ray_predict", description=__doc__)
    ap.add_argument("--n", type=int, default=1_000_000, help="spectra to predict")
    ap.add_argument("--p", type=int, default=1024, help="channels per spectrum")
    ap.add_argument("--ray-address", default=None, help="Ray cluster (default: a local Ray)")
    ap.add_argument("--num-cpus", type=int, default=None, help="CPUs of the local Ray")
    ap.add_argument("--batch-rows", type=int, default=8192)
    ap.add_argument("--workdir", type=Path, default=None, help="keep the data here")
    return ap.parse_args(argv)


def write_source(uri: str, n: int, p: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stream ``n`` float32 spectra (``CHUNK`` at a time) into ``uri``: first chunk, y, axis."""
    import pyarrow as pa

    from nirsframe.axis import SpectralAxis
    from nirsframe.dataset import DatasetRoles
    from nirsframe.io.lance import write_lance_stream

    x0, y0, axis = make_spectra(min(n, CHUNK), p, dtype="float32", seed=0)
    schema = pa.schema([("sample_id", pa.string()), ("spectra", pa.list_(pa.float32(), p))])

    def batches() -> Any:
        for i, start in enumerate(range(0, n, CHUNK)):
            m = min(CHUNK, n - start)
            x = x0 if i == 0 else make_spectra(m, p, dtype="float32", seed=i)[0]
            ids = pa.array([f"s{j:08d}" for j in range(start, start + m)])
            values = pa.FixedSizeListArray.from_arrays(pa.array(x[:m].reshape(-1)), p)
            yield pa.record_batch([ids, values], schema=schema)

    write_lance_stream(
        pa.RecordBatchReader.from_batches(schema, batches()),
        uri,
        axes={"spectra": SpectralAxis(axis)},
        roles=DatasetRoles(id="sample_id"),
    )
    return x0, y0, axis


def record_run(root: Path, x: np.ndarray, y: np.ndarray, axis: np.ndarray) -> tuple[Any, str]:
    """Fit the chain on the first ``N_FIT`` spectra and record it as a run."""
    from nirsframe.dataset import SpectralDataset
    from nirsframe.models.pls import PLS
    from nirsframe.operators import SavitzkyGolay, StandardNormalVariate
    from nirsframe.workspace import FittedChain, Workspace

    xf, yf = np.asarray(x[:N_FIT], dtype=np.float64), y[:N_FIT]
    ws = Workspace(root / "ws")
    ref = ws.ingest(SpectralDataset.from_numpy(x[:N_FIT], y=yf, axis=axis), "train")
    snv = StandardNormalVariate().fit(xf)
    sg = SavitzkyGolay(window_length=15, polyorder=2, deriv=1).fit(xf)
    xt = sg.transform(snv.transform(xf))
    chain = FittedChain.from_estimators([snv, sg], PLS(n_components=10).fit(xt, yf))
    rec = ws.record_run(dataset=ref, spec_json='{"steps":[]}', chain=chain)
    return ws, rec.run_id


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the comparison and print/return the JSON document."""
    import dataclasses

    import lance
    import polars as pl

    from nirsframe.engine.job import prepare_job
    from nirsframe.engine.local import run_local
    from nirsframe.engine.ray import import_ray, run_ray

    args = parse_args(argv)
    root = args.workdir or Path(tempfile.mkdtemp(prefix="bench-ray-"))
    root.mkdir(parents=True, exist_ok=True)
    out: dict[str, Any] = {
        "n": args.n,
        "p": args.p,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
    }
    try:
        src = str(root / "source.lance")
        t = time.perf_counter()
        x0, y0, axis = write_source(src, args.n, args.p)
        out["write_source_s"] = round(time.perf_counter() - t, 2)
        ws, run_id = record_run(root, x0, y0, axis)

        t = time.perf_counter()
        job = prepare_job(ws, run_id, src, str(root / "local.lance"))
        out["prepare_job_s (source hash)"] = round(time.perf_counter() - t, 2)

        t = time.perf_counter()
        run_local(job, batch_rows=args.batch_rows)
        out["local_s"] = round(time.perf_counter() - t, 2)

        ray, _ = import_ray()
        t = time.perf_counter()
        ray.init(address=args.ray_address, num_cpus=args.num_cpus, include_dashboard=False)
        ray.data.DataContext.get_current().enable_progress_bars = False
        out["ray_init_s"] = round(time.perf_counter() - t, 2)
        out["ray_cpus"] = ray.cluster_resources().get("CPU")
        for label, target in (("ray_first_job_s", "ray1.lance"), ("ray_warm_job_s", "ray2.lance")):
            ray_job = dataclasses.replace(job, out_uri=str(root / target))
            t = time.perf_counter()
            run_ray(ray_job, batch_rows=args.batch_rows)
            out[label] = round(time.perf_counter() - t, 2)
        ray.shutdown()

        def frame(name: str) -> pl.DataFrame:
            f = pl.from_arrow(lance.dataset(str(root / name)).to_table())
            assert isinstance(f, pl.DataFrame)
            return f.sort("row_address")

        local, ray2 = frame("local.lance"), frame("ray2.lance")
        out["rows"] = local.height
        out["bit_identical"] = bool(local.equals(ray2))
        out["spectra_per_s_local"] = round(args.n / out["local_s"])
        out["spectra_per_s_ray_warm"] = round(args.n / out["ray_warm_job_s"])
    finally:
        if args.workdir is None:
            shutil.rmtree(root, ignore_errors=True)
    print(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
