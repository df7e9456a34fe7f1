"""Wavelength selection as fitted spectral operators: VIP threshold, CARS and MC-UVE.

Each selector learns a boolean mask ``support_`` over the input points from ``(X, y)`` with PLS
models, and ``transform`` keeps those columns (in axis order). They are registered operators of
kind ``"supervised"``: pipelines use them as steps, their expression declares the new width
(``support_.sum()``) and :meth:`output_axis` keeps the selected axis values. Random draws (CARS,
MC-UVE) come from ``numpy.random.default_rng(random_state)``: the same seed and data give the
same mask.

References
----------
Wold, S., Johansson, E. & Cocchi, M. (1993). PLS: partial least squares projections to latent
structures. In 3D QSAR in Drug Design (VIP). Chong, I.-G. & Jun, C.-H. (2005). Performance of
some variable selection methods when multicollinearity is present. Chemom. Intell. Lab. Syst.
78, 103-112.
Li, H., Liang, Y., Xu, Q. & Cao, D. (2009). Key wavelengths screening using competitive adaptive
reweighted sampling method for multivariate calibration. Anal. Chim. Acta 648, 77-84.
Cai, W., Li, Y. & Shao, X. (2008). A variable selection method based on uninformative variable
elimination for multivariate calibration of near-infrared spectra. Chemom. Intell. Lab. Syst.
90, 188-194.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from nirskern.pls import (
    FoldCrossProducts,
    cv_from_crossproducts,
    fold_crossproducts,
    pls_core,
    pls_cv,
    pls_fit,
)
from pydantic import Field
from sklearn.utils.validation import check_is_fitted

from nirsframe._bridge import map_spectra
from nirsframe.axis import SpectralAxis
from nirsframe.exceptions import AxisError, InvalidParameterError
from nirsframe.operators._base import (
    IntoSpectra,
    OperatorKind,
    Params,
    SpectralOperator,
    as_expr,
)
from nirsframe.operators.registry import register_operator

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import numpy.typing as npt
    import polars as pl

    from nirsframe._bridge import FloatMatrix

__all__ = [
    "CompetitiveAdaptiveReweightedSampling",
    "MonteCarloUninformativeVariableElimination",
    "VipSelection",
    "cars",
    "mcuve",
    "vip_selection",
]


# -- shared helpers ------------------------------------------------------------------------------
def _training_data(
    x: FloatMatrix, y: FloatMatrix | None, owner: str, *, min_rows: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Float64 rows without NaN and a 1-D response (NaN rows are left out of the fit)."""
    if y is None:
        msg = f"{owner} requires y to be passed, but the target y is None: use fit(X, y)"
        raise InvalidParameterError(msg)
    yy = np.asarray(y, dtype=np.float64)
    if yy.ndim == 2 and yy.shape[1] == 1:
        yy = yy[:, 0]
    if yy.ndim != 1 or yy.shape[0] != x.shape[0]:
        msg = (
            f"{owner} needs one response value per spectrum (y of shape (n_samples,)); "
            f"got X shape {x.shape}, y shape {np.shape(y)}"
        )
        raise InvalidParameterError(msg)
    keep = ~(np.isnan(x).any(axis=1) | np.isnan(yy))
    n = int(keep.sum())
    if n < min_rows:
        msg = f"{owner} needs at least {min_rows} spectra without NaN; got n_samples={n}"
        raise InvalidParameterError(msg)
    return np.asarray(x[keep], dtype=np.float64), yy[keep]


def _n_components(requested: int, n_rows: int, n_cols: int) -> int:
    # Subsets shrink during selection: cap the model size at what the data can carry.
    return max(1, min(requested, n_rows - 1, n_cols))


#: Keep every fold's (P, P) cross-products in memory up to this size; beyond it each subset is
#: cross-validated with its own pass over the data (same result, more time).
_MAX_FOLD_BYTES = 512 << 20


