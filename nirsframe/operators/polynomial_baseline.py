"""Iterative polynomial baselines: ModPoly and IModPoly (as pybaselines 1.2).

References
----------
Lieber & Mahadevan-Jansen (2003), Appl. Spectrosc. 57(11), 1363-1367 (ModPoly).
Gan, Ruan & Mo (2006), Chemom. Intell. Lab. Syst. 82, 59-65.
Zhao, Lui, McLean & Zeng (2007), Appl. Spectrosc. 61(11), 1225-1232 (IModPoly).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from nirskern.polynomial_baseline import imodpoly as _imodpoly
from nirskern.polynomial_baseline import modpoly as _modpoly
from pydantic import Field

from nirsframe.operators._base import IntoSpectra, Params, SpectralOperator
from nirsframe.operators._base import Params as _AnyParams
from nirsframe.operators.registry import register_operator

if TYPE_CHECKING:
    import polars as pl

    from nirsframe._bridge import FloatMatrix

BaselineOutput = Literal["corrected", "baseline"]


class ModifiedPolynomialParams(Params):
    """Parameters of :class:`ModifiedPolynomial` (pybaselines' names and defaults)."""

    poly_order: int = Field(default=2, ge=0, description="degree of the baseline polynomial")
    tol: float = Field(default=1e-3, ge=0, description="stop when the relative change is below")
    max_iter: int = Field(default=250, ge=0, description="maximum number of refits")
    use_original: bool = Field(default=False, description="clip against the original spectrum")
    mask_initial_peaks: bool = Field(default=False, description="weight 0 above fit + 1 std")
    output: BaselineOutput = Field(
        default="corrected", description="spectrum - baseline, or baseline"
    )


class ImprovedModifiedPolynomialParams(ModifiedPolynomialParams):
    """Parameters of :class:`ImprovedModifiedPolynomial` (pybaselines' names and defaults)."""

    mask_initial_peaks: bool = Field(default=True, description="weight 0 above fit + 1 std")
    num_std: float = Field(default=1.0, ge=0, description="clip at baseline + num_std * std")


class ModifiedPolynomial(SpectralOperator):
    """Modified polynomial (ModPoly) baseline removal, as ``pybaselines.polynomial.modpoly``.

    Each spectrum is repeatedly clipped to its least-squares polynomial (on the index mapped to
    [-1, 1]) and refitted until the relative L2 change of the baseline is below ``tol``.

    Parameters
    ----------
    poly_order
        Degree of the baseline polynomial.
    tol
        Convergence threshold on ``||b_new - b_old|| / ||b_old||``.
    max_iter
        Maximum number of refits.
    use_original
        Clip against the original spectrum instead of the previously clipped one.
    mask_initial_peaks
        Give weight 0 to the points above the first fit plus one residual std.
    output
        ``"corrected"`` returns spectrum - baseline, ``"baseline"`` the baseline.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.linspace(0.0, 1.0, 50)
    >>> x = (1.0 + t + np.exp(-(((t - 0.5) / 0.05) ** 2)))[np.newaxis, :]
    >>> bool(abs(ModifiedPolynomial(poly_order=1).fit_transform(x)[0, 0]) < 0.05)
    True
    """

    name: ClassVar[str] = "modpoly"
    params_model: ClassVar[type[Params]] = ModifiedPolynomialParams

    def __init__(
        self,
        *,
        poly_order: int = 2,
        tol: float = 1e-3,
        max_iter: int = 250,
        use_original: bool = False,
        mask_initial_peaks: bool = False,
        output: BaselineOutput = "corrected",
    ) -> None:
        self.poly_order = poly_order
        self.tol = tol
        self.max_iter = max_iter
        self.use_original = use_original
        self.mask_initial_peaks = mask_initial_peaks
        self.output = output

    def _apply_params(self, x: FloatMatrix, params: _AnyParams) -> FloatMatrix:
        assert isinstance(params, ModifiedPolynomialParams)
        return _modpoly(x, **params.model_dump())


class ImprovedModifiedPolynomial(SpectralOperator):
    """Improved modified polynomial (IModPoly) baseline, as ``pybaselines.polynomial.imodpoly``.

    Like :class:`ModifiedPolynomial`, but each spectrum is clipped to the baseline plus
    ``num_std`` residual standard deviations, peaks are masked after the first fit by default,
    and iterations stop when the residual std changes by less than ``tol`` (relative).

    Parameters
    ----------
    poly_order
        Degree of the baseline polynomial.
    tol
        Convergence threshold on the relative change of the residual std.
    max_iter
        Maximum number of refits.
    use_original
        Clip against the original spectrum instead of the previously clipped one.
    mask_initial_peaks
        Give weight 0 to the points above the first fit plus one residual std.
    num_std
        Number of residual standard deviations above the baseline kept when clipping.
    output
        ``"corrected"`` returns spectrum - baseline, ``"baseline"`` the baseline.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.linspace(0.0, 1.0, 20)[np.newaxis, :] ** 2
    >>> ImprovedModifiedPolynomial(output="baseline").fit_transform(x).shape
    (1, 20)
    """

    name: ClassVar[str] = "imodpoly"
    params_model: ClassVar[type[Params]] = ImprovedModifiedPolynomialParams

    def __init__(
        self,
        *,
        poly_order: int = 2,
        tol: float = 1e-3,
        max_iter: int = 250,
        use_original: bool = False,
        mask_initial_peaks: bool = True,
        num_std: float = 1.0,
        output: BaselineOutput = "corrected",
    ) -> None:
        self.poly_order = poly_order
        self.tol = tol
        self.max_iter = max_iter
        self.use_original = use_original
        self.mask_initial_peaks = mask_initial_peaks
        self.num_std = num_std
        self.output = output

    def _apply_params(self, x: FloatMatrix, params: _AnyParams) -> FloatMatrix:
        assert isinstance(params, ImprovedModifiedPolynomialParams)
        return _imodpoly(x, **params.model_dump())


def modpoly(
    expr: IntoSpectra = "spectra",
    *,
    poly_order: int = 2,
    tol: float = 1e-3,
    max_iter: int = 250,
    use_original: bool = False,
    mask_initial_peaks: bool = False,
    output: BaselineOutput = "corrected",
) -> pl.Expr:
    """Remove the ModPoly baseline of each spectrum (see :class:`ModifiedPolynomial`).

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> df = pl.DataFrame({"spectra": np.array([[1.0, 2.0, 3.0, 4.0]])})
    >>> df.select(modpoly(poly_order=1, output="baseline")).item().round(6).to_list()
    [1.0, 2.0, 3.0, 4.0]
    """
    return ModifiedPolynomial(
        poly_order=poly_order,
        tol=tol,
        max_iter=max_iter,
        use_original=use_original,
        mask_initial_peaks=mask_initial_peaks,
        output=output,
    ).to_expr(expr)


def imodpoly(
    expr: IntoSpectra = "spectra",
    *,
    poly_order: int = 2,
    tol: float = 1e-3,
    max_iter: int = 250,
    use_original: bool = False,
    mask_initial_peaks: bool = True,
    num_std: float = 1.0,
    output: BaselineOutput = "corrected",
) -> pl.Expr:
    """Remove the IModPoly baseline of each spectrum (see :class:`ImprovedModifiedPolynomial`).

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> df = pl.DataFrame({"spectra": np.array([[1.0, 2.0, 3.0, 4.0]])})
    >>> df.select(imodpoly(poly_order=1)).item().round(6).to_list()
    [0.0, 0.0, 0.0, 0.0]
    """
    return ImprovedModifiedPolynomial(
        poly_order=poly_order,
        tol=tol,
        max_iter=max_iter,
        use_original=use_original,
        mask_initial_peaks=mask_initial_peaks,
        num_std=num_std,
        output=output,
    ).to_expr(expr)


register_operator(ModifiedPolynomial, modpoly)
register_operator(ImprovedModifiedPolynomial, imodpoly)
