"""Several processes append to one workspace; processes killed with SIGKILL mid-write."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import lance
import polars as pl
import pytest

from nirsframe.workspace import Workspace
from tests.nirsframe.workspace._worker import main as worker_main

ROOT = Path(__file__).resolve().parents[3]


def start(root: Path, prefix: str, n_runs: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.nirsframe.workspace._worker", str(root), prefix, str(n_runs)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def check_consistent(root: Path) -> pl.DataFrame:
    """Every committed version is readable and every visible run is complete and unique."""
    ws = Workspace(root)
    for uri in (ws.runs_uri, ws.results_uri, ws.predictions_uri, ws.dataset_uri("shared")):
        if not Path(uri).is_dir():
            continue
        ds = lance.dataset(uri)
        for info in ds.versions():
            v = info["version"]
            lance.dataset(uri, version=v).to_table()
            props = ds.read_transaction(v).transaction_properties
            assert props["nirsframe.operation"], (uri, v)
    runs = ws.runs()
    assert runs["run_id"].is_unique().all()
    results, preds = ws.results(), ws.predictions()
    for rec in runs.iter_rows(named=True):
        rid = rec["run_id"]
        assert results.filter(pl.col("run_id") == rid).height == rec["n_results"] == 2
        assert preds.filter(pl.col("run_id") == rid).height == rec["n_predictions"] == 6
        assert ws.chain(rid).content_hash() == rec["chain_hash"]
    assert results.height == 2 * runs.height
    assert preds.height == 6 * runs.height
    assert len(lance.dataset(ws.dataset_uri("shared")).versions()) == 1
    return runs


def run_writers(root: Path, n_proc: int, n_runs: int) -> None:
    procs = [start(root, f"w{k}", n_runs) for k in range(n_proc)]
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
        assert len(out.split()) == n_runs
    runs = check_consistent(root)
    assert runs.height == n_proc * n_runs


def test_four_processes_five_runs(tmp_path: Path) -> None:
    run_writers(tmp_path, 4, 5)


@pytest.mark.slow
def test_eight_processes_fifty_runs(tmp_path: Path) -> None:
    run_writers(tmp_path, 8, 50)


def kill_during_writes(root: Path, n_kills: int, parallel: int) -> None:
    rng = random.Random(n_kills)
    done = 0
    while done < n_kills:
        batch = min(parallel, n_kills - done)
        procs = [start(root, f"k{done + k}", 10_000) for k in range(batch)]
        for p in procs:
            assert p.stdout is not None
            for _ in range(rng.randint(1, 3)):  # wait for a few committed runs
                p.stdout.readline()
            time.sleep(rng.uniform(0.0, 0.05))  # then kill somewhere inside a write
            p.send_signal(signal.SIGKILL)
        for p in procs:
            p.communicate(timeout=60)
            assert p.returncode == -signal.SIGKILL
        done += batch
        check_consistent(root)
    # Restarting a killed writer completes its runs without duplicating any row.
    # (in this process: a fresh interpreter would only add import time).
    before = set(Workspace(root).runs()["run_id"])
    worker_main(str(root), "k0", 6)
    after = set(check_consistent(root)["run_id"])
    assert before | {f"k0-{i}" for i in range(6)} == after


def test_kill_during_writes(tmp_path: Path) -> None:
    kill_during_writes(tmp_path, 3, parallel=3)


@pytest.mark.slow
def test_kill_during_writes_many(tmp_path: Path) -> None:
    kill_during_writes(tmp_path, 20, parallel=2)
