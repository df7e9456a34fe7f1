"""Fitted model graphs without pickle: multi-source and view models, stacks, separations, tuned
models and target transforms, replayed from arrays and JSON like a :class:`FittedChain`.

A graph is a small tree of three node kinds over fitted chains:

* :class:`ModelNode`: one preprocessing chain per input (each reads one spectra column on its own
  axis), the outputs merged (``concat`` or ``average``), a model (a :class:`FittedChain` without
  steps), then the target transforms (``y_processing``) inverted;
* :class:`StackNode`: base model nodes whose first outputs are the meta-model's features;
* :class:`SeparateNode`: one model node per value of a metadata column (an unseen value is an
  :class:`UnseenGroupError`).

Stored as ``graph.json`` (the tree, axes, target shifts and scales, and the content hash of every
chain) plus each chain's own members under ``nodes/NNN/`` (``chain.json``, ``arrays/*.npy``).
Reading checks every chain against its recorded hash.

>>> import numpy as np, polars as pl
>>> from sklearn.linear_model import Ridge
>>> from nirsframe.axis import SpectralAxis
>>> x, y = np.random.default_rng(0).normal(size=(8, 4)), np.arange(8.0)
>>> node = ModelNode(
...     (SourceInput("spectra", SpectralAxis.index(4), FittedChain(()), primary=True),),
...     FittedChain.from_estimators([], Ridge().fit(x, (y - 3.5) / 2.0)),
...     targets=(TargetStep("autoscale", (3.5,), (2.0,)),),
... )
>>> graph = FittedGraph("y_processing", node)
>>> again = FittedGraph.from_members(graph.to_members())
>>> frame = pl.DataFrame({"spectra": x})
>>> a, b = again.predict(frame, primary="spectra"), graph.predict(frame, primary="spectra")
>>> bool(np.array_equal(a, b))
True
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, get_args

import numpy as np
import polars as pl

from nirsframe._bridge import series_to_matrix
from nirsframe.axis import SpectralAxis
from nirsframe.exceptions import AxisError, DatasetError, SpectralShapeError, WorkspaceError
from nirsframe.workspace.chain import FittedChain, members_hash, versioned_doc

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = [
    "GRAPH_FORMAT_VERSION",
    "FittedGraph",
    "GraphKind",
    "ModelFn",
    "ModelNode",
    "Node",
    "SeparateNode",
    "SourceInput",
    "StackNode",
    "TargetStep",
    "UnseenGroupError",
    "fitted_from_members",
]

GRAPH_FORMAT_VERSION = 1
#: What a graph replays: how the run that fitted it searched.
GraphKind = Literal["sources", "views", "stack", "separated", "tuned", "y_processing"]
#: Builds ``x -> (n, outputs)`` predictions from a rebuilt model (engines swap in their own).
ModelFn = Callable[[Any], Callable[["npt.NDArray[np.float64]"], "npt.NDArray[np.float64]"]]
_MERGES = ("concat", "average")


class UnseenGroupError(DatasetError):
    """Rows carry a value of the separation column that no fitted branch knows."""


@dataclass(frozen=True)
class SourceInput:
    """One preprocessing chain (no model) applied to one spectra column on its axis.

    ``primary`` inputs read the data's primary spectra column whatever its name (views and
    single-column models); the others read ``column`` by name (multi-source models).
    """

    column: str
    axis: SpectralAxis
    chain: FittedChain
    primary: bool = False

    def __post_init__(self) -> None:
        if self.chain.model is not None:
            msg = f"the input chain of column {self.column!r} must not hold a model"
            raise WorkspaceError(msg)


@dataclass(frozen=True)
class TargetStep:
    """A fitted affine target transform ``y' = (y - shift) / scale``, inverted on predictions.

    >>> TargetStep("center", (2.0,), (1.0,)).inverse(np.array([[1.0]])).tolist()
    [[3.0]]
    """

    method: str
    shift: tuple[float, ...]
    scale: tuple[float, ...]

    def transform(self, y: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """``(y - shift) / scale``: the targets the model is fitted on.

        >>> TargetStep("center", (2.0,), (1.0,)).transform(np.array([[3.0]])).tolist()
        [[1.0]]
        """
        out: npt.NDArray[np.float64] = (
            np.asarray(y, dtype=np.float64) - np.asarray(self.shift)
        ) / np.asarray(self.scale)
        return out

    def inverse(self, y: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """``y * scale + shift`` (as :meth:`TargetTransform.inverse_transform`)."""
        out: npt.NDArray[np.float64] = np.asarray(y, dtype=np.float64) * np.asarray(
            self.scale
        ) + np.asarray(self.shift)
        return out


@dataclass(frozen=True)
class ModelNode:
    """Inputs merged into one matrix, a model, its target transforms inverted."""

    inputs: tuple[SourceInput, ...]
    head: FittedChain
    merge: str = "concat"
    targets: tuple[TargetStep, ...] = ()

    def __post_init__(self) -> None:
        if not self.inputs:
            msg = "a model node needs at least one input"
            raise WorkspaceError(msg)
        if self.merge not in _MERGES:
            msg = f"a model node's merge must be one of {list(_MERGES)}; got {self.merge!r}"
            raise WorkspaceError(msg)
        if self.head.steps or self.head.model is None:
            msg = "a model node's head must be a model without preprocessing steps"
            raise WorkspaceError(msg)

    def model_chain(self) -> FittedChain | None:
        """The preprocessing and the model as one :class:`FittedChain` when the node reads one
        primary input (``None`` otherwise); the model predicts the transformed targets, which
        :attr:`targets` maps back."""
        if len(self.inputs) != 1 or not self.inputs[0].primary:
            return None
        return FittedChain(self.inputs[0].chain.steps, self.head.model)

    def as_chain(self) -> FittedChain | None:
        """The equivalent :class:`FittedChain` (one primary input, no target transform)."""
        return None if self.targets else self.model_chain()


@dataclass(frozen=True)
class StackNode:
    """Bases (model nodes or nested stacks) whose first outputs, in order, are the
    meta-model's features."""

    bases: tuple[ModelNode | StackNode, ...]
    meta: FittedChain


