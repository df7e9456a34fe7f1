"""Hyper-parameter tuning nested inside cross-validation (``finetune``).

For each outer fold, every candidate parameter set is cross-validated on the fold's training
rows only (inner folds); the best one is refit on those rows and predicts the fold's validation
rows. The outer out-of-fold error is therefore an honest estimate of the *tuned* model: the
validation rows never took part in choosing the parameters. The final model repeats the
selection on all training rows (``extra["tuned_final"]``, with or without test rows).

Search: ``grid`` (every combination of the listed values), ``random`` (``n_trials`` seeded draws
from lists or ``{low, high, log, int}`` ranges) or ``optuna`` (TPE, needs the optional
``nirsframe[tune]`` extra).

>>> sample_space({"n_components": [2, 4], "alpha": {"low": 0.1, "high": 1.0}}, 2, seed=0)[0].keys()
dict_keys(['n_components', 'alpha'])
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from nirsframe.exceptions import DatasetError, SpecError
from nirsframe.pipeline.execute import split_rows
from nirsframe.pipeline.result import SearchResult, scores
from nirsframe.pipeline.search import is_classifier
from nirsframe.pipeline.stacking import inner_and_outer

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import numpy.typing as npt

    from nirsframe.dataset import SpectralDataset
    from nirsframe.pipeline.candidates import Candidate


@dataclass(frozen=True)
class Tuning:
    """How to search: the space, the strategy, its budget and seed, the inner splitter."""

    space: Mapping[str, Any]
    search: str = "grid"
    n_trials: int = 20
    seed: int = 0
    inner_splitter: Any = None


def grid(space: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every combination of the listed values (ranges are not allowed in a grid)."""
    names = sorted(space)
    for n in names:
        if not isinstance(space[n], list) or not space[n]:
            msg = f"grid search needs a non-empty list of values for {n!r}; got {space[n]!r}"
            raise SpecError(msg)
    return [
        dict(zip(names, combo, strict=True))
        for combo in itertools.product(*(space[n] for n in names))
    ]


def _draw(rng: random.Random, name: str, spec: Any) -> Any:
    if isinstance(spec, list):
        return rng.choice(spec)
    if isinstance(spec, dict) and {"low", "high"} <= set(spec):
        lo, hi = spec["low"], spec["high"]
        if spec.get("log"):
            value = math.exp(rng.uniform(math.log(lo), math.log(hi)))
        else:
            value = rng.uniform(lo, hi)
        return round(value) if spec.get("int") else value
    msg = f"the space of {name!r} must be a list or {{low, high[, log, int]}}; got {spec!r}"
    raise SpecError(msg)


def sample_space(space: Mapping[str, Any], n_trials: int, *, seed: int) -> list[dict[str, Any]]:
    """``n_trials`` seeded draws (duplicates removed, order kept)."""
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    for _ in range(n_trials):
        params = {name: _draw(rng, name, space[name]) for name in sorted(space)}
        if params not in out:
            out.append(params)
    return out


def _score(y: npt.NDArray[np.float64], pred: npt.NDArray[np.float64], *, classify: bool) -> float:
    """Lower is better: RMSE, or the error rate for classifiers."""
    ok = np.isfinite(pred)
    if classify:
        return float(np.mean(pred[ok] != y[ok]))
    return scores(y, pred)["rmse"]


def _candidates(base: Candidate, params: Sequence[Mapping[str, Any]]) -> list[Candidate]:
    from nirsframe.pipeline.candidates import ModelChoice

    return [
        replace(base, model=ModelChoice.of(base.model.kind, {**base.model.params, **p}))
        for p in params
    ]


def _select(
    dataset: SpectralDataset,
    base: Candidate,
    tuning: Tuning,
    *,
    target: str,
    splitter: Any,
    fit_rows: npt.NDArray[np.int64],
    predict_rows: npt.NDArray[np.int64],
    ids: npt.NDArray[Any],
    y: npt.NDArray[np.float64],
    classify: bool,
    seed: int,
) -> tuple[dict[str, Any], npt.NDArray[np.float64]]:
    """The best parameters on ``fit_rows`` (inner CV) and their refit predictions."""
    inner_split = tuning.inner_splitter or splitter
    kw = {
        "target": target,
        "splitter": inner_split,
        "fit_rows": fit_rows,
        "predict_rows": predict_rows,
        "ids": ids,
    }
    if tuning.search == "optuna":
        return _optuna(dataset, base, tuning, y=y[fit_rows], classify=classify, seed=seed, **kw)
    params = (
        grid(tuning.space)
        if tuning.search == "grid"
        else sample_space(tuning.space, tuning.n_trials, seed=seed)
    )
    inner, outer = inner_and_outer(dataset, _candidates(base, params), **kw)
    errors = [_score(y[fit_rows], inner[:, j], classify=classify) for j in range(len(params))]
    best = int(np.argmin(errors))
    return params[best], outer[:, best]


