"""The executor equals a naive per-fold refit, never leaks, and computes shared steps once."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from numpy.testing import assert_allclose
from sklearn.cross_decomposition import PLSRegression

from nirsframe.axis import SpectralAxis
from nirsframe.dataset import DatasetRoles, SpectralDataset
from nirsframe.exceptions import DatasetError
from nirsframe.pipeline import rowviews
from nirsframe.pipeline.candidates import Candidate, ModelChoice, Step
from nirsframe.pipeline.execute import execute
from nirsframe.pipeline.tree import fit_chain
from nirsframe.validation.splitters import parse_split
from tests.conftest import SHARED_DATA, synthetic_spectra

SG = Step.of("savgol", {"window_length": 7, "polyorder": 2, "deriv": 1})
CHAINS = [(), (Step.of("snv"),), (Step.of("msc"),), (Step.of("snv"), SG), (Step.of("msc"), SG)]


def dataset(n: int = 48, p: int = 60, *, split: bool = True) -> SpectralDataset:
    x = synthetic_spectra(n, p, seed=7)
    y = x[:, 10:20].sum(axis=1) + np.random.default_rng(3).normal(0, 0.05, n)
    df = pl.DataFrame(
        {
            "sample_id": [f"s{i}" for i in range(n)],
            "spectra": x,
            "y": y,
            "split": ["test" if i % 6 == 5 else "train" for i in range(n)],
        }
    )
    roles = DatasetRoles(id="sample_id", targets=("y",), split="split" if split else None)
    return SpectralDataset(df.lazy(), {"spectra": SpectralAxis.index(p)}, roles)


def variants(max_n: int = 6) -> list[Candidate]:
    return [
        Candidate(c, ModelChoice.of("pls", {"n_components": n}))
        for c in CHAINS
        for n in range(1, max_n + 1)
    ]


def naive_oof(
    ds: SpectralDataset, v: Candidate, folds: np.ndarray, train: np.ndarray
) -> np.ndarray:
    """Refit the whole chain and an sklearn PLS on every training fold."""
    df = ds.frame.collect()
    x = df["spectra"].to_numpy()[train]
    y = df["y"].to_numpy()[train]
    out = np.full(train.size, np.nan)
    for k in np.unique(folds):
        tr, va = folds != k, folds == k
        ops, xt, _ = fit_chain(v.steps, x[tr], y[tr], ds.axis)
        xv = x[va]
        for op in ops:
            xv = op.transform(xv)
        n = v.model.params["n_components"]
        pls = PLSRegression(n_components=n, scale=False).fit(xt, y[tr])
        out[va] = pls.predict(xv).ravel()
    return out


@pytest.fixture(params=["never", "always"])
def view_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both engines: per-chain cross-products / per-context refits, and shared row views."""
    monkeypatch.setattr(rowviews, "MODE", request.param)
    return str(request.param)


def test_search_equals_naive_refit_per_fold(view_mode: str) -> None:
    ds = dataset()
    vs = variants()
    result = execute(ds, vs, target="y", splitter=parse_split({"venetian": {"n_splits": 5}}))
    train = np.flatnonzero(np.arange(48) % 6 != 5)
    folds = np.arange(train.size) % 5
    for vid, v in result.variants.items():
        got = result.oof.filter(pl.col("variant") == vid)["y_pred"].to_numpy()
        assert_allclose(got, naive_oof(ds, v, folds, train), rtol=1e-8, atol=1e-10)
    assert result.ranking.height == len(vs)
    assert result.ranking["rmsecv"].is_sorted()
    assert result.extra["n_test"] == 8
    assert result.test_predictions.height == 8 * len(vs)


def test_each_shared_step_is_computed_once(view_mode: str) -> None:
    result = execute(
        dataset(), variants(3), target="y", splitter=parse_split({"kfold": {"n_splits": 4}})
    )
    # snv once (stateless, all rows); msc once as a node (fitted per fold inside); SG after snv
    # once and after msc once: 4 step applications for 5 chains x 3 component counts.
    assert result.applications == {"snv": 1, "msc": 1, "savgol": 2}
    # Cross-product passes over the data: raw and snv; snv | savgol reuses snv's as D·G·Dᵀ
    # (the msc chains are fitted per fold and refit their own). Row views need none.
    assert result.extra["crossproduct_passes"] == (2 if view_mode == "never" else 0)


