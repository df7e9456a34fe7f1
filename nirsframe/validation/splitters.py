"""Cross-validation splitters as validated parameter models that produce fold-id vectors.

A splitter turns ``n_samples`` rows into one integer per row: the validation fold the row belongs
to (``0..K-1``) or ``-1`` for rows that are never validated (always in training). Validation sets
are therefore disjoint by construction, and one vector drives the fast PLS cross-validation of
:func:`nirskern.pls_cv` directly.

In a pipeline spec a splitter is written ``{"venetian": {"n_splits": 10}}`` and read back with
:func:`parse_split`. ``kfold``, ``random``, ``group_kfold`` and ``stratified`` reproduce
scikit-learn's ``KFold``, ``ShuffleSplit(n_splits=1)``, ``GroupKFold`` and ``StratifiedKFold`` (on
the binned target) fold for fold, including shuffling with the same ``random_state``.

>>> split = parse_split({"venetian": {"n_splits": 3}})
>>> split.folds(7).tolist()
[0, 1, 2, 0, 1, 2, 0]

References
----------
Kennard & Stone (1969), Technometrics 11(1), 137-148.
Galvão et al. (2005), Talanta 67(4), 736-740 (SPXY).
"""

from __future__ import annotations

import difflib
import math
from abc import abstractmethod
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
from pydantic import Field, model_validator

from nirsframe.exceptions import InvalidParameterError, SpecError
from nirsframe.operators._base import Params, validate_params

__all__ = [
    "SPLITTERS",
    "GroupKFold",
    "KFold",
    "KennardStone",
    "LeaveOneOut",
    "Predefined",
    "RandomSplit",
    "Splitter",
    "Spxy",
    "Stratified",
    "Venetian",
    "parse_split",
    "split_indices",
]

FoldIds = npt.NDArray[np.int64]
TestSize = float | int

#: Rows per block when scanning all pairwise distances (Kennard-Stone, SPXY): bounds memory to
#: ``_PAIR_BLOCK * n_samples`` floats.
_PAIR_BLOCK = 1024


class Splitter(Params):
    """Base of every splitter: a frozen parameter model with a :meth:`folds` method."""

    name: ClassVar[str]

    @abstractmethod
    def folds(
        self,
        n_samples: int,
        *,
        y: npt.ArrayLike | None = None,
        x: npt.ArrayLike | None = None,
        groups: npt.ArrayLike | None = None,
    ) -> FoldIds:
        """One fold id per row: validation fold ``0..K-1``, or ``-1`` for never validated."""

    def to_spec(self) -> dict[str, dict[str, Any]]:
        """The spec form ``{name: params}`` that :func:`parse_split` reads back.

        >>> Venetian(n_splits=4).to_spec()
        {'venetian': {'n_splits': 4}}
        """
        return {self.name: self.model_dump()}


# -- helpers --------------------------------------------------------------------------------------
def _n(n_samples: int, minimum: int, owner: str) -> int:
    if isinstance(n_samples, bool) or not isinstance(n_samples, int | np.integer):
        msg = f"'n_samples' must be an integer, not {type(n_samples).__name__}"
        raise TypeError(msg)
    if n_samples < minimum:
        msg = f"{owner} needs at least {minimum} samples; got n_samples={n_samples}"
        raise InvalidParameterError(msg)
    return int(n_samples)


def _vector(values: npt.ArrayLike | None, n: int, name: str, owner: str) -> npt.NDArray[Any]:
    if values is None:
        msg = f"{owner} needs '{name}' (one value per sample)"
        raise InvalidParameterError(msg)
    arr = np.asarray(values)
    if arr.ndim == 2 and arr.shape[1] == 1 and name == "y":
        arr = arr[:, 0]
    if arr.ndim != 1 or arr.shape[0] != n:
        msg = f"'{name}' must be 1-D with n_samples={n} values for {owner}; got shape {arr.shape}"
        raise InvalidParameterError(msg)
    return arr


def _rng(random_state: int | None) -> np.random.RandomState:
    # scikit-learn's check_random_state: the legacy RandomState stream, for fold-for-fold parity.
    return np.random.RandomState(random_state)


