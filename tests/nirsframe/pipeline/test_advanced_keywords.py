"""Every advanced keyword on real data, and a poisoned-validation leakage test for each.

The leakage test runs a pipeline twice: on the data, and with half of the rows of validation
fold 0 replaced by garbage (noise spectra of scale 1e3 in every spectra column, targets 1e6 or
a wrong class). Every model that predicts fold 0 (chains, stacks at every level, tuned models,
filters, augmentation, per-group models) is fitted without fold 0, so the out-of-fold
predictions of the *other* half of fold 0 must not move.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
import pytest
from numpy.testing import assert_allclose

import nirsframe.api as api
from nirsframe.io import scan_parquet
from nirsframe.io.sources import join_sources
from tests.conftest import SHARED_DATA

if TYPE_CHECKING:
    from nirsframe.dataset import SpectralDataset

pytestmark = pytest.mark.skipif(
    not (SHARED_DATA / "tecator.parquet").exists(), reason="shared data absent"
)

SPLIT = {"venetian": {"n_splits": 3}}
SG = {"savgol": {"window_length": 9, "polyorder": 2, "deriv": 1}}
RIDGE = {"sklearn.linear_model.Ridge": {"alpha": 1.0}}


def pls(n: int) -> dict[str, Any]:
    return {"model": {"pls": {"n_components": n}}}


def real(stem: str, rows: int = 60, **roles: Any) -> SpectralDataset:
    """The first ``rows`` rows of a shared dataset, every row a training row."""
    ds = scan_parquet(SHARED_DATA / f"{stem}.parquet", **roles)
    return ds.with_frame(
        ds.frame.head(rows).collect(), roles=ds.roles.model_copy(update={"split": None})
    )


def tecator() -> SpectralDataset:
    return real("tecator")


def corn() -> SpectralDataset:
    """Two corn instruments, 30 samples each (ids made unique per instrument)."""
    ds = scan_parquet(SHARED_DATA / "corn.parquet")
    frame = (
        ds.frame.filter(pl.col("instrument").is_in(["m5", "mp6"]))
        .group_by("instrument", maintain_order=True)
        .head(30)
        .with_columns((pl.col("instrument") + ":" + pl.col("sample_id")).alias("sample_id"))
    )
    return ds.with_frame(frame.collect())


def sugarcane_sources() -> SpectralDataset:
    stems = ("f750", "nirone22")
    parts = {s: real(f"sugarcane_chaix_{s}") for s in stems}
    return join_sources(parts).collect()


def sugarcane_repetitions() -> SpectralDataset:
    """The same 60 samples scanned three times (micronir1700 rep1-3): 180 rows."""
    parts = [
        real(f"sugarcane_chaix_micronir1700rep{r}").frame.with_columns(
            pl.col("sample_id").alias("sample"),
            (pl.col("sample_id") + f"-r{r}").alias("sample_id"),
        )
        for r in (1, 2, 3)
    ]
    ds = real("sugarcane_chaix_micronir1700rep1")
    roles = ds.roles.model_copy(update={"repetition": "sample"})
    return ds.with_frame(pl.concat(parts).collect(), roles=roles)


def mayonnaise() -> SpectralDataset:
    ds = scan_parquet(SHARED_DATA / "mayonnaise.parquet", targets="oil_type")
    frame = ds.frame.filter(pl.col("split") == "train").head(60).collect()
    return ds.with_frame(frame, roles=ds.roles.model_copy(update={"split": None}))


def spec(target: str, *steps: Any) -> dict[str, Any]:
    return {"name": "kw", "target": target, "split": SPLIT, "steps": list(steps)}


BRANCH_2 = [[{"snv": {}}], [SG]]
STACK = [
    {"branch": [[{"snv": {}}, pls(6)], [{"detrend": {}}, pls(8)]]},
    {"merge": "predictions"},
    {"model": RIDGE},
]
NESTED = [
    {
        "branch": [
            [{"snv": {}}, pls(6)],
            [
                {"branch": [[{"msc": {}}, pls(7)], [SG, pls(5)]]},
                {"merge": {"predictions": {"model": RIDGE}}},
            ],
        ]
    },
    {"merge": "predictions"},
    {"model": {"sklearn.linear_model.LinearRegression": {}}},
]

#: keyword -> (dataset, pipeline); every case runs on real data from ../shared/data.
CASES: dict[str, tuple[Any, dict[str, Any]]] = {
    "branch": (tecator, spec("fat", {"branch": BRANCH_2}, pls(6))),
    "merge_features": (tecator, spec("fat", {"branch": BRANCH_2}, {"merge": "features"}, pls(6))),
    "merge_predictions": (tecator, spec("fat", *STACK)),
    "multilevel_stacking": (tecator, spec("fat", *NESTED)),
    "separation_by_metadata": (
        corn,
        spec("moisture", {"branch": {"by_metadata": "instrument"}}, {"snv": {}}, pls(5)),
    ),
    "separation_by_tag": (
        corn,
        spec("moisture", {"branch": {"by_tag": "instrument"}}, {"msc": {}}, pls(5)),
    ),
    "by_source_concat": (
        sugarcane_sources,
        spec(
            "CP",
            {"branch": {"by_source": {"f750": [{"snv": {}}], "nirone22": [{"msc": {}}]}}},
            {"merge_sources": "concat"},
            pls(5),
        ),
    ),
    "repetitions": (sugarcane_repetitions, spec("CP", {"snv": {}}, pls(5))),
    "feature_augmentation_add": (
        tecator,
        spec("fat", {"feature_augmentation": [{"snv": {}}, SG]}, pls(6)),
    ),
    "feature_augmentation_replace": (
        tecator,
        spec("fat", {"msc": {}}, {"feature_augmentation": [{"detrend": {}}, SG]}, pls(6)),
    ),
    "feature_augmentation_extend": (
        tecator,
        spec(
            "fat",
            {"feature_augmentation": [{"snv": {}}, {"msc": {}}]},
            {"feature_augmentation": [SG], "action": "extend"},
            pls(6),
        ),
    ),
    "sample_augmentation": (
        tecator,
        spec(
            "fat",
            {"snv": {}},
            {"sample_augmentation": {"ops": [{"additive_noise": {"std": 0.001}}, "mixup"]}},
            pls(6),
        ),
    ),
    "exclude": (tecator, spec("fat", {"snv": {}}, {"exclude": {"iqr": {}}}, pls(6))),
    "tag": (tecator, spec("fat", {"snv": {}}, {"tag": {"hotelling_t2": {}}}, pls(6))),
    "finetune": (
        tecator,
        spec(
            "fat",
            {"snv": {}},
            {"finetune": {"model": {"pls": {}}, "space": {"n_components": [3, 6, 9]}}},
        ),
    ),
    "plsda": (mayonnaise, spec("oil_type", SG, {"model": {"plsda": {"n_components": 6}}})),
    "opls": (
        tecator,
        spec("fat", {"msc": {}}, {"model": {"opls": {"n_orthogonal": 3, "n_components": 1}}}),
    ),
    "vip_selection": (
        tecator,
        spec("fat", SG, {"vip_selection": {"n_components": 5}}, pls(6)),
    ),
    "cars": (
        tecator,
        spec("fat", {"cars": {"n_components": 5, "n_runs": 10, "random_state": 0}}, pls(5)),
    ),
    "mcuve": (
        tecator,
        spec("fat", {"mcuve": {"n_components": 5, "n_runs": 10, "random_state": 0}}, pls(6)),
    ),
}


def poison(ds: SpectralDataset, rows: np.ndarray, target: str, garbage: float) -> SpectralDataset:
    """``ds`` with the spectra of ``rows`` replaced by noise and their target by ``garbage``."""
    df = ds.frame.collect()
    rng = np.random.default_rng(0)
    columns = []
    for col in ds.roles.spectra:
        x = df[col].to_numpy().copy()
        x[rows] = rng.normal(0.0, 1e3, (rows.size, x.shape[1]))
        columns.append(pl.Series(col, x))
    y = df[target].cast(pl.Float64).to_numpy().copy()
    y[rows] = garbage
    return ds.with_frame(df.with_columns(*columns, pl.Series(target, y)))


def assert_validation_rows_unseen(pipeline: dict[str, Any], ds: SpectralDataset) -> None:
    """Poison half of validation fold 0: the other half's out-of-fold predictions stay put."""
    target = pipeline["target"]
    clean = api.run(pipeline, ds).oof
    ids = ds.frame.select(pl.col(ds.roles.id or "").cast(pl.String)).collect().to_series()
    in_fold0 = ids.is_in(clean.filter(pl.col("fold") == 0)["sample_id"].implode())
    fold0 = np.flatnonzero(in_fold0.to_numpy())
    poisoned, kept = fold0[::2], fold0[1::2]
    y = ds.frame.select(pl.col(target).cast(pl.Float64)).collect().to_series().to_numpy()
    classes = np.unique(y)
    garbage = float(classes.max()) if classes.size <= 10 else 1e6  # a wrong class, or wild
    dirty = api.run(pipeline, poison(ds, poisoned, target, garbage)).oof
    on = ["variant", "sample_id"]
    both = clean.join(dirty, on=on, suffix="_dirty")
    unseen = both.filter(pl.col("sample_id").is_in(ids.gather(kept).implode()))
    assert unseen.height == kept.size * clean["variant"].n_unique()
    # Rounding only: fast CV derives a fold's model as "all rows minus the fold" (cross-products),
    # so 1e3-scale garbage moves it by ~1e-7 relative; any leak would move it by far more.
    assert_allclose(unseen["y_pred_dirty"], unseen["y_pred"], rtol=1e-6, atol=1e-9)
    garbage_rows = both.filter(pl.col("sample_id").is_in(ids.gather(poisoned).implode()))
    assert not np.allclose(garbage_rows["y_pred_dirty"], garbage_rows["y_pred"])


