"""Smoke test of the benchmark harness: case (a), tiny sizes, no peers, run in-process."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import numpy as np
import pytest

pytest.importorskip("polars")
from benchmarks.__main__ import main

if TYPE_CHECKING:
    from pathlib import Path

FIELDS = {"case", "implementation", "n", "p", "dtype", "seconds", "first_call_s", "peak_rss_mb"}


def test_case_a_without_peers(tmp_path: Path) -> None:
    argv = ["--cases", "a", "--sizes", "50,100", "--dtypes", "float64", "--no-peers"]
    argv += ["--rounds", "1", "--repeats", "3", "--p", "64", "--out", str(tmp_path)]
    argv += ["--impls", "nirskern,floor: copyto"]
    main(argv)

    run = json.loads((tmp_path / "latest.json").read_text())
    records = run["records"]
    assert {(r["implementation"], r["n"]) for r in records} == {
        (impl, n) for impl in ("nirskern kernels", "floor: copyto") for n in (50, 100)
    }
    for rec in records:
        assert rec.keys() >= FIELDS
        assert rec["seconds"] > 0
        assert rec["first_call_s"] > 0
        assert rec["peak_rss_mb"] > 0
        assert rec["p"] == 64
        if rec["role"] == "nirsframe":
            # The only comparable implementation is its own reference.
            assert rec["result_check"] == 0.0
            assert rec["vs_floor"] > 0
        else:
            assert rec["result_check"] == "n/a"
    md = (tmp_path / "benchmarks.md").read_text()
    assert "## Machine" in md
    assert "| nirskern kernels | 100 | float64 |" in md
    assert (tmp_path / "benchmarks.png").stat().st_size > 0


def test_merge_replaces_remeasured_records() -> None:
    from benchmarks.__main__ import merge

    old = [
        {"case": "a", "implementation": "x", "n": 1, "dtype": "float64", "seconds": 1.0},
        {"case": "a", "implementation": "y", "n": 1, "dtype": "float64", "seconds": 3.0},
    ]
    new = [{"case": "a", "implementation": "x", "n": 1, "dtype": "float64", "seconds": 2.0}]
    assert [(r["implementation"], r["seconds"]) for r in merge(old, new)] == [
        ("y", 3.0),
        ("x", 2.0),
    ]


def test_chunks_share_the_population_of_make_spectra() -> None:
    from benchmarks.data import iter_spectra, make_spectra

    whole = make_spectra(0, p=32, seed=3)
    chunks = list(iter_spectra(25, p=32, dtype="float32", seed=3, chunk=10))
    assert [x.shape for x, _ in chunks] == [(10, 32), (10, 32), (5, 32)]
    assert all(x.dtype == np.float32 for x, _ in chunks)
    # Same pure components: the spectra live in the span of one population (baseline + bands).
    assert whole[2].shape == (32,)
    assert chunks[0][0].tolist() != chunks[1][0].tolist()


def test_streaming_case_matches_the_numpy_reference(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Case (d) in-process at a tiny size: Lance in, nirsframe chain expression, Lance out."""
    pytest.importorskip("lance")
    pytest.importorskip("sklearn")
    from benchmarks import harness
    from benchmarks.cases import streaming

    monkeypatch.setattr(streaming, "DATA_DIR", tmp_path)
    monkeypatch.setattr(streaming, "N_FIT", 200)
    outs = {}
    for impl in ("nirsframe streaming", "numpy/scipy+sklearn"):
        spec = {"module": streaming.MODULE, "bench": "d", "impl": impl, "n": 300, "p": 64}
        spec |= {
            "dtype": "float32",
            "seed": 0,
            "repeats": 1,
            "out": str(tmp_path / f"{len(outs)}.npy"),
        }
        res = harness.run_worker(spec)
        assert res["seconds"] > 0
        assert res["data_mb"] == pytest.approx(300 * 64 * 4 / 2**20)
        outs[impl] = np.load(spec["out"])
    assert outs["nirsframe streaming"].shape == (300,)
    # float32 spectra preprocessed in float32 (nirsframe) vs float64 (scipy): ~1e-4 relative.
    np.testing.assert_allclose(
        outs["nirsframe streaming"], outs["numpy/scipy+sklearn"], rtol=1e-3, atol=1e-2
    )
