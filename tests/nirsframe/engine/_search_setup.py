"""Lance sources for the streamed search: generated spectra in several fragments."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import lance
import numpy as np
import polars as pl

import nirsframe as nf
from nirsframe.synthetic import Instrument

if TYPE_CHECKING:
    from nirsframe.pipeline.result import SearchResult

SMALL = Instrument(name="small", start=1000.0, stop=2400.0, n_points=48)
#: Detrend and savgol are linear (their cross-products are mapped); msc is fitted per fold
#: from the fold's mean spectrum (a third pass).
SPEC: dict[str, Any] = {
    "name": "streamed",
    "target": "fat",
    "split": {"kfold": {"n_splits": 4, "shuffle": True, "random_state": 3}},
    "steps": [
        {
            "_or_": [
                [],
                {"snv": {}},
                {"detrend": {"order": 1}},
                [{"snv": {}}, {"savgol": {"window_length": 9, "polyorder": 2, "deriv": 1}}],
                {"msc": {}},
                [{"detrend": {"order": 1}}, {"msc": {}}, {"savgol": {"window_length": 7}}],
            ]
        },
        {"model": {"pls": {"n_components": {"_range_": [1, 8]}}}},
    ],
}


def write_source(uri: str, n: int = 900, *, repetitions: int = 1, seed: int = 0) -> str:
    """Generated spectra with a split column (every 5th row is test), some targets missing,
    written in fragments of 250 rows (float32 spectra)."""
    ds = nf.generate(
        n, instruments=[SMALL], repetitions=repetitions, seed=seed, dtype="float32", noise=1e-3
    )
    frame = ds.frame.collect()
    rows = np.arange(frame.height)
    frame = frame.with_columns(
        pl.Series("set", np.where(rows % 5 == 4, "test", "cal")),
        pl.when(pl.Series(rows % 37 == 0)).then(None).otherwise(pl.col("fat")).alias("fat"),
    )
    roles = ds.roles.model_copy(update={"split": "set"})
    table = frame.to_arrow().replace_schema_metadata(ds.with_frame(frame, roles=roles).metadata())
    lance.write_dataset(table, uri, max_rows_per_file=250, data_storage_version="2.0")
    return uri


def by_variant(result: SearchResult) -> pl.DataFrame:
    """The ranking in variant order."""
    return result.ranking.sort("variant")
