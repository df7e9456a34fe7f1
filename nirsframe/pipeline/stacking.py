"""Stacking (``merge: predictions``): a meta-model on out-of-fold predictions of base pipelines.

The meta-model never sees an in-sample prediction. For each outer fold ``k``:

1. the base candidates are cross-validated *inside* the fold's training rows (inner folds from
   the same splitter): their inner out-of-fold predictions are the meta-model's training
   features;
2. the base candidates, refit on all of fold ``k``'s training rows, predict its validation rows:
   those predictions are the meta-model's inputs for the outer out-of-fold prediction.

The final model repeats this once on all training rows and scores the test rows. A base may be
a nested :class:`~nirsframe.pipeline.candidates.Stack` (multi-level stacking): its inner
out-of-fold predictions are those of :func:`stack` run on the fold's training rows alone (its own
nested CV), and its predictions of the fold's validation rows come from its meta-model trained on
those rows, so no level ever sees a validation row.

>>> stack  # doctest: +ELLIPSIS
<function stack at ...>
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from nirsframe.exceptions import DatasetError, SpecError
from nirsframe.models.sklearn_models import build_estimator
from nirsframe.pipeline.candidates import Stack
from nirsframe.pipeline.execute import execute, split_rows
from nirsframe.pipeline.result import SearchResult, scores

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy.typing as npt

    from nirsframe.dataset import SpectralDataset
    from nirsframe.pipeline.candidates import Candidate, ModelChoice

_SPLIT = "__stack_split"


@dataclass
class StackResult:
    """Out-of-fold and test predictions of the stack, with the base models' for comparison."""

    oof: pl.DataFrame  # sample_id, fold, y, y_pred (stack), base_<i> (outer OOF of each base)
    test: pl.DataFrame  # sample_id, y, y_pred, base_<i>
    metrics: dict[str, float]  # rmsecv, rmsep and the same for every base
    base_labels: list[str]