class _SubsetModels:
    """PLS models and RMSECV of row and column subsets from cross-products computed once.

    ``XᵀX`` of all rows is accumulated once about the mean spectrum; the model of a row subset
    subtracts the left-out rows' cross-products (a downdate) and a column subset is a sub-block,
    so no run re-reads the whole matrix. Per-fold moments for the RMSECV of column subsets are
    likewise computed once (a subset is their image under the column-selecting filter).
    """

    def __init__(
        self, x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], folds: npt.NDArray[np.int64]
    ) -> None:
        self.x, self.y, self.folds = x, y, folds
        # About the mean: the downdates and the centring below stay free of cancellation.
        self.xr = x - x.mean(axis=0)
        self.yr = y - y.mean()
        self.g = self.xr.T @ self.xr
        self.gy = self.xr.T @ self.yr
        self.s = self.xr.sum(axis=0)
        self.sy = float(self.yr.sum())
        n_folds = int(np.unique(folds).size)
        self.cp: FoldCrossProducts | None = None
        if n_folds * x.shape[1] ** 2 * 8 <= _MAX_FOLD_BYTES:
            self.cp = fold_crossproducts(x, y, folds)

    def coef(
        self, rows_out: npt.NDArray[np.intp], cols: npt.NDArray[np.intp], n_components: int
    ) -> npt.NDArray[np.float64]:
        """Coefficients ``b`` (len(cols),) of PLS on all rows but ``rows_out``, columns ``cols``."""
        xo = self.xr[np.ix_(rows_out, cols)]
        yo = self.yr[rows_out]
        n_in = self.x.shape[0] - rows_out.shape[0]
        s = self.s[cols] - xo.sum(axis=0)
        sy = self.sy - float(yo.sum())
        # Centring by sums: Σ(x - x̄)(x - x̄)ᵀ = Σ(x - ref)(x - ref)ᵀ - s sᵀ / n.
        c = self.g[np.ix_(cols, cols)] - xo.T @ xo - np.outer(s, s) / n_in
        cy = self.gy[cols] - xo.T @ yo - s * (sy / n_in)
        _, _, q, r = pls_core(c, cy[:, np.newaxis], n_components)
        b: npt.NDArray[np.float64] = (r @ q.T)[:, 0]
        return b

    def rmsecv(self, cols: npt.NDArray[np.intp], n_components: int) -> float:
        """Smallest RMSECV over ``1..n_components`` of PLS on columns ``cols``."""
        xs = self.x[:, cols]
        if self.cp is None:
            pred = pls_cv(xs, self.y, self.folds, n_components)[:, :, 0]
        else:
            # A column subset is the filter selecting those columns (an exact gather).
            pick = np.zeros((cols.shape[0], self.x.shape[1]))
            pick[np.arange(cols.shape[0]), cols] = 1.0
            sub = self.cp.transform(pick)
            pred = cv_from_crossproducts(sub, xs, self.folds, n_components)[:, :, 0]
        rmse = np.sqrt(np.mean((pred - self.y[np.newaxis, :]) ** 2, axis=1))
        return float(np.min(rmse))


def _venetian_folds(n: int, n_folds: int) -> npt.NDArray[np.int64]:
    # Deterministic interleaved folds (venetian blinds), the usual NIR cross-validation.
    return np.arange(n, dtype=np.int64) % min(n_folds, n)


