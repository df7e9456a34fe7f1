"""Fitted chains: exact round trips through JSON + .npy, allow-lists, probe checks, no pickle."""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from sklearn.cross_decomposition import PLSRegression
from sklearn.linear_model import BayesianRidge, ElasticNet, Lasso, LinearRegression, Ridge
from sklearn.svm import SVR

from nirsframe.exceptions import InvalidParameterError, WorkspaceError
from nirsframe.operators import (
    MultiplicativeScatterCorrection,
    SavitzkyGolay,
    StandardNormalVariate,
)
from nirsframe.workspace.chain import (
    ChainStep,
    FittedChain,
    array_from_npy,
    array_to_npy,
    load_chain,
    save_chain,
)
from tests.conftest import synthetic_spectra

if TYPE_CHECKING:
    from pathlib import Path

X = synthetic_spectra(30, 40, seed=3)
Y = X[:, 10] * 3.0 - X[:, 25] + 0.1


def fitted_steps() -> list[Any]:
    snv = StandardNormalVariate().fit(X)
    sg = SavitzkyGolay(window_length=7, polyorder=2, deriv=1).fit(snv.transform(X))
    msc = MultiplicativeScatterCorrection().fit(sg.transform(snv.transform(X)))
    return [snv, sg, msc]


def preprocess(x: np.ndarray) -> np.ndarray:
    for op in fitted_steps():
        x = op.transform(x)
    return x


MODELS = [
    LinearRegression(),
    Ridge(alpha=0.1),
    Lasso(alpha=1e-3, max_iter=50_000),
    ElasticNet(alpha=1e-3, max_iter=50_000),
    BayesianRidge(),
    PLSRegression(n_components=3),
]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: type(m).__name__)
def test_round_trip_predicts_identically(model: Any, tmp_path: Path) -> None:
    z = preprocess(X)
    model.fit(z, Y)
    chain = FittedChain.from_estimators(fitted_steps(), model)
    digest = save_chain(chain, tmp_path / "c")
    loaded = load_chain(tmp_path / "c")
    assert loaded.content_hash() == digest == chain.content_hash()
    np.testing.assert_array_equal(loaded.predict(X), np.asarray(model.predict(z)))
    np.testing.assert_array_equal(loaded.transform(X), z)


def test_members_are_json_and_npy_only() -> None:
    chain = FittedChain.from_estimators(fitted_steps(), Ridge().fit(preprocess(X), Y))
    members = chain.to_members()
    doc = json.loads(members["chain.json"])
    assert doc["format_version"] == 1
    assert [s["op"] for s in doc["steps"]] == ["snv", "savgol", "msc"]
    assert doc["model"]["op"] == "sklearn.Ridge"
    for name, data in members.items():
        if name != "chain.json":
            assert name.startswith("arrays/")
            assert name.endswith(".npy")
            np.load(io.BytesIO(data), allow_pickle=False)


def test_members_are_deterministic() -> None:
    a = FittedChain.from_estimators(fitted_steps(), Ridge().fit(preprocess(X), Y)).to_members()
    b = FittedChain.from_estimators(fitted_steps(), Ridge().fit(preprocess(X), Y)).to_members()
    assert a == b


def test_chain_without_model_transforms() -> None:
    chain = FittedChain.from_members(FittedChain.from_estimators(fitted_steps()).to_members())
    np.testing.assert_array_equal(chain.transform(X), preprocess(X))
    with pytest.raises(WorkspaceError, match="no model"):
        chain.predict(X)


def test_unlisted_model_is_refused() -> None:
    with pytest.raises(InvalidParameterError, match="cannot be stored without pickle"):
        FittedChain.from_estimators([], SVR().fit(X, Y))


def test_probe_mismatch_is_refused() -> None:
    chain = FittedChain.from_estimators([], Ridge().fit(X, Y))
    assert chain.model is not None
    arrays = dict(chain.model.arrays)
    arrays["coef_"] = arrays["coef_"] * (1 + 1e-15) + 1e-300
    tampered = FittedChain(
        (), ChainStep(chain.model.op, chain.model.params, arrays, chain.model.scalars)
    )
    with pytest.raises(WorkspaceError, match="probe"):
        tampered.predict(X)


def test_model_names_outside_the_allow_list_are_not_imported() -> None:
    step = ChainStep("os:system", {}, {})
    with pytest.raises(WorkspaceError, match="not allow-listed"):
        FittedChain((), step).build_model()


def test_object_arrays_are_refused() -> None:
    with pytest.raises(InvalidParameterError, match="numeric"):
        array_to_npy(np.array([object()], dtype=object))
    buf = io.BytesIO()
    np.save(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)  # the attack payload
    with pytest.raises(WorkspaceError, match=r"\.npy"):
        array_from_npy(buf.getvalue())


def test_bad_array_names_are_refused() -> None:
    with pytest.raises(InvalidParameterError, match="array name"):
        ChainStep("snv", {}, {"../x": np.zeros(1)})


def test_save_is_idempotent_and_refuses_a_different_chain(tmp_path: Path) -> None:
    a = FittedChain.from_estimators(fitted_steps(), Ridge(alpha=1.0).fit(X, Y))
    b = FittedChain.from_estimators(fitted_steps(), Ridge(alpha=2.0).fit(X, Y))
    assert save_chain(a, tmp_path / "c") == save_chain(a, tmp_path / "c")
    with pytest.raises(WorkspaceError, match="different chain"):
        save_chain(b, tmp_path / "c")
    assert [p.name for p in tmp_path.iterdir()] == ["c"]  # no temp dirs left behind


def test_wrong_format_version(tmp_path: Path) -> None:
    members = FittedChain.from_estimators(fitted_steps()).to_members()
    doc = json.loads(members["chain.json"])
    doc["format_version"] = 2
    members["chain.json"] = json.dumps(doc).encode()
    with pytest.raises(WorkspaceError, match="format_version"):
        FittedChain.from_members(members)
