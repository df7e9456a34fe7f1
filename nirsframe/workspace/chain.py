"""Fitted chains without pickle: ordered preprocessing steps plus a model, as JSON + ``.npy``.

A step is ``{"op": name, "params": {...}, "arrays": {name: ndarray}}``. Operators are rebuilt
through the operator registry (``from_fitted``); the model is either a nirsframe model from a
fixed allow-list (rebuilt with its ``from_fitted``) or an allow-listed scikit-learn linear
estimator whose learned numeric attributes are stored and set back on an instance made with
``__new__``. A rebuilt sklearn model is accepted only if its prediction on a fixed probe input
is bit-identical to the prediction recorded when the chain was saved.

Arrays are written with ``np.save(..., allow_pickle=False)`` and read with
``np.load(..., allow_pickle=False)``, so an object array can neither be stored nor loaded.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import polars as pl

from nirsframe._bridge import series_to_matrix
from nirsframe.exceptions import InvalidParameterError, WorkspaceError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import numpy.typing as npt

    from nirsframe.operators._base import SpectralOperator

__all__ = [
    "CHAIN_FORMAT_VERSION",
    "NIRSFRAME_MODELS",
    "SKLEARN_MODELS",
    "ChainStep",
    "FittedChain",
    "StoredModel",
    "array_from_npy",
    "array_to_npy",
    "load_chain",
    "members_hash",
    "read_members",
    "save_chain",
]

CHAIN_FORMAT_VERSION = 1
#: nirsframe models a chain may name, as ``module:Class`` (never imported from stored text).
NIRSFRAME_MODELS: dict[str, str] = {
    "pls": "nirsframe.models.pls:PLS",
    "plsda": "nirsframe.models.plsda:PLSDA",
    "opls": "nirsframe.models.opls:OPLS",
}
#: scikit-learn estimators whose learned state is plain numbers and arrays.
SKLEARN_MODELS: dict[str, str] = {
    "sklearn.LinearRegression": "sklearn.linear_model:LinearRegression",
    "sklearn.Ridge": "sklearn.linear_model:Ridge",
    "sklearn.Lasso": "sklearn.linear_model:Lasso",
    "sklearn.ElasticNet": "sklearn.linear_model:ElasticNet",
    "sklearn.BayesianRidge": "sklearn.linear_model:BayesianRidge",
    "sklearn.PLSRegression": "sklearn.cross_decomposition:PLSRegression",
}
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_PROBE_SEED = 20240601
_SCALAR_TYPES = (bool, int, float, str, type(None))


def array_to_npy(arr: npt.NDArray[Any]) -> bytes:
    """``.npy`` bytes of a numeric array (object arrays are refused).

    >>> array_from_npy(array_to_npy(np.arange(3.0))).tolist()
    [0.0, 1.0, 2.0]
    """
    a = np.asarray(arr)
    if a.dtype.kind not in "biufc":
        msg = f"only numeric arrays can be stored; got dtype {a.dtype}"
        raise InvalidParameterError(msg)
    buf = io.BytesIO()
    np.save(buf, np.array(a, order="C", copy=True), allow_pickle=False)
    return buf.getvalue()


def array_from_npy(data: bytes) -> npt.NDArray[Any]:
    """Inverse of :func:`array_to_npy`; an object array or malformed file is an error."""
    try:
        a = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        msg = f"invalid .npy array: {exc}"
        raise WorkspaceError(msg) from exc
    if not isinstance(a, np.ndarray) or a.dtype.kind not in "biufc":
        msg = "a stored array must be a numeric .npy array"
        raise WorkspaceError(msg)
    return a


def _load_class(path: str) -> Any:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def _json_value(v: Any, where: str) -> Any:
    """``v`` if it survives JSON unchanged in meaning (tuples become lists), else an error."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, _SCALAR_TYPES):
        return v
    if isinstance(v, list | tuple):
        return [_json_value(x, where) for x in v]
    if isinstance(v, dict):
        return {str(k): _json_value(x, where) for k, x in v.items()}
    msg = f"{where} is not JSON data; got {type(v).__name__}"
    raise InvalidParameterError(msg)


def versioned_doc(members: Mapping[str, bytes], kind: str, version: int) -> dict[str, Any]:
    """The JSON document ``<kind>.json`` of ``members``, checked to be ``format_version``.

    >>> versioned_doc({"chain.json": b'{"format_version": 1}'}, "chain", 1)
    {'format_version': 1}
    """
    try:
        doc = json.loads(members[f"{kind}.json"])
    except (KeyError, ValueError) as exc:
        msg = f"{kind}.json is missing or not JSON: {exc}"
        raise WorkspaceError(msg) from exc
    if not isinstance(doc, dict) or doc.get("format_version") != version:
        got = doc.get("format_version") if isinstance(doc, dict) else doc
        msg = f"{kind} format_version must be {version}; got {got!r}"
        raise WorkspaceError(msg)
    return doc