def _smallest_training_fold(n: int, n_folds: int) -> int:
    # The largest venetian-blind validation block has ceil(n / k) rows.
    return n - -(-n // min(n_folds, n))


def vip_scores(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], n_components: int
) -> npt.NDArray[np.float64]:
    """Variable importance in projection of a PLS model fitted on ``x`` and ``y``.

    ``VIP_j = sqrt(P · Σ_a SS_a (w_ja / ‖w_a‖)² / Σ_a SS_a)`` with ``SS_a = q_a² t_aᵀt_a`` the
    response variance explained by component ``a``; the mean of ``VIP²`` is 1.

    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(30, 5)); y = x[:, 0] + 0.1 * rng.normal(size=30)
    >>> v = vip_scores(x, y, 2)
    >>> int(np.argmax(v)), round(float(np.mean(v**2)), 10)
    (0, 1.0)
    """
    model = pls_fit(x, y, n_components)
    scores = (x - model.x_mean) @ model.x_rotations
    ss = np.sum(model.y_loadings**2, axis=0) * np.sum(scores**2, axis=0)  # (A,)
    w = model.x_weights
    norms = np.linalg.norm(w, axis=0)
    used = (norms > 0) & (ss > 0)  # components after rank exhaustion are zero columns
    wn = w[:, used] / norms[used]
    p = x.shape[1]
    vip: npt.NDArray[np.float64] = np.sqrt(p * (wn**2 @ ss[used]) / np.sum(ss[used]))
    return vip


class _Selector(SpectralOperator):
    """Shared behaviour: keep the columns of ``support_``; the width changes."""

    kind: ClassVar[OperatorKind] = "supervised"

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags

    def _apply(self, x: FloatMatrix) -> FloatMatrix:
        mask = np.asarray(self.support_, dtype=np.bool_)
        return np.ascontiguousarray(x[:, mask])

    def output_width(self, n_points: int) -> int:
        """The number of selected points."""
        return int(self.get_support().sum())

    def get_support(self) -> npt.NDArray[np.bool_]:
        """The boolean mask of kept points (scikit-learn's selector API)."""
        check_is_fitted(self, "is_fitted_")
        return np.asarray(self.support_, dtype=np.bool_)

    def to_expr(self, expr: IntoSpectra = "spectra") -> pl.Expr:
        """The selection as an expression declaring the new width ``support_.sum()``."""
        mask = self.get_support()
        n_points = mask.shape[0]
        owner = self.name

        def run(x: FloatMatrix) -> FloatMatrix:
            if x.shape[1] != n_points:
                msg = f"{owner} expects spectra of width {n_points}; got width {x.shape[1]}"
                raise AxisError(msg)
            return np.ascontiguousarray(x[:, mask])

        return map_spectra(as_expr(expr), run, width=int(mask.sum()))

    def output_axis(self, axis: SpectralAxis) -> SpectralAxis:
        """The selected axis values (in axis order)."""
        mask = self.get_support()
        if len(axis.values) != mask.shape[0]:
            msg = (
                f"{self.name} was fitted on {mask.shape[0]} points; "
                f"got an axis of {len(axis.values)} values"
            )
            raise AxisError(msg)
        return SpectralAxis(np.asarray(axis.values)[mask], axis.unit)

    @classmethod
    def from_fitted(
        cls, params: Mapping[str, Any], arrays: Mapping[str, npt.NDArray[Any]]
    ) -> SpectralOperator:
        """Rebuild from parameters and arrays; ``support_`` must be a mask of the input width."""
        op = super().from_fitted(params, arrays)
        mask = np.asarray(arrays["support_"])
        if mask.dtype != np.bool_ or mask.shape != (op.n_features_in_,) or not mask.any():
            msg = (
                f"fitted state of {cls.name} needs 'support_' as a boolean mask of "
                f"{op.n_features_in_} points with at least one True; got {mask.dtype} "
                f"{mask.shape}"
            )
            raise InvalidParameterError(msg)
        return op


def _selector_expr(
    cls: type[_Selector], expr: IntoSpectra, support: Sequence[bool] | npt.ArrayLike
) -> pl.Expr:
    mask = np.asarray(support)
    if mask.ndim != 1 or mask.dtype != np.bool_:
        msg = f"'support' must be a 1-D boolean mask; got dtype {mask.dtype}, shape {mask.shape}"
        raise InvalidParameterError(msg)
    arrays: dict[str, Any] = {name: np.zeros(0) for name in cls.fitted_attributes}
    arrays["support_"] = mask
    arrays["n_features_in_"] = np.asarray(mask.shape[0])
    return cls.from_fitted({}, arrays).to_expr(expr)