@pytest.mark.parametrize("keyword", sorted(CASES))
def test_keyword_runs_on_real_data_and_never_learns_from_validation_rows(keyword: str) -> None:
    data, pipeline = CASES[keyword]
    ds = data()
    result = api.run(pipeline, ds)
    score = "accuracy_cv" if "accuracy_cv" in result.ranking.columns else "rmsecv"
    assert np.isfinite(result.best[score])
    assert_validation_rows_unseen(pipeline, ds)


@pytest.mark.parametrize("mode", ["never", "always"])
def test_fast_cv_is_unmoved_by_wild_validation_spectra(
    mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Per-fold cross-products (``never``) pool each training set from the other folds' own
    centred moments, and row views (``always``) mask fold 0 out: 1e6-scale spectra in fold 0
    never enter the arithmetic of its model (measured: bit-identical predictions)."""
    from nirsframe.pipeline import rowviews

    monkeypatch.setattr(rowviews, "MODE", mode)
    ds = tecator()
    pipeline = spec("fat", pls(6))
    clean = api.run(pipeline, ds).oof["y_pred"].to_numpy()
    df = ds.frame.collect()
    x = df["spectrum"].to_numpy().copy()
    fold0 = np.flatnonzero(np.arange(60) % 3 == 0)
    x[fold0[::2]] = np.random.default_rng(0).normal(0.0, 1e6, (fold0[::2].size, x.shape[1]))
    dirty = api.run(pipeline, ds.with_frame(df.with_columns(pl.Series("spectrum", x))))
    kept = fold0[1::2]
    assert_allclose(dirty.oof["y_pred"].to_numpy()[kept], clean[kept], rtol=1e-12)


def test_merge_features_is_the_views_of_its_branches() -> None:
    ds = real("tecator", rows=240)
    ds = ds.with_frame(ds.frame, roles=ds.roles.model_copy(update={"split": "split"}))
    merged = spec("fat", {"detrend": {}}, {"branch": BRANCH_2}, {"merge": "features"}, pls(8))
    views = spec(
        "fat",
        {"sources": {"views": [[{"detrend": {}}, {"snv": {}}], [{"detrend": {}}, SG]]}},
        pls(8),
    )
    kw: dict[str, Any] = {"train_values": ("train", "monitor"), "test_values": ("test",)}
    a, b = api.run(merged, ds, **kw), api.run(views, ds, **kw)
    assert_allclose(a.oof["y_pred"].to_numpy(), b.oof["y_pred"].to_numpy(), rtol=0, atol=0)
    assert a.best["preprocessing"] == "concat[spectrum: detrend | snv; spectrum: " + (
        "detrend | savgol(deriv=1, polyorder=2, window_length=9)]"
    )
    # tecator fat, 5-fold venetian... here 3 folds: both views together beat raw PLS (2.43)
    assert a.best["rmsecv"] < 2.2
    chosen = spec("fat", {"branch": BRANCH_2}, {"merge": {"features": [1]}}, pls(8))
    assert api.run(chosen, ds, **kw).best["preprocessing"].count("spectrum:") == 1


def test_merge_features_refuses_models_and_unknown_merges() -> None:
    from nirsframe.exceptions import SpecError
    from nirsframe.pipeline.spec import load_pipeline

    with pytest.raises(SpecError, match=r"steps\[1\]\.merge: branch 1 holds a non-prepro"):
        load_pipeline(spec("fat", {"branch": [[{"snv": {}}], [pls(3)]]}, {"merge": "features"}))
    with pytest.raises(SpecError, match=r"steps\[1\]\.merge: supported forms are"):
        load_pipeline(spec("fat", {"branch": BRANCH_2}, {"merge": "sum"}, pls(3)))
    with pytest.raises(SpecError, match="must be followed by the meta-model"):
        load_pipeline(spec("fat", {"branch": [[pls(2)], [pls(3)]]}, {"merge": "predictions"}))
    with pytest.raises(SpecError, match="list of branch indices < 2"):
        load_pipeline(spec("fat", {"branch": BRANCH_2}, {"merge": {"features": [2]}}, pls(3)))


def test_multilevel_stack_feeds_the_nested_stacks_own_nested_cv() -> None:
    """Outer fold k: the meta-model learns from the bases' inner OOF predictions on the fold's
    training rows, where the nested stack's are those of a stack run on those rows alone."""
    from sklearn.linear_model import LinearRegression

    from nirsframe.pipeline.candidates import Candidate, ModelChoice, Stack, Step
    from nirsframe.pipeline.stacking import stack
    from nirsframe.validation.splitters import parse_split

    ds = tecator()
    snv6 = Candidate((Step.of("snv"),), ModelChoice.of("pls", {"n_components": 6}))
    msc7 = Candidate((Step.of("msc"),), ModelChoice.of("pls", {"n_components": 7}))
    sg5 = Candidate((Step.of("savgol", SG["savgol"]),), ModelChoice.of("pls", {"n_components": 5}))
    nested = Stack((msc7, sg5), ModelChoice.of("sklearn.linear_model.Ridge", {"alpha": 1.0}))
    meta = ModelChoice.of("sklearn.linear_model.LinearRegression")
    splitter = parse_split(SPLIT)
    res = stack(ds, [snv6, nested], meta, target="fat", splitter=splitter)
    via_spec = api.run(spec("fat", *NESTED), ds)
    assert via_spec.ranking.filter(pl.col("variant") == 0)["rmsecv"].item() == pytest.approx(
        res.metrics["rmsecv"], rel=1e-12
    )
    y = ds.target("fat")
    rows = np.arange(60)
    expected = np.empty(60)
    for k in range(3):
        fit, val = rows[rows % 3 != k], rows[rows % 3 == k]
        split = np.where(rows % 3 == k, "test", "train")
        sub = ds.with_frame(
            ds.frame.with_columns(pl.Series("part", split)),
            roles=ds.roles.model_copy(update={"split": "part"}),
        )
        kw: dict[str, Any] = {"target": "fat", "splitter": splitter}
        one = stack(sub, [snv6, msc7], meta, **kw)  # its base_0 columns: snv6 inner / refit
        two = stack(sub, [msc7, sg5], nested.meta, **kw)  # the nested stack on fold k alone
        inner = np.column_stack([one.oof["base_0"], two.oof["y_pred"]])
        outer = np.column_stack([one.test["base_0"], two.test["y_pred"]])
        expected[val] = LinearRegression().fit(inner, y[fit]).predict(outer)
    assert_allclose(res.oof["y_pred"].to_numpy(), expected, rtol=1e-10)
    assert res.base_labels[1].startswith("stack(msc | pls, savgol")


@pytest.mark.parametrize(
    ("action", "views"),
    [
        ("add", ["msc", "msc | snv", "msc | detrend"]),
        ("replace", ["msc | snv", "msc | detrend"]),
        ("extend", ["msc", "msc | snv", "msc | detrend"]),
    ],
)
def test_feature_augmentation_actions_after_a_chain(action: str, views: list[str]) -> None:
    fa = {"feature_augmentation": [{"snv": {}}, {"detrend": {}}], "action": action}
    res = api.run(spec("fat", {"msc": {}}, fa, pls(6)), tecator())
    assert res.best["preprocessing"] == "concat[" + "; ".join(f"spectrum: {v}" for v in views) + "]"


@pytest.mark.parametrize(
    ("action", "views"),
    [
        # two views (raw, snv) and the chains [detrend], [savgol]
        ("add", ["raw", "snv", "detrend", "savgol", "snv | detrend", "snv | savgol"]),
        ("replace", ["detrend", "savgol", "snv | detrend", "snv | savgol"]),
        ("extend", ["raw", "snv", "detrend", "savgol"]),
    ],
)
def test_feature_augmentation_actions_on_views(action: str, views: list[str]) -> None:
    """nirs4all's growth: add n + n·m, replace n·m, extend n + m (chains on the first view)."""
    from nirsframe.pipeline.spec import SourcesStep, load_pipeline

    second = {"feature_augmentation": [{"detrend": {}}, {"savgol": {}}], "action": action}
    pipeline = load_pipeline(spec("fat", {"feature_augmentation": [{"snv": {}}]}, second, pls(3)))
    step = pipeline.steps[0]
    assert isinstance(step, SourcesStep)
    got = [" | ".join(next(iter(s.to_raw())) for s in v) or "raw" for v in step.views]
    assert sorted(got) == sorted(views)


def test_feature_augmentation_views_equal_a_manual_concatenation() -> None:
    from sklearn.cross_decomposition import PLSRegression

    from nirsframe.operators import Detrend, MultiplicativeScatterCorrection, StandardNormalVariate

    ds = tecator()
    fa = {"feature_augmentation": [{"snv": {}}], "action": "extend"}
    res = api.run(spec("fat", {"detrend": {}}, fa, {"msc": {}}, pls(5)), ds)
    # views: detrend, detrend | snv; then msc runs on every view (fitted per fold)
    assert (
        res.best["preprocessing"]
        == "concat[spectrum: detrend | msc; spectrum: detrend | snv | msc]"
    )
    x, y = ds.matrix(), ds.target("fat")
    d = Detrend().transform(x)
    views = [d, StandardNormalVariate().transform(d)]
    expected = np.empty(60)
    folds = np.arange(60) % 3
    for k in range(3):
        tr, va = folds != k, folds == k
        mscs = [MultiplicativeScatterCorrection().fit(v[tr]) for v in views]
        xt = np.hstack([m.transform(v[tr]) for m, v in zip(mscs, views, strict=True)])
        xv = np.hstack([m.transform(v[va]) for m, v in zip(mscs, views, strict=True)])
        expected[va] = PLSRegression(5, scale=False).fit(xt, y[tr]).predict(xv).ravel()
    assert_allclose(res.oof["y_pred"].to_numpy(), expected, rtol=1e-8)


def test_scaled_pls_after_views_scales_every_view() -> None:
    """PLS(scale=True) autoscales columns: on a concatenation, that is each view's columns."""
    ds = tecator()
    scaled = {"model": {"pls": {"n_components": 5, "scale": True}}}
    fa = {"feature_augmentation": [{"snv": {}}]}
    by_hand = {
        "sources": {
            "views": [[{"autoscale": {"ddof": 1}}], [{"snv": {}}, {"autoscale": {"ddof": 1}}]]
        }
    }
    a = api.run(spec("fat", fa, scaled), ds).oof["y_pred"].to_numpy()
    b = api.run(spec("fat", by_hand, pls(5)), ds).oof["y_pred"].to_numpy()
    assert_allclose(a, b, rtol=0, atol=0)


def test_opls_in_a_pipeline_predicts_as_pls_with_its_orthogonal_components(
    tmp_path: object,
) -> None:
    """One predictive component after k orthogonal ones: the PLS model with k + 1 components
    (Trygg & Wold 2002), per fold and when replayed from the workspace."""
    from pathlib import Path

    from nirsframe.workspace import Workspace

    ds = tecator()
    opls = {"model": {"opls": {"n_orthogonal": 4, "n_components": 1}}}
    ws = Workspace(Path(str(tmp_path)) / "ws")
    got = api.run(spec("fat", {"snv": {}}, opls), ds, workspace=ws)
    plain = api.run(spec("fat", {"snv": {}}, pls(5)), ds)
    assert_allclose(got.oof["y_pred"].to_numpy(), plain.oof["y_pred"].to_numpy(), rtol=1e-8)
    assert got.best["model"] == "opls(n_components=1, n_orthogonal=4)"
    stored = ws.predictions(got.run_id).filter(pl.col("scope") == "final")["y_pred"].to_numpy()
    assert_allclose(api.predict(ws, got.run_id or "", ds)["y_pred"].to_numpy(), stored, rtol=0)
