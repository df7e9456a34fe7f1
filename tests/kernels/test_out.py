"""The ``out=`` contract of the kernels that take it: the result lands in ``out`` (also for one
spectrum), and an overlapping, mistyped or read-only ``out`` is refused."""

from __future__ import annotations

import nirskern
import numpy as np
import pytest

_AXIS = np.linspace(1000.0, 1078.0, 40) ** 1.01  # non-uniform
#: name -> (the kernel with its parameters, output width for 40-point spectra)
_KERNELS = {
    "snv": (nirskern.snv, 40),
    "savgol": (lambda a, **kw: nirskern.savgol(a, 7, 2, **kw), 40),
    "derivative": (lambda a, **kw: nirskern.derivative(a, deriv=2, x_axis=_AXIS, **kw), 40),
    "norris_williams": (lambda a, **kw: nirskern.norris_williams(a, segment=5, gap=3, **kw), 40),
    "gaussian": (lambda a, **kw: nirskern.gaussian(a, 2.0, order=1, **kw), 40),
    "moving_average": (lambda a, **kw: nirskern.moving_average(a, 4, mode="wrap", **kw), 40),
    "resample": (lambda a, **kw: nirskern.resample(a, _AXIS, _AXIS[3:-2] + 0.1, **kw), 35),
    "rnv": (nirskern.rnv, 40),
    "wavedec": (lambda a, **kw: nirskern.wavedec(a, "haar", level=2, **kw), 40),
    "wavelet_denoise": (lambda a, **kw: nirskern.wavelet_denoise(a, "db2", mode="zero", **kw), 40),
}


@pytest.mark.parametrize("name", sorted(_KERNELS))
def test_out_receives_the_result_and_is_checked(name: str) -> None:
    fn, width = _KERNELS[name]
    x = np.random.default_rng(5).normal(size=(6, 40)) + 3.0
    want = fn(x)
    out = np.full((6, width), np.nan)
    assert fn(x, out=out) is out
    np.testing.assert_array_equal(out, want)
    row_out = np.empty(width)
    assert fn(x[0], out=row_out) is row_out
    np.testing.assert_array_equal(row_out, want[0])
    with pytest.raises(ValueError, match="must not overlap"):
        fn(x, out=x[:, :width])
    with pytest.raises(ValueError, match=rf"shape \(6, {width}\) and dtype float64"):
        fn(x, out=np.empty((6, width), np.float32))
    ro = np.empty((6, width))
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        fn(x, out=ro)