# -- VIP -----------------------------------------------------------------------------------------
class VipParams(Params):
    """Parameters of :class:`VipSelection`."""

    n_components: int = Field(default=5, ge=1, description="PLS components of the VIP model")
    threshold: float = Field(default=1.0, ge=0.0, allow_inf_nan=False, description="VIP cut-off")


class VipSelection(_Selector):
    """Keep the points whose variable importance in projection (VIP) is at least ``threshold``.

    A PLS model with ``n_components`` (capped by the data) is fitted on the centred spectra;
    ``VIP_j²`` averages to 1 over the points, so the customary cut-off 1 keeps the points with
    above-average importance.

    Parameters
    ----------
    n_components
        Components of the PLS model the VIP is computed from.
    threshold
        Minimum VIP of a kept point.

    Attributes
    ----------
    support_ : ndarray of bool, shape (n_features,)
        Kept points.
    vip_ : ndarray of shape (n_features,)
        VIP of every point.

    References
    ----------
    Wold, Johansson & Cocchi (1993); Chong & Jun (2005), Chemom. Intell. Lab. Syst. 78, 103-112.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 6)); y = X[:, 2] + 0.05 * rng.normal(size=40)
    >>> VipSelection(n_components=1, threshold=1.5).fit(X, y).support_.tolist()
    [False, False, True, False, False, False]
    """

    name: ClassVar[str] = "vip_selection"
    params_model: ClassVar[type[Params]] = VipParams
    fitted_attributes: ClassVar[tuple[str, ...]] = ("support_", "vip_")
    example: ClassVar[dict[str, object]] = {"n_components": 3, "threshold": 1.0}

    def __init__(self, *, n_components: int = 5, threshold: float = 1.0) -> None:
        self.n_components = n_components
        self.threshold = threshold

    def _fit(self, x: FloatMatrix, y: FloatMatrix | None, params: Params) -> None:
        assert isinstance(params, VipParams)
        xx, yy = _training_data(x, y, self.name, min_rows=2)
        a = _n_components(params.n_components, *xx.shape)
        vip = vip_scores(xx, yy, a)
        support = vip >= params.threshold
        if not support.any():
            msg = (
                f"no point of {self.name} reaches the 'threshold'; the largest VIP is "
                f"{float(vip.max()):.4g}; got threshold={params.threshold}"
            )
            raise InvalidParameterError(msg)
        self.vip_ = vip
        self.support_ = support


# -- CARS ----------------------------------------------------------------------------------------
class CarsParams(Params):
    """Parameters of :class:`CompetitiveAdaptiveReweightedSampling`."""

    n_components: int = Field(default=10, ge=1, description="largest PLS model size")
    n_runs: int = Field(default=50, ge=2, description="sampling runs (subsets evaluated)")
    n_folds: int = Field(default=5, ge=2, description="cross-validation folds of each subset")
    sample_fraction: float = Field(default=0.8, gt=0.0, le=1.0, description="rows per run")
    random_state: int = Field(default=0, ge=0, description="seed of the random draws")