def _n_test(test_size: TestSize, n: int, owner: str) -> int:
    # ShuffleSplit's rule: a fraction rounds the test set up, an integer is a count.
    n_test = math.ceil(test_size * n) if isinstance(test_size, float) else int(test_size)
    if not 1 <= n_test <= n - 1:
        msg = (
            f"the 'test_size' parameter of {owner} leaves an empty train or test set; "
            f"got test_size={test_size}, n_samples={n}"
        )
        raise InvalidParameterError(msg)
    return n_test


def _check_splits(n_splits: int, n: int, owner: str) -> None:
    if n_splits > n:
        msg = f"{owner} cannot have n_splits={n_splits} greater than n_samples={n}"
        raise InvalidParameterError(msg)


def _sq_norms(a: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    out: npt.NDArray[np.float64] = np.einsum("ij,ij->i", a, a)
    return out


def _pair_distances(
    a: npt.NDArray[np.float64], b: npt.NDArray[np.float64], na: Any, nb: Any
) -> npt.NDArray[np.float64]:
    # Euclidean distances via the Gram trick; clip the tiny negatives rounding can produce.
    d2 = na[:, np.newaxis] + nb[np.newaxis, :] - 2.0 * (a @ b.T)
    out: npt.NDArray[np.float64] = np.sqrt(np.maximum(d2, 0.0))
    return out


def _blocks_max(
    n: int, block: Callable[[slice], npt.NDArray[np.float64]]
) -> tuple[float, int, int]:
    """Largest entry of an (n, n) distance matrix computed by row blocks, and its position."""
    best, bi, bj = -1.0, 0, 1
    for start in range(0, n, _PAIR_BLOCK):
        rows = slice(start, min(start + _PAIR_BLOCK, n))
        d = block(rows)
        flat = int(np.argmax(d))
        i, j = divmod(flat, n)
        if d[i, j] > best:
            best, bi, bj = float(d[i, j]), start + i, j
    return best, bi, bj


def _max_min_select(
    n_select: int, first: tuple[int, int], dist_to: Callable[[int], npt.NDArray[np.float64]], n: int
) -> npt.NDArray[np.bool_]:
    """Kennard-Stone selection: start from a pair, then add the row farthest from the selection."""
    selected = np.zeros(n, dtype=bool)
    i, j = first
    selected[i] = selected[j] = True
    min_d = np.minimum(dist_to(i), dist_to(j))
    for _ in range(n_select - 2):
        cand = np.where(selected, -np.inf, min_d)
        k = int(np.argmax(cand))
        selected[k] = True
        min_d = np.minimum(min_d, dist_to(k))
    return selected


def _as_matrix(values: npt.ArrayLike | None, n: int, name: str, owner: str) -> Any:
    if values is None:
        msg = f"{owner} needs '{name}' (one row per sample)"
        raise InvalidParameterError(msg)
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, np.newaxis]
    if arr.ndim != 2 or arr.shape[0] != n:
        msg = f"'{name}' must have n_samples={n} rows for {owner}; got shape {arr.shape}"
        raise InvalidParameterError(msg)
    if not np.all(np.isfinite(arr)):
        msg = f"'{name}' must be finite for {owner}"
        raise InvalidParameterError(msg)
    return arr


