"""Train-only augmentations: seeds, identity transform, and the property of each perturbation."""

from __future__ import annotations

from typing import Any

import nirskern
import numpy as np
import polars as pl
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import nirsframe as nf
from nirsframe.exceptions import InvalidParameterError, SpectralShapeError
from nirsframe.operators import REGISTRY, Augmentation
from nirsframe.operators.augmentation import (
    AdditiveNoise,
    BandMasking,
    LinearBaselineDrift,
    Mixup,
    MultiplicativeNoise,
    PolynomialBaselineDrift,
    ScatterSimulation,
    SpikeNoise,
    WavelengthShift,
    WavelengthStretch,
)
from tests.conftest import synthetic_spectra

NAMES = sorted(name for name, info in REGISTRY.items() if info.kind == "augmentation")


def make(name: str, **params: Any) -> Augmentation:
    info = REGISTRY[name]
    op = info.estimator(**{**info.estimator.example, **params})
    assert isinstance(op, Augmentation)
    return op


@pytest.fixture
def x() -> np.ndarray:
    return synthetic_spectra(20, 80, seed=7)


def test_the_ten_augmentations_are_registered() -> None:
    assert NAMES == [
        "additive_noise",
        "band_masking",
        "linear_drift",
        "mixup",
        "multiplicative_noise",
        "polynomial_drift",
        "scatter_simulation",
        "spike_noise",
        "wavelength_shift",
        "wavelength_stretch",
    ]
    for name in NAMES:
        assert getattr(nf, name) is REGISTRY[name].function


# -- shared behaviour ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_reproducible_by_seed_and_seeds_differ(name: str, x: np.ndarray) -> None:
    y = x[:, :10].sum(axis=1)
    a, ya = make(name).augment(x, y, n_copies=3, random_state=5)
    b, yb = make(name).augment(x, y, n_copies=3, random_state=5)
    assert_array_equal(a, b)
    assert_array_equal(ya, yb)
    c, _ = make(name).augment(x, y, n_copies=3, random_state=6)
    assert not np.array_equal(a, c)
    # Without an argument, the operator's own random_state seeds the draws.
    d, _ = make(name, random_state=5).augment(x, y, n_copies=3)
    assert_array_equal(a, d)
    # A generator is accepted too.
    e, _ = make(name).augment(x, y, n_copies=3, random_state=np.random.default_rng(5))
    assert_array_equal(a, e)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_shapes_dtype_targets_and_input_unchanged(name: str, dtype: Any, x: np.ndarray) -> None:
    xs = x.astype(dtype)
    before = xs.copy()
    y = np.arange(x.shape[0], dtype=np.float64)
    out, y_out = make(name).augment(xs, y, n_copies=2)
    assert_array_equal(xs, before)
    assert out.shape == (2 * x.shape[0], x.shape[1])
    assert out.dtype == dtype
    assert out.flags.c_contiguous
    assert np.all(np.isfinite(out))
    assert y_out is not None
    assert y_out.shape == (2 * x.shape[0],)
    if name != "mixup":
        assert_array_equal(y_out, np.concatenate([y, y]))
    assert make(name).augment(xs)[1] is None


@pytest.mark.parametrize("name", NAMES)
def test_transform_is_the_identity(name: str, x: np.ndarray) -> None:
    op = make(name).fit(x)
    other = synthetic_spectra(5, 80, seed=8)
    assert_array_equal(op.transform(other), other)
    df = pl.DataFrame({"spectra": other})
    assert df.select(op.to_expr("spectra")).equals(df)


@pytest.mark.parametrize("name", NAMES)
def test_nan_rows_give_nan_copies(name: str, x: np.ndarray) -> None:
    bad = x.copy()
    bad[3, 10] = np.nan
    out, _ = make(name).augment(bad, n_copies=2)
    n = x.shape[0]
    assert np.all(np.isnan(out[[3, n + 3]]))
    keep = np.ones(2 * n, dtype=bool)
    keep[[3, n + 3]] = False
    assert np.all(np.isfinite(out[keep]))