class CompetitiveAdaptiveReweightedSampling(_Selector):
    """CARS: competitive adaptive reweighted sampling of wavelengths (Li et al. 2009).

    Run ``i = 1..n_runs`` fits PLS on a random ``sample_fraction`` of the rows using the points
    kept so far and weighs each point by ``|b_j| / Σ|b|``. An exponentially decreasing function
    ``r_i = a·exp(-k i)`` (``r_1 = 1``, ``r_N = 2/P``) sets how many points survive: the
    ``r_i·P`` largest weights are kept (enforced elimination), then ``P`` draws with
    replacement among them, proportional to the weights, keep the points drawn at least once
    (adaptive reweighted sampling). Every subset is scored by ``n_folds`` venetian-blind RMSECV
    (best component count up to ``n_components``); the subset with the lowest RMSECV is selected.

    Parameters
    ----------
    n_components
        Largest number of PLS components (capped by the subset size and rows).
    n_runs
        Number of sampling runs ``N``.
    n_folds
        Cross-validation folds scoring each subset.
    sample_fraction
        Fraction of the rows drawn (without replacement) in each run.
    random_state
        Seed of the row draws and the weighted sampling.

    Attributes
    ----------
    support_ : ndarray of bool, shape (n_features,)
        Kept points.
    rmsecv_ : ndarray of shape (n_runs,)
        RMSECV of the subset of each run.
    n_selected_ : ndarray of shape (n_runs,)
        Subset size of each run.

    References
    ----------
    Li, Liang, Xu & Cao (2009), Anal. Chim. Acta 648, 77-84.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 30)); y = X[:, 4] - X[:, 20] + 0.05 * rng.normal(size=60)
    >>> op = CompetitiveAdaptiveReweightedSampling(n_components=3, n_runs=20).fit(X, y)
    >>> bool(op.support_[4] and op.support_[20])
    True
    """

    name: ClassVar[str] = "cars"
    params_model: ClassVar[type[Params]] = CarsParams
    fitted_attributes: ClassVar[tuple[str, ...]] = ("support_", "rmsecv_", "n_selected_")
    example: ClassVar[dict[str, object]] = {"n_components": 3, "n_runs": 15}

    def __init__(
        self,
        *,
        n_components: int = 10,
        n_runs: int = 50,
        n_folds: int = 5,
        sample_fraction: float = 0.8,
        random_state: int = 0,
    ) -> None:
        self.n_components = n_components
        self.n_runs = n_runs
        self.n_folds = n_folds
        self.sample_fraction = sample_fraction
        self.random_state = random_state

    def _fit(self, x: FloatMatrix, y: FloatMatrix | None, params: Params) -> None:
        assert isinstance(params, CarsParams)
        xx, yy = _training_data(x, y, self.name, min_rows=3)
        n, p = xx.shape
        rng = np.random.default_rng(params.random_state)
        n_runs = params.n_runs
        n_draw = max(2, round(params.sample_fraction * n))
        # Exponentially decreasing function: r_1 = 1 and r_N = 2/P (Li et al., eq. 3-4).
        p_end = min(2, p)
        k = np.log(p / p_end) / (n_runs - 1)
        a = (p / p_end) ** (1.0 / (n_runs - 1))
        models = _SubsetModels(xx, yy, _venetian_folds(n, params.n_folds))
        n_train = _smallest_training_fold(n, params.n_folds)
        kept = np.arange(p)
        subsets: list[npt.NDArray[np.int64]] = []
        rmsecv = np.empty(n_runs)
        for i in range(1, n_runs + 1):
            rows = rng.choice(n, size=n_draw, replace=False)
            rows_out = np.setdiff1d(np.arange(n), rows)
            comps = _n_components(params.n_components, n_draw, kept.size)
            b = np.abs(models.coef(rows_out, kept, comps))
            total = b.sum()
            weight = b / total if total > 0 else np.full(kept.size, 1.0 / kept.size)
            m = max(1, min(kept.size, round(p * a * np.exp(-k * i))))
            # Enforced elimination: the m largest weights survive (stable order for ties).
            order = np.argsort(-weight, kind="stable")[:m]
            survivors, w_surv = kept[order], weight[order]
            mass = w_surv.sum()
            probs = w_surv / mass if mass > 0 else np.full(m, 1.0 / m)
            # Adaptive reweighted sampling: P weighted draws with replacement among the survivors
            # (P, not m, draws: as the authors' implementation; m draws would also discard
            # ~37 % of the survivors at random in every run).
            drawn = np.unique(rng.choice(m, size=p, replace=True, p=probs))
            kept = np.sort(survivors[drawn])
            subsets.append(kept)
            comps_cv = _n_components(params.n_components, n_train, kept.size)
            rmsecv[i - 1] = models.rmsecv(kept, comps_cv)
        best = int(np.argmin(rmsecv))  # the first minimum: the larger subset on ties
        support = np.zeros(p, dtype=np.bool_)
        support[subsets[best]] = True
        self.support_ = support
        self.rmsecv_ = rmsecv
        self.n_selected_ = np.array([s.size for s in subsets], dtype=np.int64)