@dataclass(frozen=True)
class ChainStep:
    """One fitted step: an operator (or model) name, its parameters and its learned arrays.

    ``scalars`` holds learned attributes that are plain numbers/strings (sklearn models only).
    """

    op: str
    params: Mapping[str, Any]
    arrays: Mapping[str, npt.NDArray[Any]] = field(default_factory=dict)
    scalars: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, arr in self.arrays.items():
            if not _NAME.match(name):
                msg = f"array name must match {_NAME.pattern}; got {name!r} in step {self.op!r}"
                raise InvalidParameterError(msg)
            if np.asarray(arr).dtype.kind not in "biufc":
                msg = f"array {name!r} of step {self.op!r} is not numeric"
                raise InvalidParameterError(msg)

    @classmethod
    def from_operator(cls, op: SpectralOperator) -> ChainStep:
        """The step of a (fitted or stateless) nirsframe operator."""
        params = op.params().model_dump(mode="json")
        arrays = op.fitted_arrays() if getattr(op, "is_fitted_", False) else {}
        return cls(op.name, params, arrays)

    def to_operator(self) -> SpectralOperator:
        """Rebuild the operator through the registry."""
        from nirsframe.operators import get_operator

        info = get_operator(self.op)
        if self.arrays:
            return info.estimator.from_fitted(dict(self.params), dict(self.arrays))
        op = info.estimator(**self.params)
        op.params()
        return op


def _probe(n_features: int) -> npt.NDArray[np.float64]:
    # A fixed, seeded probe: 4 rows spanning a realistic range of absorbances.
    return np.random.default_rng(_PROBE_SEED).uniform(-1.0, 2.0, size=(4, n_features))


