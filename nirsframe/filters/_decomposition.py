"""Latent-variable fits used by the spectral filters: PCA by SVD and PLS1 by NIPALS (numpy only)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from nirsframe.exceptions import InvalidParameterError

if TYPE_CHECKING:
    from nirsframe.filters._base import FloatVector, Matrix

__all__ = ["LatentFit", "fit_pca", "fit_pls"]


@dataclass(frozen=True)
class LatentFit:
    """Training centre, score rotation ``R`` (``T = (X - mean) @ R``) and score sums of squares.

    ``singular_values`` holds every singular value of the centred training matrix (PCA only; the
    residual ones give the Q-residual limit).
    """

    mean: FloatVector
    rotation: Matrix
    score_ss: FloatVector
    singular_values: FloatVector


def _check_components(n_components: int, n: int, p: int, owner: str) -> None:
    limit = min(n - 1, p)
    if n_components > limit:
        msg = (
            f"the 'n_components' parameter of {owner} must be at most min(n_samples - 1, "
            f"n_points) = {limit} for training spectra of shape ({n}, {p}); "
            f"got n_components={n_components}"
        )
        raise InvalidParameterError(msg)


def _rank_tol(x: Matrix, s0: float) -> float:
    # numpy.linalg.matrix_rank's default tolerance: singular values below it are round-off.
    return s0 * max(x.shape) * float(np.finfo(np.float64).eps)


def fit_pca(x: Matrix, n_components: int, owner: str) -> LatentFit:
    """PCA of the mean-centred training spectra by thin SVD (loadings = right singular vectors)."""
    n, p = x.shape
    _check_components(n_components, n, p, owner)
    mean = x.mean(axis=0)
    xc = x - mean
    _, s, vt = np.linalg.svd(xc, full_matrices=False)
    if s[n_components - 1] <= _rank_tol(xc, s[0]):
        rank = int((s > _rank_tol(xc, s[0])).sum())
        msg = (
            f"the 'n_components' parameter of {owner} exceeds the rank ({rank}) of the centred "
            f"training spectra; got n_components={n_components}"
        )
        raise InvalidParameterError(msg)
    rotation = np.ascontiguousarray(vt[:n_components].T)
    # Scores are U * s, so their sums of squares are the squared singular values.
    return LatentFit(mean, rotation, s[:n_components] ** 2, s)


def fit_pls(x: Matrix, y: FloatVector, n_components: int, owner: str) -> LatentFit:
    """PLS1 by NIPALS on centred data; ``rotation = W (P^T W)^-1`` maps spectra to X-scores.

    NIPALS scores are mutually orthogonal, so ``T^T T`` is diagonal and its diagonal
    (``score_ss``) is all the leverage needs.
    """
    n, p = x.shape
    _check_components(n_components, n, p, owner)
    mean = x.mean(axis=0)
    xr = x - mean
    yr = y - y.mean()
    scale = float(np.abs(x - mean).max()) or 1.0
    weights = np.empty((p, n_components))
    loadings = np.empty((p, n_components))
    score_ss = np.empty(n_components)
    for a in range(n_components):
        w = xr.T @ yr
        norm = float(np.linalg.norm(w))
        if norm <= 1e-12 * scale * max(float(np.abs(y).max()), 1.0) * n:
            msg = (
                f"the 'n_components' parameter of {owner} is larger than the number of PLS "
                f"components the training data support ({a}); got n_components={n_components}"
            )
            raise InvalidParameterError(msg)
        w /= norm
        t = xr @ w
        tt = float(t @ t)
        pa = xr.T @ t / tt
        xr -= np.outer(t, pa)
        yr = yr - (float(yr @ t) / tt) * t
        weights[:, a], loadings[:, a], score_ss[a] = w, pa, tt
    rotation = weights @ np.linalg.inv(loadings.T @ weights)
    return LatentFit(mean, np.ascontiguousarray(rotation), score_ss, np.empty(0))
