"""Splitters: fold-for-fold parity with scikit-learn, spec parsing, typed errors."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import model_selection as ms

from nirsframe.exceptions import InvalidParameterError, SpecError
from nirsframe.validation.splitters import (
    SPLITTERS,
    GroupKFold,
    KennardStone,
    KFold,
    LeaveOneOut,
    Predefined,
    RandomSplit,
    Splitter,
    Spxy,
    Stratified,
    Venetian,
    parse_split,
    split_indices,
)


def _sk_folds(cv: object, n: int, y: object = None, groups: object = None) -> np.ndarray:
    out = np.full(n, -1)
    for k, (_, test) in enumerate(cv.split(np.zeros((n, 1)), y, groups)):  # type: ignore[attr-defined]
        assert np.all(out[test] == -1)
        out[test] = k
    return out


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 60), k=st.integers(2, 8), shuffle=st.booleans(), seed=st.integers(0, 999))
def test_kfold_parity(n: int, k: int, shuffle: bool, seed: int) -> None:
    if k > n:
        with pytest.raises(InvalidParameterError, match="greater than n_samples"):
            KFold(n_splits=k).folds(n)
        return
    rs = seed if shuffle else None
    ours = KFold(n_splits=k, shuffle=shuffle, random_state=rs).folds(n)
    np.testing.assert_array_equal(ours, _sk_folds(ms.KFold(k, shuffle=shuffle, random_state=rs), n))


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(2, 60),
    test_size=st.one_of(st.floats(0.05, 0.9), st.integers(1, 5)),
    seed=st.integers(0, 999),
)
def test_random_split_parity(n: int, test_size: float, seed: int) -> None:
    split = RandomSplit(test_size=test_size, random_state=seed)
    n_test = math.ceil(test_size * n) if isinstance(test_size, float) else test_size
    if not 1 <= n_test <= n - 1:
        with pytest.raises(InvalidParameterError, match="'test_size'"):
            split.folds(n)
        return
    ours = split.folds(n)
    sk = ms.ShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
    np.testing.assert_array_equal(ours, _sk_folds(sk, n))


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(4, 60),
    n_groups=st.integers(2, 12),
    k=st.integers(2, 5),
    shuffle=st.booleans(),
    seed=st.integers(0, 999),
    str_groups=st.booleans(),
)
def test_group_kfold_parity(
    n: int, n_groups: int, k: int, shuffle: bool, seed: int, str_groups: bool
) -> None:
    rng = np.random.default_rng(seed)
    groups = rng.integers(0, n_groups, size=n)
    if str_groups:
        groups = np.array([f"g{g}" for g in groups])
    rs = seed if shuffle else None
    split = GroupKFold(n_splits=k, shuffle=shuffle, random_state=rs)
    if k > np.unique(groups).size:
        with pytest.raises(InvalidParameterError, match="number of groups"):
            split.folds(n, groups=groups)
        return
    sk = ms.GroupKFold(n_splits=k, shuffle=shuffle, random_state=rs)
    ours = split.folds(n, groups=groups)
    np.testing.assert_array_equal(ours, _sk_folds(sk, n, groups=groups))
    for g in np.unique(groups):  # a group never straddles folds
        assert np.unique(ours[groups == g]).size == 1


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(10, 80),
    k=st.integers(2, 5),
    n_bins=st.sampled_from([2, 3, 5]),
    shuffle=st.booleans(),
    seed=st.integers(0, 999),
)
def test_stratified_parity_on_bins(n: int, k: int, n_bins: int, shuffle: bool, seed: int) -> None:
    y = np.random.default_rng(seed).gamma(2.0, size=n)
    rs = seed if shuffle else None
    split = Stratified(n_splits=k, n_bins=n_bins, shuffle=shuffle, random_state=rs)
    bins = split.bins(y)
    assert set(np.unique(bins)) <= set(range(n_bins))
    if np.all(np.bincount(bins) < k):
        with pytest.raises(InvalidParameterError, match="largest class"):
            split.folds(n, y=y)
        return
    sk = ms.StratifiedKFold(n_splits=k, shuffle=shuffle, random_state=rs)
    with warnings.catch_warnings():
        # sklearn warns when a bin has fewer rows than n_splits; the folds are still defined.
        warnings.simplefilter("ignore", UserWarning)
        expected = _sk_folds(sk, n, y=bins)
    np.testing.assert_array_equal(split.folds(n, y=y), expected)


def test_stratified_class_labels_and_spread() -> None:
    labels = np.array(["a", "b", "a", "c", "b", "a", "c", "b", "a", "c"])
    ours = Stratified(n_splits=3, n_bins=None).folds(10, y=labels)
    sk = _sk_folds(ms.StratifiedKFold(3), 10, y=labels)
    np.testing.assert_array_equal(ours, sk)
    y = np.linspace(0, 1, 50)
    folds = Stratified(n_splits=5, n_bins=5).folds(50, y=y)
    for f in range(5):  # every fold spans the whole range
        assert y[folds == f].min() < 0.2
        assert y[folds == f].max() > 0.8


def test_venetian_and_loo() -> None:
    np.testing.assert_array_equal(Venetian(n_splits=3).folds(8), [0, 1, 2, 0, 1, 2, 0, 1])
    np.testing.assert_array_equal(LeaveOneOut().folds(5), _sk_folds(ms.LeaveOneOut(), 5))


def test_kennard_stone_selects_spread_calibration() -> None:
    x = np.arange(11.0)[:, None]
    folds = KennardStone(test_size=8).folds(11, x=x)
    # Calibration (-1) = the two ends, then the middle.
    np.testing.assert_array_equal(np.flatnonzero(folds == -1), [0, 5, 10])
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 5))
    folds = KennardStone(test_size=0.25).folds(40, x=x)
    assert np.sum(folds == 0) == 10
    d = np.linalg.norm(x[:, None] - x[None], axis=2)
    i, j = np.unravel_index(np.argmax(d), d.shape)
    assert folds[i] == -1
    assert folds[j] == -1
    # Max-min property: each validation row is closer to the calibration set than the last pick.
    cal = folds == -1
    assert (
        d[np.ix_(~cal, cal)].min(axis=1).max()
        <= d[np.ix_(cal, cal)][d[np.ix_(cal, cal)] > 0].min() + 1e-12
    )


def test_spxy_uses_y() -> None:
    x = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = np.array([0.0, 10.0, 0.1, 0.2])
    folds = Spxy(test_size=2).folds(4, x=x, y=y)
    # x alone would pick rows 0 and 3; y makes row 1 (far in y) part of the calibration pair.
    assert folds[1] == -1
    assert np.sum(folds == 0) == 2
    assert np.sum(KennardStone(test_size=2).folds(4, x=x)[[0, 3]] == -1) == 2
    with pytest.raises(InvalidParameterError, match="needs 'y'"):
        Spxy().folds(4, x=x)


def test_predefined() -> None:
    split = Predefined(column="split")
    np.testing.assert_array_equal(
        split.folds(4, groups=["train", "test", "test", "train"]), [-1, 0, 0, -1]
    )
    with pytest.raises(InvalidParameterError, match=r"found \['val'\]"):
        split.folds(3, groups=["train", "val", "test"])
    with pytest.raises(InvalidParameterError, match="both train and test"):
        split.folds(2, groups=["train", "train"])
    with pytest.raises(InvalidParameterError, match="must differ"):
        parse_split({"predefined": {"column": "s", "train_value": "a", "test_value": "a"}})


@pytest.mark.parametrize("name", sorted(SPLITTERS))
def test_every_splitter_gives_disjoint_validation_sets_and_round_trips(name: str) -> None:
    spec = {"predefined": {"column": "split"}}.get(name, {})
    split = parse_split({name: spec})
    assert isinstance(split, Splitter)
    assert parse_split(json.loads(json.dumps(split.to_spec()))) == split
    n = 30
    rng = np.random.default_rng(1)
    folds = split.folds(
        n,
        x=rng.normal(size=(n, 4)),
        y=rng.normal(size=n),
        groups=np.array(["train", "test"] * 15) if name == "predefined" else np.arange(n) % 7,
    )
    assert folds.dtype == np.int64
    assert folds.shape == (n,)
    assert folds.min() >= -1
    assert np.any(folds >= 0)
    seen = np.zeros(n, dtype=int)
    for train, val in split_indices(folds):
        assert np.intersect1d(train, val).size == 0
        assert train.size + val.size == n
        seen[val] += 1
    assert np.all(seen[folds >= 0] == 1)
    assert np.all(seen[folds == -1] == 0)
    with pytest.raises(Exception, match="frozen"):
        split.n_splits = 3  # type: ignore[misc]


def test_parse_split_errors() -> None:
    with pytest.raises(SpecError, match="did you mean 'venetian'"):
        parse_split({"venitian": {"n_splits": 5}})
    with pytest.raises(SpecError, match="exactly one splitter"):
        parse_split({"kfold": {}, "loo": {}})
    with pytest.raises(SpecError, match="must be a mapping"):
        parse_split({"kfold": 5})
    with pytest.raises(InvalidParameterError, match="'n_splits' parameter of splitter 'kfold'"):
        parse_split({"kfold": {"n_splits": 1}})
    with pytest.raises(InvalidParameterError, match="has no parameter 'n_folds'"):
        parse_split({"venetian": {"n_folds": 3}})
    with pytest.raises(InvalidParameterError, match="shuffle=True"):
        parse_split({"kfold": {"random_state": 3}})
    with pytest.raises(InvalidParameterError, match="test_size"):
        parse_split({"random": {"test_size": 1.5}})
    assert parse_split("loo") == LeaveOneOut()
    assert parse_split({"loo": None}) == LeaveOneOut()
    with pytest.raises(InvalidParameterError, match="greater than n_samples"):
        Venetian(n_splits=10).folds(5)
    with pytest.raises(InvalidParameterError, match="at least 2 samples"):
        LeaveOneOut().folds(1)
    with pytest.raises(TypeError, match="'n_samples' must be an integer"):
        Venetian().folds(5.0)  # type: ignore[arg-type]
