"""Separation branches (``branch: {by_metadata: column}``, ``merge: concat``): one model per
group of rows, their predictions reassembled.

Rows are split by the values of a metadata column (an instrument, a product type, a tag); the
same candidates are searched inside every group with its own folds, and each candidate's
out-of-fold and test predictions from all groups are concatenated and scored together.

>>> separate  # doctest: +ELLIPSIS
<function separate at ...>
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl

from nirsframe.exceptions import DatasetError
from nirsframe.pipeline.execute import execute
from nirsframe.pipeline.result import SearchResult, scores

if TYPE_CHECKING:
    from collections.abc import Sequence

    from nirsframe.dataset import SpectralDataset
    from nirsframe.pipeline.candidates import Candidate


def separate(
    dataset: SpectralDataset,
    candidates: Sequence[Candidate],
    column: str,
    *,
    target: str,
    splitter: Any,
    name: str = "separate",
    train_values: Sequence[str] | None = None,
    test_values: Sequence[str] | None = None,
) -> SearchResult:
    """Search ``candidates`` in every group of ``column`` and rank the reassembled predictions."""
    schema = dataset.frame.collect_schema()
    if column not in schema:
        msg = f"branch by_metadata names column {column!r}; columns: {schema.names()}"
        raise DatasetError(msg)
    values = dataset.frame.select(pl.col(column).unique(maintain_order=True)).collect()[column]
    index = {c: i for i, c in enumerate(candidates)}
    oofs: list[pl.DataFrame] = []
    tests: list[pl.DataFrame] = []
    for value in values.to_list():
        sub = dataset.with_frame(dataset.frame.filter(pl.col(column) == value))
        res = execute(
            sub,
            candidates,
            target=target,
            splitter=splitter,
            name=name,
            train_values=train_values,
            test_values=test_values,
        )
        remap = {vid: index[c] for vid, c in res.variants.items()}
        for frame, out in ((res.oof, oofs), (res.test_predictions, tests)):
            out.append(
                frame.with_columns(
                    pl.col("variant").replace_strict(remap, return_dtype=pl.Int64),
                    pl.lit(str(value)).alias("group"),
                )
            )
    oof = pl.concat(oofs, how="vertical_relaxed")
    test = pl.concat(tests, how="vertical_relaxed")
    rows = []
    for i, cand in enumerate(candidates):
        part = oof.filter(pl.col("variant") == i)
        cv = scores(part["y"].to_numpy(), part["y_pred"].to_numpy())
        tpart = test.filter(pl.col("variant") == i)
        tst = scores(tpart["y"].to_numpy(), tpart["y_pred"].to_numpy()) if tpart.height else None
        rows.append(
            {
                "variant": i,
                "preprocessing": f"by {column}: {cand.preprocessing}",
                "model": cand.model.label,
                "n_components": cand.model.params.get("n_components"),
                "rmsecv": cv["rmse"],
                "r2cv": cv["r2"],
                "bias": cv["bias"],
                "sep": cv["sep"],
                "rpd": cv["rpd"],
                "rmsep": tst["rmse"] if tst else None,
                "r2p": tst["r2"] if tst else None,
            }
        )
    ranking = pl.DataFrame(rows).sort(["rmsecv", "variant"], nulls_last=True)
    return SearchResult(
        name=name,
        target=target,
        ranking=ranking,
        oof=oof,
        test_predictions=test,
        variants=dict(enumerate(candidates)),
        extra={"separated_by": column, "groups": [str(v) for v in values.to_list()]},
    )