# -- splitters ------------------------------------------------------------------------------------
class KFold(Splitter):
    """Contiguous folds (scikit-learn ``KFold``): the first ``n % k`` folds get one extra row.

    >>> KFold(n_splits=3).folds(7).tolist()
    [0, 0, 0, 1, 1, 2, 2]
    """

    name: ClassVar[str] = "kfold"
    n_splits: int = Field(5, ge=2)
    shuffle: bool = False
    random_state: int | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _seed_needs_shuffle(self) -> KFold:
        if self.random_state is not None and not self.shuffle:
            msg = "'random_state' has no effect unless shuffle=True; set shuffle=True or drop it"
            raise ValueError(msg)
        return self

    def folds(
        self,
        n_samples: int,
        *,
        y: npt.ArrayLike | None = None,
        x: npt.ArrayLike | None = None,
        groups: npt.ArrayLike | None = None,
    ) -> FoldIds:
        """Fold ids of ``n_samples`` rows."""
        n = _n(n_samples, 2, self.name)
        _check_splits(self.n_splits, n, self.name)
        order = np.arange(n)
        if self.shuffle:
            _rng(self.random_state).shuffle(order)
        sizes = np.full(self.n_splits, n // self.n_splits)
        sizes[: n % self.n_splits] += 1
        out = np.empty(n, dtype=np.int64)
        out[order] = np.repeat(np.arange(self.n_splits), sizes)
        return out


class Venetian(Splitter):
    """Venetian blinds: row ``i`` validates in fold ``i mod n_splits``.

    >>> Venetian(n_splits=2).folds(5).tolist()
    [0, 1, 0, 1, 0]
    """

    name: ClassVar[str] = "venetian"
    n_splits: int = Field(10, ge=2)

    def folds(
        self,
        n_samples: int,
        *,
        y: npt.ArrayLike | None = None,
        x: npt.ArrayLike | None = None,
        groups: npt.ArrayLike | None = None,
    ) -> FoldIds:
        """Fold ids of ``n_samples`` rows."""
        n = _n(n_samples, 2, self.name)
        _check_splits(self.n_splits, n, self.name)
        return np.arange(n, dtype=np.int64) % self.n_splits


class LeaveOneOut(Splitter):
    """Leave-one-out: every row is its own validation fold.

    >>> LeaveOneOut().folds(3).tolist()
    [0, 1, 2]
    """

    name: ClassVar[str] = "loo"

    def folds(
        self,
        n_samples: int,
        *,
        y: npt.ArrayLike | None = None,
        x: npt.ArrayLike | None = None,
        groups: npt.ArrayLike | None = None,
    ) -> FoldIds:
        """Fold ids of ``n_samples`` rows."""
        return np.arange(_n(n_samples, 2, self.name), dtype=np.int64)


class _Holdout(Splitter):
    """Splitters with one validation set of ``test_size`` rows (a fraction, rounded up, or a
    row count)."""

    test_size: float | int = Field(0.2, gt=0)

    @model_validator(mode="after")
    def _fraction_below_one(self) -> _Holdout:
        if isinstance(self.test_size, float) and self.test_size >= 1.0:
            msg = "'test_size' must be a fraction in (0, 1) or an integer row count"
            raise ValueError(msg)
        return self


class RandomSplit(_Holdout):
    """One seeded random validation set (scikit-learn ``ShuffleSplit(n_splits=1)``).

    ``test_size`` is a fraction (rounded up) or a row count. Other rows get -1.

    >>> RandomSplit(test_size=2, random_state=0).folds(5).tolist()
    [0, -1, 0, -1, -1]
    """

    name: ClassVar[str] = "random"
    random_state: int | None = Field(0, ge=0)

    def folds(
        self,
        n_samples: int,
        *,
        y: npt.ArrayLike | None = None,
        x: npt.ArrayLike | None = None,
        groups: npt.ArrayLike | None = None,
    ) -> FoldIds:
        """Fold ids of ``n_samples`` rows."""
        n = _n(n_samples, 2, self.name)
        n_test = _n_test(self.test_size, n, self.name)
        perm = _rng(self.random_state).permutation(n)
        out = np.full(n, -1, dtype=np.int64)
        out[perm[:n_test]] = 0
        return out


class KennardStone(_Holdout):
    """Kennard-Stone: calibration rows spread over ``x``; the rest (``test_size``) validate.

    The two most distant spectra start the calibration set; each next one is the spectrum whose
    Euclidean distance to its nearest selected spectrum is largest. Needs ``x``.

    >>> KennardStone(test_size=2).folds(5, x=[[0.0], [1.0], [2.0], [3.0], [4.0]]).tolist()
    [-1, 0, -1, 0, -1]
    """

    name: ClassVar[str] = "kennard_stone"

    def folds(
        self,
        n_samples: int,
        *,
        y: npt.ArrayLike | None = None,
        x: npt.ArrayLike | None = None,
        groups: npt.ArrayLike | None = None,
    ) -> FoldIds:
        """Fold ids of ``n_samples`` rows (calibration rows get -1)."""
        n = _n(n_samples, 3, self.name)
        n_cal = n - _n_test(self.test_size, n, self.name)
        xm = _as_matrix(x, n, "x", self.name)
        norms = _sq_norms(xm)
        _, i, j = _blocks_max(n, lambda r: _pair_distances(xm[r], xm, norms[r], norms))

        def dist_to(k: int) -> npt.NDArray[np.float64]:
            out: npt.NDArray[np.float64] = np.sqrt(np.sum((xm - xm[k]) ** 2, axis=1))
            return out

        selected = _max_min_select(max(n_cal, 2), (i, j), dist_to, n)
        return np.where(selected, -1, 0).astype(np.int64)


class Spxy(_Holdout):
    """SPXY: Kennard-Stone on the sum of ``x`` and ``y`` distances, each scaled by its maximum.

    Needs ``x`` and ``y``; the rows not selected for calibration (``test_size``) validate.

    >>> Spxy(test_size=1).folds(3, x=[[0.0], [1.0], [2.0]], y=[0.0, 5.0, 1.0]).tolist()
    [-1, -1, 0]
    """

    name: ClassVar[str] = "spxy"

    def folds(
        self,
        n_samples: int,
        *,
        y: npt.ArrayLike | None = None,
        x: npt.ArrayLike | None = None,
        groups: npt.ArrayLike | None = None,
    ) -> FoldIds:
        """Fold ids of ``n_samples`` rows (calibration rows get -1)."""
        n = _n(n_samples, 3, self.name)
        n_cal = n - _n_test(self.test_size, n, self.name)
        xm = _as_matrix(x, n, "x", self.name)
        ym = _as_matrix(y, n, "y", self.name)
        nx, ny = _sq_norms(xm), _sq_norms(ym)
        max_x, _, _ = _blocks_max(n, lambda r: _pair_distances(xm[r], xm, nx[r], nx))
        max_y, _, _ = _blocks_max(n, lambda r: _pair_distances(ym[r], ym, ny[r], ny))
        # A constant x or y contributes nothing (avoid 0/0).
        sx = 1.0 / max_x if max_x > 0 else 0.0
        sy = 1.0 / max_y if max_y > 0 else 0.0
        _, i, j = _blocks_max(
            n,
            lambda r: (
                sx * _pair_distances(xm[r], xm, nx[r], nx)
                + sy * _pair_distances(ym[r], ym, ny[r], ny)
            ),
        )

        def dist_to(k: int) -> npt.NDArray[np.float64]:
            dx = np.sqrt(np.sum((xm - xm[k]) ** 2, axis=1))
            dy = np.sqrt(np.sum((ym - ym[k]) ** 2, axis=1))
            out: npt.NDArray[np.float64] = sx * dx + sy * dy
            return out

        selected = _max_min_select(max(n_cal, 2), (i, j), dist_to, n)
        return np.where(selected, -1, 0).astype(np.int64)


class GroupKFold(Splitter):
    """Folds that keep every group together (scikit-learn ``GroupKFold``).

    Without shuffling the largest groups go first, each to the fold with the fewest rows so far;
    with ``shuffle=True`` the shuffled groups are split into ``n_splits`` nearly equal runs.

    >>> GroupKFold(n_splits=2).folds(5, groups=["a", "a", "b", "c", "c"]).tolist()
    [1, 1, 0, 0, 0]
    """

    name: ClassVar[str] = "group_kfold"
    n_splits: int = Field(5, ge=2)
    shuffle: bool = False
    random_state: int | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _seed_needs_shuffle(self) -> GroupKFold:
        if self.random_state is not None and not self.shuffle:
            msg = "'random_state' has no effect unless shuffle=True; set shuffle=True or drop it"
            raise ValueError(msg)
        return self

    def folds(
        self,
        n_samples: int,
        *,
        y: npt.ArrayLike | None = None,
        x: npt.ArrayLike | None = None,
        groups: npt.ArrayLike | None = None,
    ) -> FoldIds:
        """Fold ids of ``n_samples`` rows, given one group label per row."""
        n = _n(n_samples, 2, self.name)
        g = _vector(groups, n, "groups", self.name)
        unique, inverse = np.unique(g, return_inverse=True)
        if self.n_splits > unique.shape[0]:
            msg = (
                f"{self.name} cannot have n_splits={self.n_splits} greater than the number of "
                f"groups ({unique.shape[0]})"
            )
            raise InvalidParameterError(msg)
        group_fold = np.empty(unique.shape[0], dtype=np.int64)
        if self.shuffle:
            perm = _rng(self.random_state).permutation(unique.shape[0])
            for k, part in enumerate(np.array_split(perm, self.n_splits)):
                group_fold[part] = k
        else:
            sizes = np.bincount(inverse)
            order = np.argsort(sizes, kind="stable")[::-1]
            load = np.zeros(self.n_splits)
            for gi in order:
                k = int(np.argmin(load))
                load[k] += sizes[gi]
                group_fold[gi] = k
        return group_fold[inverse]


class Stratified(Splitter):
    """Folds stratified on the target (scikit-learn ``StratifiedKFold`` on binned ``y``).

    A continuous ``y`` is cut into ``n_bins`` quantile bins first, so every fold spans the whole
    range of the reference values; ``n_bins=None`` stratifies on the values of ``y`` themselves
    (class labels).

    >>> Stratified(n_splits=2, n_bins=2).folds(6, y=[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).tolist()
    [0, 0, 1, 0, 1, 1]
    """

    name: ClassVar[str] = "stratified"
    n_splits: int = Field(5, ge=2)
    n_bins: int | None = Field(5, ge=2)
    shuffle: bool = False
    random_state: int | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _seed_needs_shuffle(self) -> Stratified:
        if self.random_state is not None and not self.shuffle:
            msg = "'random_state' has no effect unless shuffle=True; set shuffle=True or drop it"
            raise ValueError(msg)
        return self

    def bins(self, y: npt.ArrayLike) -> FoldIds:
        """The stratification labels: quantile bin of each ``y`` (or class codes).

        >>> Stratified(n_bins=2).bins([3.0, 1.0, 2.0, 4.0]).tolist()
        [1, 0, 0, 1]
        """
        arr = np.asarray(y)
        if self.n_bins is None:
            _, codes = np.unique(arr, return_inverse=True)
            return codes.astype(np.int64)
        values = arr.astype(np.float64)
        if not np.all(np.isfinite(values)):
            msg = f"'y' must be finite for {self.name}"
            raise InvalidParameterError(msg)
        inner = np.quantile(values, np.linspace(0.0, 1.0, self.n_bins + 1)[1:-1])
        out: FoldIds = np.searchsorted(inner, values, side="right").astype(np.int64)
        return out

    def folds(
        self,
        n_samples: int,
        *,
        y: npt.ArrayLike | None = None,
        x: npt.ArrayLike | None = None,
        groups: npt.ArrayLike | None = None,
    ) -> FoldIds:
        """Fold ids of ``n_samples`` rows, given the target ``y``."""
        n = _n(n_samples, 2, self.name)
        labels = self.bins(_vector(y, n, "y", self.name))
        # StratifiedKFold: classes numbered in order of first appearance; the sorted labels are
        # dealt round-robin to the folds, which fixes how many rows of each class a fold gets.
        _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
        _, class_perm = np.unique(first, return_inverse=True)
        encoded = class_perm[inverse]
        n_classes = first.shape[0]
        counts = np.bincount(encoded)
        if self.n_splits > counts.max():
            msg = (
                f"{self.name} cannot have n_splits={self.n_splits} greater than the largest "
                f"class ({int(counts.max())} rows)"
            )
            raise InvalidParameterError(msg)
        ordered = np.sort(encoded)
        allocation = np.array(
            [
                np.bincount(ordered[i :: self.n_splits], minlength=n_classes)
                for i in range(self.n_splits)
            ]
        )
        rng = _rng(self.random_state) if self.shuffle else None
        out = np.empty(n, dtype=np.int64)
        for k in range(n_classes):
            fold_of_class = np.arange(self.n_splits).repeat(allocation[:, k])
            if rng is not None:
                rng.shuffle(fold_of_class)
            out[encoded == k] = fold_of_class
        return out


class Predefined(Splitter):
    """A train/test split stored in a column: test rows validate (fold 0), train rows get -1.

    The caller passes the column's values as ``groups``; any other value is an error.

    >>> Predefined(column="split").folds(3, groups=["train", "test", "train"]).tolist()
    [-1, 0, -1]
    """

    name: ClassVar[str] = "predefined"
    column: str = Field(min_length=1)
    train_value: str | int | bool = "train"
    test_value: str | int | bool = "test"

    @model_validator(mode="after")
    def _distinct_values(self) -> Predefined:
        if self.train_value == self.test_value:
            msg = f"'train_value' and 'test_value' must differ; both are {self.train_value!r}"
            raise ValueError(msg)
        return self

    def folds(
        self,
        n_samples: int,
        *,
        y: npt.ArrayLike | None = None,
        x: npt.ArrayLike | None = None,
        groups: npt.ArrayLike | None = None,
    ) -> FoldIds:
        """Fold ids of ``n_samples`` rows from the split column's values (``groups``)."""
        n = _n(n_samples, 2, self.name)
        values = _vector(groups, n, "groups", f"{self.name} (values of {self.column!r})")
        is_test = values == self.test_value
        is_train = values == self.train_value
        other = ~(is_test | is_train)
        if other.any():
            found = sorted({str(v) for v in values[other]})[:5]
            msg = (
                f"column {self.column!r} must hold only {self.train_value!r} or "
                f"{self.test_value!r}; found {found}"
            )
            raise InvalidParameterError(msg)
        if not is_test.any() or not is_train.any():
            msg = f"column {self.column!r} must have both train and test rows"
            raise InvalidParameterError(msg)
        return np.where(is_test, 0, -1).astype(np.int64)


#: Splitters by spec name.
SPLITTERS: dict[str, type[Splitter]] = {
    cls.name: cls
    for cls in (
        KFold,
        Venetian,
        LeaveOneOut,
        RandomSplit,
        KennardStone,
        Spxy,
        GroupKFold,
        Stratified,
        Predefined,
    )
}


def parse_split(obj: Mapping[str, Any] | str | Splitter) -> Splitter:
    """Build a splitter from its spec form ``{name: {param: value}}`` (or a bare name).

    Unknown names raise :class:`~nirsframe.exceptions.SpecError` suggesting the closest one;
    bad parameters raise :class:`~nirsframe.exceptions.InvalidParameterError` naming them.

    >>> parse_split({"kfold": {"n_splits": 3}})
    KFold(n_splits=3, shuffle=False, random_state=None)
    >>> parse_split("loo")
    LeaveOneOut()
    """
    if isinstance(obj, Splitter):
        return obj
    params: dict[str, Any]
    if isinstance(obj, str):
        name, params = obj, {}
    elif isinstance(obj, Mapping) and len(obj) == 1:
        name, raw = next(iter(obj.items()))
        if raw is None:
            params = {}
        elif isinstance(raw, Mapping):
            params = dict(raw)
        else:
            msg = f"the parameters of splitter {name!r} must be a mapping; got {raw!r}"
            raise SpecError(msg)
    else:
        msg = (
            "a split must be a mapping with exactly one splitter name, e.g. "
            f'{{"venetian": {{"n_splits": 10}}}}; got {obj!r}'
        )
        raise SpecError(msg)
    if name not in SPLITTERS:
        close = difflib.get_close_matches(str(name), list(SPLITTERS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        msg = f"unknown splitter {name!r}{hint} (known: {', '.join(sorted(SPLITTERS))})"
        raise SpecError(msg)
    return validate_params(SPLITTERS[name], params, f"splitter {name!r}")


def split_indices(folds: npt.ArrayLike) -> Iterator[tuple[FoldIds, FoldIds]]:
    """``(train, validation)`` row indices of each fold, in fold-id order.

    >>> [(t.tolist(), v.tolist()) for t, v in split_indices([0, 1, -1, 0])]
    [([1, 2], [0, 3]), ([0, 2, 3], [1])]
    """
    arr = np.asarray(folds, dtype=np.int64)
    for k in np.unique(arr[arr >= 0]):
        yield np.flatnonzero(arr != k), np.flatnonzero(arr == k)
