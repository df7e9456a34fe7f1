"""Row views: every view's PLS model equals a direct fit on its transformed training rows."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from nirskern import msc, savgol, snv
from nirskern.pls import pls_fit, pls_predict
from nirskern.pls_views import (
    RowView,
    group_sums,
    msc_coefficients,
    pls_views,
    row_moments,
)
from numpy.testing import assert_allclose

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

N, P, A = 90, 40, 6


def spectra(n: int = N, p: int = P, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    base = np.sin(np.linspace(0.0, 6.0, p)) + 2.0
    scatter = 1.0 + 0.1 * rng.normal(size=(n, 1))
    x = scatter * (base + 0.05 * rng.normal(size=(n, p))) + 0.1 * rng.normal(size=(n, 1))
    y = np.stack([x[:, 5] - x[:, 30], x[:, 12] + 0.3 * x[:, 20]], axis=1)
    return x, y + 0.01 * rng.normal(size=y.shape)


def direct(z: np.ndarray, y: np.ndarray, train: np.ndarray, rows: np.ndarray, a: int) -> np.ndarray:
    model = pls_fit(z[train], y[train], a)
    return pls_predict(z[rows], model.coef, model.x_mean, model.y_mean)


@pytest.mark.parametrize("n_targets", [1, 2])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_views_equal_direct_fits(n_targets: int, dtype: type) -> None:
    x, y = spectra()
    x = x.astype(dtype)
    y = y[:, :n_targets]
    x64 = x.astype(np.float64)
    folds = np.arange(N) % 4
    folds[:5] = -1  # always in training
    d = savgol(np.eye(P), 7, 2, deriv=1).T  # the filtered rows of the identity are Dᵀ
    # A dense filter that drops points (not banded: plain products).
    dense = np.random.default_rng(5).normal(size=(P - 3, P)) / P
    mean, ss = row_moments(x)
    sd = np.sqrt(ss / P)
    views, expected = [], []
    for k in (0, 1, 2, 3, -2):  # -2: every row trains (the final context)
        train = folds != k
        rows = np.flatnonzero(~train) if k >= 0 else np.arange(N)
        ref = x64[train].mean(axis=0)
        a, b = msc_coefficients(x, mean, ref[np.newaxis, :])
        maps = {
            "raw": (np.ones(N), np.zeros(N), x64),
            "snv": (1.0 / sd, mean, snv(x64)),
            "msc": (1.0 / b[:, 0], a[:, 0], msc(x64, ref)),
        }
        for scale, offset, z in maps.values():
            for filt, zf in ((-1, z), (0, savgol(z, 7, 2, deriv=1)), (1, z @ dense.T)):
                views.append(RowView(scale, offset, train, rows, A, filt))
                expected.append(direct(zf, y, train, rows, A))
    got = pls_views(x, y, views, [d, dense])
    for g, e in zip(got, expected, strict=True):
        assert g.shape == e.shape
        assert_allclose(g, e, rtol=1e-9, atol=1e-9 * float(np.abs(e).max()))


def test_threaded_passes_give_the_same_bits_as_serial_ones() -> None:
    # Tasks run on threads, in any order, write disjoint rows and return partial sums added in
    # task order: the predictions must not depend on how the tasks were run.
    x, y = spectra(n=600)
    mean, ss = row_moments(x)
    train = np.arange(600) % 5 != 0
    views = [
        RowView(np.ones(600), np.zeros(600), train, np.flatnonzero(~train), A),
        RowView(1.0 / np.sqrt(ss / P), mean, train, np.flatnonzero(~train), A, 0),
    ]
    d = savgol(np.eye(P), 7, 2, deriv=1).T
    serial = pls_views(x, y, views, [d], block_rows=16)

    def threaded(fn: Callable[[Any], np.ndarray], tasks: Sequence[Any]) -> list[np.ndarray]:
        with ThreadPoolExecutor(3) as pool:
            futures = [pool.submit(fn, t) for t in reversed(tasks)]
            return [f.result() for f in reversed(futures)]

    got = pls_views(x, y, views, [d], block_rows=16, map_tasks=threaded)
    for g, e in zip(got, serial, strict=True):
        np.testing.assert_array_equal(g, e)


def test_a_view_stops_when_the_response_is_exhausted() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(30, 2)) @ rng.normal(size=(2, 12))  # rank 2
    y = x @ rng.normal(size=12)
    view = RowView(np.ones(30), np.zeros(30), np.ones(30, dtype=bool), np.arange(30), 5)
    pred = pls_views(x, y, [view])[0]
    # Two components explain y exactly; the later counts repeat them.
    assert_allclose(pred[1, :, 0], y, atol=1e-9)
    assert_allclose(pred[4], pred[1], atol=1e-12)


def test_views_with_different_component_counts() -> None:
    x, y = spectra()
    train = np.arange(N) % 3 != 0
    rows = np.flatnonzero(~train)
    ones, zeros = np.ones(N), np.zeros(N)
    got = pls_views(
        x, y[:, 0], [RowView(ones, zeros, train, rows, 2), RowView(ones, zeros, train, rows, 5)]
    )
    assert got[0].shape == (2, rows.size, 1)
    assert got[1].shape == (5, rows.size, 1)
    assert_allclose(got[0], got[1][:2], rtol=1e-10)


def test_helpers() -> None:
    x, _ = spectra()
    mean, ss = row_moments(x)
    assert_allclose(mean, x.mean(axis=1))
    assert_allclose(ss, x.var(axis=1) * P)
    labels = np.arange(N) % 3 - 1  # -1 rows belong to no group
    sums = group_sums(x, labels, 2)
    assert_allclose(sums, [x[labels == 0].sum(axis=0), x[labels == 1].sum(axis=0)])
    ref = x[:10].mean(axis=0)
    a, b = msc_coefficients(x, mean, ref[np.newaxis, :])
    assert_allclose((x - a) / b, msc(x, ref), rtol=1e-10, atol=1e-12)


def test_bad_inputs_are_refused() -> None:
    x, y = spectra()
    ones, zeros = np.ones(N), np.zeros(N)
    few = np.zeros(N, dtype=bool)
    few[:3] = True
    with pytest.raises(ValueError, match="more training rows than components"):
        pls_views(x, y, [RowView(ones, zeros, few, np.arange(N), 3)])
    with pytest.raises(ValueError, match="finite"):
        pls_views(x, y, [RowView(np.full(N, np.inf), zeros, ~few, np.arange(N), 3)])
    bad = x.copy()
    bad[4, 4] = np.nan
    with pytest.raises(ValueError, match="finite"):
        pls_views(bad, y, [RowView(ones, zeros, ~few, np.arange(N), 3)])
    with pytest.raises(ValueError, match="filter"):
        pls_views(x, y, [RowView(ones, zeros, ~few, np.arange(N), 3, 0)], [np.eye(P + 1)])
    assert pls_views(x, y, []) == []
