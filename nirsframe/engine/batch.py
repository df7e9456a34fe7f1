"""One callable that turns an Arrow batch of spectra into an Arrow batch of predictions.

Every engine applies a fitted chain through :class:`ChainPredictor`, so the local streaming
writer and the Ray actors run the same code on each row. The predictor is built from the
chain's *plain data* (:func:`chain_payload`: dicts of JSON parameters and numeric ndarrays),
never from a pickled estimator: that payload is what Ray ships to its actors (a PLS chain is
tens of kilobytes of arrays instead of hundreds of a pickled estimator), and the rebuilt chain
is checked against the run's recorded chain hash before it predicts anything. A fitted graph
(stacked, tuned, separated, multi-source or target-processed run) travels as its stored members
(``{"graph": {name: bytes}}``) and reads every column it names from the batch.

Examples
--------
>>> import numpy as np, pyarrow as pa
>>> from nirsframe.operators import StandardNormalVariate
>>> from nirsframe.models.pls import PLS
>>> from nirsframe.workspace import FittedChain
>>> rng = np.random.default_rng(0)
>>> X, y = rng.normal(size=(20, 8)), rng.normal(size=20)
>>> snv = StandardNormalVariate().fit(X)
>>> chain = FittedChain.from_estimators([snv], PLS(n_components=2).fit(snv.transform(X), y))
>>> predictor = ChainPredictor(chain_payload(chain), chain.content_hash(), n_points=8)
>>> spectra = pa.FixedSizeListArray.from_arrays(pa.array(X.ravel()), 8)
>>> out = predictor(pa.table({"spectra": spectra, "_rowaddr": pa.array(range(20), pa.uint64())}))
>>> out.column_names
['row_address', 'sample_id', 'y_true', 'y_pred']
>>> bool(np.allclose(out["y_pred"].to_numpy(), chain.predict(X), rtol=1e-12, atol=0))
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
import pyarrow as pa

from nirsframe._bridge import series_to_matrix
from nirsframe.exceptions import DatasetError, SpectralShapeError, WorkspaceError
from nirsframe.workspace.chain import ChainStep, FittedChain
from nirsframe.workspace.graph import FittedGraph

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    import numpy.typing as npt

    from nirsframe.operators._base import SpectralOperator

    GraphPredict = Callable[[pl.DataFrame, str], npt.NDArray[np.float64]]

__all__ = [
    "ROW_ADDRESS",
    "AffineForm",
    "ChainPredictor",
    "NonFiniteRowsError",
    "affine_form",
    "chain_from_payload",
    "chain_payload",
    "output_schema",
    "row_bytes",
]

#: The Lance row-address column both engines read alongside the spectra.
ROW_ADDRESS = "_rowaddr"
_WARM_ROWS = 4  # rows of the warm-up probe: enough to compile every kernel signature once


def chain_payload(chain: FittedChain | FittedGraph) -> dict[str, Any]:
    """The chain as plain data: ``{"steps": [...], "model": {...} | None}`` of dicts + ndarrays;
    a graph as ``{"graph": {member name: bytes}}``.

    >>> from nirsframe.workspace import FittedChain
    >>> chain_payload(FittedChain(()))
    {'steps': [], 'model': None}
    """
    if isinstance(chain, FittedGraph):
        return {"graph": chain.to_members()}

    def step(s: ChainStep) -> dict[str, Any]:
        return {
            "op": s.op,
            "params": dict(s.params),
            "arrays": {k: np.asarray(v) for k, v in s.arrays.items()},
            "scalars": dict(s.scalars),
        }

    return {
        "steps": [step(s) for s in chain.steps],
        "model": step(chain.model) if chain.model is not None else None,
    }


def chain_from_payload(payload: Mapping[str, Any]) -> FittedChain | FittedGraph:
    """Inverse of :func:`chain_payload`.

    >>> chain_from_payload({"steps": [], "model": None})
    FittedChain(steps=(), model=None)
    """
    if "graph" in payload:
        return FittedGraph.from_members(payload["graph"])

    def step(d: Mapping[str, Any]) -> ChainStep:
        return ChainStep(d["op"], d["params"], d.get("arrays", {}), d.get("scalars", {}))

    model = payload.get("model")
    return FittedChain(
        tuple(step(d) for d in payload["steps"]), None if model is None else step(model)
    )


def output_schema(n_outputs: int) -> pa.Schema:
    """Schema of the predictions: row address, sample id, true value, prediction(s).

    One model output gives a float64 ``y_pred``; several give a ``fixed_size_list`` of them.

    >>> output_schema(1).names
    ['row_address', 'sample_id', 'y_true', 'y_pred']
    """
    if n_outputs < 1:
        msg = f"'n_outputs' must be a positive integer; got {n_outputs!r}"
        raise WorkspaceError(msg)
    pred = pa.float64() if n_outputs == 1 else pa.list_(pa.float64(), n_outputs)
    return pa.schema(
        [
            pa.field("row_address", pa.uint64(), nullable=False),
            pa.field("sample_id", pa.string()),
            pa.field("y_true", pa.float64()),
            pa.field("y_pred", pred),
        ]
    )


class NonFiniteRowsError(DatasetError):
    """Spectra that are NaN or infinite after preprocessing: a linear model cannot predict them.

    ``rows`` are positions in the batch; :class:`ChainPredictor` reports source row addresses.
    """

    def __init__(self, rows: npt.NDArray[np.intp], where: str = "batch rows") -> None:
        self.rows = rows
        shown = ", ".join(str(int(r)) for r in rows[:5]) + (", ..." if len(rows) > 5 else "")
        msg = (
            f"{len(rows)} spectra are NaN or infinite after preprocessing ({where} {shown}); "
            "the model cannot predict them"
        )
        super().__init__(msg)


@dataclass(frozen=True)
class AffineForm:
    """``y = (x - center) @ weights + intercept`` of a linear model, weights one column each."""

    center: npt.NDArray[np.float64] | None
    weights: tuple[npt.NDArray[np.float64], ...]
    intercept: npt.NDArray[np.float64]


def affine_form(model: Any) -> AffineForm | None:
    """The affine form of a nirsframe PLS or an allow-listed scikit-learn linear model.

    ``None`` for any other model (its own ``predict`` is used then).

    >>> from sklearn.linear_model import LinearRegression
    >>> m = LinearRegression().fit([[0.0, 1.0], [1.0, 0.0], [2.0, 3.0]], [1.0, 2.0, 3.0])
    >>> len(affine_form(m).weights)
    1
    """
    from sklearn.cross_decomposition import PLSRegression
    from sklearn.linear_model._base import LinearModel

    from nirsframe.models.pls import PLS

    if isinstance(model, PLS):
        a = model._components(None)
        coef, intercept, center = model.coef_[a - 1], model.intercept_[a - 1], None
    elif isinstance(model, PLSRegression):
        # sklearn: X -= _x_mean; X @ coef_.T + intercept_ (coef_ already holds the scaling).
        coef, intercept, center = model.coef_.T, model.intercept_, model._x_mean
    elif isinstance(model, LinearModel):
        coef = model.coef_ if model.coef_.ndim == 1 else model.coef_.T
        intercept, center = model.intercept_, None
    else:
        return None
    w = np.asarray(coef, dtype=np.float64).reshape(np.shape(coef)[0], -1)
    return AffineForm(
        None if center is None else np.asarray(center, dtype=np.float64),
        tuple(np.ascontiguousarray(w[:, k]) for k in range(w.shape[1])),
        np.broadcast_to(np.asarray(intercept, dtype=np.float64), (w.shape[1],)).copy(),
    )


def _affine_predict(form: AffineForm, x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Row-deterministic ``(x - center) @ W + b``.

    BLAS ``gemv``/``gemm`` sum a row in an order that depends on where the row falls in the
    call (blocking, threads): the same spectrum predicted in batches of 250 and of 1000 differs
    in the last bit (1e-15 here). ``einsum("ij,j->i")`` reduces each row on its own, in the same
    order whatever the batch, so every engine and batch size gives identical bits (and agrees
    with the model's own BLAS ``predict`` to ~1e-13 relative).
    """
    bad = ~np.isfinite(x).all(axis=1)
    if bad.any():
        raise NonFiniteRowsError(np.flatnonzero(bad))
    return _affine_values(form, x)