@pytest.mark.parametrize("name", NAMES)
def test_free_function_is_deterministic_and_matches_augment(name: str, x: np.ndarray) -> None:
    info = REGISTRY[name]
    params = {**info.estimator.example, "random_state": 4}
    df = pl.DataFrame({"id": np.arange(x.shape[0]), "spectra": x})
    eager = df.select(info.function("spectra", **params))
    assert_array_equal(eager["spectra"].to_numpy(), make(name, **params).augment(x)[0])
    assert eager.equals(df.lazy().select(info.function("spectra", **params)).collect())
    streaming = df.lazy().select(info.function("spectra", **params)).collect(engine="streaming")
    assert eager.equals(streaming)
    via_namespace = df.select(getattr(pl.col("spectra").nirs, name)(**params))
    assert eager.equals(via_namespace)
    other_seed = df.select(info.function("spectra", **{**params, "random_state": 5}))
    assert not eager.equals(other_seed)


def test_free_function_keeps_null_rows(x: np.ndarray) -> None:
    df = pl.DataFrame({"spectra": x[:4]}).with_columns(
        pl.when(pl.int_range(pl.len()) == 1)
        .then(None)
        .otherwise(pl.col("spectra"))
        .alias("spectra")
    )
    out = df.select(nf.mixup("spectra"))["spectra"]
    assert out.is_null().to_list() == [False, True, False, False]


def test_free_function_signature_and_doc() -> None:
    import inspect

    sig = inspect.signature(nf.wavelength_shift)
    assert list(sig.parameters) == ["expr", "shift", "x_axis", "random_state"]
    assert sig.parameters["shift"].default == (-2.0, 2.0)
    assert "exploration" in (nf.wavelength_shift.__doc__ or "")


# -- errors -------------------------------------------------------------------------------------
def test_parameter_errors_name_the_parameter(x: np.ndarray) -> None:
    with pytest.raises(InvalidParameterError, match="'std' parameter of additive_noise"):
        AdditiveNoise(std=-1.0).augment(x)
    with pytest.raises(InvalidParameterError, match=r"'shift'.*low <= high"):
        WavelengthShift(shift=(2.0, 1.0)).augment(x)
    with pytest.raises(InvalidParameterError, match=r"'factor'.*> 0"):
        nf.wavelength_stretch(factor=(0.0, 1.0))
    with pytest.raises(InvalidParameterError, match="'width' parameter of band_masking"):
        BandMasking(width=(5, 80)).augment(x)
    with pytest.raises(InvalidParameterError, match="'n_spikes' parameter of spike_noise"):
        SpikeNoise(n_spikes=81).augment(x)
    with pytest.raises(InvalidParameterError, match="'x_axis'"):
        WavelengthShift(x_axis=(1.0, 2.0, 3.0)).augment(x)
    with pytest.raises(InvalidParameterError, match="n_copies=0"):
        Mixup().augment(x, n_copies=0)
    with pytest.raises(SpectralShapeError, match="'y' must have one value per spectrum"):
        Mixup().augment(x, np.zeros(3))
    with pytest.raises(TypeError, match=r"unexpected keyword argument.*'sdt'"):
        AdditiveNoise(sdt=0.1)  # type: ignore[call-arg]


def test_augment_checks_the_width_once_fitted(x: np.ndarray) -> None:
    op = AdditiveNoise().fit(x)
    with pytest.raises(ValueError, match="features"):
        op.augment(x[:, :40])


# -- properties ---------------------------------------------------------------------------------
def test_additive_noise_has_the_requested_std() -> None:
    x = synthetic_spectra(200, 400, seed=1)
    out, _ = AdditiveNoise(std=0.05, random_state=2).augment(x)
    noise = out - x
    # 80,000 draws: the sample std is within ~0.25 % of sigma (1 SE); allow 1 %.
    assert noise.std() == pytest.approx(0.05, rel=1e-2)
    assert abs(noise.mean()) < 0.05 * 4 / np.sqrt(noise.size)