# -- MC-UVE --------------------------------------------------------------------------------------
class McuveParams(Params):
    """Parameters of :class:`MonteCarloUninformativeVariableElimination`."""

    n_components: int = Field(default=10, ge=1, description="PLS components of each model")
    n_runs: int = Field(default=100, ge=2, description="Monte-Carlo models")
    sample_fraction: float = Field(default=0.8, gt=0.0, lt=1.0, description="rows per model")
    n_features_to_select: int | None = Field(
        default=None, ge=1, description="points kept; chosen by cross-validation when None"
    )
    n_folds: int = Field(default=5, ge=2, description="folds when choosing the number of points")
    random_state: int = Field(default=0, ge=0, description="seed of the random draws")


class MonteCarloUninformativeVariableElimination(_Selector):
    """MC-UVE: keep the points whose PLS coefficients are stable over random subsets of rows.

    ``n_runs`` PLS models are fitted on random ``sample_fraction`` subsets of the rows
    (Monte-Carlo sampling, Cai et al. 2008). The reliability of point ``j`` is
    ``s_j = mean(b_j) / std(b_j)`` over the models; points are ranked by ``|s_j|``. The
    ``n_features_to_select`` most reliable points are kept, or, when it is None, the number of
    points (on a grid of about 20 sizes) with the lowest venetian-blind RMSECV.

    Parameters
    ----------
    n_components
        PLS components of each model (capped by the data).
    n_runs
        Number of Monte-Carlo models.
    sample_fraction
        Fraction of the rows in each model (drawn without replacement).
    n_features_to_select
        Number of points kept; None chooses it by cross-validation.
    n_folds
        Cross-validation folds used to choose the number of points.
    random_state
        Seed of the row draws.

    Attributes
    ----------
    support_ : ndarray of bool, shape (n_features,)
        Kept points.
    stability_ : ndarray of shape (n_features,)
        Reliability ``mean(b) / std(b)`` of every point (0 where the coefficient is always 0).

    References
    ----------
    Cai, Li & Shao (2008), Chemom. Intell. Lab. Syst. 90, 188-194; Centner et al. (1996),
    Anal. Chem. 68, 3851-3858 (UVE).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 30)); y = X[:, 4] - X[:, 20] + 0.05 * rng.normal(size=60)
    >>> op = MonteCarloUninformativeVariableElimination(n_components=3, n_features_to_select=2)
    >>> np.flatnonzero(op.fit(X, y).support_).tolist()
    [4, 20]
    """

    name: ClassVar[str] = "mcuve"
    params_model: ClassVar[type[Params]] = McuveParams
    fitted_attributes: ClassVar[tuple[str, ...]] = ("support_", "stability_")
    example: ClassVar[dict[str, object]] = {"n_components": 3, "n_runs": 30}

    def __init__(
        self,
        *,
        n_components: int = 10,
        n_runs: int = 100,
        sample_fraction: float = 0.8,
        n_features_to_select: int | None = None,
        n_folds: int = 5,
        random_state: int = 0,
    ) -> None:
        self.n_components = n_components
        self.n_runs = n_runs
        self.sample_fraction = sample_fraction
        self.n_features_to_select = n_features_to_select
        self.n_folds = n_folds
        self.random_state = random_state

    def _fit(self, x: FloatMatrix, y: FloatMatrix | None, params: Params) -> None:
        assert isinstance(params, McuveParams)
        xx, yy = _training_data(x, y, self.name, min_rows=3)
        n, p = xx.shape
        if params.n_features_to_select is not None and params.n_features_to_select > p:
            msg = (
                f"the 'n_features_to_select' parameter of {self.name} must be <= n_features; "
                f"got n_features_to_select={params.n_features_to_select}, n_features={p}"
            )
            raise InvalidParameterError(msg)
        rng = np.random.default_rng(params.random_state)
        n_draw = min(n - 1, max(2, round(params.sample_fraction * n)))
        comps = _n_components(params.n_components, n_draw, p)
        models = _SubsetModels(xx, yy, _venetian_folds(n, params.n_folds))
        everything = np.arange(p)
        coefs = np.empty((params.n_runs, p))
        for r in range(params.n_runs):
            rows = rng.choice(n, size=n_draw, replace=False)
            coefs[r] = models.coef(np.setdiff1d(np.arange(n), rows), everything, comps)
        mean = coefs.mean(axis=0)
        std = coefs.std(axis=0, ddof=1)
        # A point whose coefficient never varies is either always 0 (no information: s = 0) or
        # exactly determined; both are rare with noisy spectra. Guard the division only.
        stability = np.divide(mean, std, out=np.zeros(p), where=std > 0)
        ranking = np.argsort(-np.abs(stability), kind="stable")
        if params.n_features_to_select is not None:
            n_keep = params.n_features_to_select
        else:
            n_keep = self._choose_size(models, ranking, params)
        support = np.zeros(p, dtype=np.bool_)
        support[ranking[:n_keep]] = True
        self.support_ = support
        self.stability_ = stability

    @staticmethod
    def _choose_size(
        models: _SubsetModels, ranking: npt.NDArray[np.intp], params: McuveParams
    ) -> int:
        n, p = models.x.shape
        n_train = _smallest_training_fold(n, params.n_folds)
        # About 20 sizes, geometric: selection curves change fastest for few points.
        sizes = np.unique(np.round(np.geomspace(1, p, num=min(p, 20))).astype(np.int64))
        scores = []
        for size in sizes:
            cols = np.sort(ranking[:size])
            comps = _n_components(params.n_components, n_train, int(size))
            scores.append(models.rmsecv(cols, comps))
        return int(sizes[int(np.argmin(scores))])


