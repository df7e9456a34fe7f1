"""Wavelet features and denoising: Haar / Daubechies decompositions, wavelet shrinkage.

Decompositions change the width of the spectra: ``n_points`` points become
``sum(coefficient_lengths(n_points, wavelet, level))`` coefficients ``[cA_L, cD_L, ..., cD_1]``
(the layout of ``np.concatenate(pywt.wavedec(...))``). The output width therefore depends on the
input width, which a Polars expression does not know when it is built. :meth:`to_expr` handles
both cases:

* a fitted operator knows its input width (``n_features_in_``), so the expression declares its
  output dtype exactly (``map_spectra(..., width=...)``) and checks the input width at run time;
* an unfitted operator (and the free functions ``nf.haar``, ``nf.wavelet``) leaves the output
  dtype to Polars, which infers it when the plan is resolved by calling the function once on a
  2-row dummy batch of the input dtype; the width is computed from the actual input width. This
  costs one tiny kernel call per plan and no extra parameter.

The output axis of a decomposition is the coefficient index (:meth:`output_axis`).

References
----------
Daubechies (1992), Ten Lectures on Wavelets, SIAM.
Donoho & Johnstone (1994), Biometrika 81(3), 425-455 (universal threshold).
Lee, Gommers, Waselewski, Wohlfahrt & O'Leary (2019), J. Open Source Softw. 4(36), 1237
(PyWavelets).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
from nirskern.wavelet import coefficient_lengths
from nirskern.wavelet import wavedec as _wavedec
from nirskern.wavelet import wavelet_denoise as _wavelet_denoise
from pydantic import Field

from nirsframe._bridge import map_spectra, matrix_to_series, series_to_matrix
from nirsframe.axis import SpectralAxis
from nirsframe.exceptions import SpectralShapeError
from nirsframe.operators._base import (
    IntoSpectra,
    KernelCheckedOperator,
    Params,
    as_expr,
)
from nirsframe.operators._base import Params as _AnyParams
from nirsframe.operators.registry import register_operator

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    import polars as pl

    from nirsframe._bridge import FloatMatrix

WaveletName = Literal["haar", "db1", "db2", "db3", "db4"]
WaveletMode = Literal["symmetric", "reflect", "periodic", "zero", "constant"]


class HaarParams(Params):
    """Parameters of :class:`Haar`."""

    level: int | None = Field(default=None, ge=0, description="levels; None: pywt.dwt_max_level")
    mode: WaveletMode = Field(default="symmetric", description="signal extension (pywt modes)")


class WaveletParams(HaarParams):
    """Parameters of :class:`Wavelet`."""

    wavelet: WaveletName = Field(default="db4", description="filter bank")


class WaveletDenoiseParams(WaveletParams):
    """Parameters of :class:`WaveletDenoise`."""

    threshold: float | None = Field(default=None, ge=0, description="None: universal threshold")
    threshold_mode: Literal["soft", "hard"] = Field(default="soft", description="shrinkage rule")


def _map_with_width(
    expr: pl.Expr, fn: Callable[[FloatMatrix], FloatMatrix], width_of: Callable[[int], int]
) -> pl.Expr:
    """Elementwise ``fn`` whose output width ``width_of(P)`` is resolved by Polars at plan time.

    No ``return_dtype``: Polars infers it from one call on a 2-row dummy batch of the input
    dtype (the only way to derive an Array width from the input width lazily in Polars 2.1).
    """

    def batch(s: pl.Series) -> pl.Series:
        x, nulls = series_to_matrix(s)
        # An empty batch (e.g. all rows filtered out) still needs the right width.
        out = np.empty((0, width_of(x.shape[1])), dtype=x.dtype) if x.shape[0] == 0 else fn(x)
        return matrix_to_series(s.name, out.astype(x.dtype, copy=False), nulls)

    return expr.map_batches(batch, is_elementwise=True)


class _Decomposition(KernelCheckedOperator):
    """A stateless operator whose output width is a function of its input width."""

    def _wavelet_name(self, params: _AnyParams) -> str:
        raise NotImplementedError

    def _width(self, n_points: int, params: _AnyParams) -> int:
        assert isinstance(params, HaarParams)
        return sum(coefficient_lengths(n_points, self._wavelet_name(params), params.level))

    def _apply_params(self, x: FloatMatrix, params: _AnyParams) -> FloatMatrix:
        assert isinstance(params, HaarParams)
        return _wavedec(x, self._wavelet_name(params), params.level, params.mode)

    def _apply_kernel(
        self, x: FloatMatrix, params: _AnyParams, out: FloatMatrix, *, reject_inf: bool
    ) -> None:
        assert isinstance(params, HaarParams)
        # The kernel's NaN test takes row sums: it looks for inf in the rows they flag.
        name = self._wavelet_name(params)
        _wavedec(x, name, params.level, params.mode, out=out, reject_inf=reject_inf)

    def output_width(self, n_points: int) -> int:
        """The number of coefficients of all levels."""
        return self._width(n_points, self.params())

    def to_expr(self, expr: IntoSpectra = "spectra") -> pl.Expr:
        """The decomposition as an elementwise expression (see the module notes on the width)."""
        params = self.params()
        n_in = getattr(self, "n_features_in_", None)
        if n_in is None:
            return _map_with_width(
                as_expr(expr),
                lambda x: self._apply_params(x, params),
                lambda p: self._width(p, params),
            )
        n_fitted = int(n_in)

        def checked(x: FloatMatrix) -> FloatMatrix:
            if x.shape[1] != n_fitted:
                msg = (
                    f"{self.name} was fitted on spectra of {n_fitted} points; "
                    f"got {x.shape[1]} points"
                )
                raise SpectralShapeError(msg)
            return self._apply_params(x, params)

        return map_spectra(as_expr(expr), checked, width=self._width(n_fitted, params))

    def output_axis(self, axis: SpectralAxis) -> SpectralAxis:
        """Coefficient index ``0..width-1`` (``[cA_L, cD_L, ..., cD_1]``)."""
        return SpectralAxis.index(self._width(len(axis), self.params()))


class Haar(_Decomposition):
    """Multi-level Haar wavelet coefficients as features.

    Returns ``[cA_L, cD_L, ..., cD_1]`` per spectrum, as
    ``np.concatenate(pywt.wavedec(x, "haar", mode=mode, level=level))``.

    Parameters
    ----------
    level
        Number of levels; ``None`` uses ``pywt.dwt_max_level`` (``floor(log2(n_points))``).
    mode
        Signal extension: ``"symmetric"`` (pywt's default), ``"reflect"``, ``"periodic"``,
        ``"zero"`` or ``"constant"``.

    Examples
    --------
    >>> import numpy as np
    >>> Haar(level=1).fit_transform(np.array([[1.0, 3.0, 5.0, 7.0]])).round(4).tolist()
    [[2.8284, 8.4853, -1.4142, -1.4142]]
    """

    name: ClassVar[str] = "haar"
    params_model: ClassVar[type[Params]] = HaarParams

    def __init__(self, *, level: int | None = None, mode: WaveletMode = "symmetric") -> None:
        self.level = level
        self.mode = mode

    def _wavelet_name(self, params: _AnyParams) -> str:
        return "haar"


class Wavelet(_Decomposition):
    """Multi-level discrete wavelet transform coefficients as features.

    Returns ``[cA_L, cD_L, ..., cD_1]`` per spectrum, as
    ``np.concatenate(pywt.wavedec(x, wavelet, mode=mode, level=level))``.

    Parameters
    ----------
    wavelet
        ``"haar"`` (= ``"db1"``), ``"db2"``, ``"db3"`` or ``"db4"``.
    level
        Number of levels; ``None`` uses ``pywt.dwt_max_level``.
    mode
        Signal extension: ``"symmetric"`` (pywt's default), ``"reflect"``, ``"periodic"``,
        ``"zero"`` or ``"constant"``.

    Examples
    --------
    >>> import numpy as np
    >>> Wavelet(wavelet="db2", level=2).fit_transform(np.ones((1, 16))).shape
    (1, 18)
    """

    name: ClassVar[str] = "wavelet"
    params_model: ClassVar[type[Params]] = WaveletParams
    example: ClassVar[Mapping[str, Any]] = {"wavelet": "db2", "level": 3}

    def __init__(
        self,
        *,
        wavelet: WaveletName = "db4",
        level: int | None = None,
        mode: WaveletMode = "symmetric",
    ) -> None:
        self.wavelet = wavelet
        self.level = level
        self.mode = mode

    def _wavelet_name(self, params: _AnyParams) -> str:
        assert isinstance(params, WaveletParams)
        return params.wavelet


class WaveletDenoise(KernelCheckedOperator):
    """Wavelet shrinkage: threshold the detail coefficients and reconstruct each spectrum.

    Equals ``pywt.waverec([cA] + [pywt.threshold(d, t, threshold_mode) for d in details],
    wavelet, mode)[:n_points]``; the output has the input's width and axis.

    Parameters
    ----------
    wavelet
        ``"haar"`` (= ``"db1"``), ``"db2"``, ``"db3"`` or ``"db4"``.
    level
        Number of levels; ``None`` uses ``pywt.dwt_max_level``.
    mode
        Signal extension (pywt modes), ``"symmetric"`` by default.
    threshold
        Threshold applied to every detail coefficient; ``None`` uses the universal threshold
        ``sigma * sqrt(2 ln n_points)`` with ``sigma = median(|cD_1|) / 0.6745``, per spectrum.
    threshold_mode
        ``"soft"`` (shrink towards 0) or ``"hard"`` (zero below the threshold).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.sin(np.linspace(0.0, 3.0, 64))[np.newaxis, :]
    >>> bool(np.abs(WaveletDenoise(threshold=0.0).fit_transform(x) - x).max() < 1e-12)
    True
    """

    name: ClassVar[str] = "wavelet_denoise"
    params_model: ClassVar[type[Params]] = WaveletDenoiseParams

    def __init__(
        self,
        *,
        wavelet: WaveletName = "db4",
        level: int | None = None,
        mode: WaveletMode = "symmetric",
        threshold: float | None = None,
        threshold_mode: Literal["soft", "hard"] = "soft",
    ) -> None:
        self.wavelet = wavelet
        self.level = level
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode

    def _apply_kernel(
        self, x: FloatMatrix, params: _AnyParams, out: FloatMatrix, *, reject_inf: bool
    ) -> None:
        # The kernel's NaN test takes row sums: it looks for inf in the rows they flag.
        assert isinstance(params, WaveletDenoiseParams)
        _wavelet_denoise(
            x,
            params.wavelet,
            params.level,
            params.mode,
            params.threshold,
            params.threshold_mode,
            out=out,
            reject_inf=reject_inf,
        )


def haar(
    expr: IntoSpectra = "spectra", *, level: int | None = None, mode: WaveletMode = "symmetric"
) -> pl.Expr:
    """Multi-level Haar coefficients of each spectrum (see :class:`Haar`).

    The output width is resolved by Polars from the input width (see the module notes).

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> df = pl.DataFrame({"spectra": np.array([[1.0, 3.0, 5.0, 7.0]])})
    >>> df.select(haar(level=1)).item().round(4).to_list()
    [2.8284, 8.4853, -1.4142, -1.4142]
    """
    return Haar(level=level, mode=mode).to_expr(expr)


def wavelet(
    expr: IntoSpectra = "spectra",
    *,
    wavelet: WaveletName = "db4",
    level: int | None = None,
    mode: WaveletMode = "symmetric",
) -> pl.Expr:
    """Multi-level DWT coefficients of each spectrum (see :class:`Wavelet`).

    The output width is resolved by Polars from the input width (see the module notes).

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> df = pl.DataFrame({"spectra": np.ones((2, 16))})
    >>> df.select(wavelet(wavelet="db2", level=2)).schema["spectra"]
    Array(Float64, shape=(18,))
    """
    return Wavelet(wavelet=wavelet, level=level, mode=mode).to_expr(expr)


def wavelet_denoise(
    expr: IntoSpectra = "spectra",
    *,
    wavelet: WaveletName = "db4",
    level: int | None = None,
    mode: WaveletMode = "symmetric",
    threshold: float | None = None,
    threshold_mode: Literal["soft", "hard"] = "soft",
) -> pl.Expr:
    """Denoise each spectrum by wavelet shrinkage (see :class:`WaveletDenoise`).

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> df = pl.DataFrame({"spectra": np.ones((1, 16))})
    >>> df.select(wavelet_denoise(wavelet="haar", threshold=0.5)).item().round(12).to_list()[:3]
    [1.0, 1.0, 1.0]
    """
    return WaveletDenoise(
        wavelet=wavelet, level=level, mode=mode, threshold=threshold, threshold_mode=threshold_mode
    ).to_expr(expr)


register_operator(Haar, haar)
register_operator(Wavelet, wavelet)
register_operator(WaveletDenoise, wavelet_denoise)
