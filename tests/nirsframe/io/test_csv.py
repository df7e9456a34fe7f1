from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pytest

from nirsframe.dataset import SpectralDataset
from nirsframe.exceptions import DatasetError, SpectralShapeError
from nirsframe.io import read_csv, read_nirs4all_folder, write_csv

if TYPE_CHECKING:
    from pathlib import Path


def test_wide_csv_round_trip(tmp_path: Path) -> None:
    x = np.random.default_rng(0).normal(size=(4, 6))
    ds = SpectralDataset.from_numpy(x, np.arange(4.0), axis=np.linspace(1000, 1010, 6))
    back = read_csv(write_csv(ds, tmp_path / "w.csv"), id_column="sample_id", targets="y")
    np.testing.assert_array_equal(back.matrix(), x)
    assert back.axis == ds.axis
    np.testing.assert_array_equal(back.target(), np.arange(4.0))


@pytest.mark.parametrize("sep", [";", ","])
@pytest.mark.parametrize("header", [True, False])
def test_nirs4all_folder(tmp_path: Path, sep: str, header: bool) -> None:
    rng = np.random.default_rng(1)
    axis = [900.0, 902.0, 904.0]
    for stem, n in (("cal", 5), ("val", 2)):
        x, y = rng.normal(size=(n, 3)), rng.normal(size=(n, 1))
        lines_x = [sep.join(map(repr, row)) for row in x.tolist()]
        lines_y = [repr(v[0]) for v in y.tolist()]
        if header:
            lines_x.insert(0, sep.join(map(repr, axis)))
            lines_y.insert(0, "protein")
        (tmp_path / f"X{stem}.csv").write_text("\n".join(lines_x) + "\n")
        (tmp_path / f"Y{stem}.csv").write_text("\n".join(lines_y) + "\n")
    ds = read_nirs4all_folder(tmp_path)
    df = ds.frame.collect()
    assert df["split"].to_list() == ["train"] * 5 + ["test"] * 2
    assert ds.roles.targets == (("protein",) if header else ("y",))
    assert ds.axis.values.tolist() == (axis if header else [0.0, 1.0, 2.0])


def test_nirs4all_folder_errors(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no Xcal.csv"):
        read_nirs4all_folder(tmp_path)
    (tmp_path / "Xcal.csv").write_text("1;2\n3;4\n")
    (tmp_path / "Ycal.csv").write_text("1\n")
    with pytest.raises(SpectralShapeError, match="Ycal.csv has 1 rows but Xcal.csv has 2"):
        read_nirs4all_folder(tmp_path)
