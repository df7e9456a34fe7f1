"""Ray replays a fitted graph (here a multi-source, target-processed run) as the local engine."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

import nirsframe.api as api
from nirsframe.engine import predict_lance
from nirsframe.workspace import Workspace
from tests.nirsframe.engine._setup import RAY_MARKS, read_sorted
from tests.nirsframe.workspace.test_graph import SOURCES, two_sources, write_lance

if TYPE_CHECKING:
    from pathlib import Path

pytest.importorskip("ray")
pytest.importorskip("ray.data")
pytest.importorskip("lance_ray")

pytestmark = RAY_MARKS


def test_ray_replays_a_graph_as_local(local_ray: None, tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    run_id = api.run(SOURCES, two_sources(), workspace=ws).run_id
    assert run_id is not None
    source = str(tmp_path / "src.lance")
    write_lance(two_sources(), source)
    local, distributed = str(tmp_path / "local.lance"), str(tmp_path / "ray.lance")
    predict_lance(ws, run_id, source, local, batch_rows=8)
    predict_lance(ws, run_id, source, distributed, engine="ray", batch_rows=8)
    a, b = read_sorted(local), read_sorted(distributed)
    assert a.height == b.height == 30
    assert a.equals(b)