def _sklearn_state(est: Any) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(params, arrays, scalars) of a fitted sklearn estimator; refuses non-numeric state."""
    params = {k: _json_value(v, f"parameter {k!r}") for k, v in est.get_params(deep=False).items()}
    arrays: dict[str, Any] = {}
    scalars: dict[str, Any] = {}
    for name, value in vars(est).items():
        if name in params:
            continue
        if name == "feature_names_in_":
            msg = "fit sklearn models on arrays: feature names (strings) are not stored"
            raise InvalidParameterError(msg)
        if isinstance(value, np.ndarray):
            if value.dtype.kind not in "biufc":
                msg = f"learned attribute {name!r} has non-numeric dtype {value.dtype}"
                raise InvalidParameterError(msg)
            if not _NAME.match(name):
                msg = f"learned attribute name {name!r} cannot be stored"
                raise InvalidParameterError(msg)
            arrays[name] = value
        else:
            # Plain numbers, strings, None and lists of them (e.g. PLSRegression.n_iter_).
            scalars[name] = _json_value(value, f"learned attribute {name!r}")
    return params, arrays, scalars


def _rebuild_sklearn(step: ChainStep) -> Any:
    cls = _load_class(SKLEARN_MODELS[step.op])
    est = cls.__new__(cls)
    for k, v in step.params.items():
        setattr(est, k, v)
    for k, v in step.scalars.items():
        setattr(est, k, v)
    for k, a in step.arrays.items():
        if not k.startswith("probe_"):
            setattr(est, k, np.asarray(a))
    return est


def _predict(model: Any, x: npt.NDArray[Any]) -> npt.NDArray[Any]:
    return np.asarray(model.predict(x))


@dataclass(frozen=True)
class FittedChain:
    """Ordered fitted preprocessing steps and an optional model.

    Examples
    --------
    >>> import numpy as np
    >>> from nirsframe.operators import StandardNormalVariate
    >>> from sklearn.linear_model import Ridge
    >>> X, y = np.random.default_rng(0).normal(size=(10, 5)), np.arange(10.0)
    >>> snv = StandardNormalVariate().fit(X)
    >>> chain = FittedChain.from_estimators([snv], Ridge().fit(snv.transform(X), y))
    >>> rebuilt = FittedChain.from_members(chain.to_members())
    >>> bool(np.array_equal(rebuilt.predict(X), chain.predict(X)))
    True
    """

    steps: tuple[ChainStep, ...]
    model: ChainStep | None = None

    # -- construction -----------------------------------------------------------------------
    @classmethod
    def from_estimators(cls, steps: Sequence[SpectralOperator], model: Any = None) -> FittedChain:
        """A chain from fitted operators and a fitted model (PLS or allow-listed sklearn)."""
        return cls(tuple(ChainStep.from_operator(s) for s in steps), _model_step(model))

    # -- use --------------------------------------------------------------------------------
    def operators(self) -> list[SpectralOperator]:
        """The rebuilt preprocessing operators, in order."""
        return [s.to_operator() for s in self.steps]

    def build_model(self) -> Any:
        """The rebuilt model (``None`` when the chain has none), checked against its probe."""
        step = self.model
        if step is None:
            return None
        if step.op in NIRSFRAME_MODELS:
            return _load_class(NIRSFRAME_MODELS[step.op]).from_fitted(
                dict(step.params), dict(step.arrays)
            )
        if step.op not in SKLEARN_MODELS:
            msg = f"model {step.op!r} is not allow-listed; known: {sorted(SKLEARN_MODELS)}"
            raise WorkspaceError(msg)
        est = _rebuild_sklearn(step)
        expected = step.arrays.get("probe_prediction")
        probe = _probe(int(step.scalars.get("n_features_in_", 0)))
        if expected is None or not np.array_equal(_predict(est, probe), expected):
            msg = f"rebuilt {step.op} does not reproduce its recorded probe prediction"
            raise WorkspaceError(msg)
        return est

    def transform(self, x: npt.ArrayLike) -> npt.NDArray[Any]:
        """Apply the preprocessing steps to the rows of ``x``."""
        out: npt.NDArray[Any] = np.asarray(x, dtype=np.float64)
        for op in self.operators():
            out = op.transform(out)
        return out

    def predict(self, x: npt.ArrayLike) -> npt.NDArray[Any]:
        """Preprocess ``x`` and predict with the model."""
        model = self.build_model()
        if model is None:
            msg = "this chain has no model; use transform()"
            raise WorkspaceError(msg)
        return _predict(model, self.transform(x))

    def to_expr(self, column: str | pl.Expr = "spectra") -> pl.Expr:
        """The whole chain as one elementwise Polars expression: spectra in, ``y_pred`` out.

        Operators and model are rebuilt once, outside the expression; each batch of rows goes
        through every step in memory (one read of the spectra, no intermediate columns), so the
        streaming engine predicts in bounded memory.

        >>> import numpy as np, polars as pl
        >>> from nirsframe.operators import StandardNormalVariate
        >>> from sklearn.linear_model import Ridge
        >>> X, y = np.random.default_rng(0).normal(size=(10, 5)), np.arange(10.0)
        >>> snv = StandardNormalVariate().fit(X)
        >>> chain = FittedChain.from_estimators([snv], Ridge().fit(snv.transform(X), y))
        >>> out = pl.DataFrame({"spectra": X}).select(chain.to_expr("spectra"))
        >>> bool(np.allclose(out["y_pred"].to_numpy(), chain.predict(X)))
        True
        """
        ops = self.operators()
        model = self.build_model()
        if model is None:
            msg = "this chain has no model; use transform()"
            raise WorkspaceError(msg)
        expr = pl.col(column) if isinstance(column, str) else column

        def batch(s: pl.Series) -> pl.Series:
            x, nulls = series_to_matrix(s)
            if x.shape[0] == 0:
                return pl.Series("y_pred", [], dtype=pl.Float64)
            for op in ops:
                x = op.transform(x)
            pred = np.asarray(_predict(model, x), dtype=np.float64).reshape(x.shape[0], -1)[:, 0]
            out = pl.Series("y_pred", pred)
            if nulls is not None:
                out = out.scatter(np.flatnonzero(nulls), None)
            return out

        return expr.map_batches(batch, return_dtype=pl.Float64, is_elementwise=True).alias("y_pred")

    # -- storage ----------------------------------------------------------------------------
    def to_members(self) -> dict[str, bytes]:
        """``chain.json`` plus one ``arrays/<step>_<name>.npy`` per array (deterministic bytes)."""
        members: dict[str, bytes] = {}
        entries = []
        all_steps = [*self.steps, *([self.model] if self.model is not None else [])]
        for i, step in enumerate(all_steps):
            refs = {}
            for name in sorted(step.arrays):
                path = f"arrays/{i:02d}_{name}.npy"
                members[path] = array_to_npy(step.arrays[name])
                refs[name] = path
            entries.append(
                {
                    "op": step.op,
                    "params": _json_value(dict(step.params), f"params of {step.op!r}"),
                    "scalars": _json_value(dict(step.scalars), f"scalars of {step.op!r}"),
                    "arrays": refs,
                }
            )
        doc = {
            "format_version": CHAIN_FORMAT_VERSION,
            "steps": entries[: len(self.steps)],
            "model": entries[len(self.steps)] if self.model is not None else None,
        }
        members["chain.json"] = json.dumps(doc, sort_keys=True, indent=1).encode()
        return dict(sorted(members.items()))

    @classmethod
    def from_members(cls, members: Mapping[str, bytes]) -> FittedChain:
        """Inverse of :meth:`to_members` (arrays loaded with ``allow_pickle=False``)."""
        doc = versioned_doc(members, "chain", CHAIN_FORMAT_VERSION)

        def step(entry: Any) -> ChainStep:
            try:
                arrays = {n: array_from_npy(members[p]) for n, p in entry["arrays"].items()}
                return ChainStep(entry["op"], entry["params"], arrays, entry.get("scalars", {}))
            except (KeyError, TypeError, AttributeError) as exc:
                msg = f"malformed chain step: {exc!r}"
                raise WorkspaceError(msg) from exc

        steps = doc.get("steps")
        if not isinstance(steps, list):
            msg = "chain.json 'steps' must be a list"
            raise WorkspaceError(msg)
        model = doc.get("model")
        return cls(tuple(step(e) for e in steps), None if model is None else step(model))

    def content_hash(self) -> str:
        """SHA-256 over the sorted members (names and bytes)."""
        return members_hash(self.to_members())


def members_hash(members: Mapping[str, bytes]) -> str:
    """SHA-256 over sorted members (names and bytes): the content hash of a stored model.

    >>> members_hash({"chain.json": b"{}"}) == members_hash({"chain.json": b"{}"})
    True
    """
    h = hashlib.sha256()
    for name in sorted(members):
        h.update(name.encode() + b"\0" + hashlib.sha256(members[name]).digest())
    return h.hexdigest()


def _model_step(model: Any) -> ChainStep | None:
    if model is None:
        return None
    cls = type(model)
    for name, path in NIRSFRAME_MODELS.items():
        if f"{cls.__module__}:{cls.__qualname__}" == path:
            params = _json_value(model.get_params(deep=False), f"params of {name}")
            return ChainStep(name, params, dict(model.fitted_arrays()))
    key = next(
        (k for k, p in SKLEARN_MODELS.items() if _load_class(p) is cls),
        None,
    )
    if key is None:
        msg = (
            f"model {cls.__name__} cannot be stored without pickle; allowed: "
            f"{sorted([*NIRSFRAME_MODELS, *SKLEARN_MODELS])}"
        )
        raise InvalidParameterError(msg)
    params, arrays, scalars = _sklearn_state(model)
    n = int(scalars.get("n_features_in_", 0))
    if n < 1:
        msg = f"{cls.__name__} is not fitted (no n_features_in_)"
        raise InvalidParameterError(msg)
    expected = _predict(model, _probe(n))
    arrays["probe_prediction"] = expected
    step = ChainStep(key, params, arrays, scalars)
    rebuilt = _rebuild_sklearn(step)
    if not np.array_equal(_predict(rebuilt, _probe(n)), expected):
        msg = f"{cls.__name__} rebuilt from its numeric state does not predict identically"
        raise InvalidParameterError(msg)
    return step


class StoredModel(Protocol):
    """What the workspace stores under ``chains/<run_id>/``: a chain or a fitted graph."""

    def to_members(self) -> dict[str, bytes]:
        """Member name -> bytes (deterministic)."""
        ...

    def content_hash(self) -> str:
        """:func:`members_hash` of :meth:`to_members`."""
        ...


def save_chain(chain: StoredModel, directory: str | os.PathLike[str]) -> str:
    """Write ``chain`` (a :class:`FittedChain` or a fitted graph) into ``directory`` atomically
    (temp dir + rename); returns its hash.

    An existing directory with the same content hash is left as is (idempotent).
    """
    target = Path(directory)
    digest = chain.content_hash()
    if target.exists():
        if members_hash(read_members(target)) != digest:
            msg = f"a different chain is already stored at {target}"
            raise WorkspaceError(msg)
        return digest
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}-{os.urandom(4).hex()}")
    for name, data in chain.to_members().items():
        path = tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    try:
        os.rename(tmp, target)
    except OSError:
        # Another writer stored the same run first: keep theirs if it is the same chain.
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
        if members_hash(read_members(target)) != digest:
            raise
    return digest


def read_members(directory: str | os.PathLike[str]) -> dict[str, bytes]:
    """Every file under ``directory`` as ``{relative posix path: bytes}``."""
    root = Path(directory)
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def load_chain(directory: str | os.PathLike[str]) -> FittedChain:
    """Read a chain written by :func:`save_chain`."""
    root = Path(directory)
    if not (root / "chain.json").is_file():
        msg = f"no fitted chain at {root}"
        raise WorkspaceError(msg)
    return FittedChain.from_members(read_members(root))
