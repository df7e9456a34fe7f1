"""Train-only augmentations: seeded random perturbations of spectra.

An augmentation is an operator of kind ``"augmentation"`` whose ``transform`` is the identity, so
a fitted chain replays exactly at predict time. The trainer calls
:meth:`Augmentation.augment` on the training rows only; it returns ``n_copies`` seeded, perturbed
copies of them (the original rows are not included) and the matching targets.

Every augmentation has a free function (``nf.additive_noise`` ...) whose expression applies the
perturbation with a fixed ``random_state``: it is meant for exploring what an augmentation does
to a frame. The expression is not elementwise (the draws depend on the row position, and mixup
mixes rows), so the streaming engine runs it on the whole column at once. Pipelines use
``augment``.

The shared behaviour lives in :class:`Augmentation`: each subclass declares its parameter model
and one method that draws and applies the perturbation; ``__init__`` and the free function are
built from the parameter model.

References
----------
Bjerrum, Glahder & Skov (2017), "Data augmentation of spectral data for convolutional neural
network (CNN) based deep chemometrics", arXiv:1710.01927 (offset, slope and multiplicative
variations).
Zhang, Cisse, Dauphin & Lopez-Paz (2018), "mixup: beyond empirical risk minimization", ICLR.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

import nirskern
import numpy as np
import polars as pl
from pydantic import AfterValidator, Field, field_validator
from sklearn.utils import assert_all_finite
from sklearn.utils.validation import validate_data

from nirsframe._bridge import (
    PARALLEL_MIN_BYTES,
    map_tasks,
    matrix_to_series,
    new_matrix,
    series_to_matrix,
)
from nirsframe.exceptions import InvalidParameterError, SpectralShapeError
from nirsframe.operators._base import IntoSpectra, OperatorKind, Params, SpectralOperator, as_expr
from nirsframe.operators.axis_ops import AxisValues, check_axis_values, source_axis
from nirsframe.operators.registry import register_operator

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy.typing as npt

    from nirsframe._bridge import FloatMatrix

RandomState = int | np.random.Generator | None


def _ordered(bounds: tuple[float, float]) -> tuple[float, float]:
    if bounds[0] > bounds[1]:
        msg = f"must be (low, high) with low <= high; got low={bounds[0]}, high={bounds[1]}"
        raise ValueError(msg)
    return bounds


#: A ``(low, high)`` range a value is drawn from uniformly (``low == high`` fixes it).
Range = Annotated[tuple[float, float], AfterValidator(_ordered)]
IntRange = Annotated[tuple[int, int], AfterValidator(_ordered)]


class AugmentationParams(Params):
    """Parameters every augmentation has."""

    random_state: int = Field(default=0, ge=0, description="seed of the random draws")


def _init_from(model: type[Params]) -> Callable[..., None]:
    """An ``__init__`` taking the model's fields as keyword-only parameters and storing them.

    The generated signature (``inspect.signature``) is what scikit-learn's ``get_params`` reads,
    so names and defaults have a single source: the parameter model.
    """
    fields = model.model_fields
    # The most specific parameters first, the shared ``random_state`` last.
    names: list[str] = []
    for klass in model.__mro__:
        names += [n for n in vars(klass).get("__annotations__", {}) if n in fields]
    names = sorted(dict.fromkeys(names), key=lambda n: n == "random_state")

    def __init__(self: SpectralOperator, **params: Any) -> None:
        unknown = sorted(set(params) - set(fields))
        if unknown:
            msg = (
                f"{type(self).__name__}() got unexpected keyword argument(s) "
                f"{', '.join(map(repr, unknown))}; expected some of {', '.join(names)}"
            )
            raise TypeError(msg)
        for name in names:
            setattr(self, name, params.get(name, fields[name].default))

    kw = inspect.Parameter.KEYWORD_ONLY
    __init__.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
            *(
                inspect.Parameter(n, kw, default=fields[n].default, annotation=fields[n].annotation)
                for n in names
            ),
        ]
    )
    return __init__


class Augmentation(SpectralOperator):
    """Base of the train-only augmentations: identity ``transform``, seeded ``augment``.

    Subclasses set ``name`` and ``params_model`` (a subclass of :class:`AugmentationParams`) and
    implement ``_perturb`` (or ``_augment`` when the targets change too).
    """

    kind: ClassVar[OperatorKind] = "augmentation"
    #: The perturbation itself turns a spectrum with NaN into a NaN row and raises on inf
    #: (checked in the same pass as it writes the copy): :meth:`augment` then skips its own
    #: pass over ``X``.
    checks_rows: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "params_model" in cls.__dict__:
            cls.__init__ = _init_from(cls.params_model)  # type: ignore[method-assign]

    def _apply(self, x: FloatMatrix) -> FloatMatrix:
        # The identity: augmentations never act at predict time. A copy, so that callers may
        # write into the result without touching their input.
        return x.copy()

    def augment(
        self,
        X: npt.ArrayLike,
        y: npt.ArrayLike | None = None,
        *,
        n_copies: int = 1,
        random_state: RandomState = None,
    ) -> tuple[FloatMatrix, FloatMatrix | None]:
        """Seeded augmented copies of the rows of ``X`` (the original rows are not included).

        Parameters
        ----------
        X
            Training spectra, shape ``(n_samples, n_features)``.
        y
            Optional targets, shape ``(n_samples,)`` or ``(n_samples, n_targets)``.
        n_copies
            Number of augmented copies of each row.
        random_state
            Seed or generator of the draws; the operator's ``random_state`` when None.

        Returns
        -------
        X_aug, y_aug
            ``(n_copies * n_samples, n_features)`` spectra in the dtype of ``X``: copy ``c`` of
            row ``i`` is row ``c * n_samples + i``. ``y_aug`` repeats ``y`` the same way (mixup
            mixes it); None when ``y`` is None. A row with NaN gives NaN rows.
        """
        params = self.params()
        assert isinstance(params, AugmentationParams)
        x, bad = self._validate_rows(X)
        if isinstance(n_copies, bool) or not isinstance(n_copies, int | np.integer) or n_copies < 1:
            msg = f"'n_copies' must be an integer >= 1; got n_copies={n_copies!r}"
            raise InvalidParameterError(msg)
        targets = None if y is None else np.asarray(y, dtype=np.float64)
        if targets is not None and targets.shape[:1] != x.shape[:1]:
            msg = f"'y' must have one value per spectrum; got shape {targets.shape}, X {x.shape}"
            raise SpectralShapeError(msg)
        rng = np.random.default_rng(params.random_state if random_state is None else random_state)
        copies = int(n_copies)
        # Perturbations never write into their input, so one copy needs no tiled source.
        src = x if copies == 1 else np.tile(x, (copies, 1))
        y_src = None if targets is None else np.concatenate([targets] * copies)
        out, y_out = self._augment(src, y_src, rng, params)
        out = np.ascontiguousarray(out, dtype=x.dtype)
        # One rule for every augmentation: a spectrum with a NaN gives NaN copies.
        if bad is not None:
            out[np.tile(bad, copies)] = np.nan
        return out, y_out

    def _validate_rows(self, X: npt.ArrayLike) -> tuple[FloatMatrix, npt.NDArray[np.bool_] | None]:
        """``X`` checked as :meth:`transform` checks it, and its rows with a NaN (None if none).

        One pass over ``X`` (row sums) instead of two (sklearn's finiteness sum, then a NaN
        test): when the sum of all rows is finite there is neither inf nor NaN; otherwise
        sklearn's element-wise check raises on inf and the NaN rows are found exactly. No pass
        at all when the perturbation checks the rows itself (:attr:`checks_rows`).
        """
        x: FloatMatrix = validate_data(
            self, X, reset=False, dtype=[np.float64, np.float32], ensure_all_finite=False, order="C"
        )
        if self.checks_rows:
            return x, None
        with np.errstate(over="ignore", invalid="ignore"):
            total = x.sum(axis=1, dtype=np.float64).sum()
        if np.isfinite(total):
            return x, None
        assert_all_finite(x, allow_nan=True, estimator_name=type(self).__name__, input_name="X")
        bad = np.asarray(np.isnan(x).any(axis=1), dtype=np.bool_)
        return x, bad if bad.any() else None

    def augment_expr(self, expr: IntoSpectra = "spectra") -> pl.Expr:
        """An expression applying :meth:`augment` (one copy) with this operator's seed.

        For exploration: the result depends on the position of each row in the column.
        """
        self.params()  # fail now, not at collect time

        def batch(s: pl.Series) -> pl.Series:
            x, nulls = series_to_matrix(s)
            out = x.copy() if x.shape[0] == 0 else self.augment(x)[0]
            return matrix_to_series(s.name, out, nulls)

        return as_expr(expr).map_batches(batch, return_dtype=pl.self_dtype(), is_elementwise=False)

    # -- to implement ---------------------------------------------------------------------------
    def _augment(
        self, x: FloatMatrix, y: FloatMatrix | None, rng: np.random.Generator, params: Params
    ) -> tuple[FloatMatrix, FloatMatrix | None]:
        return self._perturb(x, rng, params), y

    def _perturb(self, x: FloatMatrix, rng: np.random.Generator, params: Params) -> FloatMatrix:
        raise NotImplementedError


def _register(cls: type[Augmentation]) -> Callable[..., pl.Expr]:
    """Register ``cls`` with its free function ``nf.<cls.name>`` and return the function.

    The function is ``cls(**params).augment_expr(expr)``, with the signature of ``cls``.
    """

    def function(expr: IntoSpectra = "spectra", **params: Any) -> pl.Expr:
        return cls(**params).augment_expr(expr)

    init = inspect.signature(cls.__init__)
    function.__signature__ = init.replace(  # type: ignore[attr-defined]
        parameters=[
            inspect.Parameter(
                "expr",
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                default="spectra",
                annotation="IntoSpectra",
            ),
            *list(init.parameters.values())[1:],
        ],
        return_annotation=pl.Expr,
    )
    function.__name__ = function.__qualname__ = cls.name
    function.__module__ = cls.__module__
    summary = (cls.__doc__ or "").strip().splitlines()[0]
    function.__doc__ = (
        f"{summary}\n\nFor exploration: applies :class:`{cls.__name__}` once to every row with "
        "the given ``random_state`` (deterministic for a given frame). Pipelines use "
        f"``{cls.__name__}(...).augment`` on training rows only."
    )
    register_operator(cls, function)
    return function


def _axis(x_axis: AxisValues | None, n_points: int, owner: str) -> npt.NDArray[np.float64]:
    try:
        return source_axis(x_axis, n_points, owner)
    except ValueError as exc:
        raise InvalidParameterError(str(exc)) from exc


def _uniform(rng: np.random.Generator, bounds: tuple[float, float], n: int) -> FloatMatrix:
    return rng.uniform(bounds[0], bounds[1], size=n)


def _unit_axis(n_points: int) -> FloatMatrix:
    """The point index mapped onto ``[-1, 1]`` (drift polynomials stay O(1) on any width)."""
    return np.linspace(-1.0, 1.0, n_points) if n_points > 1 else np.zeros(1)


# -- additive and multiplicative noise ----------------------------------------------------------
class NoiseParams(AugmentationParams):
    """Parameters of :class:`AdditiveNoise` and :class:`MultiplicativeNoise`."""

    std: float = Field(default=0.01, gt=0, description="standard deviation of the noise")


def _standard_normal(rng: np.random.Generator, shape: tuple[int, ...]) -> FloatMatrix:
    """Standard normal draws (the stream of ``rng.normal``) in a matrix from Arrow's pool: no
    fresh pages to fault in (10.1 -> 8.8 ms for 1k x 1024), and the noise kernel writes its
    result over them."""
    z = new_matrix(shape[0], shape[1], np.dtype(np.float64))
    rng.standard_normal(out=z)
    return z


class AdditiveNoise(Augmentation):
    """Additive Gaussian noise: ``x + e`` with ``e ~ N(0, std)`` drawn for every point.

    ``std`` is in the units of the spectra (absorbance).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.zeros((200, 50))
    >>> X_aug, _ = AdditiveNoise(std=0.1, random_state=1).augment(X)
    >>> round(float(X_aug.std()), 2)
    0.1
    """

    name: ClassVar[str] = "additive_noise"
    params_model: ClassVar[type[Params]] = NoiseParams
    checks_rows: ClassVar[bool] = True  # nirskern.apply_noise

    def _perturb(self, x: FloatMatrix, rng: np.random.Generator, params: Params) -> FloatMatrix:
        assert isinstance(params, NoiseParams)
        return nirskern.apply_noise(
            x, _standard_normal(rng, x.shape), multiplicative=False, scale=params.std
        )


class MultiplicativeNoise(Augmentation):
    """Multiplicative Gaussian noise: ``x * (1 + e)`` with ``e ~ N(0, std)`` for every point.

    Examples
    --------
    >>> import numpy as np
    >>> X_aug, _ = MultiplicativeNoise(std=0.05).augment(np.ones((100, 40)))
    >>> bool(abs(X_aug.std() - 0.05) < 0.005)
    True
    """

    name: ClassVar[str] = "multiplicative_noise"
    params_model: ClassVar[type[Params]] = NoiseParams
    checks_rows: ClassVar[bool] = True  # nirskern.apply_noise

    def _perturb(self, x: FloatMatrix, rng: np.random.Generator, params: Params) -> FloatMatrix:
        assert isinstance(params, NoiseParams)
        return nirskern.apply_noise(
            x, _standard_normal(rng, x.shape), multiplicative=True, scale=params.std
        )


# -- baseline drifts ----------------------------------------------------------------------------
class LinearDriftParams(AugmentationParams):
    """Parameters of :class:`LinearBaselineDrift`."""

    offset: float = Field(default=0.01, ge=0, description="largest absolute offset added")
    slope: float = Field(
        default=0.01, ge=0, description="largest absolute change from the centre to an edge"
    )


class LinearBaselineDrift(Augmentation):
    """Linear baseline drift: ``x + a + b * t`` with ``t`` the point index mapped onto [-1, 1].

    ``a ~ U(-offset, offset)`` and ``b ~ U(-slope, slope)`` are drawn per spectrum.

    Examples
    --------
    >>> import numpy as np
    >>> X_aug, _ = LinearBaselineDrift(offset=0.0, slope=0.1).augment(np.zeros((1, 5)))
    >>> bool(np.allclose(np.diff(X_aug, 2), 0.0))
    True
    """

    name: ClassVar[str] = "linear_drift"
    params_model: ClassVar[type[Params]] = LinearDriftParams
    checks_rows: ClassVar[bool] = True  # nirskern.add_polynomial

    def _perturb(self, x: FloatMatrix, rng: np.random.Generator, params: Params) -> FloatMatrix:
        assert isinstance(params, LinearDriftParams)
        n, p = x.shape
        a = _uniform(rng, (-params.offset, params.offset), n)
        b = _uniform(rng, (-params.slope, params.slope), n)
        line = np.stack([np.ones(p), _unit_axis(p)])
        return _add_polynomial(x, np.ones(n), np.stack([a, b], axis=1), line)


class PolynomialDriftParams(AugmentationParams):
    """Parameters of :class:`PolynomialBaselineDrift`."""

    order: int = Field(default=3, ge=0, le=10, description="degree of the drift polynomial")
    amplitude: float = Field(
        default=0.01, ge=0, description="largest absolute value of each coefficient"
    )


def _add_polynomial(
    x: FloatMatrix, scale: FloatMatrix, coef: FloatMatrix, basis: FloatMatrix
) -> FloatMatrix:
    """:func:`nirskern.add_polynomial` over row ranges on the worker threads (the draws are
    made before, on the calling thread: the result does not depend on the thread count). The
    result comes from Arrow's memory pool: recycled pages, none faulted in by two workers at
    once (polynomial drift, 10k x 1024 float64: 18 -> 8 ms)."""
    out = new_matrix(x.shape[0], x.shape[1], x.dtype)
    step = max(1, -(-PARALLEL_MIN_BYTES // max(1, x.shape[1] * x.itemsize)))
    ranges = [slice(a, a + step) for a in range(0, x.shape[0], step)]
    map_tasks(lambda r: nirskern.add_polynomial(x[r], scale[r], coef[r], basis, out=out[r]), ranges)
    return out


class PolynomialBaselineDrift(Augmentation):
    """Polynomial baseline drift: ``x + sum_k c_k * t**k`` for ``k = 0..order``, ``t`` in [-1, 1].

    The coefficients ``c_k ~ U(-amplitude, amplitude)`` are drawn per spectrum; ``t`` is the point
    index mapped onto [-1, 1], so the drift is at most ``(order + 1) * amplitude``.

    Examples
    --------
    >>> import numpy as np
    >>> X_aug, _ = PolynomialBaselineDrift(order=2, amplitude=0.1).augment(np.zeros((1, 9)))
    >>> bool(np.allclose(np.diff(X_aug, 3), 0.0))
    True
    """

    name: ClassVar[str] = "polynomial_drift"
    params_model: ClassVar[type[Params]] = PolynomialDriftParams
    checks_rows: ClassVar[bool] = True  # nirskern.add_polynomial
    example: ClassVar[dict[str, Any]] = {"order": 2, "amplitude": 0.05}

    def _perturb(self, x: FloatMatrix, rng: np.random.Generator, params: Params) -> FloatMatrix:
        assert isinstance(params, PolynomialDriftParams)
        n, p = x.shape
        coef = rng.uniform(-params.amplitude, params.amplitude, size=(n, params.order + 1))
        powers = _unit_axis(p)[None, :] ** np.arange(params.order + 1)[:, None]
        return _add_polynomial(x, np.ones(n), coef, powers)


# -- wavelength shift and stretch ---------------------------------------------------------------
class _WarpParams(AugmentationParams):
    x_axis: AxisValues | None = Field(
        default=None, description="wavelengths of the points (the point index when None)"
    )

    _check_axis = field_validator("x_axis")(check_axis_values)


class ShiftParams(_WarpParams):
    """Parameters of :class:`WavelengthShift`."""

    shift: Range = Field(
        default=(-2.0, 2.0), description="(low, high) of the shift, in units of x_axis"
    )


class WavelengthShift(Augmentation):
    """Wavelength shift: each spectrum moved by ``s ~ U(*shift)`` axis units (linear interpolation).

    ``out(w) = x(w - s)``: a positive ``s`` moves the bands towards higher axis values. Beyond
    the measured range the edge value is held, so a shift by ``k`` whole points on a uniform axis
    is ``np.roll`` with the edge value repeated instead of wrapped around.

    Examples
    --------
    >>> import numpy as np
    >>> op = WavelengthShift(shift=(1.0, 1.0))
    >>> op.augment(np.array([[1.0, 2.0, 4.0, 8.0]]))[0].tolist()
    [[1.0, 1.0, 2.0, 4.0]]
    """

    name: ClassVar[str] = "wavelength_shift"
    params_model: ClassVar[type[Params]] = ShiftParams
    example: ClassVar[dict[str, Any]] = {"shift": (-1.5, 1.5)}

    def _perturb(self, x: FloatMatrix, rng: np.random.Generator, params: Params) -> FloatMatrix:
        assert isinstance(params, ShiftParams)
        n, p = x.shape
        axis = _axis(params.x_axis, p, self.name)
        s = _uniform(rng, params.shift, n)
        return nirskern.warp(x, axis, -s, np.ones(n))


class StretchParams(_WarpParams):
    """Parameters of :class:`WavelengthStretch`."""

    factor: Range = Field(
        default=(0.99, 1.01), description="(low, high) of the stretch factor (1: unchanged)"
    )

    @field_validator("factor")
    @classmethod
    def _positive(cls, value: tuple[float, float]) -> tuple[float, float]:
        if value[0] <= 0:
            msg = "must be > 0"
            raise ValueError(msg)
        return value


class WavelengthStretch(Augmentation):
    """Wavelength stretch: each spectrum stretched by ``f ~ U(*factor)`` around the axis centre.

    ``out(w) = x(c + (w - c) / f)`` with ``c`` the middle of the axis range (linear
    interpolation, edge values held): ``f > 1`` spreads the bands away from ``c``.

    Examples
    --------
    >>> import numpy as np
    >>> op = WavelengthStretch(factor=(2.0, 2.0))
    >>> op.augment(np.array([[0.0, 2.0, 4.0, 6.0, 8.0]]))[0].tolist()
    [[2.0, 3.0, 4.0, 5.0, 6.0]]
    """

    name: ClassVar[str] = "wavelength_stretch"
    params_model: ClassVar[type[Params]] = StretchParams
    example: ClassVar[dict[str, Any]] = {"factor": (0.98, 1.02)}

    def _perturb(self, x: FloatMatrix, rng: np.random.Generator, params: Params) -> FloatMatrix:
        assert isinstance(params, StretchParams)
        n, p = x.shape
        axis = _axis(params.x_axis, p, self.name)
        centre = 0.5 * (axis[0] + axis[-1])
        scale = 1.0 / _uniform(rng, params.factor, n)
        return nirskern.warp(x, axis, centre * (1.0 - scale), scale)


# -- mixup --------------------------------------------------------------------------------------
class MixupParams(AugmentationParams):
    """Parameters of :class:`Mixup`."""

    alpha: float = Field(default=0.4, gt=0, description="both shapes of the Beta distribution")


class Mixup(Augmentation):
    """Mixup: ``lam * x_i + (1 - lam) * x_j`` with the same combination of the targets.

    ``lam ~ Beta(alpha, alpha)`` and the partner ``j`` (a random spectrum without NaN) are drawn
    per augmented row. In the free function there is no target: only the spectra are mixed.

    Examples
    --------
    >>> import numpy as np
    >>> X, y = np.array([[0.0, 0.0], [1.0, 2.0]]), np.array([0.0, 1.0])
    >>> X_aug, y_aug = Mixup(random_state=3).augment(X, y)
    >>> bool(np.allclose(X_aug[:, 1], 2 * y_aug))
    True
    """

    name: ClassVar[str] = "mixup"
    params_model: ClassVar[type[Params]] = MixupParams

    def _augment(
        self, x: FloatMatrix, y: FloatMatrix | None, rng: np.random.Generator, params: Params
    ) -> tuple[FloatMatrix, FloatMatrix | None]:
        assert isinstance(params, MixupParams)
        n = x.shape[0]
        # (X holds no inf, so a NaN row sum means a NaN in the row, without an (n, p) mask.)
        finite = np.flatnonzero(~np.isnan(x.sum(axis=1, dtype=np.float64)))
        lam = np.asarray(rng.beta(params.alpha, params.alpha, size=n), dtype=np.float64)
        # A row without a finite partner is NaN anyway (then the base turns it into a NaN row).
        partner = finite[rng.integers(0, finite.size, size=n)] if finite.size else np.arange(n)
        out = nirskern.mix_rows(x, partner, lam)
        if y is None:
            return out, None
        w = lam.reshape((n,) + (1,) * (y.ndim - 1))
        return out, w * y + (1.0 - w) * y[partner]


# -- scatter ------------------------------------------------------------------------------------
class ScatterParams(AugmentationParams):
    """Parameters of :class:`ScatterSimulation`."""

    multiplicative: Range = Field(
        default=(0.9, 1.1), description="(low, high) of the multiplicative factor b"
    )
    additive: Range = Field(default=(-0.05, 0.05), description="(low, high) of the offset a")


class ScatterSimulation(Augmentation):
    """Scatter simulation: ``a + b * x`` per spectrum, the inverse of a multiplicative correction.

    ``b ~ U(*multiplicative)`` and ``a ~ U(*additive)`` are drawn per spectrum: MSC against the
    original spectrum maps the copy back onto it.

    Examples
    --------
    >>> import numpy as np
    >>> op = ScatterSimulation(multiplicative=(2.0, 2.0), additive=(1.0, 1.0))
    >>> op.augment(np.array([[0.0, 1.0, 3.0]]))[0].tolist()
    [[1.0, 3.0, 7.0]]
    """

    name: ClassVar[str] = "scatter_simulation"
    params_model: ClassVar[type[Params]] = ScatterParams
    checks_rows: ClassVar[bool] = True  # nirskern.add_polynomial

    def _perturb(self, x: FloatMatrix, rng: np.random.Generator, params: Params) -> FloatMatrix:
        assert isinstance(params, ScatterParams)
        n = x.shape[0]
        b = _uniform(rng, params.multiplicative, n)
        a = _uniform(rng, params.additive, n)
        return _add_polynomial(x, b, a[:, None], np.ones((1, x.shape[1])))


# -- spikes and masked bands --------------------------------------------------------------------
class SpikeParams(AugmentationParams):
    """Parameters of :class:`SpikeNoise`."""

    n_spikes: int = Field(default=1, ge=1, description="number of spikes per spectrum")
    amplitude: Range = Field(
        default=(0.05, 0.2), description="(low, high) of the absolute spike height"
    )

    @field_validator("amplitude")
    @classmethod
    def _non_negative(cls, value: tuple[float, float]) -> tuple[float, float]:
        if value[0] < 0:
            msg = "must be >= 0 (the sign of each spike is drawn)"
            raise ValueError(msg)
        return value


def distinct_points(rng: np.random.Generator, n: int, p: int, k: int) -> npt.NDArray[np.intp]:
    """``k`` distinct indices in ``[0, p)`` for each of ``n`` rows, uniform over k-subsets.

    Few points (``k * k <= p``): draw ``k`` indices per row and redraw the rows holding a
    repeat (O(n k); most rows keep their first draw). Otherwise the ``k`` smallest of ``p``
    uniform keys per row (O(n p)).

    >>> pts = distinct_points(np.random.default_rng(0), 4, 10, 3)
    >>> pts.shape, all(len(set(r)) == 3 for r in pts.tolist())
    ((4, 3), True)
    """
    if k * k > p:
        # (copy the (n, k) slice so the (n, p) keys are freed before the caller allocates)
        return np.argpartition(rng.random((n, p)), k - 1, axis=1)[:, :k].copy()
    points = rng.integers(0, p, size=(n, k)).astype(np.intp)
    bad = _repeats(points)
    while bad.any():
        points[bad] = rng.integers(0, p, size=(int(bad.sum()), k))
        bad[bad] = _repeats(points[bad])
    return points


def _repeats(points: npt.NDArray[np.intp]) -> npt.NDArray[np.bool_]:
    """Rows of ``points`` holding an index twice."""
    ordered = np.sort(points, axis=1)
    return np.asarray((ordered[:, 1:] == ordered[:, :-1]).any(axis=1))


class SpikeNoise(Augmentation):
    """Spike noise: ``n_spikes`` single-point spikes of random sign added to each spectrum.

    The points are distinct and uniform over the spectrum; the heights are ``U(*amplitude)``
    with a random sign (cosmic rays, detector glitches).

    Examples
    --------
    >>> import numpy as np
    >>> X_aug, _ = SpikeNoise(n_spikes=2, amplitude=(1.0, 1.0)).augment(np.zeros((1, 6)))
    >>> sorted(np.abs(X_aug[0]).tolist())
    [0.0, 0.0, 0.0, 0.0, 1.0, 1.0]
    """

    name: ClassVar[str] = "spike_noise"
    params_model: ClassVar[type[Params]] = SpikeParams
    checks_rows: ClassVar[bool] = True  # nirskern.add_polynomial

    def _perturb(self, x: FloatMatrix, rng: np.random.Generator, params: Params) -> FloatMatrix:
        assert isinstance(params, SpikeParams)
        n, p = x.shape
        k = params.n_spikes
        if k > p:
            msg = f"the 'n_spikes' parameter of spike_noise must be <= n_points={p}; got {k}"
            raise InvalidParameterError(msg)
        points = distinct_points(rng, n, p, k)
        height = rng.uniform(*params.amplitude, size=(n, k)) * rng.choice([-1.0, 1.0], (n, k))
        # An exact float64 copy that also turns rows with NaN into NaN rows and rejects inf.
        out = nirskern.add_polynomial(
            x.astype(np.float64, copy=False), np.ones(n), np.zeros((n, 0)), np.zeros((0, p))
        )
        out[np.arange(n)[:, None], points] += height
        return out


class BandMaskParams(AugmentationParams):
    """Parameters of :class:`BandMasking`."""

    width: IntRange = Field(
        default=(5, 20), description="(low, high) of the band width in points (inclusive)"
    )
    fill: Literal["zero", "interpolate"] = Field(
        default="interpolate", description="set the band to 0, or to the line joining its flanks"
    )

    @field_validator("width")
    @classmethod
    def _positive(cls, value: tuple[int, int]) -> tuple[int, int]:
        if value[0] < 1:
            msg = "must be >= 1"
            raise ValueError(msg)
        return value


class BandMasking(Augmentation):
    """Band masking: one band of ``w ~ U{width}`` consecutive points per spectrum overwritten.

    The band starts uniformly in ``[0, n_points - w]``. ``fill="zero"`` sets it to 0;
    ``fill="interpolate"`` to the straight line joining the points on either side of it (the one
    flank held when the band touches an edge). Every other point is unchanged.

    Examples
    --------
    >>> import numpy as np
    >>> op = BandMasking(width=(2, 2), fill="zero")
    >>> int((op.augment(np.ones((1, 8)))[0] == 0).sum())
    2
    """

    name: ClassVar[str] = "band_masking"
    params_model: ClassVar[type[Params]] = BandMaskParams
    example: ClassVar[dict[str, Any]] = {"width": (3, 10), "fill": "interpolate"}

    def _perturb(self, x: FloatMatrix, rng: np.random.Generator, params: Params) -> FloatMatrix:
        assert isinstance(params, BandMaskParams)
        n, p = x.shape
        low, high = params.width
        if high >= p:
            msg = (
                f"the 'width' parameter of band_masking must stay below n_points={p}; "
                f"got width={params.width}"
            )
            raise InvalidParameterError(msg)
        width = rng.integers(low, high + 1, size=n)
        start = rng.integers(0, p - width + 1)
        return nirskern.mask_bands(x, start, width, interpolate=params.fill == "interpolate")


additive_noise = _register(AdditiveNoise)
multiplicative_noise = _register(MultiplicativeNoise)
linear_drift = _register(LinearBaselineDrift)
polynomial_drift = _register(PolynomialBaselineDrift)
wavelength_shift = _register(WavelengthShift)
wavelength_stretch = _register(WavelengthStretch)
mixup = _register(Mixup)
scatter_simulation = _register(ScatterSimulation)
spike_noise = _register(SpikeNoise)
band_masking = _register(BandMasking)
