"""One local Ray (2 CPUs) for every Ray test of the session, started on first use."""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture(scope="session")
def local_ray() -> Iterator[None]:
    """Ray with 2 CPUs, no dashboard, progress bars off; skipped without ``nirsframe[ray]``."""
    for name in ("ray", "ray.data", "lance_ray"):
        if importlib.util.find_spec(name) is None:
            pytest.skip(f"{name} is not installed (pip install 'nirsframe[ray]')")
    import ray
    import ray.data

    # A short temp dir: Ray's unix socket paths must stay under ~107 characters.
    temp = tempfile.mkdtemp(prefix="nfray", dir="/tmp")
    ray.init(num_cpus=2, include_dashboard=False, _temp_dir=temp, log_to_driver=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    try:
        yield
    finally:
        ray.shutdown()
        shutil.rmtree(temp, ignore_errors=True)
