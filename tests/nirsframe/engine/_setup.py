"""A small workspace with one run, and Lance sources of several fragments, for engine tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import lance
import numpy as np
import polars as pl
import pytest

from nirsframe.dataset import SpectralDataset
from nirsframe.models.pls import PLS
from nirsframe.operators import SavitzkyGolay, StandardNormalVariate
from nirsframe.workspace import FittedChain, Workspace
from tests.conftest import synthetic_spectra

if TYPE_CHECKING:
    from pathlib import Path

#: Marks of every Ray test module: slow, and two known warnings ignored. Ray Data 2.60 warns
#: about its own default context fields on every DataContext access; ray.init forks its helpers
#: after lance is imported and lance warns on fork (nothing of lance runs in those children).
RAY_MARKS = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.data.context"),
    pytest.mark.filterwarnings("ignore:lance is not fork-safe:UserWarning"),
]

N_ROWS = 1000
ROWS_PER_FRAGMENT = 200
P = 64


@dataclass(frozen=True)
class Setup:
    """The workspace, its run, the chain, a clean source and a poisoned one (NaN, last frag)."""

    ws: Workspace
    run_id: str
    chain: FittedChain
    x: np.ndarray
    source: str
    poisoned: str
    root: Path


def _write_source(ds: SpectralDataset, uri: str) -> None:
    table = ds.frame.collect().to_arrow()
    table = table.replace_schema_metadata(ds.metadata())
    # Several fragments, so that Ray has several read tasks and a job spans files.
    lance.write_dataset(table, uri, max_rows_per_file=ROWS_PER_FRAGMENT, data_storage_version="2.0")


def build(root: Path) -> Setup:
    """Fit SNV -> SG(11, 2, 1) -> PLS(4) on 200 spectra; write sources of N_ROWS spectra."""
    x = synthetic_spectra(N_ROWS, P, seed=3)
    y = 10.0 * x[:, 20] - 5.0 * x[:, 40]
    train = SpectralDataset.from_numpy(x[:200], y=y[:200])
    ws = Workspace(root / "ws")
    ref = ws.ingest(train, "train")
    snv = StandardNormalVariate().fit(x[:200])
    sg = SavitzkyGolay(window_length=11, polyorder=2, deriv=1).fit(snv.transform(x[:200]))
    xt = sg.transform(snv.transform(x[:200]))
    chain = FittedChain.from_estimators([snv, sg], PLS(n_components=4).fit(xt, y[:200]))
    record = ws.record_run(
        dataset=ref, spec_json='{"steps":[]}', chain=chain, parameters={"target": "y"}
    )
    ids = [f"s{i:05d}" for i in range(N_ROWS)]
    source = SpectralDataset.from_numpy(x, y=y, ids=ids)
    _write_source(source, str(root / "source.lance"))
    bad = x.copy()
    bad[N_ROWS - 3, 7] = np.nan  # one spectrum in the last fragment cannot be predicted
    _write_source(SpectralDataset.from_numpy(bad, y=y, ids=ids), str(root / "poisoned.lance"))
    return Setup(
        ws, record.run_id, chain, x, str(root / "source.lance"), str(root / "poisoned.lance"), root
    )


def read_sorted(uri: str, version: int | None = None) -> pl.DataFrame:
    """The predictions at ``version``, sorted by source row address."""
    frame = pl.from_arrow(lance.dataset(uri, version=version).to_table())
    assert isinstance(frame, pl.DataFrame)
    return frame.sort("row_address")


def lineage(uri: str, version: int) -> dict[str, str]:
    """Transaction properties of ``version`` without the wall-clock timestamp."""
    tx = lance.dataset(uri).read_transaction(version)
    props = dict(tx.transaction_properties or {})
    props.pop("nirsframe.timestamp")
    return props
