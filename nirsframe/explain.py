"""Why a fitted chain predicts what it does: coefficients, VIP, band importance, SHAP.

>>> import nirsframe as nf
>>> e = nf.explain("ws", run_id)  # doctest: +SKIP
>>> e.frame.columns  # doctest: +SKIP
['wavelength', 'coef', 'coef_space', 'vip', 'importance', 'importance_std']

Four views, each on a stated axis:

* **Regression coefficients.** The model's coefficients ``b`` act on the *preprocessed*
  spectra ``z``. When every preprocessing step is affine per spectrum (``z = D x + c``: Savitzky-
  Golay, detrend, mean centring, autoscaling, crop, ...), the chain is a linear model of the raw
  spectra, ``y = x·(Dᵀb) + (c·b + b₀)``, and ``coef`` holds ``Dᵀb`` on the original axis
  (``coef_space == "original"``). Otherwise (SNV, MSC, ...) ``coef`` holds ``b`` on the
  preprocessed axis (``coef_space == "preprocessed"``).
* **VIP** (PLS only), on the preprocessed axis.
* **Permutation importance** of contiguous bands of the *raw* spectra through the whole chain:
  the increase in RMSE (target units) when a band is swapped between samples. Behind row-wise
  normalisations (SNV, MSC) a swapped band of a sample with another baseline level makes a
  spectrum unlike any real one, so large values there measure sensitivity to such artefacts as
  much as information content; compare bands with each other, not with VIP.
* **SHAP values** when the optional ``shap`` package is installed (``pip install
  nirsframe[explain]``); on the axis of ``coef``.

Runs stored as a fitted graph (see ``docs/workspace.md``) are explained per model
(:func:`explain_nodes`, :func:`model_parts`): a ``y_processing`` or ``tuned`` run has one model
(its target transforms are affine maps after the model, so every view is on the original target
scale), a ``separated`` run one per group, a ``stack`` one per base model. The model of a
``sources`` or ``views`` run reads several inputs at once and has no single axis to explain on: a
:class:`~nirsframe.exceptions.GraphKindError`.
"""

from __future__ import annotations

import importlib.util
import warnings
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import polars as pl

from nirsframe._rundata import run_data
from nirsframe.exceptions import GraphKindError, InvalidParameterError, WorkspaceError
from nirsframe.models.pls import PLS
from nirsframe.workspace.chain import FittedChain
from nirsframe.workspace.graph import FittedGraph, ModelNode, SeparateNode, StackNode, TargetStep

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

    import numpy.typing as npt

    from nirsframe._rundata import RunData
    from nirsframe.axis import SpectralAxis
    from nirsframe.dataset import SpectralDataset
    from nirsframe.operators._base import SpectralOperator
    from nirsframe.workspace import Workspace

__all__ = [
    "Explanation",
    "ModelPart",
    "explain",
    "explain_chain",
    "explain_nodes",
    "model_parts",
    "vip_scores",
]

Float64Array = np.ndarray[Any, np.dtype[np.float64]]
CoefSpace = Literal["original", "preprocessed"]
# An affine probe must reproduce the operator to this relative accuracy (float64 round-off of a
# P x P matrix product is ~P * 1e-16; 1e-9 leaves room for P = 10^4 and catches any real
# non-linearity, which shows at the 1e-3 level or above).
_AFFINE_RTOL = 1e-9