def inner_and_outer(
    dataset: SpectralDataset,
    base: Sequence[Candidate | Stack],
    *,
    target: str,
    splitter: Any,
    fit_rows: npt.NDArray[np.int64],
    predict_rows: npt.NDArray[np.int64],
    ids: npt.NDArray[Any],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Inner OOF predictions on ``fit_rows`` (n_fit, B) and refit ones on ``predict_rows``.

    Column ``b`` belongs to ``base[b]`` (the search may reorder candidates internally).
    """
    label = np.full(len(ids), "drop", dtype=object)
    label[fit_rows] = "train"
    label[predict_rows] = "test"
    frame = dataset.frame.with_columns(pl.Series(_SPLIT, label.astype(str)))
    roles = dataset.roles.model_copy(update={"split": _SPLIT})
    sub = dataset.with_frame(frame, roles=roles)
    column = {c: b for b, c in enumerate(base)}
    order = {str(i): n for n, i in enumerate(ids[fit_rows])}
    order_p = {str(i): n for n, i in enumerate(ids[predict_rows])}
    inner = np.full((fit_rows.size, len(base)), np.nan)
    outer = np.full((predict_rows.size, len(base)), np.nan)
    for cand, oof, test in _base_predictions(sub, base, target=target, splitter=splitter):
        inner[[order[s] for s in oof["sample_id"].to_list()], column[cand]] = oof["y_pred"]
        outer[[order_p[s] for s in test["sample_id"].to_list()], column[cand]] = test["y_pred"]
    return inner, outer


def _base_predictions(
    sub: SpectralDataset, base: Sequence[Candidate | Stack], *, target: str, splitter: Any
) -> list[tuple[Candidate | Stack, pl.DataFrame, pl.DataFrame]]:
    """Each base's OOF predictions on the ``train`` rows of ``sub`` and its refit predictions of
    the ``test`` rows (``sample_id``, ``y_pred`` frames); nested stacks run :func:`stack`."""
    split: dict[str, Any] = {"train_values": ("train",), "test_values": ("test",)}
    chains = [b for b in base if not isinstance(b, Stack)]
    out: list[tuple[Candidate | Stack, pl.DataFrame, pl.DataFrame]] = []
    if chains:
        res = execute(sub, chains, target=target, splitter=splitter, **split)
        if len(res.variants) != len(chains):
            reasons = "; ".join(r for _, r in res.skipped)
            msg = f"a base model of the stack could not run: {reasons}"
            raise DatasetError(msg)
        for vid, cand in res.variants.items():
            on = pl.col("variant") == vid
            out.append((cand, res.oof.filter(on), res.test_predictions.filter(on)))
    for nested in (b for b in base if isinstance(b, Stack)):
        got = stack(sub, nested.base, nested.meta, target=target, splitter=splitter, **split)
        out.append((nested, got.oof, got.test))
    return out


def stack(
    dataset: SpectralDataset,
    base: Sequence[Candidate | Stack],
    meta: ModelChoice,
    *,
    target: str,
    splitter: Any,
    train_values: Sequence[str] | None = None,
    test_values: Sequence[str] | None = None,
) -> StackResult:
    """Cross-validate a stack of ``base`` candidates under a ``meta`` model (nested CV).

    Each base candidate must be concrete (one model, one component count); a base may be a
    nested :class:`~nirsframe.pipeline.candidates.Stack`.
    """
    if len(base) < 2:
        msg = f"stacking needs at least two base pipelines; got {len(base)}"
        raise SpecError(msg)
    roles = dataset.roles
    if roles.id is None:
        msg = "stacking needs an id column to align predictions"
        raise DatasetError(msg)
    df = dataset.frame.select([c for c in (roles.id, target, roles.split) if c]).collect()
    usable = (df[target].is_not_null() & df[target].cast(pl.Float64).is_not_nan()).to_numpy()
    ids = df[roles.id].cast(pl.String).to_numpy()
    y = df[target].cast(pl.Float64).to_numpy()
    train_all, test_all = split_rows(
        df, roles.split, train_values=train_values, test_values=test_values
    )
    train = train_all[usable[train_all]]
    test = test_all[usable[test_all]]
    x_train = None  # folds only need y (and groups) for the splitters that use them
    folds = np.asarray(splitter.folds(train.size, y=y[train], x=x_train), dtype=np.int64)
    b = len(base)
    oof_stack = np.full(train.size, np.nan)
    oof_base = np.full((train.size, b), np.nan)
    for k in np.unique(folds[folds >= 0]):
        fit_rows, val_rows = train[folds != k], train[folds == k]
        inner, outer = inner_and_outer(
            dataset,
            base,
            target=target,
            splitter=splitter,
            fit_rows=fit_rows,
            predict_rows=val_rows,
            ids=ids,
        )
        model = build_estimator(meta.kind, meta.params).fit(inner, y[fit_rows])
        oof_stack[folds == k] = np.asarray(model.predict(outer), dtype=np.float64).ravel()
        oof_base[folds == k] = outer
    metrics: dict[str, float] = {"rmsecv": scores(y[train], oof_stack)["rmse"]}
    for i in range(b):
        metrics[f"base_{i}_rmsecv"] = scores(y[train], oof_base[:, i])["rmse"]
    test_frame = pl.DataFrame({"sample_id": ids[test], "y": y[test]})
    if test.size:
        inner, outer = inner_and_outer(
            dataset,
            base,
            target=target,
            splitter=splitter,
            fit_rows=train,
            predict_rows=test,
            ids=ids,
        )
        model = build_estimator(meta.kind, meta.params).fit(inner, y[train])
        pred = np.asarray(model.predict(outer), dtype=np.float64).ravel()
        test_frame = test_frame.with_columns(pl.Series("y_pred", pred))
        test_frame = test_frame.with_columns(
            [pl.Series(f"base_{i}", outer[:, i]) for i in range(b)]
        )
        metrics["rmsep"] = scores(y[test], pred)["rmse"]
        for i in range(b):
            metrics[f"base_{i}_rmsep"] = scores(y[test], outer[:, i])["rmse"]
    oof = pl.DataFrame({"sample_id": ids[train], "fold": folds, "y": y[train], "y_pred": oof_stack})
    oof = oof.with_columns([pl.Series(f"base_{i}", oof_base[:, i]) for i in range(b)])
    labels = [f"{c.preprocessing} | {c.model.label}" for c in base]
    return StackResult(oof, test_frame, metrics, labels)


def as_search_result(
    res: StackResult, name: str, target: str, base: Sequence[Candidate | Stack], meta: ModelChoice
) -> SearchResult:
    """The stack (variant 0) and its bases (1..B) in the ranking form of a search."""
    rows, oof_parts, test_parts = [], [], []
    labels = [("stack(" + ", ".join(res.base_labels) + ")", meta.label, None)] + [
        (c.preprocessing, c.model.label, c.model.params.get("n_components")) for c in base
    ]
    columns = ["y_pred"] + [f"base_{i}" for i in range(len(base))]
    y_cv = res.oof["y"].to_numpy()
    for v, ((prep, model, n), col) in enumerate(zip(labels, columns, strict=True)):
        cv = scores(y_cv, res.oof[col].to_numpy())
        has_test = res.test.height > 0 and col in res.test.columns
        tst = scores(res.test["y"].to_numpy(), res.test[col].to_numpy()) if has_test else None
        rows.append(
            {
                "variant": v,
                "preprocessing": prep,
                "model": model,
                "n_components": n,
                "rmsecv": cv["rmse"],
                "r2cv": cv["r2"],
                "bias": cv["bias"],
                "sep": cv["sep"],
                "rpd": cv["rpd"],
                "rmsec": None,
                "rmsep": tst["rmse"] if tst else None,
                "r2p": tst["r2"] if tst else None,
            }
        )
        oof_parts.append(
            res.oof.select(
                "sample_id", "fold", pl.lit(v).alias("variant"), "y", pl.col(col).alias("y_pred")
            )
        )
        if has_test:
            test_parts.append(
                res.test.select(
                    "sample_id",
                    pl.lit(-1).alias("fold"),
                    pl.lit(v).alias("variant"),
                    "y",
                    pl.col(col).alias("y_pred"),
                )
            )
    ranking = pl.DataFrame(
        rows, schema_overrides={"rmsec": pl.Float64, "n_components": pl.Int64}
    ).sort("rmsecv")
    empty = pl.DataFrame(
        schema={
            "sample_id": pl.String,
            "fold": pl.Int64,
            "variant": pl.Int32,
            "y": pl.Float64,
            "y_pred": pl.Float64,
        }
    )
    return SearchResult(
        name=name,
        target=target,
        ranking=ranking,
        oof=pl.concat(oof_parts, how="vertical_relaxed"),
        test_predictions=pl.concat(test_parts, how="vertical_relaxed") if test_parts else empty,
        # nested stacks have no single chain: their rows are ranked, not kept as candidates
        variants={i + 1: c for i, c in enumerate(base) if not isinstance(c, Stack)},
        extra={"stack": True, **res.metrics},
    )
