"""The streamed search on Ray against the local engine: the same partition, the same bits."""

from __future__ import annotations

from typing import TYPE_CHECKING

import lance
import numpy as np
import pytest

import nirsframe as nf
from nirsframe.engine.search import search_lance
from tests.nirsframe.engine._search_setup import SPEC, write_source
from tests.nirsframe.engine._setup import RAY_MARKS

if TYPE_CHECKING:
    from pathlib import Path

pytest.importorskip("ray")
pytestmark = RAY_MARKS


def test_ray_search_equals_local_bit_for_bit(local_ray: None, tmp_path: Path) -> None:
    source = write_source(str(tmp_path / "src.lance"))
    kw = {"batch_rows": 64, "unit_rows": 120}  # 11 units over 4 fragments, 1-2 batches each
    local = search_lance(SPEC, source, engine="local", **kw)
    distributed = search_lance(SPEC, source, engine="ray", **kw)
    assert distributed.extra["units"] == local.extra["units"] == 11
    assert local.ranking.equals(distributed.ranking)  # every metric, every bit
    assert local.oof.equals(distributed.oof)
    assert local.test_predictions.equals(distributed.test_predictions)
    # nf.run routes to the same search.
    via_run = nf.run(SPEC, source, engine="ray")
    np.testing.assert_allclose(
        via_run.ranking.sort("variant")["rmsecv"].to_numpy(),
        local.ranking.sort("variant")["rmsecv"].to_numpy(),
        rtol=1e-10,
    )


def test_a_bad_spectrum_fails_the_ray_search(local_ray: None, tmp_path: Path) -> None:
    uri = write_source(str(tmp_path / "bad.lance"), 300)
    table = lance.dataset(uri).to_table()
    spectra = table.column("spectra").combine_chunks()
    values = spectra.values.to_numpy().copy()
    values[200 * 48 + 5] = np.nan  # row 200: in the second fragment
    import pyarrow as pa

    bad = pa.FixedSizeListArray.from_arrays(pa.array(values), 48)
    table = table.set_column(table.schema.get_field_index("spectra"), "spectra", bad)
    lance.write_dataset(table, uri, mode="overwrite", max_rows_per_file=100)
    with pytest.raises(Exception, match="NaN or infinite values .*row 200"):
        search_lance(SPEC, uri, engine="ray")