@dataclass(frozen=True)
class Explanation:
    """The explanation of one fitted chain.

    Attributes
    ----------
    wavelength : ndarray (P,)
        The original (raw spectra) axis.
    unit : str
        Its unit (``"nm"``, ``"cm-1"``, ...).
    coef : ndarray
        Regression coefficients on the axis named by ``coef_space`` (``coef_wavelength``).
    coef_space : ``"original"`` or ``"preprocessed"``
        ``"original"`` when the preprocessing is affine and ``coef`` was mapped back through it.
    coef_wavelength : ndarray
        The axis of ``coef`` (and of ``shap_values``).
    intercept : float
        ``y = spectra · coef + intercept`` in ``coef_space``.
    model_wavelength : ndarray
        The axis of the preprocessed spectra the model sees.
    coef_preprocessed : ndarray
        The model's own coefficients (on the original target scale), on ``model_wavelength``.
    vip : ndarray or None
        VIP scores on ``model_wavelength`` (PLS models only).
    importance, importance_std : ndarray or None
        Permutation importance (mean and std over repeats of the RMSE increase, in target units)
        on ``wavelength``; every wavelength of a band carries its band's value.
    shap_values : ndarray (n_samples, len(coef_wavelength)) or None
        SHAP values of the evaluated samples (``None`` when ``shap`` is not installed).
    n_components : int or None
        Latent variables of a PLS model.
    model : str
        The model's name in the chain (``"pls"``, ``"sklearn.Ridge"``, ...).
    steps : tuple of str
        The preprocessing operators, in order.
    notes : tuple of str
        What was computed how, and what was skipped and why.
    y_processing : tuple of str
        The target transforms the model was fitted behind (inverted after it); ``coef``,
        ``intercept``, ``coef_preprocessed``, importance and SHAP are on the original target
        scale all the same.
    """

    wavelength: Float64Array
    unit: str
    coef: Float64Array
    coef_space: CoefSpace
    coef_wavelength: Float64Array
    intercept: float
    model_wavelength: Float64Array
    coef_preprocessed: Float64Array
    vip: Float64Array | None
    importance: Float64Array | None
    importance_std: Float64Array | None
    shap_values: Float64Array | None
    n_components: int | None
    model: str
    steps: tuple[str, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)
    run_id: str | None = None
    y_processing: tuple[str, ...] = ()

    @property
    def frame(self) -> pl.DataFrame:
        """One row per wavelength: ``wavelength, coef, coef_space, vip, importance, ...``.

        Columns on another axis than the original one are joined by wavelength value (nulls
        where an axis has no such point, e.g. outside a crop).
        """
        coefs = pl.DataFrame(
            {
                "wavelength": self.coef_wavelength,
                "coef": self.coef,
                "coef_space": [self.coef_space] * self.coef.size,
            }
        )
        if self.shap_values is not None:
            coefs = coefs.with_columns(
                pl.Series("shap_mean_abs", np.abs(self.shap_values).mean(axis=0))
            )
        model = pl.DataFrame(
            {
                "wavelength": self.model_wavelength,
                "vip": self.vip
                if self.vip is not None
                else np.full(self.model_wavelength.size, None),
            },
            schema={"wavelength": pl.Float64, "vip": pl.Float64},
        )
        raw = pl.DataFrame(
            {
                "wavelength": self.wavelength,
                "importance": self.importance,
                "importance_std": self.importance_std,
            },
            schema={
                "wavelength": pl.Float64,
                "importance": pl.Float64,
                "importance_std": pl.Float64,
            },
        )
        out = coefs.join(model, on="wavelength", how="full", coalesce=True)
        out = out.join(raw, on="wavelength", how="full", coalesce=True)
        return out.sort("wavelength")

    @property
    def coefficients(self) -> pl.DataFrame:
        """``wavelength, coef`` on the axis named by :attr:`coef_space`."""
        return pl.DataFrame({"wavelength": self.coef_wavelength, "coef": self.coef})

    def to_json_dict(self) -> dict[str, Any]:
        """JSON-ready summary (for ``nirsframe explain --json``)."""
        frame = self.frame
        return {
            "run_id": self.run_id,
            "model": self.model,
            "n_components": self.n_components,
            "steps": list(self.steps),
            "unit": self.unit,
            "coef_space": self.coef_space,
            "y_processing": list(self.y_processing),
            "intercept": self.intercept,
            "shap": self.shap_values is not None,
            "notes": list(self.notes),
            "columns": {c: [_finite(v) for v in frame[c].to_list()] for c in frame.columns},
        }


def _finite(v: Any) -> Any:
    if isinstance(v, float) and not np.isfinite(v):
        return None
    return v


