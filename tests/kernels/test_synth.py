"""The mixture kernel against a direct numpy construction."""

from __future__ import annotations

import numpy as np
import pytest
from nirskern.synth import mix_spectra
from numpy.testing import assert_allclose, assert_array_equal


def _inputs(n: int = 5, k: int = 3, p: int = 40, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "conc": rng.uniform(0, 1, (n, k)),
        "scale": rng.uniform(0.8, 1.2, n),
        "offset": rng.normal(0, 0.1, n),
        "slope": rng.normal(0, 0.1, n),
        "curvature": rng.normal(0, 0.1, n),
        "t": np.linspace(-1, 1, p),
        "sigma": rng.uniform(0.01, 0.02, n),
        "z": rng.standard_normal((n, p)),
    }


def _call(
    d: dict[str, np.ndarray], pure: np.ndarray, dpure: np.ndarray, shift: np.ndarray, **kw: object
) -> np.ndarray:
    return mix_spectra(
        d["conc"],
        pure,
        dpure,
        shift=shift,
        scale=d["scale"],
        offset=d["offset"],
        slope=d["slope"],
        curvature=d["curvature"],
        t=d["t"],
        sigma=d["sigma"],
        z=d["z"],
        **kw,
    )  # type: ignore[arg-type]


def test_integer_shift_equals_numpy_reference() -> None:
    d = _inputs()
    pure = np.random.default_rng(1).uniform(0, 1, (3, 40))
    dpure = np.gradient(pure, axis=1)
    shift = np.array([0.0, 2.0, -3.0, 1.0, 0.0])
    got = _call(d, pure, dpure, shift, heteroscedastic=0.5)
    mix = d["conc"] @ pure
    j = np.arange(40)
    for i in range(5):
        q = int(shift[i])
        src = j + q
        inside = (src >= 0) & (src < 40)
        a = np.empty(40)
        a[inside] = mix[i, src[inside]]
        # outside the grid: first-order Taylor from the nearest end point
        e = np.where(src < 0, 0, 39)
        dmix = d["conc"][i] @ dpure
        a[~inside] = mix[i, e[~inside]] + dmix[e[~inside]] * (src[~inside] - e[~inside])
        t = d["t"]
        v = d["scale"][i] * a + d["offset"][i] + d["slope"][i] * t + d["curvature"][i] * t * t
        v = v + d["sigma"][i] * (1 + 0.5 * np.abs(v)) * d["z"][i]
        assert_allclose(got[i], v, rtol=1e-13, atol=1e-14)


def test_fractional_shift_is_exact_for_cubics() -> None:
    """Cubic Hermite interpolation with exact derivatives reproduces a cubic exactly."""
    d = _inputs(k=1)
    x = np.linspace(-1, 1, 40)
    step = x[1] - x[0]
    pure = (0.3 + x - 2 * x**2 + 0.7 * x**3)[None, :]
    dpure = ((1 - 4 * x + 2.1 * x**2) * step)[None, :]
    shift = np.array([0.25, -0.5, 0.9, 1.7, -2.3])
    d["z"] = np.zeros((5, 40))
    got = _call(d, pure, dpure, shift)
    for i in range(5):
        xs = x + shift[i] * step
        want = d["conc"][i, 0] * (0.3 + xs - 2 * xs**2 + 0.7 * xs**3)
        t = d["t"]
        want = d["scale"][i] * want + d["offset"][i] + d["slope"][i] * t + d["curvature"][i] * t * t
        inner = slice(3, 36)  # edges use the first-order extrapolation
        assert_allclose(got[i, inner], want[inner], rtol=1e-12, atol=1e-13)


def test_float32_output_is_the_rounded_float64_output() -> None:
    d = _inputs()
    pure = np.random.default_rng(2).uniform(0, 1, (3, 40))
    shift = np.full(5, 0.3)
    f64 = _call(d, pure, np.gradient(pure, axis=1), shift)
    f32 = _call(d, pure, np.gradient(pure, axis=1), shift, dtype=np.float32)
    assert f32.dtype == np.float32
    assert_array_equal(f32, f64.astype(np.float32))


def test_no_noise_and_inputs_unchanged() -> None:
    d = _inputs()
    pure = np.ones((3, 40))
    before = {k: v.copy() for k, v in d.items()}
    out = mix_spectra(
        d["conc"],
        pure,
        np.zeros_like(pure),
        shift=np.zeros(5),
        scale=np.ones(5),
        offset=np.zeros(5),
        slope=np.zeros(5),
        curvature=np.zeros(5),
        t=d["t"],
        sigma=d["sigma"],
    )
    assert_allclose(out, np.repeat(d["conc"].sum(axis=1)[:, None], 40, axis=1), rtol=1e-15)
    for k, v in d.items():
        assert_array_equal(v, before[k])


def test_shape_errors_name_the_argument() -> None:
    d = _inputs()
    pure = np.ones((3, 40))
    with pytest.raises(ValueError, match="'shift' must have shape"):
        _call(d, pure, pure, np.zeros(4))
    with pytest.raises(ValueError, match="'conc' must be"):
        _call(d, np.ones((2, 40)), np.ones((2, 40)), np.zeros(5))
    with pytest.raises(ValueError, match="'dtype'"):
        _call(d, pure, pure, np.zeros(5), dtype=np.int32)
