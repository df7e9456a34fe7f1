"""What every spectral operator shares: validated parameters, sklearn conformance, expressions.

An operator is an sklearn transformer whose hyper-parameters are checked by a pydantic model
(the same model the pipeline spec uses) and whose learned state is a dict of named arrays, so it
can be stored without pickle and rebuilt exactly.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar

import nirskern
import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict, ValidationError
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from nirsframe._bridge import (
    PARALLEL_MIN_BYTES,
    FloatMatrix,
    RowsInto,
    block_rows,
    map_spectra,
    new_matrix,
    run_parallel,
)
from nirsframe.exceptions import InvalidParameterError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    import numpy.typing as npt

    from nirsframe.axis import SpectralAxis

OperatorKind = Literal["stateless", "fitted", "supervised", "augmentation"]

#: Bytes of input per inf check and kernel call in :meth:`SpectralOperator.transform`: the check
#: streams a block from memory, the kernel then reads it from L3. Fewer, larger calls than the
#: 512 KiB blocks of a chain: 10k x 1024 float64 on 2 cores, medians of 21 interleaved calls,
#: 512 KiB -> 4 MiB: normalize 5.6 -> 3.6 ms, SNV 5.6 -> 4.4, Gaussian 8.7 -> 7.1, resampling
#: 10.5 -> 6.0 (its per-call preparation runs 20 times instead of 156), SG 8.0 -> 6.7.
CHECKED_BLOCK_BYTES = 1 << 22
_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
IntoSpectra = str | pl.Expr


class Params(BaseModel):
    """Base of every parameter model: unknown keys are errors, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


P = TypeVar("P", bound=Params)


def format_validation_error(exc: ValidationError, owner: str) -> str:
    """One line per problem: ``the 'x' parameter of owner <problem>; got <value>``."""
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        text = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            lines.append(f"{owner} has no parameter {loc!r}")
        elif not loc:
            lines.append(f"{owner}: {text}")
        else:
            lines.append(f"the {loc!r} parameter of {owner}: {text}; got {err.get('input')!r}")
    return "; ".join(lines)


def validate_params(model: type[P], values: Mapping[str, Any], owner: str) -> P:
    """Build ``model`` from ``values`` or raise :class:`InvalidParameterError` naming each problem.

    >>> class SnvParams(Params):
    ...     ddof: int = 0
    >>> validate_params(SnvParams, {"ddof": 1}, "snv").ddof
    1
    """
    try:
        return model.model_validate(dict(values))
    except ValidationError as exc:
        raise InvalidParameterError(format_validation_error(exc, owner)) from exc


@lru_cache(maxsize=256)
def _validated_params(model: type[P], items: tuple[tuple[str, type, Any], ...], owner: str) -> P:
    """:func:`validate_params` memoised on hashable ``(name, type, value)`` items (failures are
    not cached)."""
    return validate_params(model, {name: value for name, _, value in items}, owner)


def as_expr(expr: IntoSpectra) -> pl.Expr:
    """A column name or an expression, as an expression."""
    return pl.col(expr) if isinstance(expr, str) else expr


