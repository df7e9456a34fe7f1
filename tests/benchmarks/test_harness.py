"""Smoke test of the benchmark harness: case (a), tiny sizes, no peers, run in-process."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

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
