"""Export -> import in a fresh virtualenv -> predict gives identical predictions (slow)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import nirsframe.api as api
from nirsframe.demo import SAMPLE_DATA
from nirsframe.workspace import Workspace, export_bundle

ROOT = Path(__file__).resolve().parents[3]

SCRIPT = textwrap.dedent(
    """
    import sys
    import nirsframe.api as api
    from nirsframe.workspace import Workspace, import_bundle

    bundle, data, out, ws = sys.argv[1:5]
    record = import_bundle(bundle, Workspace(ws), key=bundle + ".key", require_signature=True)
    api.predict(ws, record.run_id, data).write_parquet(out)
    """
)


@pytest.mark.slow
def test_bundle_predicts_identically_in_a_fresh_virtualenv(tmp_path: Path) -> None:
    spec = {
        "name": "fresh",
        "target": "fat",
        "split": {"kfold": {"n_splits": 3}},
        "steps": [
            {"snv": {}},
            {"savgol": {"window_length": 9, "deriv": 1}},
            {"model": {"pls": {"n_components": 8}}},
        ],
    }
    ws = Workspace(tmp_path / "ws")
    result = api.run(spec, SAMPLE_DATA, workspace=ws)
    here = api.predict(ws, result.run_id or "", SAMPLE_DATA)
    bundle = tmp_path / "model.nfb"
    key = Path(str(bundle) + ".key")
    key.write_bytes(np.random.default_rng(1).bytes(32))
    export_bundle(ws, result.run_id or "", bundle, key=key)

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", str(ROOT)], check=True, timeout=1500
    )
    script = tmp_path / "replay.py"
    script.write_text(SCRIPT)
    out = tmp_path / "pred.parquet"
    subprocess.run(
        [str(python), str(script), str(bundle), str(SAMPLE_DATA), str(out), str(tmp_path / "ws2")],
        check=True,
        cwd=tmp_path,
        timeout=600,
    )
    there = pl.read_parquet(out)
    assert np.array_equal(there["y_pred"].to_numpy(), here["y_pred"].to_numpy())