def test_row_views_equal_cross_products_on_test_rows_too(monkeypatch: pytest.MonkeyPatch) -> None:
    ds, vs = dataset(), variants(4)
    splitter = parse_split({"kfold": {"n_splits": 4}})
    got = {}
    for mode in ("never", "always"):
        monkeypatch.setattr(rowviews, "MODE", mode)
        got[mode] = execute(ds, vs, target="y", splitter=splitter)
    a, b = got["never"], got["always"]
    assert a.ranking["variant"].to_list() == b.ranking["variant"].to_list()
    for col in ("rmsecv", "rmsec", "rmsep"):
        assert_allclose(a.ranking[col].to_numpy(), b.ranking[col].to_numpy(), rtol=1e-8)
    assert_allclose(
        a.test_predictions["y_pred"].to_numpy(),
        b.test_predictions["y_pred"].to_numpy(),
        rtol=1e-8,
        atol=1e-10,
    )


def test_validation_rows_never_reach_fitted_steps(view_mode: str) -> None:
    """Poisoning the validation rows of fold k changes no prediction of the other folds' rows
    made by models fitted without them... and fold k's own models never saw them."""
    ds = dataset(split=False)
    vs = [Candidate((Step.of("msc"), SG), ModelChoice.of("pls", {"n_components": 4}))]
    splitter = parse_split({"venetian": {"n_splits": 4}})
    clean = execute(ds, vs, target="y", splitter=splitter).oof
    df = ds.frame.collect()
    x = df["spectra"].to_numpy().copy()
    y = df["y"].to_numpy().copy()
    fold0 = np.arange(48) % 4 == 0
    x[fold0] *= 50.0  # wild spectra in fold 0
    x[fold0] += 3.0
    y[fold0] = 1e6  # and wild targets
    poisoned = ds.with_frame(df.with_columns(pl.Series("spectra", x), pl.Series("y", y)))
    dirty = execute(poisoned, vs, target="y", splitter=splitter).oof
    # Fold 0's predictions come from a model fitted on folds 1-3 only (untouched) applied to the
    # poisoned spectra: the MSC reference and PLS were learned without them, so predicting the
    # clean fold-0 spectra with the same model gives the clean predictions exactly.
    other = ~fold0
    # Rows of folds 1-3 are predicted by models that saw the poisoned fold 0: they must change.
    assert not np.allclose(clean["y_pred"].to_numpy()[other], dirty["y_pred"].to_numpy()[other])
    ops, xt, _ = fit_chain(
        vs[0].steps, df["spectra"].to_numpy()[other], df["y"].to_numpy()[other], ds.axis
    )
    pls = PLSRegression(n_components=4, scale=False).fit(xt, df["y"].to_numpy()[other])
    xv = x[fold0]
    for op in ops:
        xv = op.transform(xv)
    assert_allclose(dirty["y_pred"].to_numpy()[fold0], pls.predict(xv).ravel(), rtol=1e-8)


def test_too_many_components_are_skipped_with_a_reason() -> None:
    vs = [Candidate((), ModelChoice.of("pls", {"n_components": n})) for n in (2, 80)]
    result = execute(dataset(), vs, target="y", splitter=parse_split({"kfold": {"n_splits": 4}}))
    assert result.ranking.height == 1
    assert "exceeds the rank limit" in result.skipped[0][1]