def test_multiplicative_noise_has_the_requested_relative_std() -> None:
    x = synthetic_spectra(200, 400, seed=1)
    out, _ = MultiplicativeNoise(std=0.03, random_state=2).augment(x)
    assert (out / x - 1.0).std() == pytest.approx(0.03, rel=1e-2)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_noise_is_numpys_normal_draw_from_the_seed(dtype: Any, x: np.ndarray) -> None:
    # The draws are standard normals scaled in the kernel: the bits of rng.normal(0, std).
    x = x.astype(dtype)
    draw = np.random.default_rng(7).normal(0.0, 0.02, size=x.shape)
    added, _ = AdditiveNoise(std=0.02, random_state=7).augment(x)
    scaled, _ = MultiplicativeNoise(std=0.02, random_state=7).augment(x)
    assert_array_equal(added, (x + draw).astype(dtype))
    assert_array_equal(scaled, (x * (1.0 + draw)).astype(dtype))


def test_linear_drift_adds_a_bounded_line(x: np.ndarray) -> None:
    out, _ = LinearBaselineDrift(offset=0.2, slope=0.1).augment(x, n_copies=5)
    drift = out - np.tile(x, (5, 1))
    t = np.linspace(-1.0, 1.0, x.shape[1])
    coef = np.polynomial.polynomial.polyfit(t, drift.T, 1)  # (2, n): offset, slope
    assert_allclose(coef[0] + coef[1] * t[:, None], drift.T, atol=1e-12)
    assert np.all(np.abs(coef[0]) <= 0.2)
    assert np.all(np.abs(coef[1]) <= 0.1)
    assert np.abs(coef).min(axis=1).max() > 0  # not all zero


def test_polynomial_drift_is_a_polynomial_of_the_order(x: np.ndarray) -> None:
    out, _ = PolynomialBaselineDrift(order=3, amplitude=0.05).augment(x, n_copies=3)
    drift = out - np.tile(x, (3, 1))
    t = np.linspace(-1.0, 1.0, x.shape[1])
    coef = np.polynomial.polynomial.polyfit(t, drift.T, 3)
    assert_allclose(np.polynomial.polynomial.polyval(t, coef), drift, atol=1e-12)
    assert np.all(np.abs(coef) <= 0.05 + 1e-12)
    # A quadratic fit leaves a residual: the cubic term is used.
    quad = np.polynomial.polynomial.polyfit(t, drift.T, 2)
    assert np.abs(np.polynomial.polynomial.polyval(t, quad) - drift).max() > 1e-4


def _roll_edge(x: np.ndarray, k: int) -> np.ndarray:
    """``np.roll`` along the points with the edge value repeated instead of wrapped."""
    out = np.roll(x, k, axis=1)
    if k > 0:
        out[:, :k] = x[:, :1]
    elif k < 0:
        out[:, k:] = x[:, -1:]
    return out


@pytest.mark.parametrize("k", [-5, -1, 0, 2, 7])
def test_shift_by_whole_points_is_roll_with_edge(k: int, x: np.ndarray) -> None:
    # Point-index axis: the interpolation weights are exactly 0 or 1.
    out, _ = WavelengthShift(shift=(k, k)).augment(x)
    assert_array_equal(out, _roll_edge(x, k))
    # A uniform wavelength axis (2 nm steps), increasing then decreasing (cm-1 style).
    axis = 1100.0 + 2.0 * np.arange(x.shape[1])
    out, _ = WavelengthShift(shift=(2.0 * k, 2.0 * k), x_axis=tuple(axis)).augment(x)
    assert_allclose(out, _roll_edge(x, k), rtol=1e-13, atol=1e-13)
    out, _ = WavelengthShift(shift=(2.0 * k, 2.0 * k), x_axis=tuple(axis[::-1])).augment(x)
    assert_allclose(out, _roll_edge(x, -k), rtol=1e-13, atol=1e-13)


def test_shift_by_a_fraction_interpolates_linearly(x: np.ndarray) -> None:
    out, _ = WavelengthShift(shift=(0.25, 0.25)).augment(x)
    assert_allclose(out[:, 1:], 0.75 * x[:, 1:] + 0.25 * x[:, :-1], rtol=1e-14)
    assert_array_equal(out[:, 0], x[:, 0])


def test_shift_draws_stay_in_range(x: np.ndarray) -> None:
    ramp = np.tile(np.arange(x.shape[1], dtype=np.float64), (50, 1))
    out, _ = WavelengthShift(shift=(-3.0, 3.0)).augment(ramp)
    # On a ramp (slope 1) the shift is read off any interior point: x(j - s) = j - s.
    s = ramp[:, 40] - out[:, 40]
    assert np.all(np.abs(s) <= 3.0)
    assert s.std() > 0.5


