"""The Ray engine against the local one: same bits, one commit per job, no partial commits.

One local Ray (2 CPUs, ``conftest.local_ray``) serves the session; the module is skipped when
Ray Data or lance-ray is not installed (``pip install 'nirsframe[ray]'``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import lance
import pytest

from nirsframe.engine import predict_lance
from nirsframe.engine.ray import actor_pool
from tests.nirsframe.engine._setup import (
    N_ROWS,
    RAY_MARKS,
    Setup,
    build,
    lineage,
    read_sorted,
)

if TYPE_CHECKING:
    from pathlib import Path

pytest.importorskip("ray")
pytest.importorskip("ray.data")
pytest.importorskip("lance_ray")

# Together these take ~80 s on the shared 2-core machine (Ray start + worker start + JIT), so
# they are `slow`: run them with `pytest -m slow tests/nirsframe/engine`.
pytestmark = RAY_MARKS


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory, local_ray: None) -> Setup:
    return build(tmp_path_factory.mktemp("engine-ray"))


def test_actor_pool_leaves_cpu_for_reads() -> None:
    assert actor_pool(1.0) == (1, 0.25)
    n, cpus = actor_pool(2.0)
    assert n * cpus <= 1.0
    assert actor_pool(8.0) == (7, 1.0)


def test_ray_equals_local_bit_for_bit(setup: Setup, tmp_path: Path) -> None:
    local, distributed = str(tmp_path / "local.lance"), str(tmp_path / "ray.lance")
    assert predict_lance(setup.ws, setup.run_id, setup.source, local, batch_rows=128) == 1
    assert (
        predict_lance(
            setup.ws, setup.run_id, setup.source, distributed, engine="ray", batch_rows=128
        )
        == 1
    )
    a, b = read_sorted(local), read_sorted(distributed)
    assert a.height == b.height == N_ROWS
    assert a.equals(b)  # every column, every bit (y_pred included)
    assert lance.dataset(local).schema == lance.dataset(distributed).schema
    # Same lineage whichever engine wrote (the wall-clock timestamp aside).
    assert lineage(local, 1) == lineage(distributed, 1)


def test_one_version_per_job_and_failed_append_keeps_it(setup: Setup, tmp_path: Path) -> None:
    out = str(tmp_path / "preds.lance")
    assert predict_lance(setup.ws, setup.run_id, setup.source, out, engine="ray") == 1
    assert predict_lance(setup.ws, setup.run_id, setup.source, out, engine="ray") == 2
    assert lance.dataset(out).count_rows() == 2 * N_ROWS
    before = read_sorted(out)
    # One spectrum of the last fragment is NaN: its batch fails inside an actor.
    with pytest.raises(Exception, match="NaN or infinite"):
        predict_lance(setup.ws, setup.run_id, setup.poisoned, out, engine="ray", batch_rows=100)
    assert lance.dataset(out).version == 2
    assert read_sorted(out).equals(before)