@dataclass(frozen=True)
class SeparateNode:
    """One model node per value (as a string) of the metadata column ``column``."""

    column: str
    branches: Mapping[str, ModelNode]


Node = ModelNode | StackNode | SeparateNode


def _default_model_fn(model: Any) -> Callable[[npt.NDArray[np.float64]], npt.NDArray[np.float64]]:
    def predict(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return np.asarray(model.predict(x), dtype=np.float64).reshape(x.shape[0], -1)

    return predict


def _merge(merge: str, mats: list[npt.NDArray[Any]]) -> npt.NDArray[Any]:
    # The search's own merges (nirsframe.pipeline.tree._merger): same operations, same bits.
    if merge == "concat":
        return np.ascontiguousarray(np.hstack(mats))
    out: npt.NDArray[Any] = np.mean(np.stack(mats), axis=0)
    return out


Predict = Callable[[pl.DataFrame, str], "npt.NDArray[np.float64]"]


def _compile(node: Node, model_fn: ModelFn) -> Predict:
    """``(frame, primary column) -> (n, outputs)`` with every operator and model built once."""
    if isinstance(node, StackNode):
        bases = [_compile(b, model_fn) for b in node.bases]
        meta = model_fn(node.meta.build_model())

        def stack(frame: pl.DataFrame, primary: str) -> npt.NDArray[np.float64]:
            feats = np.column_stack([b(frame, primary)[:, 0] for b in bases])
            return meta(feats).reshape(frame.height, -1)

        return stack
    if isinstance(node, SeparateNode):
        branches = {k: _compile(b, model_fn) for k, b in node.branches.items()}

        def separate(frame: pl.DataFrame, primary: str) -> npt.NDArray[np.float64]:
            keys = frame[node.column].cast(pl.String)
            unseen = sorted({str(v) for v in keys.unique().to_list()} - set(branches))
            if unseen:
                msg = (
                    f"column {node.column!r} has values no fitted branch knows: {unseen[:5]}; "
                    f"known: {sorted(branches)}"
                )
                raise UnseenGroupError(msg)
            out: npt.NDArray[np.float64] | None = None
            values = keys.to_numpy()
            for key, predict in branches.items():
                rows = np.flatnonzero(values == key)
                if rows.size == 0:
                    continue
                part = predict(frame[rows], primary)
                if out is None:
                    out = np.full((frame.height, part.shape[1]), np.nan)
                out[rows] = part
            return out if out is not None else np.empty((0, 1))

        return separate
    ops = [(inp, inp.chain.operators()) for inp in node.inputs]
    head = model_fn(node.head.build_model())

    def model(frame: pl.DataFrame, primary: str) -> npt.NDArray[np.float64]:
        mats = []
        for inp, chain_ops in ops:
            column = primary if inp.primary else inp.column
            x, _ = series_to_matrix(frame[column])
            if x.shape[1] != len(inp.axis):
                msg = (
                    f"column {column!r} has {x.shape[1]} points; the model was fitted on "
                    f"{len(inp.axis)}"
                )
                raise SpectralShapeError(msg)
            out: npt.NDArray[Any] = np.asarray(x, dtype=np.float64)
            for op in chain_ops:
                out = op.transform(out)
            mats.append(out)
        y = head(_merge(node.merge, mats))
        for t in reversed(node.targets):
            y = t.inverse(y)
        return y

    return model


def _walk(node: Node) -> list[Node]:
    if isinstance(node, StackNode):
        return [node, *(n for b in node.bases for n in _walk(b))]
    if isinstance(node, SeparateNode):
        return [node, *(n for b in node.branches.values() for n in _walk(b))]
    return [node]


@dataclass(frozen=True)
class FittedGraph:
    """A fitted model graph of run kind ``kind`` (``info``: JSON facts such as tuned params).

    See the module docstring for an example.
    """

    kind: GraphKind
    root: Node
    info: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in get_args(GraphKind):
            msg = f"graph kind must be one of {list(get_args(GraphKind))}; got {self.kind!r}"
            raise WorkspaceError(msg)

    # -- use --------------------------------------------------------------------------------
    def inputs(self) -> list[SourceInput]:
        """Every input of every model node (a column may appear several times)."""
        return [i for n in _walk(self.root) if isinstance(n, ModelNode) for i in n.inputs]

    def axes(self, primary: str) -> dict[str, SpectralAxis]:
        """``{column read: axis}``, primary inputs named ``primary``; an input reading one
        column on two axes is an :class:`AxisError`."""
        out: dict[str, SpectralAxis] = {}
        for inp in self.inputs():
            column = primary if inp.primary else inp.column
            if out.setdefault(column, inp.axis) != inp.axis:
                msg = f"the graph reads column {column!r} on two axes"
                raise AxisError(msg)
        return out

    def metadata_columns(self) -> list[str]:
        """Non-spectral columns the graph reads (separation columns)."""
        cols = [n.column for n in _walk(self.root) if isinstance(n, SeparateNode)]
        return list(dict.fromkeys(cols))

    def compile(self, model_fn: ModelFn = _default_model_fn) -> Predict:
        """``(frame, primary column) -> (n, outputs)``, operators and models rebuilt once."""
        return _compile(self.root, model_fn)

    def predict(self, frame: pl.DataFrame, *, primary: str) -> npt.NDArray[np.float64]:
        """Predictions ``(n, outputs)`` for the rows of ``frame`` (spectra columns read as
        :meth:`axes` names them, separation columns by name)."""
        return self.compile()(frame, primary)

    def probe_frame(self, primary: str, n_rows: int = 4) -> pl.DataFrame:
        """Seeded spectra for every column read (and every branch value): a warm-up input."""
        rng = np.random.default_rng(20240601)
        data: dict[str, Any] = {
            col: rng.uniform(0.1, 1.0, size=(n_rows, len(axis)))
            for col, axis in self.axes(primary).items()
        }
        for n in _walk(self.root):
            if isinstance(n, SeparateNode):
                keys = sorted(n.branches)
                data[n.column] = [keys[i % len(keys)] for i in range(n_rows)]
        return pl.DataFrame(data)

    # -- storage ----------------------------------------------------------------------------
    def to_members(self) -> dict[str, bytes]:
        """``graph.json`` plus ``nodes/NNN/<chain member>`` for every chain (deterministic)."""
        chains: list[FittedChain] = []

        def ref(chain: FittedChain) -> str:
            chains.append(chain)
            return f"{len(chains) - 1:03d}"

        def model(node: ModelNode) -> dict[str, Any]:
            return {
                "node": "model",
                "inputs": [
                    {
                        "column": i.column,
                        "axis": i.axis.to_dict(),
                        "primary": i.primary,
                        "chain": ref(i.chain),
                    }
                    for i in node.inputs
                ],
                "merge": node.merge,
                "head": ref(node.head),
                "targets": [
                    {"method": t.method, "shift": list(t.shift), "scale": list(t.scale)}
                    for t in node.targets
                ],
            }

        def encode(node: Node) -> dict[str, Any]:
            if isinstance(node, StackNode):
                return {
                    "node": "stack",
                    "bases": [encode(b) for b in node.bases],
                    "meta": ref(node.meta),
                }
            if isinstance(node, SeparateNode):
                return {
                    "node": "separate",
                    "column": node.column,
                    "branches": {k: model(node.branches[k]) for k in sorted(node.branches)},
                }
            return model(node)

        root = encode(self.root)
        members: dict[str, bytes] = {}
        hashes = {}
        for i, chain in enumerate(chains):
            sub = chain.to_members()
            hashes[f"{i:03d}"] = members_hash(sub)
            members.update({f"nodes/{i:03d}/{name}": data for name, data in sub.items()})
        doc = {
            "format_version": GRAPH_FORMAT_VERSION,
            "kind": self.kind,
            "info": dict(self.info),
            "root": root,
            "chains": hashes,
        }
        members["graph.json"] = json.dumps(doc, sort_keys=True, indent=1).encode()
        return dict(sorted(members.items()))

    @classmethod
    def from_members(cls, members: Mapping[str, bytes]) -> FittedGraph:
        """Inverse of :meth:`to_members`; every chain must match its recorded hash."""
        doc = versioned_doc(members, "graph", GRAPH_FORMAT_VERSION)
        try:
            return cls(doc["kind"], _Decoder(members, doc["chains"]).node(doc["root"]), doc["info"])
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            msg = f"malformed graph.json: {exc!r}"
            raise WorkspaceError(msg) from exc

    def content_hash(self) -> str:
        """SHA-256 over the sorted members (as :meth:`FittedChain.content_hash`)."""
        return members_hash(self.to_members())


class _Decoder:
    """Rebuilds nodes from ``graph.json``, loading and hash-checking each chain once."""

    def __init__(self, members: Mapping[str, bytes], hashes: Mapping[str, str]) -> None:
        self.members = members
        self.hashes = dict(hashes)
        owned = {"graph.json"}
        for key in self.hashes:
            owned.update(n for n in members if n.startswith(f"nodes/{key}/"))
        stray = sorted(set(members) - owned)
        if stray:
            msg = f"graph members belong to no recorded chain: {stray[:5]}"
            raise WorkspaceError(msg)

    def chain(self, key: str) -> FittedChain:
        prefix = f"nodes/{key}/"
        sub = {n[len(prefix) :]: d for n, d in self.members.items() if n.startswith(prefix)}
        if key not in self.hashes or members_hash(sub) != self.hashes[key]:
            msg = f"graph chain {prefix} does not match its recorded hash (tampered or missing)"
            raise WorkspaceError(msg)
        return FittedChain.from_members(sub)

    def model(self, d: Mapping[str, Any]) -> ModelNode:
        if d["node"] != "model":
            msg = f"expected a model node; got {d['node']!r}"
            raise WorkspaceError(msg)
        inputs = tuple(
            SourceInput(
                str(i["column"]),
                SpectralAxis.from_dict(i["axis"]),
                self.chain(i["chain"]),
                primary=bool(i["primary"]),
            )
            for i in d["inputs"]
        )
        targets = tuple(
            TargetStep(
                str(t["method"]),
                tuple(float(v) for v in t["shift"]),
                tuple(float(v) for v in t["scale"]),
            )
            for t in d["targets"]
        )
        return ModelNode(inputs, self.chain(d["head"]), str(d["merge"]), targets)

    def stack(self, d: Mapping[str, Any]) -> StackNode:
        bases = tuple(self.stack(b) if b["node"] == "stack" else self.model(b) for b in d["bases"])
        return StackNode(bases, self.chain(d["meta"]))

    def node(self, d: Mapping[str, Any]) -> Node:
        if d["node"] == "stack":
            return self.stack(d)
        if d["node"] == "separate":
            branches = {str(k): self.model(v) for k, v in d["branches"].items()}
            return SeparateNode(str(d["column"]), branches)
        return self.model(d)


def fitted_from_members(members: Mapping[str, bytes]) -> FittedChain | FittedGraph:
    """A stored model: a graph when ``graph.json`` is present, else a chain.

    >>> fitted_from_members(FittedChain(()).to_members())
    FittedChain(steps=(), model=None)
    """
    if "graph.json" in members:
        return FittedGraph.from_members(members)
    return FittedChain.from_members(members)