# -- VIP ------------------------------------------------------------------------------------------
def vip_scores(
    weights: npt.ArrayLike, scores: npt.ArrayLike, y_loadings: npt.ArrayLike
) -> Float64Array:
    """Variable importance in projection (Wold; Chong & Jun 2005, eq. 7).

    .. math::

        \\mathrm{VIP}_j = \\sqrt{\\frac{p \\sum_{a=1}^{A} SS_a\\,(w_{ja}/\\lVert w_a\\rVert)^2}
                              {\\sum_{a=1}^{A} SS_a}},
        \\qquad SS_a = \\lVert q_a \\rVert^2\\, t_a^\\top t_a

    where ``w_a`` is the a-th X weight vector, ``t_a`` the a-th score vector, ``q_a`` the a-th Y
    loadings (one per target) and ``p`` the number of variables. ``SS_a`` is the part of the Y
    sum of squares explained by component ``a``, so ``mean(VIP**2) == 1``.

    Parameters
    ----------
    weights
        ``W``, shape (p, A).
    scores
        ``T``, shape (n, A) (training scores).
    y_loadings
        ``Q``, shape (n_targets, A) or (A,).

    Returns
    -------
    ndarray of shape (p,)

    Examples
    --------
    >>> w = np.array([[1.0, 0.0], [0.0, 1.0]]); t = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> vip_scores(w, t, np.array([1.0, 1.0])).round(4).tolist()
    [1.0, 1.0]
    """
    w = np.asarray(weights, dtype=np.float64)
    t = np.asarray(scores, dtype=np.float64)
    q = np.atleast_2d(np.asarray(y_loadings, dtype=np.float64))
    if w.ndim != 2 or t.ndim != 2 or w.shape[1] != t.shape[1] or q.shape[1] != w.shape[1]:
        msg = (
            "'weights' (p, A), 'scores' (n, A) and 'y_loadings' (T, A) must share A; got "
            f"{w.shape}, {t.shape}, {q.shape}"
        )
        raise InvalidParameterError(msg)
    ss = (q**2).sum(axis=0) * (t**2).sum(axis=0)  # (A,)
    norms = np.linalg.norm(w, axis=0)
    norms[norms == 0.0] = 1.0
    wn2 = (w / norms) ** 2  # (p, A)
    total = ss.sum()
    if total <= 0.0:
        return np.zeros(w.shape[0])
    vip: Float64Array = np.sqrt(w.shape[0] * (wn2 @ ss) / total)
    return vip


# -- linear algebra of the chain ----------------------------------------------------------------
def _quiet(fn: Callable[[], npt.NDArray[Any]]) -> Float64Array | None:
    """``fn()`` with warnings and floating-point errors silenced; ``None`` if it raises."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            return np.asarray(fn(), dtype=np.float64)
        except (ValueError, ArithmeticError, np.linalg.LinAlgError):
            return None


def _affine_step(
    op: SpectralOperator, probe: Float64Array
) -> tuple[Float64Array, Float64Array] | None:
    """``(D, c)`` with ``op(x) == D x + c`` for every row, or ``None`` if ``op`` is not affine.

    Declared-linear operators give their exact matrix (``c = 0``). Others are probed: ``c`` is
    the image of a zero spectrum and ``D``'s columns the images of unit spectra minus ``c``; the
    map is accepted only if it reproduces the operator on ``probe`` (the actual spectra) and on
    seeded random perturbations of them.
    """
    n = probe.shape[1]
    if op.linear:
        d = np.asarray(op.linear_matrix(n), dtype=np.float64)
        return d, np.zeros(d.shape[0])
    c = _quiet(lambda: op.transform(np.zeros((1, n))))
    images = _quiet(lambda: op.transform(np.eye(n)))
    if c is None or images is None or not (np.isfinite(c).all() and np.isfinite(images).all()):
        return None
    d = (images - c).T
    rng = np.random.default_rng(0)
    checks = np.vstack([probe, probe + rng.normal(0.0, 1.0, probe.shape) * probe.std()])
    got = _quiet(lambda: op.transform(checks))
    if got is None or got.shape != (checks.shape[0], d.shape[0]):
        return None
    want = checks @ d.T + c
    scale = max(float(np.abs(want).max()), 1e-300)
    if not np.all(np.abs(got - want) <= _AFFINE_RTOL * scale):
        return None
    return d, c[0]


def _compose_affine(
    ops: Sequence[SpectralOperator], x: Float64Array
) -> tuple[Float64Array, Float64Array] | None:
    """``(D, c)`` of the whole preprocessing (``z = x Dᵀ + c``), or ``None`` if not affine."""
    d = np.eye(x.shape[1])
    c = np.zeros(x.shape[1])
    z = x
    for op in ops:
        step = _affine_step(op, z)
        if step is None:
            return None
        dk, ck = step
        d, c = dk @ d, dk @ c + ck
        z = np.asarray(op.transform(z), dtype=np.float64)
    return d, c


def _linear_model(model: Any, n_components: int | None) -> tuple[Float64Array, float, int | None]:
    """``(b, b0, A)``: the model's coefficients on its input, intercept and PLS components."""
    if isinstance(model, PLS):
        a_max = int(model.coef_.shape[0])
        a = a_max if n_components is None else int(n_components)
        if not 1 <= a <= a_max:
            msg = f"'n_components' must be in [1, {a_max}]; got {n_components!r}"
            raise InvalidParameterError(msg)
        return (
            np.asarray(model.coef_[a - 1][:, 0], dtype=np.float64),
            float(model.intercept_[a - 1][0]),
            a,
        )
    coef = getattr(model, "coef_", None)
    if coef is None:
        msg = f"model {type(model).__name__} has no linear coefficients ('coef_')"
        raise InvalidParameterError(msg)
    coef = np.asarray(coef, dtype=np.float64)
    # sklearn keeps (n_targets, n_features) for multi-output linear models and PLSRegression.
    b = coef.reshape(-1) if coef.ndim == 1 else coef[0]
    b0 = float(np.asarray(getattr(model, "intercept_", 0.0), dtype=np.float64).reshape(-1)[0])
    n = getattr(model, "n_components", None)
    return b, b0, int(n) if n is not None else None