def _affine_values(form: AffineForm, x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """:func:`_affine_predict` without the finiteness check (NaN rows give NaN)."""
    xc = x if form.center is None else x - form.center
    out = np.empty((x.shape[0], len(form.weights)), dtype=np.float64)
    for k, w in enumerate(form.weights):
        out[:, k] = np.einsum("ij,j->i", xc, w) + form.intercept[k]
    return out


def _graph_model_fn(model: Any) -> Callable[[npt.NDArray[np.float64]], npt.NDArray[np.float64]]:
    """A graph node's model, row-deterministic when it is affine (see :func:`_affine_predict`).

    Non-finite rows are checked once on the graph's output, where row positions are the batch's.
    """
    form = affine_form(model)
    if form is None:
        return lambda x: np.asarray(model.predict(x), dtype=np.float64).reshape(x.shape[0], -1)
    return lambda x: _affine_values(form, x)


def row_bytes(schema: pa.Schema) -> int:
    """Approximate bytes per row of ``schema`` (strings counted as 16 bytes) for file sizing.

    >>> row_bytes(output_schema(1))
    40
    """
    total = 0
    for f in schema:
        t = f.type
        if pa.types.is_fixed_size_list(t):
            total += t.list_size * max(1, t.value_type.bit_width // 8)
        elif pa.types.is_string(t) or pa.types.is_large_string(t):
            total += 16
        else:
            total += max(1, t.bit_width // 8)
    return total


class ChainPredictor:
    """Arrow batch in, Arrow table of predictions out, for one fitted chain.

    Parameters
    ----------
    payload
        :func:`chain_payload` of the chain (plain dicts and ndarrays).
    chain_hash
        The run's recorded chain hash; the rebuilt chain must hash to it.
    n_points
        Width of the spectra (the warm-up probe compiles kernels for it).
    spectra_column, id_column, target_column
        Source columns; ``id_column`` and ``target_column`` may be ``None`` (null output).

    Notes
    -----
    Construction rebuilds the operators and the model once and runs them on a small probe,
    so numba kernels are compiled (or loaded from the cache) before the first real batch.
    Rows are independent: a row's prediction does not depend on the batch it came in.
    """

    def __init__(
        self,
        payload: Mapping[str, Any],
        chain_hash: str,
        *,
        n_points: int,
        spectra_column: str = "spectra",
        id_column: str | None = None,
        target_column: str | None = None,
    ) -> None:
        chain = chain_from_payload(payload)
        digest = chain.content_hash()
        if digest != chain_hash:
            msg = f"the chain shipped to the predictor hashes to {digest}, not {chain_hash}"
            raise WorkspaceError(msg)
        self.spectra_column = spectra_column
        self.id_column = id_column
        self.target_column = target_column
        self.n_points = int(n_points)
        if isinstance(chain, FittedGraph):
            self._graph: GraphPredict | None = chain.compile(_graph_model_fn)
            self._read = [*chain.axes(spectra_column), *chain.metadata_columns()]
            warm = self._graph(chain.probe_frame(spectra_column), spectra_column)
            self.n_outputs = warm.shape[1]
            self.schema = output_schema(self.n_outputs)
            return
        self._graph = None
        if chain.model is None:
            msg = "the run's chain has no model: nothing to predict"
            raise WorkspaceError(msg)
        self._ops: list[SpectralOperator] = chain.operators()
        self._model: Any = chain.build_model()
        self._affine = affine_form(self._model)
        # Warm-up: compile every kernel on a probe of the real width (float64, as predict uses).
        probe = np.linspace(0.1, 1.0, _WARM_ROWS * self.n_points).reshape(_WARM_ROWS, -1)
        self.n_outputs = self._predict(probe).shape[1]
        self.schema = output_schema(self.n_outputs)

    def _predict(self, x: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
        # FittedChain.predict's steps (float64 input, operators in order, then the model), with
        # the operators and model built once instead of per call.
        out: npt.NDArray[Any] = np.asarray(x, dtype=np.float64)
        for op in self._ops:
            out = op.transform(out)
        if self._affine is None:
            pred = np.asarray(self._model.predict(out), dtype=np.float64)
            return pred.reshape(x.shape[0], -1)
        return _affine_predict(self._affine, out)

    def __call__(self, batch: pa.Table | pa.RecordBatch) -> pa.Table:
        """Predictions for every row of ``batch`` (same row order)."""
        table = batch if isinstance(batch, pa.Table) else pa.Table.from_batches([batch])
        n = table.num_rows
        try:
            pred = self._predict_table(table) if n else np.empty((0, self.n_outputs))
        except NonFiniteRowsError as exc:
            addresses = table.column(ROW_ADDRESS).to_numpy()[exc.rows]
            raise NonFiniteRowsError(addresses, "source row addresses") from None
        if self.n_outputs == 1:
            y_pred: pa.Array = pa.array(pred[:, 0], pa.float64())
        else:
            flat = pa.array(np.ascontiguousarray(pred).reshape(-1), pa.float64())
            y_pred = pa.FixedSizeListArray.from_arrays(flat, self.n_outputs)
        columns = [
            table.column(ROW_ADDRESS).cast(pa.uint64()),
            self._optional(table, self.id_column, pa.string()),
            self._optional(table, self.target_column, pa.float64()),
            y_pred,
        ]
        return pa.Table.from_arrays(columns, schema=self.schema)

    def _predict_table(self, table: pa.Table) -> npt.NDArray[np.float64]:
        if self._graph is not None:
            frame = pl.DataFrame({c: pl.Series(c, table.column(c)) for c in self._read})
            pred = self._graph(frame, self.spectra_column)
            bad = ~np.isfinite(pred).all(axis=1)
            if bad.any():
                raise NonFiniteRowsError(np.flatnonzero(bad))
            return pred
        spectra = pl.Series(self.spectra_column, table.column(self.spectra_column))
        x, _ = series_to_matrix(spectra)
        if x.shape[1] != self.n_points:
            msg = f"spectra have {x.shape[1]} points; the chain was fitted on {self.n_points}"
            raise SpectralShapeError(msg)
        return self._predict(x)

    @staticmethod
    def _optional(table: pa.Table, column: str | None, dtype: pa.DataType) -> Any:
        if column is None:
            return pa.nulls(table.num_rows, dtype)
        return table.column(column).cast(dtype)
