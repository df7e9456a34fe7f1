"""``nirsframe generate`` through typer's CliRunner."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from typer.testing import CliRunner

from nirsframe.cli import app
from nirsframe.io.lance import scan_lance

if TYPE_CHECKING:
    from pathlib import Path


def test_generate_writes_lance_and_prints_json(tmp_path: Path) -> None:
    uri = tmp_path / "g.lance"
    args = ["generate", str(uri), "-n", "40", "--repetitions", "2", "--classes", "2", "--json",
            "--instrument", "a:1000:2400:100", "--instrument", "b:950:1650:32:16"]  # fmt: skip
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["rows"] == 80
    assert summary["version"] == 1
    axes = {"spectra_a": [1000.0, 2400.0, 100], "spectra_b": [950.0, 1650.0, 32]}
    assert summary["axes"] == axes
    ds = scan_lance(uri)
    assert ds.roles.spectra == ("spectra_a", "spectra_b")
    assert ds.frame.select("class").collect().height == 80


def test_quiet_prints_nothing(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["generate", str(tmp_path / "q.lance"), "-n", "5", "--quiet"])
    assert res.exit_code == 0
    assert res.stdout.strip() == ""


def test_failures_exit_1_with_a_one_line_reason(tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["generate", str(tmp_path / "x.lance"), "--components", "water,gold"])
    assert res.exit_code == 1
    assert "unknown component 'gold'" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    bad = runner.invoke(app, ["generate", str(tmp_path / "y.lance"), "--instrument", "a:1:2"])
    assert bad.exit_code == 1
    assert "NAME:START:STOP:N_POINTS" in bad.stderr
    uri = str(tmp_path / "z.lance")
    assert runner.invoke(app, ["generate", uri, "-n", "3", "-q"]).exit_code == 0
    again = runner.invoke(app, ["generate", uri, "-n", "3", "-q"])
    assert again.exit_code == 1
    assert again.stderr.startswith("error:")
    assert "exists" in again.stderr