# -- permutation importance ---------------------------------------------------------------------
def _bands(n_points: int, band_width: int | None) -> list[slice]:
    width = max(1, n_points // 50) if band_width is None else band_width
    if isinstance(width, bool) or not isinstance(width, int | np.integer) or width < 1:
        msg = f"'band_width' must be a positive integer; got {band_width!r}"
        raise InvalidParameterError(msg)
    return [slice(s, min(s + int(width), n_points)) for s in range(0, n_points, int(width))]


def _permutation_importance(
    predict: Callable[[Float64Array], Float64Array],
    x: Float64Array,
    y: Float64Array,
    bands: Sequence[slice],
    n_repeats: int,
    seed: int,
) -> tuple[Float64Array, Float64Array]:
    """Mean and std (over repeats) of the RMSE increase when one band's columns are shuffled.

    The rows of a band are permuted jointly (one permutation for all its columns), which keeps
    each band's spectral shape intact and breaks only its link to the target and to the rest of
    the spectrum. All repeats of a band are predicted in one call.
    """
    rng = np.random.default_rng(seed)
    base = float(np.sqrt(np.mean((predict(x) - y) ** 2)))
    n = x.shape[0]
    mean = np.empty(x.shape[1])
    std = np.empty(x.shape[1])
    stacked_y = np.tile(y, n_repeats)
    for band in bands:
        stacked = np.tile(x, (n_repeats, 1))
        for r in range(n_repeats):
            perm = rng.permutation(n)
            stacked[r * n : (r + 1) * n, band] = x[perm, band]
        err = (predict(stacked) - stacked_y) ** 2
        rmse = np.sqrt(err.reshape(n_repeats, n).mean(axis=1)) - base
        mean[band], std[band] = rmse.mean(), rmse.std(ddof=1) if n_repeats > 1 else 0.0
    return mean, std


# -- SHAP -----------------------------------------------------------------------------------------
def _shap_values(
    coef: Float64Array, intercept: float, background: Float64Array, x: Float64Array
) -> Float64Array:
    """SHAP values of a linear model with the ``shap`` package (independent-feature masker)."""
    with warnings.catch_warnings():
        # shap's import pulls in its plotting code, which emits matplotlib deprecation warnings
        # that are none of the caller's business.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        shap = importlib.import_module("shap")  # optional dependency, checked by the caller
    explainer = shap.LinearExplainer((coef, intercept), background)
    return np.asarray(explainer.shap_values(x), dtype=np.float64)


def shap_available() -> bool:
    """Whether the optional ``shap`` package can be imported."""
    return importlib.util.find_spec("shap") is not None


# -- target transforms --------------------------------------------------------------------------
def _target_map(targets: Sequence[TargetStep]) -> tuple[float, float]:
    """``(s, h)`` with ``y = s·y' + h``: the inverse target transforms composed (first target).

    >>> _target_map([TargetStep("autoscale", (3.0,), (2.0,)), TargetStep("center", (1.0,), (1.0,))])
    (2.0, 5.0)
    """
    scale, shift = 1.0, 0.0
    for t in reversed(targets):  # the last transform is inverted first
        scale, shift = scale * t.scale[0], shift * t.scale[0] + t.shift[0]
    return scale, shift


def _target_note(targets: Sequence[TargetStep], scale: float, shift: float) -> str:
    methods = " -> ".join(t.method for t in targets)
    return (
        f"target scale: original; the model was fitted on {methods}-transformed targets and its "
        f"output is mapped back by y = {scale:.6g}·y' + {shift:.6g} (affine, so coefficients, "
        "intercept, importance and SHAP are exact on the original scale; VIP is scale-free)"
    )


# -- public API -----------------------------------------------------------------------------------
def explain_chain(
    chain: FittedChain,
    x: npt.ArrayLike,
    y: npt.ArrayLike | None = None,
    *,
    axis: SpectralAxis | npt.ArrayLike | None = None,
    x_eval: npt.ArrayLike | None = None,
    y_eval: npt.ArrayLike | None = None,
    n_components: int | None = None,
    importance: bool = True,
    band_width: int | None = None,
    n_repeats: int = 5,
    seed: int = 0,
    max_samples: int = 1000,
    shap: bool = True,
    run_id: str | None = None,
    targets: Sequence[TargetStep] = (),
) -> Explanation:
    """Explain a fitted chain from the spectra it was fitted on.

    Parameters
    ----------
    chain
        A fitted chain with a linear model (PLS or an allow-listed scikit-learn model).
    x
        The training spectra (n, P) the chain was fitted on: VIP needs their PLS scores, and
        the affine check and SHAP background use them.
    y
        Their target values; needed for permutation importance unless ``y_eval`` is given.
    axis
        The wavelength axis (a :class:`~nirsframe.axis.SpectralAxis` or values; default
        ``0..P-1``).
    x_eval, y_eval
        Rows to score importance and SHAP on (default ``x``, ``y``).
    n_components
        PLS components to explain (default: the chain's model).
    importance
        Compute permutation importance (skipped when no target is given).
    band_width
        Points per permuted band (default ``max(1, P // 50)``: 50 bands).
    n_repeats, seed
        Permutations per band and the seed of the generator that draws them.
    max_samples
        At most this many evaluation rows (a seeded random subset) for importance and SHAP.
    shap
        Compute SHAP values if the ``shap`` package is importable.
    run_id
        Recorded in the result.
    targets
        The target transforms the model was fitted behind (a graph's ``y_processing``); they
        are inverted after the model, and coefficients, importance and SHAP are reported on the
        original target scale.

    Examples
    --------
    >>> import numpy as np
    >>> from nirsframe.operators import SavitzkyGolay
    >>> from nirsframe.workspace import FittedChain
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 30)).cumsum(axis=1); y = X[:, 10] - X[:, 20]
    >>> sg = SavitzkyGolay(window_length=5, polyorder=2)
    >>> chain = FittedChain.from_estimators([sg], PLS(n_components=3).fit(sg.transform(X), y))
    >>> e = explain_chain(chain, X, y, shap=False)
    >>> e.coef_space, e.coef.shape, round(float((e.vip**2).mean()), 6)
    ('original', (30,), 1.0)
    """
    from nirsframe.axis import SpectralAxis

    xt = np.ascontiguousarray(np.asarray(x, dtype=np.float64))
    if xt.ndim != 2:
        msg = f"'x' must be a 2-D (n_samples, n_points) array; got shape {xt.shape}"
        raise InvalidParameterError(msg)
    n_points = xt.shape[1]
    if axis is None:
        ax = SpectralAxis(np.arange(n_points, dtype=np.float64), "index")
    elif isinstance(axis, SpectralAxis):
        ax = axis
    else:
        ax = SpectralAxis(np.asarray(axis, dtype=np.float64))
    if len(ax) != n_points:
        msg = f"'axis' has {len(ax)} points but 'x' has {n_points} columns"
        raise InvalidParameterError(msg)
    ops = chain.operators()
    model = chain.build_model()
    if model is None:
        msg = "the chain has no model to explain"
        raise WorkspaceError(msg)
    notes: list[str] = []

    def transform(a: Float64Array) -> Float64Array:
        out: npt.NDArray[Any] = a
        for op in ops:
            out = op.transform(out)
        return np.asarray(out, dtype=np.float64)

    z = transform(xt)
    model_axis = ax
    for op in ops:
        model_axis = op.output_axis(model_axis)
    b, b0, a = _linear_model(model, n_components)
    # The target transforms are affine: y = s·y' + h maps the model's coefficients exactly.
    y_scale, y_shift = _target_map(targets)
    b, b0 = b * y_scale, b0 * y_scale + y_shift
    if targets:
        notes.append(_target_note(targets, y_scale, y_shift))
    if isinstance(model, PLS) and a is not None:

        def predict_model(rows: Float64Array) -> Float64Array:
            return np.asarray(model.predict(transform(rows), n_components=a), dtype=np.float64)

    else:

        def predict_model(rows: Float64Array) -> Float64Array:
            return np.asarray(model.predict(transform(rows)), dtype=np.float64).reshape(
                len(rows), -1
            )[:, 0]

    def predict(rows: Float64Array) -> Float64Array:
        return predict_model(rows) * y_scale + y_shift

    # Coefficients: map back through an affine preprocessing.
    affine = _compose_affine(ops, xt)
    if affine is not None:
        d, c = affine
        coef, intercept, space = d.T @ b, b0 + float(c @ b), "original"
        coef_axis = ax
        check = float(np.abs(xt @ coef + intercept - predict(xt)).max())
        notes.append(
            "coefficients mapped to the original axis through the affine preprocessing "
            f"({' -> '.join(s.op for s in chain.steps) or 'none'}); max |error| {check:.2e}"
        )
    else:
        coef, intercept, space, coef_axis = b, b0, "preprocessed", model_axis
        notes.append(
            "preprocessing is not affine ("
            + ", ".join(s.op for s in chain.steps)
            + "): coefficients are on the preprocessed axis"
        )
    # VIP (PLS only): training scores of the chosen components.
    vip = None
    if isinstance(model, PLS) and a is not None:
        t = model.transform(z, n_components=a)
        vip = vip_scores(model.x_weights_[:, :a], t, model.y_loadings_[:, :a])
    else:
        notes.append(f"no VIP: {type(model).__name__} is not a PLS model")
    # Evaluation rows for importance and SHAP.
    xe = xt if x_eval is None else np.ascontiguousarray(np.asarray(x_eval, dtype=np.float64))
    ye_raw = (y if x_eval is None else y_eval) if y_eval is None else y_eval
    ye = None if ye_raw is None else np.asarray(ye_raw, dtype=np.float64).reshape(-1)
    if xe.shape[0] > max_samples:
        keep = np.sort(np.random.default_rng(seed).choice(xe.shape[0], max_samples, replace=False))
        xe = xe[keep]
        ye = None if ye is None else ye[keep]
    imp = imp_std = None
    if importance and ye is not None:
        if isinstance(n_repeats, bool) or not isinstance(n_repeats, int) or n_repeats < 1:
            msg = f"'n_repeats' must be a positive integer; got {n_repeats!r}"
            raise InvalidParameterError(msg)
        imp, imp_std = _permutation_importance(
            predict, xe, ye, _bands(n_points, band_width), n_repeats, seed
        )
    elif importance:
        notes.append("no permutation importance: no target values given")
    shap_vals = None
    if shap and shap_available():
        if space == "original":
            shap_vals = _shap_values(coef, intercept, xt, xe)
        else:
            shap_vals = _shap_values(coef, intercept, z, transform(xe))
        notes.append(f"SHAP values from shap.LinearExplainer on the {space} axis")
    elif shap:
        notes.append("no SHAP values: the optional 'shap' package is not installed")
    return Explanation(
        wavelength=np.asarray(ax.values, dtype=np.float64),
        unit=str(ax.unit),
        coef=np.asarray(coef, dtype=np.float64),
        coef_space=space,  # type: ignore[arg-type]
        coef_wavelength=np.asarray(coef_axis.values, dtype=np.float64),
        intercept=float(intercept),
        model_wavelength=np.asarray(model_axis.values, dtype=np.float64),
        coef_preprocessed=b,
        vip=vip,
        importance=imp,
        importance_std=imp_std,
        shap_values=shap_vals,
        n_components=a,
        model=chain.model.op if chain.model is not None else type(model).__name__,
        steps=tuple(s.op for s in chain.steps),
        notes=tuple(notes),
        run_id=run_id,
        y_processing=tuple(t.method for t in targets),
    )


# -- recorded runs --------------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelPart:
    """One explainable model of a run: a chain, its target transforms and the rows it serves.

    ``name`` is ``"model"`` for a run with one model, ``"<column>=<value>"`` for a group of a
    separated run (``group`` is then ``(column, value)``) and ``"base 1"``, ``"base 2.1"``, ...
    for the bases of a stack (nested stacks dotted; ``note`` gives the meta-model's weight).

    >>> [p.name for p in model_parts(FittedChain(()))]
    ['model']
    """

    name: str
    chain: FittedChain
    targets: tuple[TargetStep, ...] = ()
    group: tuple[str, str] | None = None
    note: str | None = None

    def rows(self, data: RunData, rows: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """The subset of ``rows`` (indices into ``data``) this model predicts."""
        if self.group is None:
            return rows
        column, value = self.group
        keep: npt.NDArray[np.bool_] = data.columns[column][rows].astype(str) == value
        return rows[keep]


def _one_chain(node: ModelNode, kind: str, who: str) -> tuple[FittedChain, tuple[TargetStep, ...]]:
    chain = node.model_chain()
    if chain is None:
        cols = ", ".join(dict.fromkeys(i.column for i in node.inputs))
        msg = (
            f"{who} stores a {kind!r} graph whose model reads {len(node.inputs)} inputs (of "
            f"{cols}) merged by {node.merge!r}: its coefficients have no single wavelength axis "
            "to explain on; `nirsframe report` shows its metrics, and a run on one input "
            "can be explained"
        )
        raise GraphKindError(msg)
    return chain, node.targets


def _meta_weights(node: StackNode) -> Float64Array | None:
    coef = getattr(node.meta.build_model(), "coef_", None)
    if coef is None or np.size(coef) != len(node.bases):
        return None
    return np.ravel(np.asarray(coef, dtype=np.float64))


def _stack_parts(node: StackNode, kind: str, who: str, prefix: str) -> list[ModelPart]:
    weights = _meta_weights(node)
    parts: list[ModelPart] = []
    for i, base in enumerate(node.bases, start=1):
        name = f"{prefix}{i}"
        if isinstance(base, StackNode):
            parts += _stack_parts(base, kind, who, f"{name}.")
            continue
        chain, targets = _one_chain(base, kind, who)
        note = None
        if weights is not None:
            note = f"weight of {name} in its stack's meta-model: {weights[i - 1]:.6g}"
        parts.append(ModelPart(name, chain, targets, note=note))
    return parts


def model_parts(fitted: FittedChain | FittedGraph, run_id: str | None = None) -> list[ModelPart]:
    """The models of a fitted chain or graph that can be explained one by one.

    A chain, a ``y_processing`` or a ``tuned`` graph is one model; a ``separated`` graph one per
    group; a ``stack`` one per base model. A model reading several inputs (``sources``,
    ``views``) is a :class:`~nirsframe.exceptions.GraphKindError`.
    """
    who = f"run {run_id!r}" if run_id else "the run"
    if isinstance(fitted, FittedChain):
        return [ModelPart("model", fitted)]
    root = fitted.root
    if isinstance(root, StackNode):
        return _stack_parts(root, fitted.kind, who, "base ")
    if isinstance(root, SeparateNode):
        column = root.column
        return [
            ModelPart(f"{column}={k}", *_one_chain(n, fitted.kind, who), group=(column, k))
            for k, n in sorted(root.branches.items())
        ]
    return [ModelPart("model", *_one_chain(root, fitted.kind, who))]


def _explain_part(
    part: ModelPart, data: RunData, on: str, run_id: str, kwargs: dict[str, Any]
) -> Explanation:
    train, test = part.rows(data, data.train), part.rows(data, data.test)
    rows = test if on == "test" or (on == "auto" and test.size) else train
    where = "" if part.name == "model" else f" ({part.name})"
    if train.size == 0:
        msg = f"run {run_id!r}{where} has no training rows to explain the model on"
        raise InvalidParameterError(msg)
    if rows.size == 0:
        msg = f"run {run_id!r}{where} has no {on} rows to evaluate importance on"
        raise InvalidParameterError(msg)
    e = explain_chain(
        part.chain,
        data.x[train],
        data.y[train],
        axis=data.axis,
        x_eval=data.x[rows],
        y_eval=data.y[rows],
        targets=part.targets,
        run_id=run_id,
        **kwargs,
    )
    return e if part.note is None else replace(e, notes=(*e.notes, part.note))


def _explain_run(
    workspace: Workspace | str | Path,
    run_id: str,
    on: str,
    chain: FittedChain | FittedGraph | None,
    dataset: SpectralDataset | None,
    kwargs: dict[str, Any],
    *,
    single: bool,
) -> dict[str, Explanation]:
    from nirsframe.workspace import Workspace

    if on not in ("auto", "train", "test"):
        msg = f"'on' must be one of 'auto', 'train', 'test'; got {on!r}"
        raise InvalidParameterError(msg)
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    record = ws.run(run_id)
    fitted = chain if chain is not None else ws.fitted(run_id)
    parts = model_parts(fitted, run_id)
    if single and len(parts) != 1:
        kind = fitted.kind if isinstance(fitted, FittedGraph) else "chain"
        msg = (
            f"run {run_id!r} stores a {kind!r} graph of {len(parts)} models "
            f"({', '.join(p.name for p in parts)}); explain each with nf.explain_nodes() "
            "(`nirsframe explain` prints every one)"
        )
        raise GraphKindError(msg)
    columns = fitted.metadata_columns() if isinstance(fitted, FittedGraph) else []
    data = run_data(ws, record, dataset, columns)
    return {p.name: _explain_part(p, data, on, run_id, kwargs) for p in parts}


def explain(
    workspace: Workspace | str | Path,
    run_id: str,
    *,
    on: Literal["auto", "train", "test"] = "auto",
    band_width: int | None = None,
    n_repeats: int = 5,
    seed: int = 0,
    max_samples: int = 1000,
    importance: bool = True,
    shap: bool = True,
    chain: FittedChain | FittedGraph | None = None,
    dataset: SpectralDataset | None = None,
) -> Explanation:
    """Explain the fitted model of run ``run_id`` on the dataset version it was fitted on.

    VIP and the affine check use the run's training rows. Permutation importance and SHAP are
    computed ``on`` the run's test rows (``"auto"``: the test rows when the run had any, else
    the training rows). ``chain`` (the run's fitted chain or graph) and ``dataset`` skip loading
    them (used by sessions). A run of several models (a stack, a separation) is a
    :class:`~nirsframe.exceptions.GraphKindError`: see :func:`explain_nodes`. See
    :func:`explain_chain` for the other parameters.

    Examples
    --------
    >>> e = explain("ws", "0f3c...")  # doctest: +SKIP
    >>> e.frame.sort("importance", descending=True).head(3)  # doctest: +SKIP
    """
    kwargs = {"band_width": band_width, "n_repeats": n_repeats, "seed": seed,
              "max_samples": max_samples, "importance": importance, "shap": shap}  # fmt: skip
    out = _explain_run(workspace, run_id, on, chain, dataset, kwargs, single=True)
    return next(iter(out.values()))


def explain_nodes(
    workspace: Workspace | str | Path,
    run_id: str,
    *,
    on: Literal["auto", "train", "test"] = "auto",
    band_width: int | None = None,
    n_repeats: int = 5,
    seed: int = 0,
    max_samples: int = 1000,
    importance: bool = True,
    shap: bool = True,
    chain: FittedChain | FittedGraph | None = None,
    dataset: SpectralDataset | None = None,
) -> dict[str, Explanation]:
    """Explain every model of run ``run_id``, by :attr:`ModelPart.name` (see :func:`model_parts`).

    A group of a separated run is explained on that group's rows; the bases of a stack on all
    of the run's rows. Parameters as :func:`explain`.

    Examples
    --------
    >>> es = explain_nodes("ws", stack_run_id, shap=False)  # doctest: +SKIP
    >>> list(es)  # doctest: +SKIP
    ['base 1', 'base 2']
    """
    kwargs = {"band_width": band_width, "n_repeats": n_repeats, "seed": seed,
              "max_samples": max_samples, "importance": importance, "shap": shap}  # fmt: skip
    return _explain_run(workspace, run_id, on, chain, dataset, kwargs, single=False)
