"""Regression metrics of NIR calibrations, for one model or every component count at once.

Predictions may be ``(N,)``, ``(N, T)`` or stacked per component count ``(A, N, T)`` (the output
of :func:`nirskern.pls_cv`); the reference ``y_true`` is ``(N,)`` or ``(N, T)``. Each metric
reduces the sample axis and returns a float for ``(N,)`` input, else an array of the remaining
shape (``(T,)`` or ``(A, T)``).

Pairs where the reference or the prediction is NaN are left out (cross-validation marks rows that
were never validated with NaN), separately for every component count and target; with no pair
left the metric is NaN.

Definitions, with residuals ``e = y_pred - y_true`` over the ``n`` valid rows:

- ``rmse = sqrt(mean(e²))`` (RMSEP / RMSECV),
- ``bias = mean(e)``,
- ``sep = sqrt(sum((e - bias)²) / (n - 1))``: bias-corrected standard error of prediction,
- ``r2 = 1 - sum(e²) / sum((y_true - mean(y_true))²)`` (scikit-learn's ``r2_score``),
- ``rpd = sd(y_true) / sep`` with the sample standard deviation (``n - 1``).

>>> y = [1.0, 2.0, 3.0, 4.0]
>>> {k: round(v, 4) for k, v in regression_metrics(y, [1.1, 1.9, 3.2, 3.8]).items()}
{'n': 4, 'rmse': 0.1581, 'bias': 0.0, 'sep': 0.1826, 'r2': 0.98, 'rpd': 7.0711}
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from nirsframe.exceptions import SpectralShapeError

__all__ = ["bias", "r2", "regression_metrics", "rmse", "rpd", "sep"]

Metric = float | npt.NDArray[np.float64]


class _Residuals:
    """Masked residual sums shared by every metric (computed once per call)."""

    def __init__(self, y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> None:
        yp = np.asarray(y_pred, dtype=np.float64)
        yt = np.asarray(y_true, dtype=np.float64)
        if yp.ndim not in (1, 2, 3):
            msg = f"'y_pred' must be (N,), (N, T) or (A, N, T); got shape {yp.shape}"
            raise SpectralShapeError(msg)
        self.scalar = yp.ndim == 1
        self.axis = 1 if yp.ndim == 3 else 0
        n = yp.shape[self.axis]
        if yt.ndim == 1 and yp.ndim > 1:
            yt = yt[:, np.newaxis]
        if (
            yt.ndim > 2
            or yt.shape[0] != n
            or (yp.ndim > 1 and yt.shape[-1] not in (1, yp.shape[-1]))
        ):
            msg = f"'y_true' shape {yt.shape} does not match 'y_pred' shape {yp.shape}"
            raise SpectralShapeError(msg)
        yt, yp = np.broadcast_arrays(yt, yp)
        valid = np.isfinite(yt) & np.isfinite(yp)
        ax = self.axis
        self.n = valid.sum(axis=ax)
        e = np.where(valid, yp - yt, 0.0)
        t = np.where(valid, yt, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            self.bias = e.sum(axis=ax) / self.n
            self.sse = np.sum(e * e, axis=ax)
            self.mse = self.sse / self.n
            # Centred sums (two passes) rather than sum(x²) - n·mean²: no cancellation.
            d = np.where(valid, e - np.expand_dims(self.bias, ax), 0.0)
            self.sep = np.sqrt(np.sum(d * d, axis=ax) / (self.n - 1))
            t_mean = t.sum(axis=ax) / self.n
            dt = np.where(valid, t - np.expand_dims(t_mean, ax), 0.0)
            self.sst = np.sum(dt * dt, axis=ax)
            self.sd_true = np.sqrt(self.sst / (self.n - 1))

    def out(self, value: npt.NDArray[np.float64]) -> Metric:
        return float(value) if self.scalar else np.asarray(value, dtype=np.float64)


def rmse(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> Metric:
    """Root mean squared error of prediction (RMSEP, or RMSECV for out-of-fold predictions).

    >>> rmse([1.0, 2.0], [1.0, 4.0])
    1.4142135623730951
    """
    res = _Residuals(y_true, y_pred)
    return res.out(np.sqrt(res.mse))


def bias(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> Metric:
    """Mean residual ``mean(y_pred - y_true)``: positive when predictions are too high.

    >>> bias([1.0, 2.0], [1.5, 2.5])
    0.5
    """
    res = _Residuals(y_true, y_pred)
    return res.out(res.bias)


def sep(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> Metric:
    """Standard error of prediction: SD of the residuals around their bias, with ``n - 1``.

    ``rmse² ≈ sep² + bias²`` (exactly, up to the factor ``(n - 1) / n`` on ``sep²``).

    >>> sep([1.0, 2.0, 3.0], [1.5, 2.5, 3.5])
    0.0
    """
    res = _Residuals(y_true, y_pred)
    return res.out(res.sep)


def r2(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> Metric:
    """Coefficient of determination ``1 - SSE / SST`` (as scikit-learn's ``r2_score``).

    >>> r2([1.0, 2.0, 3.0], [1.0, 2.0, 4.0])
    0.5
    """
    res = _Residuals(y_true, y_pred)
    with np.errstate(divide="ignore", invalid="ignore"):
        return res.out(1.0 - res.sse / res.sst)


def rpd(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> Metric:
    """Ratio of performance to deviation: ``sd(y_true) / sep`` (both with ``n - 1``).

    >>> round(rpd([1.0, 2.0, 3.0, 4.0], [1.1, 1.9, 3.2, 3.8]), 4)
    7.0711
    """
    res = _Residuals(y_true, y_pred)
    with np.errstate(divide="ignore", invalid="ignore"):
        return res.out(res.sd_true / res.sep)


def regression_metrics(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> dict[str, Any]:
    """Every metric at once: ``n``, ``rmse``, ``bias``, ``sep``, ``r2`` and ``rpd``.

    For stacked predictions ``(A, N, T)`` each value is an ``(A, T)`` array (``n`` as integers).

    >>> pred = np.array([[[1.0], [2.0], [4.0]], [[1.0], [2.0], [3.0]]])  # A=2, N=3, T=1
    >>> regression_metrics([1.0, 2.0, 3.0], pred)["rmse"].ravel().round(4).tolist()
    [0.5774, 0.0]
    """
    res = _Residuals(y_true, y_pred)
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "n": int(res.n) if res.scalar else np.asarray(res.n, dtype=np.int64),
            "rmse": res.out(np.sqrt(res.mse)),
            "bias": res.out(res.bias),
            "sep": res.out(res.sep),
            "r2": res.out(1.0 - res.sse / res.sst),
            "rpd": res.out(res.sd_true / res.sep),
        }