def test_stretch_keeps_lines_straight_around_the_centre() -> None:
    p = 101
    axis = np.linspace(1000.0, 2000.0, p)
    ramp = np.tile(3.0 * axis, (40, 1))
    out, _ = WavelengthStretch(factor=(0.9, 1.1), x_axis=tuple(axis)).augment(ramp)
    c = 1500.0
    # out(w) = x(c + (w - c) / f) = 3 (c + (w - c) / f): straight, through (c, 3c).
    inner = slice(10, p - 10)  # positions that stay inside the axis for f in [0.9, 1.1]
    slope = np.polynomial.polynomial.polyfit(axis[inner] - c, out[:, inner].T, 1)
    assert_allclose(slope[0], 3.0 * c, rtol=1e-12)
    f = 3.0 / slope[1]
    assert np.all((f >= 0.9 - 1e-12) & (f <= 1.1 + 1e-12))
    assert f.std() > 0.01
    unchanged, _ = WavelengthStretch(factor=(1.0, 1.0)).augment(ramp)
    assert_allclose(unchanged, ramp, rtol=1e-15)


@pytest.mark.parametrize("y_shape", [(20,), (20, 2)])
def test_mixup_rows_are_convex_combinations_with_their_targets(
    y_shape: tuple[int, ...], x: np.ndarray
) -> None:
    rng = np.random.default_rng(0)
    y = rng.normal(size=y_shape)
    n = x.shape[0]
    out, y_out = Mixup(alpha=0.4).augment(x, y, n_copies=2)
    assert y_out is not None
    lams = []
    for r in range(2 * n):
        i = r % n
        # Find the partner j and lam with out = x_j + lam * (x_i - x_j); residual 0, lam in [0, 1].
        best = None
        for j in range(n):
            d = x[i] - x[j]
            lam = 1.0 if j == i else float(d @ (out[r] - x[j]) / (d @ d))
            res = np.abs(x[j] + lam * d - out[r]).max()
            if best is None or res < best[0]:
                best = (res, j, lam)
        assert best is not None
        res, j, lam = best
        assert res < 1e-12
        assert -1e-12 <= lam <= 1 + 1e-12
        assert_allclose(y_out[r], lam * y[i] + (1 - lam) * y[j], rtol=1e-9, atol=1e-12)
        lams.append(lam)
    assert np.std(lams) > 0.1  # Beta(0.4, 0.4): spread out


def test_scatter_simulation_is_an_affine_map_in_range(x: np.ndarray) -> None:
    out, _ = ScatterSimulation(multiplicative=(0.8, 1.2), additive=(-0.1, 0.1)).augment(x)
    for src, row in zip(x, out, strict=True):
        b, a = np.polyfit(src, row, 1)
        assert_allclose(a + b * src, row, atol=1e-12)
        assert 0.8 <= b <= 1.2
        assert -0.1 <= a <= 0.1


def test_spike_noise_touches_n_points_with_heights_in_range(x: np.ndarray) -> None:
    out, _ = SpikeNoise(n_spikes=3, amplitude=(0.5, 1.0)).augment(x, n_copies=4)
    diff = out - np.tile(x, (4, 1))
    changed = np.abs(diff) > 1e-12
    assert np.all(changed.sum(axis=1) == 3)
    heights = np.abs(diff[changed])
    assert np.all((heights >= 0.5 - 1e-12) & (heights <= 1.0 + 1e-12))
    assert (diff[changed] > 0).any()
    assert (diff[changed] < 0).any()