class SpectralOperator(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Base class: subclasses declare ``name``, ``Params``, ``kind`` and implement ``_apply``.

    Fitted operators also implement ``_fit`` (store arrays in attributes ending in ``_`` and list
    them in ``fitted_attributes``).
    """

    name: ClassVar[str]
    params_model: ClassVar[type[Params]]
    kind: ClassVar[OperatorKind] = "stateless"
    fitted_attributes: ClassVar[tuple[str, ...]] = ()
    #: Stateless and exactly linear per spectrum (``out = D @ x`` for a fixed ``D``): the search
    #: then maps cross-products through ``D`` instead of re-reading the data.
    linear: ClassVar[bool] = False
    #: Accept inf in the input (IEEE semantics, as the elementwise conversions define: R = 0 gives
    #: inf absorbance). sklearn's finiteness check is then skipped: it is a full pass over the
    #: data, as long as a conversion itself. NaN is always accepted.
    allow_inf: ClassVar[bool] = False
    #: ``_fit`` raises on inf in its own pass over ``X`` (sklearn's finiteness pass is skipped).
    fit_rejects_inf: ClassVar[bool] = False
    #: The row kernels raise on inf in their own pass (no separate check before transforming).
    apply_rejects_inf: ClassVar[bool] = False
    #: Inputs below this many bytes are transformed on the calling thread. Memory-bound
    #: elementwise operators raise it: their work is one read and one write, which two threads
    #: first touching a fresh output do not make faster (measured at 10k x 1024 float64:
    #: 7-24 ms on the workers against 7-11 ms on one thread; 52 against 71 ms at 100k).
    min_parallel_bytes: ClassVar[int] = PARALLEL_MIN_BYTES
    #: Parameters for the docs example and the shared contract tests (defaults when empty).
    example: ClassVar[Mapping[str, Any]] = {}

    # -- parameters ---------------------------------------------------------------------------
    def params(self) -> Params:
        """The validated hyper-parameters (raises :class:`InvalidParameterError`).

        Validated models are immutable, so the last few are kept per (model, values): a
        transform of a small batch does not pay pydantic's validators on every call.
        """
        # The model's fields are the constructor's parameters (a registry test holds every
        # operator to it): reading them is sklearn's get_params without its signature walk.
        values = {name: getattr(self, name) for name in self.params_model.model_fields}
        # Keyed with each value's type: True == 1 == 1.0 must not share a validation.
        key = tuple((name, type(v), v) for name, v in sorted(values.items()))
        try:
            hash(key)
        except TypeError:  # an unhashable value (a list, an array): validate every time
            return validate_params(self.params_model, values, self.name)
        params: Params = _validated_params(self.params_model, key, self.name)
        return params

    # -- sklearn API ----------------------------------------------------------------------------
    def fit(self, X: npt.ArrayLike, y: npt.ArrayLike | None = None) -> SpectralOperator:
        """Validate the parameters, learn what the operator needs from ``X`` (and ``y``)."""
        params = self.params()
        x = self._validate(X, reset=True, finite=not self.fit_rejects_inf)
        self._fit(x, None if y is None else np.asarray(y, dtype=np.float64), params)
        self.is_fitted_ = True
        return self

    def transform(self, X: npt.ArrayLike) -> FloatMatrix:
        """Apply the operator to each spectrum (rows of ``X``); stateless ones need no fit.

        Row ranges run on the shared worker threads (:func:`nirsframe._bridge.run_parallel`),
        as the expression face does; the result equals the serial one bit for bit.
        """
        if self.kind != "stateless":
            check_is_fitted(self, "is_fitted_")
        if self.kind == "augmentation":
            return self._apply(self._validate(X, reset=False))
        x = self._validate(X, reset=False, finite=False)
        return self._transform_rows(x, check_inf=True)

    def fit_transform(
        self,
        X: npt.ArrayLike,
        y: npt.ArrayLike | None = None,
        **fit_params: Any,
    ) -> FloatMatrix:
        """Fit to ``X`` (and ``y``), then transform ``X``: equal to ``fit(X).transform(X)``.

        ``X`` is validated once instead of twice, and the check for inf is made once, in the
        cheapest place: by ``_fit`` or the row kernels when they do it in their own pass over
        the data (:attr:`fit_rejects_inf`, :attr:`apply_rejects_inf`), else by the worker that
        transforms each row range (that range is then read from cache). Operators that
        override :meth:`fit` or :meth:`transform` keep sklearn's generic path.
        """
        cls = type(self)
        if (
            fit_params
            or self.kind == "augmentation"
            or cls.fit is not SpectralOperator.fit
            or cls.transform is not SpectralOperator.transform
        ):
            out: FloatMatrix = super().fit_transform(X, y, **fit_params)
            return out
        params = self.params()
        stateless = self.kind == "stateless"
        x = self._validate(X, reset=True, finite=not stateless and not self.fit_rejects_inf)
        self._fit(x, None if y is None else np.asarray(y, dtype=np.float64), params)
        self.is_fitted_ = True
        # A fit that saw X (not a stateless no-op) has already rejected inf.
        return self._transform_rows(x, check_inf=stateless)

    def _validate(self, X: npt.ArrayLike, *, reset: bool, finite: bool = True) -> FloatMatrix:
        """``X`` as a C-contiguous float32/float64 matrix (no copy when it already is one).

        With ``finite``, inf is rejected here (sklearn's check: a full pass over the data);
        callers that check in a pass of their own give ``finite=False``. Operators that accept
        inf (:attr:`allow_inf`) are never checked.
        """
        if (
            type(X) is np.ndarray
            and X.ndim == 2
            and X.dtype in _FLOAT_DTYPES
            and X.size
            and not hasattr(self, "feature_names_in_")
        ):
            # A plain float matrix, the common case: what validate_data would do, in 1 us
            # instead of 40 (it would look for dataframe libraries first).
            if reset:
                self.n_features_in_ = X.shape[1]
            elif X.shape[1] != getattr(self, "n_features_in_", X.shape[1]):
                msg = (
                    f"X has {X.shape[1]} features, but {type(self).__name__} is expecting "
                    f"{self.n_features_in_} features as input."
                )
                raise ValueError(msg)
            x: FloatMatrix = np.ascontiguousarray(X)
            if finite and not self.allow_inf:
                reject_inf(x)
            return x
        x = validate_data(
            self,
            X,
            reset=reset,
            dtype=[np.float64, np.float32],
            ensure_all_finite="allow-nan" if finite and not self.allow_inf else False,
            order="C",
        )
        return x

    def output_width(self, n_points: int) -> int:
        """Points per output spectrum for input spectra of ``n_points`` (``n_points`` unless the
        operator changes the width: crop, resampling, wavelet coefficients).

        >>> from nirsframe.operators import StandardNormalVariate
        >>> StandardNormalVariate().output_width(700)
        700
        """
        return n_points

    def _transform_rows(self, x: FloatMatrix, *, check_inf: bool) -> FloatMatrix:
        """The fitted (or stateless) operator applied to ``x`` over row ranges in parallel.

        ``check_inf``: reject inf in ``x`` (unless the operator accepts it, or its row kernels
        reject it themselves). Each worker checks its own range right before transforming it
        (block by block for :meth:`_apply_params_into`, so the checked rows are still cached).
        Operators with :meth:`_apply_params_into` write each range straight into the result
        (one read of ``x``, one write of the result: no per-range matrix and copy).
        """
        if self.kind != "stateless":
            check_is_fitted(self, "is_fitted_")
        params = self.params()
        stateless = self.kind == "stateless"
        out = new_matrix(x.shape[0], self.output_width(x.shape[1]), x.dtype)
        check = check_inf and not self.allow_inf and not self.apply_rejects_inf
        fn: Callable[[FloatMatrix], FloatMatrix]
        if type(self)._apply_params_into is not SpectralOperator._apply_params_into:

            def into(y: FloatMatrix, dst: FloatMatrix) -> None:
                if not check:
                    self._apply_params_into(y, params, dst)
                    return
                # Block by block: the kernel reads each checked block again from cache, not
                # from main memory (a range is ~1/8 of the batch); see CHECKED_BLOCK_BYTES.
                step = block_rows(y.shape[1], y.dtype.itemsize, CHECKED_BLOCK_BYTES)
                for a in range(0, y.shape[0], step):
                    self._apply_params_checked_into(y[a : a + step], params, dst[a : a + step])

            fn = RowsInto(into, out.shape[1], self.min_parallel_bytes)
        else:

            def fn(y: FloatMatrix) -> FloatMatrix:
                if check:
                    reject_inf(y)
                return self._apply_params(y, params) if stateless else self._apply(y)

        run_parallel(x, [fn], out)
        return out

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.requires_fit = self.kind != "stateless"
        return tags

    # -- expressions ----------------------------------------------------------------------------
    def row_function(self) -> Callable[[FloatMatrix], FloatMatrix]:
        """The row-wise matrix function that :meth:`to_expr` maps over batches of spectra.

        Parameters are validated (and fitted state checked) once, here; learned arrays are
        captured. :func:`nirsframe.chain` runs several of these block by block.

        >>> import numpy as np
        >>> from nirsframe.operators import StandardNormalVariate
        >>> StandardNormalVariate().row_function()(np.array([[1.0, 3.0]])).tolist()
        [[-1.0, 1.0]]
        """
        if self.kind == "stateless":
            params = self.params()
            if type(self)._apply_params_into is not SpectralOperator._apply_params_into:
                return RowsInto(
                    lambda x, out: self._apply_params_into(x, params, out),
                    min_parallel_bytes=self.min_parallel_bytes,
                    tag=(self.name, params),
                )
            return lambda x: self._apply_params(x, params)
        check_is_fitted(self, "is_fitted_")
        return self._apply

    def to_expr(self, expr: IntoSpectra = "spectra") -> pl.Expr:
        """This operator as an elementwise Polars expression (learned arrays baked in)."""
        return map_spectra(as_expr(expr), self.row_function())

    def linear_matrix(self, n_points: int) -> FloatMatrix:
        """The ``(P_out, n_points)`` matrix ``D`` of a :attr:`linear` operator (``out = D @ x``).

        >>> from nirsframe.operators import SavitzkyGolay
        >>> SavitzkyGolay(window_length=3, polyorder=1).linear_matrix(4).shape
        (4, 4)
        """
        if not self.linear:
            msg = f"{self.name} is not a linear operator"
            raise InvalidParameterError(msg)
        d: FloatMatrix = self._apply_params(np.eye(n_points), self.params()).T
        return np.ascontiguousarray(d)

    def output_axis(self, axis: SpectralAxis) -> SpectralAxis:
        """The axis of the output spectra (the input axis unless the operator changes it)."""
        return axis

    # -- fitted state ---------------------------------------------------------------------------
    def fitted_arrays(self) -> dict[str, npt.NDArray[Any]]:
        """Learned arrays by attribute name, for storage (no pickle)."""
        check_is_fitted(self, "is_fitted_")
        arrays = {name: np.asarray(getattr(self, name)) for name in self.fitted_attributes}
        arrays["n_features_in_"] = np.asarray(self.n_features_in_)
        return arrays

    @classmethod
    def from_fitted(
        cls, params: Mapping[str, Any], arrays: Mapping[str, npt.NDArray[Any]]
    ) -> SpectralOperator:
        """Rebuild a fitted operator from its parameters and :meth:`fitted_arrays`."""
        op = cls(**params)
        op.params()
        for name in (*cls.fitted_attributes, "n_features_in_"):
            if name not in arrays:
                msg = f"fitted state of {cls.name} lacks array {name!r}"
                raise InvalidParameterError(msg)
        for name in cls.fitted_attributes:
            setattr(op, name, np.asarray(arrays[name]))
        op.n_features_in_ = int(arrays["n_features_in_"])
        op.is_fitted_ = True
        return op

    # -- to implement ---------------------------------------------------------------------------
    def _fit(self, x: FloatMatrix, y: FloatMatrix | None, params: Params) -> None:
        """Learn the fitted attributes (stateless operators learn nothing)."""

    def _apply(self, x: FloatMatrix) -> FloatMatrix:
        return self._apply_params(x, self.params())

    def _apply_params(self, x: FloatMatrix, params: Params) -> FloatMatrix:
        """``params`` applied to ``x``; by default a new matrix that :meth:`_apply_params_into`
        fills (operators without it implement this method instead)."""
        if type(self)._apply_params_into is SpectralOperator._apply_params_into:
            raise NotImplementedError
        out = new_matrix(x.shape[0], self.output_width(x.shape[1]), x.dtype)
        self._apply_params_into(x, params, out)
        return out

    def _apply_params_into(self, x: FloatMatrix, params: Params, out: FloatMatrix) -> None:
        """Write :meth:`_apply_params` into ``out`` (optional, for stateless operators that keep
        the width): row functions then write straight into the output column. Fitted operators
        may implement it too (``params`` is then unused: their state is in attributes), for
        :meth:`transform`."""
        raise NotImplementedError

    def _apply_params_checked_into(self, x: FloatMatrix, params: Params, out: FloatMatrix) -> None:
        """:meth:`_apply_params_into` for the sklearn face, which rejects inf in ``x`` with
        sklearn's ValueError: a check of ``x`` first. Operators whose kernel finds inf in a pass
        it makes anyway (row sums, norms) override it, and the check costs no pass of its own.
        """
        reject_inf(x)
        self._apply_params_into(x, params, out)


class KernelCheckedOperator(SpectralOperator):
    """An operator whose kernel can look for inf in the rows it reads (a ``reject_inf`` flag).

    Subclasses implement :meth:`_apply_kernel`; the sklearn face asks the kernel to check
    instead of taking a pass of its own over the data, expressions do not ask.
    """

    def _apply_params_into(self, x: FloatMatrix, params: Params, out: FloatMatrix) -> None:
        self._apply_kernel(x, params, out, reject_inf=False)

    def _apply_params_checked_into(self, x: FloatMatrix, params: Params, out: FloatMatrix) -> None:
        self._apply_kernel(x, params, out, reject_inf=True)

    def _apply_kernel(
        self, x: FloatMatrix, params: Params, out: FloatMatrix, *, reject_inf: bool
    ) -> None:
        """Write the result for ``x`` into ``out``; with ``reject_inf``, the kernel raises
        sklearn's ValueError on an inf in ``x``."""
        raise NotImplementedError


def reject_inf(x: FloatMatrix) -> None:
    """Raise ValueError (sklearn's message) when ``x`` holds an inf; NaN is accepted.

    One vectorised read of ``x`` (:func:`nirskern.any_inf`: row sums, the elementwise test only
    for a row whose sum is not finite).

    >>> reject_inf(np.array([[1.0, np.nan]]))
    >>> reject_inf(np.array([[1.0, np.inf]]))
    Traceback (most recent call last):
    ...
    ValueError: Input X contains infinity or a value too large for dtype('float64').
    """
    if nirskern.any_inf(x):
        msg = f"Input X contains infinity or a value too large for {x.dtype!r}."
        raise ValueError(msg)
