"""From a dataset and concrete variants to a ranked :class:`SearchResult`."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import polars as pl

from nirsframe._bridge import series_to_matrix
from nirsframe.exceptions import DatasetError, SpecError
from nirsframe.pipeline.result import SearchResult, build_result, flags_frame
from nirsframe.pipeline.search import is_classifier, run_variants
from nirsframe.pipeline.tree import Contexts, PrefixCache, SourceCaches

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy.typing as npt

    from nirsframe.dataset import SpectralDataset
    from nirsframe.pipeline.candidates import Candidate

#: Values of a split column that mark test rows (case-insensitive); every other value is training.
TEST_VALUES = ("test", "val", "validation", "prediction")


def split_rows(
    df: pl.DataFrame,
    split: str | None,
    *,
    train_values: Sequence[str] | None = None,
    test_values: Sequence[str] | None = None,
) -> tuple[np.ndarray[Any, np.dtype[np.int64]], np.ndarray[Any, np.dtype[np.int64]]]:
    """Training and test row indices from a split column (all rows train without one).

    Test rows carry one of ``test_values`` (default :data:`TEST_VALUES`, case-insensitive);
    training rows one of ``train_values`` (default: every other value). Rows in neither are
    left out of the search.
    """
    n = df.height
    if split is None:
        return np.arange(n), np.empty(0, dtype=np.int64)
    values = df[split].cast(pl.String).str.to_lowercase()
    tests = [v.lower() for v in (test_values or TEST_VALUES)]
    is_test = values.is_in(tests).to_numpy()
    if train_values is None:
        is_train = ~is_test
    else:
        is_train = values.is_in([v.lower() for v in train_values]).to_numpy() & ~is_test
    return np.flatnonzero(is_train), np.flatnonzero(is_test)


def sample_folds(
    splitter: Any,
    samples: npt.NDArray[Any],
    x: npt.NDArray[np.floating],
    y: npt.NDArray[np.float64],
    groups: npt.NDArray[Any] | None,
) -> npt.NDArray[np.int64]:
    """Folds over physical samples (mean spectrum and target per sample), mapped to their rows:
    no sample has repetitions in both the training and the validation rows of a fold."""
    uniq, inverse = np.unique(samples, return_inverse=True)
    counts = np.bincount(inverse).astype(np.float64)
    x_mean = np.zeros((uniq.size, x.shape[1]))
    np.add.at(x_mean, inverse, x)
    x_mean /= counts[:, np.newaxis]
    y_mean = np.bincount(inverse, weights=y) / counts
    g = None
    if groups is not None:
        first = np.zeros(uniq.size, dtype=np.int64)
        first[inverse[::-1]] = np.arange(inverse.size)[::-1]
        g = groups[first]
    per_sample = np.asarray(splitter.folds(uniq.size, y=y_mean, x=x_mean, groups=g), dtype=np.int64)
    folds: npt.NDArray[np.int64] = per_sample[inverse]
    return folds


def add_aggregated_metrics(
    ranking: pl.DataFrame,
    oof: pl.DataFrame,
    tests: pl.DataFrame,
    samples: pl.DataFrame | None,
    aggregate: Literal["mean", "median"],
) -> pl.DataFrame:
    """``rmsecv_agg`` and ``rmsep_agg``: RMSE of the per-sample aggregated predictions."""
    if samples is None:
        msg = "aggregating repetitions needs an id column to join predictions to samples"
        raise DatasetError(msg)
    agg = pl.col("y_pred").mean() if aggregate == "mean" else pl.col("y_pred").median()

    def per_variant(frame: pl.DataFrame, name: str) -> pl.DataFrame:
        if frame.height == 0:
            return pl.DataFrame(schema={"variant": pl.Int64, name: pl.Float64})
        grouped = (
            frame.join(samples, on="sample_id", how="left")
            .group_by("variant", "_rep")
            .agg(agg, pl.col("y").first())
        )
        return grouped.group_by("variant").agg(
            ((pl.col("y_pred") - pl.col("y")) ** 2).mean().sqrt().alias(name)
        )

    out = ranking.join(
        per_variant(oof.drop_nulls("y_pred"), "rmsecv_agg"), on="variant", how="left"
    )
    return out.join(per_variant(tests, "rmsep_agg"), on="variant", how="left")


def resolve_sources(dataset: SpectralDataset, variants: Sequence[Candidate]) -> list[Candidate]:
    """Candidates whose source names are spectra columns (``name`` or ``spectra_<name>``)."""

    def column(name: str) -> str:
        if name == "":
            return dataset.spectra_column
        for col in (name, f"spectra_{name}"):
            if col in dataset.axes:
                return col
        msg = f"a pipeline names source {name!r}; spectra columns: {list(dataset.axes)}"
        raise DatasetError(msg)

    return [
        replace(v, sources=tuple((column(n), ch) for n, ch in v.sources)) if v.sources else v
        for v in variants
    ]


def _used_columns(dataset: SpectralDataset, variants: Sequence[Candidate]) -> list[str]:
    """The spectra columns the candidates read (the primary one first)."""
    cols = [dataset.spectra_column]
    for v in variants:
        cols.extend(col for col, _ in v.sources if col not in cols)
    return cols


def _has_nan(x: npt.NDArray[np.floating], block: int = 4096) -> bool:
    """Whether ``x`` holds a NaN, by blocks of rows (no (N, P) mask in memory at once)."""
    return any(bool(np.isnan(x[i : i + block]).any()) for i in range(0, x.shape[0], block))


def _matrix(df: pl.DataFrame, column: str) -> npt.NDArray[np.floating]:
    x, _ = series_to_matrix(df[column])
    if _has_nan(x):
        msg = f"spectra column {column!r} contains NaN or null rows; clean or drop them first"
        raise DatasetError(msg)
    return x


def execute(
    dataset: SpectralDataset,
    variants: Sequence[Candidate],
    *,
    target: str,
    splitter: Any,
    name: str = "search",
    train_values: Sequence[str] | None = None,
    test_values: Sequence[str] | None = None,
    aggregate: Literal["mean", "median"] = "mean",
) -> SearchResult:
    """Cross-validate every variant on the training rows, refit, score the test rows, rank.

    Rows whose target is missing are left out (their count is in ``result.extra``). With a
    ``repetition`` role (rows sharing its value are scans of one physical sample), folds keep a
    sample's repetitions together, and the ranking gains ``rmsecv_agg`` / ``rmsep_agg``: the
    metrics of the per-sample ``aggregate`` of the predictions.
    """
    roles = dataset.roles
    variants = resolve_sources(dataset, variants)
    group_column = getattr(splitter, "column", None) or roles.group
    rep = roles.repetition
    spectra = _used_columns(dataset, variants)
    cols = [c for c in (roles.id, *spectra, target, roles.split, group_column, rep) if c]
    df = dataset.frame.select(list(dict.fromkeys(cols))).collect()
    n_before = df.height
    df = df.filter(pl.col(target).is_not_null() & pl.col(target).cast(pl.Float64).is_not_nan())
    if df.height < 3:
        msg = f"target {target!r} has {df.height} usable rows; a search needs at least 3"
        raise DatasetError(msg)
    x, _ = series_to_matrix(df[dataset.spectra_column])
    if _has_nan(x):
        bad = int(np.flatnonzero(np.isnan(x).any(axis=1))[0])
        msg = f"spectra contain NaN or null values (first at row {bad}); clean or drop them first"
        raise DatasetError(msg)
    y = df[target].cast(pl.Float64).to_numpy().reshape(-1, 1)
    ids = df[roles.id].cast(pl.String).to_numpy() if roles.id else np.arange(df.height).astype(str)
    train, test = split_rows(df, roles.split, train_values=train_values, test_values=test_values)
    groups = df[group_column].to_numpy()[train] if group_column else None
    # Without test rows the training spectra are all of x: no gathered copy (it would be the
    # largest allocation of the search).
    x_train = x if train.shape[0] == x.shape[0] else x[train]
    if rep is None:
        folds = np.asarray(
            splitter.folds(train.shape[0], y=y[train, 0], x=x_train, groups=groups),
            dtype=np.int64,
        )
    else:
        folds = sample_folds(splitter, df[rep].to_numpy()[train], x_train, y[train, 0], groups)
    del x_train
    contexts = Contexts(train, folds)
    cache = SourceCaches(
        {
            col: PrefixCache(
                x if col == dataset.spectra_column else _matrix(df, col),
                dataset.axes[col],
                contexts,
                y,
            )
            for col in _used_columns(dataset, variants)
        },
        dataset.spectra_column,
    )
    preds, skipped = run_variants(cache, variants, y)
    if not preds:
        reasons = "; ".join(sorted({r for _, r in skipped}))
        msg = f"no variant could run: {reasons}"
        raise DatasetError(msg)
    kinds = {is_classifier(v.model.kind) for v in variants}
    if len(kinds) > 1:
        msg = "a search mixes classifiers and regressors; rank them in separate pipelines"
        raise SpecError(msg)
    classification = kinds == {True}
    ranking, oof, tests, by_id = build_result(
        name, target, preds, y, ids, train, folds, test, classification=classification
    )
    if rep is not None:
        samples = (
            df.select(
                pl.col(roles.id).cast(pl.String).alias("sample_id"), pl.col(rep).alias("_rep")
            )
            if roles.id
            else None
        )
        ranking = add_aggregated_metrics(ranking, oof, tests, samples, aggregate)
    return SearchResult(
        name=name,
        target=target,
        ranking=ranking,
        oof=oof,
        test_predictions=tests,
        variants=by_id,
        skipped=skipped,
        applications=dict(cache.applications),
        flags=flags_frame(preds, ids),
        extra={
            "rows_without_target": n_before - df.height,
            "n_train": int(train.size),
            "n_test": int(test.size),
            "crossproduct_passes": cache.passes,
        },
    )
