"""Whittaker-smoother and BEADS baselines: asls, iasls, airpls, arpls, beads.

Each operator is stateless, works spectrum by spectrum with the algorithms (parameters, defaults,
weights, exit tests) of pybaselines 1.2, and returns the corrected spectrum ``x - baseline`` by
default or the baseline itself with ``output="baseline"``.

References
----------
Eilers & Boelens (2005), Baseline correction with asymmetric least squares smoothing.
He et al. (2014), Anal. Methods 6(12), 4402-4407 (iasls).
Zhang, Chen & Liang (2010), Analyst 135(5), 1138-1146 (airpls).
Baek et al. (2015), Analyst 140, 250-257 (arpls).
Ning, Selesnick & Duval (2014), Chemom. Intell. Lab. Syst. 139, 156-167 (beads).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from nirskern.beads import beads as _beads_kernel
from nirskern.whittaker import airpls as _airpls_kernel
from nirskern.whittaker import arpls as _arpls_kernel
from nirskern.whittaker import asls as _asls_kernel
from nirskern.whittaker import iasls as _iasls_kernel
from pydantic import Field

from nirsframe.operators._base import IntoSpectra, Params, SpectralOperator
from nirsframe.operators._base import Params as _AnyParams
from nirsframe.operators.registry import register_operator

if TYPE_CHECKING:
    import polars as pl

    from nirsframe._bridge import FloatMatrix

Output = Literal["corrected", "baseline"]


def _lam(default: float) -> float:
    return Field(default=default, gt=0, allow_inf_nan=False)


def _p() -> float:
    return Field(default=1e-2, gt=0, lt=1)


def _tol(default: float) -> float:
    return Field(default=default, ge=0, allow_inf_nan=False)


# -- asls ------------------------------------------------------------------------------------
class AslsParams(Params):
    """Parameters of :class:`AsymmetricLeastSquares` (pybaselines names and defaults)."""

    lam: float = _lam(1e6)
    p: float = _p()
    diff_order: int = Field(default=2, ge=1)
    max_iter: int = Field(default=50, ge=0)
    tol: float = _tol(1e-3)
    output: Output = "corrected"


class AsymmetricLeastSquares(SpectralOperator):
    """Asymmetric least squares (AsLS) baseline removal, equal to pybaselines ``asls``.

    Parameters
    ----------
    lam
        Smoothness of the baseline (penalty on its ``diff_order`` differences).
    p
        Weight of points above the baseline (``1 - p`` below), in (0, 1).
    diff_order
        Order of the difference penalty.
    max_iter, tol
        Reweighting stops after ``max_iter + 1`` solves or when the relative change of the
        weights falls below ``tol``.
    output
        ``"corrected"`` (``x - baseline``) or ``"baseline"``.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.linspace(0.0, 1.0, 200)
    >>> x = np.array([0.5 + 0.3 * t + np.exp(-0.5 * ((t - 0.5) / 0.02) ** 2)])
    >>> out = AsymmetricLeastSquares(lam=1e5, p=1e-3).fit_transform(x)
    >>> bool(abs(out[0, :50]).max() < 1e-2)
    True
    """

    name: ClassVar[str] = "asls"
    params_model: ClassVar[type[Params]] = AslsParams

    def __init__(
        self,
        *,
        lam: float = 1e6,
        p: float = 1e-2,
        diff_order: int = 2,
        max_iter: int = 50,
        tol: float = 1e-3,
        output: Output = "corrected",
    ) -> None:
        self.lam = lam
        self.p = p
        self.diff_order = diff_order
        self.max_iter = max_iter
        self.tol = tol
        self.output = output

    def _apply_params(self, x: FloatMatrix, params: _AnyParams) -> FloatMatrix:
        assert isinstance(params, AslsParams)
        return _asls_kernel(x, **params.model_dump())


def asls(
    expr: IntoSpectra = "spectra",
    *,
    lam: float = 1e6,
    p: float = 1e-2,
    diff_order: int = 2,
    max_iter: int = 50,
    tol: float = 1e-3,
    output: Output = "corrected",
) -> pl.Expr:
    """Asymmetric least squares baseline removal (see :class:`AsymmetricLeastSquares`).

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> df = pl.DataFrame({"spectra": np.array([[1.0, 2.0, 3.0, 4.0]])})
    >>> df.select(asls(output="baseline")).item().round(6).to_list()
    [1.0, 2.0, 3.0, 4.0]
    """
    return AsymmetricLeastSquares(
        lam=lam, p=p, diff_order=diff_order, max_iter=max_iter, tol=tol, output=output
    ).to_expr(expr)


# -- iasls -----------------------------------------------------------------------------------
class IaslsParams(Params):
    """Parameters of :class:`ImprovedAsymmetricLeastSquares` (pybaselines names and defaults)."""

    lam: float = _lam(1e6)
    p: float = _p()
    lam_1: float = _lam(1e-4)
    max_iter: int = Field(default=50, ge=0)
    tol: float = _tol(1e-3)
    diff_order: int = Field(default=2, ge=2)
    output: Output = "corrected"


class ImprovedAsymmetricLeastSquares(SpectralOperator):
    """Improved asymmetric least squares (IAsLS) baseline removal, equal to pybaselines ``iasls``.

    Parameters
    ----------
    lam, p, max_iter, tol, output
        As in :class:`AsymmetricLeastSquares`.
    lam_1
        Penalty on the first difference of the residual.
    diff_order
        Order of the difference penalty of the baseline, at least 2.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.linspace(0.0, 1.0, 200)
    >>> x = np.array([0.5 + 0.3 * t + np.exp(-0.5 * ((t - 0.5) / 0.02) ** 2)])
    >>> out = ImprovedAsymmetricLeastSquares(lam=1e5, p=1e-3).fit_transform(x)
    >>> bool(abs(out[0, :50]).max() < 1e-2)
    True
    """

    name: ClassVar[str] = "iasls"
    params_model: ClassVar[type[Params]] = IaslsParams

    def __init__(
        self,
        *,
        lam: float = 1e6,
        p: float = 1e-2,
        lam_1: float = 1e-4,
        max_iter: int = 50,
        tol: float = 1e-3,
        diff_order: int = 2,
        output: Output = "corrected",
    ) -> None:
        self.lam = lam
        self.p = p
        self.lam_1 = lam_1
        self.max_iter = max_iter
        self.tol = tol
        self.diff_order = diff_order
        self.output = output

    def _apply_params(self, x: FloatMatrix, params: _AnyParams) -> FloatMatrix:
        assert isinstance(params, IaslsParams)
        return _iasls_kernel(x, **params.model_dump())


def iasls(
    expr: IntoSpectra = "spectra",
    *,
    lam: float = 1e6,
    p: float = 1e-2,
    lam_1: float = 1e-4,
    max_iter: int = 50,
    tol: float = 1e-3,
    diff_order: int = 2,
    output: Output = "corrected",
) -> pl.Expr:
    """Improved asymmetric least squares baseline removal.

    See :class:`ImprovedAsymmetricLeastSquares`.

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> df = pl.DataFrame({"spectra": np.array([[1.0, 2.0, 3.0, 4.0, 5.0]])})
    >>> df.select(iasls(output="baseline")).item().round(6).to_list()
    [1.0, 2.0, 3.0, 4.0, 5.0]
    """
    return ImprovedAsymmetricLeastSquares(
        lam=lam, p=p, lam_1=lam_1, max_iter=max_iter, tol=tol, diff_order=diff_order, output=output
    ).to_expr(expr)


# -- airpls ----------------------------------------------------------------------------------
class AirplsParams(Params):
    """Parameters of :class:`AdaptiveIterativelyReweightedPLS` (pybaselines names and defaults)."""

    lam: float = _lam(1e6)
    diff_order: int = Field(default=2, ge=1)
    max_iter: int = Field(default=50, ge=0)
    tol: float = _tol(1e-3)
    normalize_weights: bool = False
    output: Output = "corrected"


class AdaptiveIterativelyReweightedPLS(SpectralOperator):
    """Adaptive iteratively reweighted penalized least squares (airPLS), as pybaselines ``airpls``.

    Stops early (keeping the last baseline) when fewer than two points lie below it, where
    pybaselines also warns.

    Parameters
    ----------
    lam, diff_order, max_iter, output
        As in :class:`AsymmetricLeastSquares`.
    tol
        Exit when the L1 norm of the negative residuals is below ``tol`` times that of the data.
    normalize_weights
        Scale the weights into [0, 1] (pybaselines' option; off in the original algorithm).

    Examples
    --------
    >>> import numpy as np
    >>> t = np.linspace(0.0, 1.0, 200)
    >>> x = np.array([0.5 + 0.3 * t + np.exp(-0.5 * ((t - 0.5) / 0.02) ** 2)])
    >>> out = AdaptiveIterativelyReweightedPLS(lam=1e5).fit_transform(x)
    >>> bool(abs(out[0, :50]).max() < 1e-2)
    True
    """

    name: ClassVar[str] = "airpls"
    params_model: ClassVar[type[Params]] = AirplsParams

    def __init__(
        self,
        *,
        lam: float = 1e6,
        diff_order: int = 2,
        max_iter: int = 50,
        tol: float = 1e-3,
        normalize_weights: bool = False,
        output: Output = "corrected",
    ) -> None:
        self.lam = lam
        self.diff_order = diff_order
        self.max_iter = max_iter
        self.tol = tol
        self.normalize_weights = normalize_weights
        self.output = output

    def _apply_params(self, x: FloatMatrix, params: _AnyParams) -> FloatMatrix:
        assert isinstance(params, AirplsParams)
        return _airpls_kernel(x, **params.model_dump())


def airpls(
    expr: IntoSpectra = "spectra",
    *,
    lam: float = 1e6,
    diff_order: int = 2,
    max_iter: int = 50,
    tol: float = 1e-3,
    normalize_weights: bool = False,
    output: Output = "corrected",
) -> pl.Expr:
    """AirPLS baseline removal (see :class:`AdaptiveIterativelyReweightedPLS`).

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> df = pl.DataFrame({"spectra": np.array([[1.0, 2.0, 3.0, 4.0]])})
    >>> bool(abs(df.select(airpls()).item().to_numpy()).max() < 1e-9)
    True
    """
    return AdaptiveIterativelyReweightedPLS(
        lam=lam,
        diff_order=diff_order,
        max_iter=max_iter,
        tol=tol,
        normalize_weights=normalize_weights,
        output=output,
    ).to_expr(expr)


# -- arpls -----------------------------------------------------------------------------------
class ArplsParams(Params):
    """Parameters of :class:`AsymmetricallyReweightedPLS` (pybaselines names and defaults)."""

    lam: float = _lam(1e5)
    diff_order: int = Field(default=2, ge=1)
    max_iter: int = Field(default=50, ge=0)
    tol: float = _tol(1e-3)
    output: Output = "corrected"


class AsymmetricallyReweightedPLS(SpectralOperator):
    """Asymmetrically reweighted penalized least squares (arPLS), equal to pybaselines ``arpls``.

    Parameters
    ----------
    lam, diff_order, max_iter, tol, output
        As in :class:`AsymmetricLeastSquares` (``lam`` defaults to 1e5).

    Examples
    --------
    >>> import numpy as np
    >>> t = np.linspace(0.0, 1.0, 200)
    >>> x = np.array([0.5 + 0.3 * t + np.exp(-0.5 * ((t - 0.5) / 0.02) ** 2)])
    >>> out = AsymmetricallyReweightedPLS(lam=1e5).fit_transform(x)
    >>> bool(abs(out[0, :50]).max() < 1e-2)
    True
    """

    name: ClassVar[str] = "arpls"
    params_model: ClassVar[type[Params]] = ArplsParams

    def __init__(
        self,
        *,
        lam: float = 1e5,
        diff_order: int = 2,
        max_iter: int = 50,
        tol: float = 1e-3,
        output: Output = "corrected",
    ) -> None:
        self.lam = lam
        self.diff_order = diff_order
        self.max_iter = max_iter
        self.tol = tol
        self.output = output

    def _apply_params(self, x: FloatMatrix, params: _AnyParams) -> FloatMatrix:
        assert isinstance(params, ArplsParams)
        return _arpls_kernel(x, **params.model_dump())


def arpls(
    expr: IntoSpectra = "spectra",
    *,
    lam: float = 1e5,
    diff_order: int = 2,
    max_iter: int = 50,
    tol: float = 1e-3,
    output: Output = "corrected",
) -> pl.Expr:
    """ArPLS baseline removal (see :class:`AsymmetricallyReweightedPLS`).

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> df = pl.DataFrame({"spectra": np.array([[1.0, 2.0, 3.0, 4.0]])})
    >>> bool(abs(df.select(arpls()).item().to_numpy()).max() < 1e-9)
    True
    """
    return AsymmetricallyReweightedPLS(
        lam=lam, diff_order=diff_order, max_iter=max_iter, tol=tol, output=output
    ).to_expr(expr)


# -- beads -----------------------------------------------------------------------------------
class BeadsParams(Params):
    """Parameters of :class:`Beads` (pybaselines names and defaults)."""

    freq_cutoff: float = Field(default=0.005, gt=0, lt=0.5)
    lam_0: float = Field(default=1.0, ge=0, allow_inf_nan=False)
    lam_1: float = Field(default=1.0, ge=0, allow_inf_nan=False)
    lam_2: float = Field(default=1.0, ge=0, allow_inf_nan=False)
    asymmetry: float = Field(default=6.0, gt=0, allow_inf_nan=False)
    filter_type: int = Field(default=1, ge=1)
    cost_function: Literal[1, 2, "l1_v1", "l1_v2"] = 2
    max_iter: int = Field(default=50, ge=0)
    tol: float = _tol(1e-2)
    eps_0: float = Field(default=1e-6, ge=0, allow_inf_nan=False)
    eps_1: float = Field(default=1e-6, ge=0, allow_inf_nan=False)
    fit_parabola: bool = True
    smooth_half_window: int | None = Field(default=None, ge=0)
    output: Output = "corrected"


class Beads(SpectralOperator):
    """Baseline estimation and denoising with sparsity (BEADS), equal to pybaselines ``beads``.

    Parameters
    ----------
    freq_cutoff
        Cutoff of the high-pass filter, normalised to (0, 0.5).
    lam_0, lam_1, lam_2
        Penalties on the signal and its first and second differences (defaults suit ~1000
        points; use smaller values for longer spectra).
    asymmetry
        Weight of negative signal values relative to positive ones.
    filter_type
        The high-pass filter has order ``2 * filter_type``.
    cost_function
        1 / ``"l1_v1"`` or 2 / ``"l1_v2"``: the smooth approximation of ``|x|``.
    max_iter, tol
        Iterations stop when the relative change of the cost falls below ``tol``.
    eps_0, eps_1
        Smoothing constants of the signal and difference penalties.
    fit_parabola
        Subtract a parabola through the end points first (ends near 0, as BEADS needs).
    smooth_half_window
        Half-window of a moving average applied to the differences (None: no smoothing).
    output
        ``"corrected"`` (``x - baseline``) or ``"baseline"``.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.linspace(0.0, 1.0, 300)
    >>> x = np.array([1.0 + 0.5 * t + np.exp(-0.5 * ((t - 0.5) / 0.01) ** 2)])
    >>> round(float(Beads().fit_transform(x).max()), 1)
    0.9
    """

    name: ClassVar[str] = "beads"
    params_model: ClassVar[type[Params]] = BeadsParams

    def __init__(
        self,
        *,
        freq_cutoff: float = 0.005,
        lam_0: float = 1.0,
        lam_1: float = 1.0,
        lam_2: float = 1.0,
        asymmetry: float = 6.0,
        filter_type: int = 1,
        cost_function: Literal[1, 2, "l1_v1", "l1_v2"] = 2,
        max_iter: int = 50,
        tol: float = 1e-2,
        eps_0: float = 1e-6,
        eps_1: float = 1e-6,
        fit_parabola: bool = True,
        smooth_half_window: int | None = None,
        output: Output = "corrected",
    ) -> None:
        self.freq_cutoff = freq_cutoff
        self.lam_0 = lam_0
        self.lam_1 = lam_1
        self.lam_2 = lam_2
        self.asymmetry = asymmetry
        self.filter_type = filter_type
        self.cost_function = cost_function
        self.max_iter = max_iter
        self.tol = tol
        self.eps_0 = eps_0
        self.eps_1 = eps_1
        self.fit_parabola = fit_parabola
        self.smooth_half_window = smooth_half_window
        self.output = output

    def _apply_params(self, x: FloatMatrix, params: _AnyParams) -> FloatMatrix:
        assert isinstance(params, BeadsParams)
        return _beads_kernel(x, **params.model_dump())


def beads(
    expr: IntoSpectra = "spectra",
    *,
    freq_cutoff: float = 0.005,
    lam_0: float = 1.0,
    lam_1: float = 1.0,
    lam_2: float = 1.0,
    asymmetry: float = 6.0,
    filter_type: int = 1,
    cost_function: Literal[1, 2, "l1_v1", "l1_v2"] = 2,
    max_iter: int = 50,
    tol: float = 1e-2,
    eps_0: float = 1e-6,
    eps_1: float = 1e-6,
    fit_parabola: bool = True,
    smooth_half_window: int | None = None,
    output: Output = "corrected",
) -> pl.Expr:
    """BEADS baseline removal (see :class:`Beads`).

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> t = np.linspace(0.0, 1.0, 300)
    >>> df = pl.DataFrame({"spectra": np.array([1.0 + 0.5 * t])})
    >>> bool(abs(df.select(beads()).item().to_numpy()).max() < 0.05)
    True
    """
    return Beads(
        freq_cutoff=freq_cutoff,
        lam_0=lam_0,
        lam_1=lam_1,
        lam_2=lam_2,
        asymmetry=asymmetry,
        filter_type=filter_type,
        cost_function=cost_function,
        max_iter=max_iter,
        tol=tol,
        eps_0=eps_0,
        eps_1=eps_1,
        fit_parabola=fit_parabola,
        smooth_half_window=smooth_half_window,
        output=output,
    ).to_expr(expr)


register_operator(AsymmetricLeastSquares, asls)
register_operator(ImprovedAsymmetricLeastSquares, iasls)
register_operator(AdaptiveIterativelyReweightedPLS, airpls)
register_operator(AsymmetricallyReweightedPLS, arpls)
register_operator(Beads, beads)
