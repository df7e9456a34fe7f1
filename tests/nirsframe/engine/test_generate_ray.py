"""``nf.generate(engine="ray")`` against the local engine: same rows, order, schema, lineage."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import lance
import pyarrow as pa
import pytest

import nirsframe as nf
from nirsframe.engine.generate import prepare_generate, run_generate_ray
from nirsframe.synthetic import BLOCK_SAMPLES, GeneratorConfig, Instrument, Plan
from tests.nirsframe.engine._setup import RAY_MARKS

if TYPE_CHECKING:
    from pathlib import Path

pytest.importorskip("ray")
pytest.importorskip("lance_ray")
pytestmark = RAY_MARKS

SMALL = Instrument(name="small", start=1000.0, stop=2400.0, n_points=64)
N = 2 * BLOCK_SAMPLES + 300  # three blocks, the last one partial


def _properties(uri: str, version: int) -> dict[str, str]:
    return dict(lance.dataset(uri).read_transaction(version).transaction_properties or {})


def test_ray_generation_equals_local_bit_for_bit(local_ray: None, tmp_path: Path) -> None:
    local, distributed = str(tmp_path / "local.lance"), str(tmp_path / "ray.lance")
    kw = {"instruments": [SMALL], "repetitions": 2, "n_classes": 3, "dtype": "float32", "seed": 7}
    nf.generate(N, lance_uri=local, **kw)  # type: ignore[arg-type]
    ds = nf.generate(N, lance_uri=distributed, engine="ray", **kw)  # type: ignore[arg-type]
    a, b = lance.dataset(local), lance.dataset(distributed)
    assert a.version == b.version == 1
    assert a.schema == b.schema  # axes and roles metadata included
    assert a.schema.metadata == b.schema.metadata
    assert a.to_table().equals(b.to_table())  # same rows in the same order, every bit
    assert _properties(local, 1) == _properties(distributed, 1)
    assert ds.axes == nf.generate(1, instruments=[SMALL]).axes


def test_ray_append_is_one_version_and_failure_keeps_it(local_ray: None, tmp_path: Path) -> None:
    uri = str(tmp_path / "gen.lance")
    nf.generate(100, instruments=[SMALL], lance_uri=uri, engine="ray")
    nf.generate(100, instruments=[SMALL], lance_uri=uri, engine="ray", mode="append", seed=1)
    assert lance.dataset(uri).version == 2
    before = lance.dataset(uri).to_table()
    plan = Plan.build(GeneratorConfig(instruments=(SMALL,)))
    job = prepare_generate(
        plan, 3000, uri, mode="append", properties={}, commit_message="m", file_bytes=1
    )
    # Spectra of another width than the schema's: every write task fails after the first
    # blocks are made, nothing is committed.
    narrow = pa.field("spectra", pa.list_(pa.float64(), 8))
    wrong = job.schema.set(job.schema.get_field_index("spectra"), narrow)
    with pytest.raises(Exception, match="(?i)spectra|cast|size"):
        run_generate_ray(dataclasses.replace(job, schema=wrong), blocks_per_task=1)
    assert lance.dataset(uri).version == 2
    assert lance.dataset(uri).to_table().equals(before)


def test_cli_generate_with_ray(local_ray: None, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from nirsframe.cli import app

    uri = str(tmp_path / "cli.lance")
    args = ["generate", uri, "-n", "50", "--instrument", "a:1000:2000:32", "--engine", "ray"]
    res = CliRunner().invoke(app, [*args, "--json"])
    assert res.exit_code == 0, res.output
    assert lance.dataset(uri).count_rows() == 50