@pytest.mark.parametrize(("p", "k"), [(10, 3), (10, 4), (6, 6), (1024, 1)])
def test_spike_points_are_distinct_and_uniform_over_subsets(p: int, k: int) -> None:
    from collections import Counter
    from itertools import combinations
    from math import comb

    from nirsframe.operators.augmentation import distinct_points

    n = 60_000
    pts = distinct_points(np.random.default_rng(1), n, p, k)
    assert pts.shape == (n, k)
    assert np.all((pts >= 0) & (pts < p))
    assert all(len(set(r)) == k for r in pts[:2000].tolist())
    if comb(p, k) > 300:  # too many subsets to count: each point is hit k / p of the time
        hits, expected_hits = np.bincount(pts.ravel(), minlength=p), n * k / p
        chi2 = float(((hits - expected_hits) ** 2 / expected_hits).sum())
        assert chi2 < (p - 1) + 6 * np.sqrt(2 * (p - 1))  # chi-square, p - 1 dof: 6 sigma
        return
    counts = Counter(tuple(sorted(r)) for r in pts.tolist())
    assert set(counts) == set(combinations(range(p), k))  # every subset, nothing else
    freq = np.array(list(counts.values())) / n
    expected = 1 / comb(p, k)
    # Binomial standard error of each subset's frequency: all within 5 of them
    assert np.all(np.abs(freq - expected) < 5 * np.sqrt(expected / n))


def _band(row: np.ndarray, src: np.ndarray) -> tuple[int, int]:
    changed = np.flatnonzero(row != src)
    assert changed.size > 0
    assert_array_equal(changed, np.arange(changed[0], changed[-1] + 1))  # one contiguous band
    return int(changed[0]), int(changed[-1] + 1)


def test_band_masking_zero_sets_exactly_the_band(x: np.ndarray) -> None:
    out, _ = BandMasking(width=(3, 9), fill="zero").augment(x, n_copies=5)
    widths = []
    for row, src in zip(out, np.tile(x, (5, 1)), strict=True):
        s, e = _band(row, src)  # synthetic spectra have no zero, so every band point changes
        assert np.all(row[s:e] == 0.0)
        widths.append(e - s)
    assert min(widths) >= 3
    assert max(widths) <= 9
    assert len(set(widths)) > 1


def test_band_masking_interpolate_draws_the_line_between_flanks(x: np.ndarray) -> None:
    out, _ = BandMasking(width=(4, 12)).augment(x, n_copies=5)
    for row, src in zip(out, np.tile(x, (5, 1)), strict=True):
        s, e = _band(row, src)
        assert 4 <= e - s <= 12
        left = src[s - 1] if s > 0 else src[e]
        right = src[e] if e < src.size else src[s - 1]
        t = np.arange(1, e - s + 1) / (e - s + 1)
        assert_allclose(row[s:e], (1 - t) * left + t * right, rtol=1e-14)


# -- kernels ------------------------------------------------------------------------------------
def test_mask_bands_kernel_edges_and_errors() -> None:
    x = np.array([[1.0, 2.0, 3.0, 4.0, 5.0]])
    assert nirskern.mask_bands(x, [0], [2], interpolate=True).tolist() == [
        [3.0, 3.0, 3.0, 4.0, 5.0]
    ]
    assert nirskern.mask_bands(x, [3], [2], interpolate=True).tolist() == [
        [1.0, 2.0, 3.0, 3.0, 3.0]
    ]
    assert nirskern.mask_bands(x, [1], [3], interpolate=False).tolist() == [[1.0, 0, 0, 0, 5.0]]
    with pytest.raises(ValueError, match="inside the spectrum"):
        nirskern.mask_bands(x, [4], [2], interpolate=True)
    with pytest.raises(ValueError, match="one value per spectrum"):
        nirskern.mask_bands(x, [0, 1], [1, 1], interpolate=True)


def test_warp_kernel_matches_numpy_interp() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(6, 50))
    axis = np.sort(rng.uniform(0.0, 10.0, 50))  # uneven axis
    offset = rng.uniform(-1.0, 1.0, 6)
    scale = rng.uniform(0.9, 1.1, 6)
    ref = np.array(
        [np.interp(o + s * axis, axis, row) for row, o, s in zip(x, offset, scale, strict=True)]
    )
    assert_allclose(nirskern.warp(x, axis, offset, scale), ref, rtol=1e-13, atol=1e-13)
    rev = nirskern.warp(x[:, ::-1], axis[::-1], offset, scale)
    assert_allclose(rev[:, ::-1], ref, rtol=1e-13, atol=1e-13)
    with pytest.raises(ValueError, match="'scale'"):
        nirskern.warp(x, axis, offset, -scale)
