"""The main job on embedded defaults: the shipped Tecator data, a preprocessing x PLS search with
venetian-blind cross-validation, results written to a local Lance workspace.

>>> result = run_demo(workspace=None)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import lance
import polars as pl

import nirsframe
from nirsframe.io import read_parquet
from nirsframe.pipeline.execute import execute
from nirsframe.pipeline.result import SearchResult
from nirsframe.pipeline.variants import ModelStep, Step, Variant
from nirsframe.validation.splitters import parse_split

PREPROCESSINGS: tuple[tuple[Step, ...], ...] = (
    (),
    (Step.of("snv"),),
    (Step.of("msc"),),
    (Step.of("detrend", {"order": 1}),),
    (Step.of("savgol", {"window_length": 9, "polyorder": 2, "deriv": 1}),),
    (Step.of("snv"), Step.of("savgol", {"window_length": 9, "polyorder": 2, "deriv": 1})),
    (Step.of("msc"), Step.of("savgol", {"window_length": 15, "polyorder": 2, "deriv": 2})),
)


def sample_path() -> Path:
    """Path of the shipped Tecator Parquet file."""
    return Path(nirsframe.__file__).parent / "sample_data" / "tecator.parquet"


def demo_variants(max_components: int = 20) -> list[Variant]:
    """Every preprocessing x PLS with 1..max_components components."""
    return [
        Variant(steps, ModelStep.of("pls", {"n_components": n}))
        for steps in PREPROCESSINGS
        for n in range(1, max_components + 1)
    ]


def run_demo(workspace: Path | None) -> SearchResult:
    """Search the demo variants on Tecator fat (train = C + M sets, test = T set)."""
    path = sample_path()
    ds = read_parquet(path)
    result = execute(
        ds,
        demo_variants(),
        target="fat",
        splitter=parse_split({"venetian": {"n_splits": 10}}),
        name="tecator-fat-demo",
        train_values=("train", "monitor"),
        test_values=("test",),
    )
    result.run_id = uuid.uuid4().hex
    if workspace is not None:
        write_results(result, workspace, source=str(path))
    return result


def write_results(result: SearchResult, workspace: Path, *, source: str) -> None:
    """Append the ranking and out-of-fold predictions as Lance commits carrying the lineage."""
    workspace.mkdir(parents=True, exist_ok=True)
    props = {
        "run_id": result.run_id or "",
        "source": source,
        "name": result.name,
        "target": result.target,
        "code_version": nirsframe.__version__,
        "variants": str(len(result.variants)),
        "timestamp": datetime.now(UTC).isoformat(),
        "applications": json.dumps(result.applications),
    }
    for table, frame in (("results", result.ranking), ("predictions", result.oof)):
        uri = workspace / f"{table}.lance"
        data = frame.with_columns(pl.lit(result.run_id).alias("run_id")).to_arrow()
        mode = "append" if uri.exists() else "create"
        lance.write_dataset(data, str(uri), mode=mode, transaction_properties=props)
