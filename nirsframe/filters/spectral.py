"""Spectral outlier filters built on a PCA (or PLS) model of the training spectra.

* :class:`HotellingT2`: distance inside the model plane, ``T^2 = sum_a t_a^2 / lambda_a``, with the
  F-distribution limit ``A (n - 1) / (n - A) * F_alpha(A, n - A)`` (Jackson 1991, eq. 1.7.6).
* :class:`QResiduals`: squared prediction error off the plane, ``Q = ||x - x_hat||^2``, with the
  Jackson & Mudholkar (1979) limit.
* :class:`Leverage`: ``h = 1/n + t^T (T^T T)^-1 t`` from PCA or PLS scores, limit ``k (A + 1) / n``.

All three centre on the training mean and fit on training rows only; NaN rows score NaN (never
flagged).

References
----------
Jackson, J. E. (1991). *A User's Guide to Principal Components*. Wiley.
Jackson, J. E. & Mudholkar, G. S. (1979). Control procedures for residuals associated with
principal component analysis. *Technometrics* 21(3), 341-349.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar, Literal, cast

import numpy as np
from pydantic import Field

from nirsframe.exceptions import InvalidParameterError, SpectralShapeError
from nirsframe.filters._base import OutlierFilter, P, as_matrix, as_target
from nirsframe.filters._decomposition import LatentFit, fit_pca, fit_pls
from nirsframe.filters._distributions import f_ppf, normal_ppf
from nirsframe.operators._base import Params

if TYPE_CHECKING:
    import numpy.typing as npt

    from nirsframe.filters._base import FloatVector, Matrix

__all__ = [
    "HotellingT2",
    "HotellingT2Params",
    "Leverage",
    "LeverageParams",
    "QResiduals",
    "QResidualsParams",
    "hotelling_t2_limit",
    "jackson_mudholkar_limit",
]


class _PcaParams(Params):
    n_components: int = Field(default=5, ge=1, description="number of principal components A")
    alpha: float = Field(default=0.99, gt=0.0, lt=1.0, description="confidence level of the limit")


class HotellingT2Params(_PcaParams):
    """Parameters of :class:`HotellingT2`."""


class QResidualsParams(_PcaParams):
    """Parameters of :class:`QResiduals`."""


class LeverageParams(Params):
    """Parameters of :class:`Leverage`."""

    n_components: int = Field(default=5, ge=1, description="number of latent variables A")
    k: float = Field(default=3.0, gt=0.0, description="limit multiplier: h > k (A + 1) / n")
    method: Literal["pca", "pls"] = Field(default="pca", description="scores from PCA or PLS1")


def hotelling_t2_limit(n_components: int, n_samples: int, alpha: float) -> float:
    """``A (n - 1) / (n - A) * F_alpha(A, n - A)``, the T² limit at confidence ``alpha``.

    Examples
    --------
    >>> round(hotelling_t2_limit(3, 50, 0.95), 6)
    8.764813
    """
    a, n = n_components, n_samples
    return a * (n - 1) / (n - a) * f_ppf(alpha, a, n - a)


def jackson_mudholkar_limit(residual_eigenvalues: npt.ArrayLike, alpha: float) -> float:
    """Jackson-Mudholkar limit of Q from the covariance eigenvalues left out of the model.

    With ``theta_i = sum_j lambda_j^i`` (i = 1, 2, 3), ``h0 = 1 - 2 theta1 theta3 / (3 theta2^2)``
    and ``z`` the standard-normal quantile at ``alpha``::

        Q_alpha = theta1 * (z sqrt(2 theta2 h0^2) / theta1 + 1
                            + theta2 h0 (h0 - 1) / theta1^2) ^ (1 / h0)

    Examples
    --------
    >>> round(jackson_mudholkar_limit([1.0] * 10, 0.95), 4)
    18.2918
    """
    lam = np.asarray(residual_eigenvalues, dtype=np.float64)
    theta1, theta2, theta3 = (float((lam**i).sum()) for i in (1, 2, 3))
    h0 = 1.0 - 2.0 * theta1 * theta3 / (3.0 * theta2**2)
    z = normal_ppf(alpha)
    c = z * math.sqrt(2.0 * theta2) / theta1  # z sqrt(2 theta2 h0^2) / theta1 = c * |h0|
    d = theta2 / theta1**2
    base_minus_1 = c * abs(h0) + d * h0 * (h0 - 1.0)
    # Written as theta1 * exp(log1p(.) / h0) for accuracy when h0 is small; h0 <= 1/3 always and
    # can be ~0 or negative for very uneven residual eigenvalues, where the limit h0 -> 0 of the
    # formula, theta1 * exp(c - d), is used (and whenever the base is not positive).
    if abs(h0) < 1e-8 or base_minus_1 <= -1.0:
        return theta1 * math.exp(c - d)
    return theta1 * math.exp(math.log1p(base_minus_1) / h0)


class _LatentFilter(OutlierFilter[P]):
    """Shared plumbing: the fitted centre and rotation, and width checks on scored rows."""

    mean_: FloatVector
    rotation_: Matrix

    def _store(self, fit: LatentFit) -> None:
        self.mean_ = fit.mean
        self.rotation_ = fit.rotation

    def _scores(self, X: npt.ArrayLike | None) -> tuple[Matrix, Matrix]:
        """Centred rows and their scores (NaN rows stay NaN)."""
        x = as_matrix(X, self.owner, training=False)
        if x.shape[1] != self.mean_.shape[0]:
            msg = (
                f"{self.owner} was fitted on spectra of width {self.mean_.shape[0]}; "
                f"got 'X' of shape {x.shape}"
            )
            raise SpectralShapeError(msg)
        xc = x - self.mean_
        return xc, xc @ self.rotation_


class HotellingT2(_LatentFilter[HotellingT2Params]):
    """Hotelling's T² in the space of the first ``n_components`` principal components.

    ``T^2 = sum_a t_a^2 / lambda_a`` with ``lambda_a = s_a^2 / (n - 1)`` the score variances of
    the centred training spectra (thin SVD). The limit is the calibration (Jackson) form
    ``A (n - 1) / (n - A) * F_alpha(A, n - A)``; for independent new rows the exact limit is larger
    by ``(n + 1) / n``, a difference below 1 % from n = 100 on.

    Parameters
    ----------
    n_components
        Number of principal components ``A`` (1 <= A <= min(n - 1, n_points)).
    alpha
        Confidence level of the limit (0.99 flags about 1 % of in-control rows).

    Attributes
    ----------
    mean_ : ndarray of shape (n_points,)
    rotation_ : ndarray of shape (n_points, n_components)
        PCA loadings.
    eigenvalues_ : ndarray of shape (n_components,)
        Score variances of the training rows.
    threshold_ : float

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> f = HotellingT2(n_components=2, alpha=0.99).fit(rng.normal(size=(50, 10)))
    >>> scores = f.score(np.vstack([np.zeros(10), np.full(10, 8.0)]))
    >>> scores.outlier.tolist()
    [False, True]
    """

    name: ClassVar[str] = "hotelling_t2"
    params_model: ClassVar[type[Params]] = HotellingT2Params
    uses: ClassVar[Literal["X", "y", "X+y"]] = "X"
    fitted_attributes: ClassVar[tuple[str, ...]] = (
        "mean_",
        "rotation_",
        "eigenvalues_",
        "threshold_",
    )

    def _fit(self, X: npt.ArrayLike | None, y: npt.ArrayLike | None) -> None:
        x = as_matrix(X, self.owner, training=True)
        a = self.params.n_components
        fit = fit_pca(x, a, self.owner)
        self._store(fit)
        n = x.shape[0]
        self.eigenvalues_ = fit.score_ss / (n - 1)
        self.threshold_ = hotelling_t2_limit(a, n, self.params.alpha)

    def _statistic(self, X: npt.ArrayLike | None, y: npt.ArrayLike | None) -> FloatVector:
        _, t = self._scores(X)
        return cast("FloatVector", (t**2 / self.eigenvalues_).sum(axis=1))


class QResiduals(_LatentFilter[QResidualsParams]):
    """Q residuals (squared prediction error) off the ``n_components``-dimensional PCA plane.

    ``Q = ||x_c - x_c P P^T||^2`` with ``x_c`` the row centred on the training mean and ``P`` the
    loadings. The limit is Jackson & Mudholkar's (1979), from the training covariance eigenvalues
    of the components left out (every singular value beyond ``A`` of the centred training matrix).

    Parameters
    ----------
    n_components
        Number of principal components ``A``; some residual variance must remain.
    alpha
        Confidence level of the limit.

    Attributes
    ----------
    mean_ : ndarray of shape (n_points,)
    rotation_ : ndarray of shape (n_points, n_components)
    theta_ : ndarray of shape (3,)
        Sums of the residual eigenvalues to the powers 1, 2 and 3.
    threshold_ : float

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> f = QResiduals(n_components=2, alpha=0.99).fit(rng.normal(size=(50, 10)))
    >>> f.score(np.vstack([np.zeros(10), np.full(10, 8.0)])).outlier.tolist()
    [False, True]
    """

    name: ClassVar[str] = "q_residuals"
    params_model: ClassVar[type[Params]] = QResidualsParams
    uses: ClassVar[Literal["X", "y", "X+y"]] = "X"
    fitted_attributes: ClassVar[tuple[str, ...]] = ("mean_", "rotation_", "theta_", "threshold_")

    def _fit(self, X: npt.ArrayLike | None, y: npt.ArrayLike | None) -> None:
        x = as_matrix(X, self.owner, training=True)
        a = self.params.n_components
        fit = fit_pca(x, a, self.owner)
        self._store(fit)
        lam = fit.singular_values[a:] ** 2 / (x.shape[0] - 1)
        total = float((fit.singular_values**2).sum()) / (x.shape[0] - 1)
        # Residual variance at round-off level means the model already reproduces the training
        # rows exactly: the limit would be meaningless (~0), so refuse and name the parameter.
        if lam.sum() <= 1e-12 * total:
            msg = (
                f"the 'n_components' parameter of {self.owner} leaves no residual variance in the "
                f"training spectra of shape {x.shape}; got n_components={a}"
            )
            raise InvalidParameterError(msg)
        self.theta_ = np.array([(lam**i).sum() for i in (1, 2, 3)])
        self.threshold_ = jackson_mudholkar_limit(lam, self.params.alpha)

    def _statistic(self, X: npt.ArrayLike | None, y: npt.ArrayLike | None) -> FloatVector:
        xc, t = self._scores(X)
        resid = xc - t @ self.rotation_.T
        return cast("FloatVector", (resid**2).sum(axis=1))


class Leverage(_LatentFilter[LeverageParams]):
    """Leverage ``h = 1/n + t^T (T^T T)^-1 t`` from PCA or PLS1 scores of the training spectra.

    The training leverages average ``(A + 1) / n``; rows above ``k (A + 1) / n`` are flagged
    (``k = 3`` follows ASTM E1655; 2 is a stricter common choice). ``method="pls"`` needs ``y`` at
    fit time only; scoring new rows uses the spectra alone.

    Parameters
    ----------
    n_components
        Number of latent variables ``A``.
    k
        Multiple of the mean training leverage used as the limit.
    method
        ``"pca"`` (thin SVD) or ``"pls"`` (PLS1, NIPALS).

    Attributes
    ----------
    mean_ : ndarray of shape (n_points,)
    rotation_ : ndarray of shape (n_points, n_components)
    score_ss_ : ndarray of shape (n_components,)
        Diagonal of ``T^T T`` on the training rows.
    n_train_ : float
    threshold_ : float

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> f = Leverage(n_components=2).fit(rng.normal(size=(50, 10)))
    >>> round(f.threshold_, 4)
    0.18
    """

    name: ClassVar[str] = "leverage"
    params_model: ClassVar[type[Params]] = LeverageParams
    uses: ClassVar[Literal["X", "y", "X+y"]] = "X"
    fitted_attributes: ClassVar[tuple[str, ...]] = (
        "mean_",
        "rotation_",
        "score_ss_",
        "n_train_",
        "threshold_",
    )

    @property
    def requires_y(self) -> bool:
        """``True`` for ``method="pls"`` (y at fit time only)."""
        return self.params.method == "pls"

    def _fit(self, X: npt.ArrayLike | None, y: npt.ArrayLike | None) -> None:
        x = as_matrix(X, self.owner, training=True)
        a = self.params.n_components
        if self.params.method == "pls":
            target = as_target(y, self.owner, training=True, n_rows=x.shape[0])
            fit = fit_pls(x, target, a, self.owner)
        else:
            fit = fit_pca(x, a, self.owner)
        self._store(fit)
        n = x.shape[0]
        self.score_ss_ = fit.score_ss
        self.n_train_ = float(n)
        self.threshold_ = self.params.k * (a + 1) / n

    def _statistic(self, X: npt.ArrayLike | None, y: npt.ArrayLike | None) -> FloatVector:
        _, t = self._scores(X)
        return cast("FloatVector", 1.0 / self.n_train_ + (t**2 / self.score_ss_).sum(axis=1))