# -- expression functions ------------------------------------------------------------------------
def vip_selection(
    expr: IntoSpectra = "spectra", *, support: Sequence[bool] | npt.ArrayLike
) -> pl.Expr:
    """Keep the points of a VIP selection mask ``support`` (fit :class:`VipSelection` to learn it).

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> df = pl.DataFrame({"spectra": np.array([[1.0, 2.0, 3.0]])})
    >>> df.select(vip_selection(support=[True, False, True])).item().to_list()
    [1.0, 3.0]
    """
    return _selector_expr(VipSelection, expr, support)


def cars(expr: IntoSpectra = "spectra", *, support: Sequence[bool] | npt.ArrayLike) -> pl.Expr:
    """Keep the points of a CARS mask ``support`` (fit the CARS operator to learn it).

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> df = pl.DataFrame({"spectra": np.array([[1.0, 2.0, 3.0]])})
    >>> df.select(cars(support=[False, True, True])).item().to_list()
    [2.0, 3.0]
    """
    return _selector_expr(CompetitiveAdaptiveReweightedSampling, expr, support)


def mcuve(expr: IntoSpectra = "spectra", *, support: Sequence[bool] | npt.ArrayLike) -> pl.Expr:
    """Keep the points of an MC-UVE mask ``support`` (fit the MC-UVE operator to learn it).

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> df = pl.DataFrame({"spectra": np.array([[1.0, 2.0, 3.0]])})
    >>> df.select(mcuve(support=[True, False, False])).item().to_list()
    [1.0]
    """
    return _selector_expr(MonteCarloUninformativeVariableElimination, expr, support)


register_operator(VipSelection, vip_selection)
register_operator(CompetitiveAdaptiveReweightedSampling, cars)
register_operator(MonteCarloUninformativeVariableElimination, mcuve)
