"""The HTML report: one self-contained file with the ranking table and embedded PNG plots."""

from __future__ import annotations

import base64
from html.parser import HTMLParser
from typing import TYPE_CHECKING

import numpy as np
import pytest
from typer.testing import CliRunner

import nirsframe as nf
from nirsframe.cli import app
from nirsframe.demo import SAMPLE_DATA
from nirsframe.exceptions import WorkspaceError
from nirsframe.report import ranking_frame
from nirsframe.workspace import Workspace

if TYPE_CHECKING:
    from pathlib import Path

pytest.importorskip("matplotlib")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PREFIX = "data:image/png;base64,"
SPEC = {
    "name": "rep",
    "target": "fat",
    "split": {"venetian": {"n_splits": 4}},
    "steps": [
        {"_or_": [[], {"snv": {}}, {"detrend": {"order": 1}}]},
        {"model": {"pls": {"n_components": {"_range_": [1, 8]}}}},
    ],
}


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.tables: list[str] = []
        self.rows = 0
        self.headers: list[str] = []
        self._in_th = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "img":
            self.images.append(a.get("src") or "")
        elif tag == "table":
            self.tables.append(a.get("id") or "")
        elif tag == "tr":
            self.rows += 1
        self._in_th = tag == "th"

    def handle_endtag(self, tag: str) -> None:
        self._in_th = False

    def handle_data(self, data: str) -> None:
        if self._in_th:
            self.headers.append(data)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    ws = tmp_path_factory.mktemp("report") / "ws"
    res = nf.run(SPEC, SAMPLE_DATA, workspace=ws, train_values=["train", "monitor"])
    assert res.run_id is not None
    return ws, res.run_id


def test_report_is_one_self_contained_html_file(recorded: tuple[Path, str], tmp_path: Path) -> None:
    ws, run_id = recorded
    path = nf.report(ws, run_id, out=tmp_path / "sub" / "r.html")
    text = path.read_text(encoding="utf-8")
    parser = _Collector()
    parser.feed(text)
    parser.close()
    assert parser.tables == ["ranking"]
    assert parser.rows == 1 + 20  # header + top 20 of 24 variants
    assert {"RMSECV", "RMSEP", "Preprocessing", "LV"} <= set(parser.headers)
    # pred-vs-obs, RMSECV curve, residuals, spectra, coefficients + VIP
    assert text.count(f'<img src="{PREFIX}') == 5
    assert len(parser.images) == 5
    for src in parser.images:
        assert src.startswith(PREFIX)
        png = base64.b64decode(src.removeprefix(PREFIX), validate=True)
        assert png[:8] == PNG_SIGNATURE
        assert len(png) > 10_000
    assert 'src="http' not in text
    assert "<script" not in text
    assert run_id in text


def test_ranking_frame_parses_labels(recorded: tuple[Path, str]) -> None:
    ws, run_id = recorded
    ranking = ranking_frame(Workspace(ws).results(run_id))
    assert ranking.height == 24
    assert set(ranking["preprocessing"].unique()) == {"raw", "snv", "detrend(order=1)"}
    assert sorted(ranking["n_components"].unique().to_list()) == list(range(1, 9))
    assert ranking["rmsecv"].is_sorted()
    best = Workspace(ws).run(run_id).parameters["best"]
    top = ranking.row(0, named=True)
    assert (top["variant"], top["n_components"]) == (best["variant"], best["n_components"])


def test_report_failure_paths(recorded: tuple[Path, str], tmp_path: Path) -> None:
    ws, _ = recorded
    with pytest.raises(WorkspaceError, match="no run 'unknown'"):
        nf.report(ws, "unknown", out=tmp_path / "x.html")
    assert not (tmp_path / "x.html").exists()
    res = CliRunner().invoke(
        app, ["report", "unknown", "-w", str(ws), "--out", str(tmp_path / "y.html")]
    )
    assert res.exit_code == 1
    assert res.output.startswith("error: no run 'unknown'")


def test_cli_report(recorded: tuple[Path, str], tmp_path: Path) -> None:
    ws, run_id = recorded
    out = tmp_path / "cli.html"
    res = CliRunner().invoke(app, ["report", run_id, "-w", str(ws), "-o", str(out), "-q"])
    assert res.exit_code == 0, res.output
    assert out.read_text().count(PREFIX) == 5
    assert res.output == ""


def test_report_without_test_rows(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 30)).cumsum(axis=1)
    y = x[:, 5] - x[:, 20]
    spec = {
        "name": "nosplit",
        "target": "y",
        "split": {"kfold": {"n_splits": 4}},
        "steps": [{"model": {"pls": {"n_components": {"_range_": [1, 3]}}}}],
    }
    with nf.session(tmp_path / "ws") as s:  # through a session: cached chain and dataset
        res = s.run(spec, (x, y))
        assert res.run_id is not None
        text = s.report(res.run_id, tmp_path / "r.html").read_text()
        assert s.stats["chain_misses"] == 1
    # no test rows: the predicted-vs-observed figure has the CV panel only; still 5 images
    assert text.count(PREFIX) == 5
    assert "0 test rows" in text