def _optuna(
    dataset: SpectralDataset,
    base: Candidate,
    tuning: Tuning,
    *,
    y: npt.NDArray[np.float64],
    classify: bool,
    seed: int,
    **kw: Any,
) -> tuple[dict[str, Any], npt.NDArray[np.float64]]:
    try:
        import optuna
    except ImportError as exc:
        msg = "search: optuna needs the optional extra: pip install 'nirsframe[tune]'"
        raise SpecError(msg) from exc
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed))
    tried: dict[int, tuple[dict[str, Any], npt.NDArray[np.float64]]] = {}
    for _ in range(tuning.n_trials):
        trial = study.ask()
        params = {}
        for name in sorted(tuning.space):
            spec = tuning.space[name]
            if isinstance(spec, list):
                params[name] = trial.suggest_categorical(name, spec)
            elif spec.get("int"):
                params[name] = trial.suggest_int(
                    name, int(spec["low"]), int(spec["high"]), log=bool(spec.get("log"))
                )
            else:
                params[name] = trial.suggest_float(
                    name, spec["low"], spec["high"], log=bool(spec.get("log"))
                )
        inner, outer = inner_and_outer(dataset, _candidates(base, [params]), **kw)
        study.tell(trial, _score(y, inner[:, 0], classify=classify))
        tried[trial.number] = (params, outer[:, 0])
    return tried[study.best_trial.number]


def finetune(
    dataset: SpectralDataset,
    base: Candidate,
    tuning: Tuning,
    *,
    target: str,
    splitter: Any,
    name: str = "finetune",
    train_values: Sequence[str] | None = None,
    test_values: Sequence[str] | None = None,
) -> SearchResult:
    """Nested-CV tuning of ``base``'s model parameters over ``tuning.space``."""
    roles = dataset.roles
    if roles.id is None:
        msg = "finetune needs an id column to align predictions"
        raise DatasetError(msg)
    if tuning.search not in ("grid", "random", "optuna"):
        msg = f"'search' must be grid, random or optuna; got {tuning.search!r}"
        raise SpecError(msg)
    df = dataset.frame.select([c for c in (roles.id, target, roles.split) if c]).collect()
    usable = (df[target].is_not_null() & df[target].cast(pl.Float64).is_not_nan()).to_numpy()
    ids = df[roles.id].cast(pl.String).to_numpy()
    y = df[target].cast(pl.Float64).to_numpy()
    train_all, test_all = split_rows(
        df, roles.split, train_values=train_values, test_values=test_values
    )
    train, test = train_all[usable[train_all]], test_all[usable[test_all]]
    folds = np.asarray(splitter.folds(train.size, y=y[train]), dtype=np.int64)
    classify = is_classifier(base.model.kind)
    oof = np.full(train.size, np.nan)
    chosen: list[dict[str, Any]] = []
    for k in np.unique(folds[folds >= 0]):
        params, pred = _select(
            dataset,
            base,
            tuning,
            target=target,
            splitter=splitter,
            fit_rows=train[folds != k],
            predict_rows=train[folds == k],
            ids=ids,
            y=y,
            classify=classify,
            seed=tuning.seed + int(k),
        )
        oof[folds == k] = pred
        chosen.append({"fold": int(k), **params})
    # The final selection on all training rows: the parameters a recorded run refits with.
    final_params, test_pred = _select(
        dataset,
        base,
        tuning,
        target=target,
        splitter=splitter,
        fit_rows=train,
        predict_rows=test,
        ids=ids,
        y=y,
        classify=classify,
        seed=tuning.seed,
    )
    label = f"{base.model.label} tuned ({tuning.search})"
    if classify:
        row: dict[str, Any] = {"accuracy_cv": 1.0 - _score(y[train], oof, classify=True)}
        test_error = _score(y[test], test_pred, classify=True) if test.size else None
        row["accuracy_test"] = None if test_error is None else 1.0 - test_error
    else:
        cv = scores(y[train], oof)
        row = {
            "rmsecv": cv["rmse"],
            "r2cv": cv["r2"],
            "bias": cv["bias"],
            "sep": cv["sep"],
            "rpd": cv["rpd"],
        }
        row["rmsep"] = scores(y[test], test_pred)["rmse"] if test.size else None
    ranking = pl.DataFrame(
        [
            {
                "variant": 0,
                "preprocessing": base.preprocessing,
                "model": label,
                "n_components": None,
                **row,
            }
        ],
        schema_overrides={"n_components": pl.Int64},
    )
    oof_frame = pl.DataFrame(
        {"sample_id": ids[train], "fold": folds, "variant": 0, "y": y[train], "y_pred": oof}
    )
    tests = (
        pl.DataFrame(
            {"sample_id": ids[test], "fold": -1, "variant": 0, "y": y[test], "y_pred": test_pred}
        )
        if test.size
        else oof_frame.head(0)
    )
    return SearchResult(
        name=name,
        target=target,
        ranking=ranking,
        oof=oof_frame,
        test_predictions=tests,
        variants={0: base},
        extra={"tuned_per_fold": chosen, "tuned_final": final_params},
    )
