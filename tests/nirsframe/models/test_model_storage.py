"""PLS-DA and OPLS in fitted chains: allow-listed, saved and loaded without pickle, exact."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from nirsframe.models import OPLS, PLSDA
from nirsframe.operators import StandardNormalVariate
from nirsframe.workspace.chain import NIRSFRAME_MODELS, FittedChain, load_chain, save_chain
from tests.conftest import synthetic_spectra

if TYPE_CHECKING:
    from pathlib import Path

X = synthetic_spectra(40, 50, seed=9)
Y = X[:, 10] * 3.0 - X[:, 35] + 0.1


def test_allow_listed() -> None:
    assert NIRSFRAME_MODELS["plsda"] == "nirsframe.models.plsda:PLSDA"
    assert NIRSFRAME_MODELS["opls"] == "nirsframe.models.opls:OPLS"


@pytest.mark.parametrize(
    "labels",
    [
        np.where(np.median(Y) < Y, "high", "low"),  # string classes, binary
        np.digitize(Y, np.quantile(Y, [0.33, 0.66])),  # integer classes, 3 of them
    ],
    ids=["strings", "integers"],
)
def test_plsda_chain_round_trip(tmp_path: Path, labels: np.ndarray) -> None:
    snv = StandardNormalVariate().fit(X)
    model = PLSDA(n_components=4).fit(snv.transform(X), labels)
    chain = FittedChain.from_estimators([snv], model)
    digest = save_chain(chain, tmp_path / "chain")
    loaded = load_chain(tmp_path / "chain")
    assert loaded.content_hash() == digest
    assert loaded.model is not None and loaded.model.op == "plsda"
    assert_array_equal(loaded.predict(X), model.predict(snv.transform(X)))
    rebuilt = loaded.build_model()
    assert isinstance(rebuilt, PLSDA)
    assert_array_equal(rebuilt.classes_, model.classes_)
    assert_array_equal(rebuilt.predict_proba(X), model.predict_proba(X))


def test_plsda_threshold_survives_storage(tmp_path: Path) -> None:
    labels = np.where(np.median(Y) < Y, 1, 0)
    model = PLSDA(n_components=3, threshold=0.7).fit(X, labels)
    save_chain(FittedChain.from_estimators([], model), tmp_path / "c")
    rebuilt = load_chain(tmp_path / "c").build_model()
    assert rebuilt.threshold == 0.7
    assert_array_equal(rebuilt.predict(X), model.predict(X))


def test_opls_chain_round_trip(tmp_path: Path) -> None:
    model = OPLS(n_orthogonal=2).fit(X, Y)
    chain = FittedChain.from_estimators([], model)
    digest = save_chain(chain, tmp_path / "chain")
    loaded = load_chain(tmp_path / "chain")
    assert loaded.content_hash() == digest
    assert loaded.model is not None and loaded.model.op == "opls"
    assert_array_equal(loaded.predict(X), model.predict(X))
    rebuilt = loaded.build_model()
    assert_array_equal(rebuilt.orthogonal_scores(X), model.orthogonal_scores(X))