def test_missing_targets_are_left_out_and_nan_spectra_refused() -> None:
    ds = dataset()
    df = ds.frame.collect().with_columns(
        pl.when(pl.col("sample_id") == "s0").then(None).otherwise(pl.col("y")).alias("y")
    )
    res = execute(
        ds.with_frame(df), variants(2), target="y", splitter=parse_split({"kfold": {"n_splits": 3}})
    )
    assert res.extra["rows_without_target"] == 1
    x = df["spectra"].to_numpy().copy()
    x[3, 4] = np.nan
    with pytest.raises(DatasetError, match="NaN"):
        execute(
            ds.with_frame(df.with_columns(pl.Series("spectra", x))),
            variants(2),
            target="y",
            splitter=parse_split({"kfold": {"n_splits": 3}}),
        )


@pytest.mark.skipif(not (SHARED_DATA / "tecator.parquet").exists(), reason="shared data absent")
def test_tecator_reproduces_the_plain_pls_baseline_and_search_beats_it() -> None:
    from nirsframe.demo import DEMO_PIPELINE, TEST_VALUES, TRAIN_VALUES
    from nirsframe.io import read_parquet
    from nirsframe.pipeline.candidates import from_spec
    from nirsframe.pipeline.spec import expand

    ds = read_parquet(SHARED_DATA / "tecator.parquet")
    candidates = [from_spec(v) for v in expand(DEMO_PIPELINE)]
    split = parse_split({"venetian": {"n_splits": 10}})
    kw = {
        "target": "fat",
        "splitter": split,
        "train_values": TRAIN_VALUES,
        "test_values": TEST_VALUES,
    }
    raw = execute(ds, [c for c in candidates if not c.steps], **kw).best  # type: ignore[arg-type]
    # shared/data/reference/pls_baselines.json: 13 components, RMSECV 2.4303, RMSEP 2.09844.
    assert raw["n_components"] == 13
    assert raw["rmsecv"] == pytest.approx(2.4303, abs=5e-5)
    assert raw["rmsep"] == pytest.approx(2.09844, abs=5e-6)
    best = execute(ds, candidates, **kw).best  # type: ignore[arg-type]
    assert best["rmsep"] < raw["rmsep"]
    assert best["rmsecv"] < raw["rmsecv"]


def test_repetitions_stay_together_and_are_aggregated() -> None:
    n_samples, reps = 15, 3
    x0 = synthetic_spectra(n_samples, 60, seed=5)
    y0 = x0[:, 10:20].sum(axis=1)
    rng = np.random.default_rng(0)
    x = np.repeat(x0, reps, axis=0) + rng.normal(0, 1e-3, (n_samples * reps, 60))
    df = pl.DataFrame(
        {
            "sample_id": [f"r{i}" for i in range(n_samples * reps)],
            "sample": np.repeat(np.arange(n_samples), reps),
            "spectra": x,
            "y": np.repeat(y0, reps),
        }
    )
    roles = DatasetRoles(id="sample_id", targets=("y",), repetition="sample")
    ds = SpectralDataset(df.lazy(), {"spectra": SpectralAxis.index(60)}, roles)
    res = execute(ds, variants(3), target="y", splitter=parse_split({"venetian": {"n_splits": 5}}))
    folds = res.oof.filter(pl.col("variant") == 0).join(
        df.select("sample_id", "sample"), on="sample_id"
    )
    per_sample = folds.group_by("sample").agg(pl.col("fold").n_unique())
    assert per_sample["fold"].max() == 1  # every sample's repetitions share one fold
    # Venetian over the 15 physical samples (not over the 45 rows): sample i -> fold i mod 5.
    assert folds.group_by("sample").agg(pl.col("fold").first()).sort("sample")[
        "fold"
    ].to_list() == [i % 5 for i in range(n_samples)]
    assert {"rmsecv_agg", "rmsep_agg"} <= set(res.ranking.columns)
    row = res.ranking.row(0, named=True)
    manual = (
        res.oof.filter(pl.col("variant") == row["variant"])
        .join(df.select("sample_id", "sample"), on="sample_id")
        .group_by("sample")
        .agg(pl.col("y_pred").mean(), pl.col("y").first())
    )
    expected = float(np.sqrt(((manual["y_pred"] - manual["y"]) ** 2).mean()))
    assert row["rmsecv_agg"] == pytest.approx(expected, rel=1e-12)
