"""One self-contained HTML report of a recorded run (plots embedded as base64 PNG data URIs).

>>> import nirsframe as nf
>>> nf.report("ws", run_id, out="report.html")  # doctest: +SKIP
PosixPath('report.html')

Needs matplotlib (``pip install nirsframe[report]``); it is driven through the non-interactive
Agg backend, so no display is needed and the caller's pyplot state is left alone.
"""

from __future__ import annotations

import base64
import html
import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import polars as pl

from nirsframe._rundata import run_data
from nirsframe.exceptions import GraphKindError, InvalidParameterError
from nirsframe.explain import explain_nodes, model_parts
from nirsframe.workspace.graph import FittedGraph

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from nirsframe.dataset import SpectralDataset
    from nirsframe.explain import Explanation, ModelPart
    from nirsframe.workspace import FittedChain, Workspace

__all__ = ["TOP", "ranking_frame", "report"]

#: Rows of the ranking shown in the report.
TOP = 20
#: Spectra drawn in the raw/preprocessed panels (a seeded random subset).
N_SPECTRA = 40
_LABEL = re.compile(r"^(?P<pre>.*) \| (?P<model>[^|]*?)(?:\((?P<n>\d+)\))?$")
_METRICS = ("rmsecv", "r2cv", "bias", "sep", "rpd", "rmsec", "rmsep", "r2p")
_CSS = """
body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:2em auto;
max-width:1100px;color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.2em;border-bottom:1px solid #ddd;
padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;font-size:.85em;width:100%}
th,td{padding:.3em .6em;border-bottom:1px solid #eee;text-align:right}
th{background:#f4f6f8;position:sticky;top:0}td.l,th.l{text-align:left}
tr.best{background:#eef6ee;font-weight:600}
.meta{color:#555;font-size:.9em}.meta code{background:#f4f6f8;padding:0 .3em}
figure{margin:1.2em 0}figure img{max-width:100%}figcaption{color:#555;font-size:.85em}
"""


def _plt() -> Any:
    try:
        import matplotlib as mpl
    except ImportError as exc:  # pragma: no cover - depends on the environment
        msg = "reports need matplotlib: pip install 'nirsframe[report]'"
        raise InvalidParameterError(msg) from exc
    mpl.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _axis_label(unit: str) -> str:
    return {"nm": "Wavelength (nm)", "cm-1": "Wavenumber (cm$^{-1}$)"}.get(unit, "Channel index")


def _png(fig: Figure) -> str:
    """The figure as a ``data:image/png;base64,...`` URI (the figure is closed)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)  # the layout engines already fit the figure
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


@dataclass(frozen=True)
class _Section:
    title: str
    body: str


def ranking_frame(results: pl.DataFrame) -> pl.DataFrame:
    """One row per variant (``variant, preprocessing, model, n_components, <metrics>``).

    Built from a run's stored metric rows, sorted by RMSECV.
    """
    rows = results.filter(pl.col("metric").is_in(_METRICS))
    wide = rows.pivot(
        on="metric", index=["variant", "label"], values="value", aggregate_function="first"
    )
    parsed = [_LABEL.match(lbl or "") for lbl in wide["label"].to_list()]
    wide = wide.with_columns(
        pl.Series(
            "preprocessing",
            [m["pre"] if m else lbl for m, lbl in zip(parsed, wide["label"], strict=True)],
        ),
        pl.Series("model", [m["model"] if m else "" for m in parsed]),
        pl.Series(
            "n_components", [int(m["n"]) if m and m["n"] else None for m in parsed], dtype=pl.Int64
        ),
    )
    for m in _METRICS:
        if m not in wide.columns:
            wide = wide.with_columns(pl.lit(None, dtype=pl.Float64).alias(m))
    cols = ["variant", "preprocessing", "model", "n_components", *_METRICS]
    return wide.select(cols).sort(["rmsecv", "variant"], nulls_last=True)


def _table(ranking: pl.DataFrame, best: int | None) -> str:
    cols = [
        "preprocessing",
        "model",
        "n_components",
        "rmsecv",
        "r2cv",
        "bias",
        "rpd",
        "rmsec",
        "rmsep",
        "r2p",
    ]
    names = {"n_components": "LV", "rmsecv": "RMSECV", "r2cv": "R²CV", "bias": "Bias", "rpd": "RPD",
             "rmsec": "RMSEC", "rmsep": "RMSEP", "r2p": "R²P", "preprocessing": "Preprocessing",
             "model": "Model"}  # fmt: skip
    head = "".join(
        f'<th class="{"l" if c in ("preprocessing", "model") else ""}">{names[c]}</th>'
        for c in cols
    )
    body = []
    for i, row in enumerate(ranking.head(TOP).iter_rows(named=True), start=1):
        cls = ' class="best"' if row["variant"] == best else ""
        cells = [f"<td>{i}</td>"]
        for c in cols:
            v = row[c]
            text = "\u2013" if v is None else (f"{v:.4g}" if isinstance(v, float) else str(v))
            left = ' class="l"' if c in ("preprocessing", "model") else ""
            cells.append(f"<td{left}>{html.escape(text)}</td>")
        body.append(f"<tr{cls}>{''.join(cells)}</tr>")
    return (
        f'<table id="ranking"><thead><tr><th>#</th>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _rmse(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.sqrt(np.mean((y - p) ** 2)))


def _fig_pred_obs(plt: Any, preds: pl.DataFrame, target: str) -> Figure:
    scopes = [(s, preds.filter(pl.col("scope") == s)) for s in ("cv", "test")]
    scopes = [(s, f) for s, f in scopes if f.height]
    titles = {"cv": "Cross-validation (out-of-fold)", "test": "Test set"}
    metric = {"cv": "RMSECV", "test": "RMSEP"}
    colors = {"cv": "#1f77b4", "test": "#d62728"}
    fig, axes = plt.subplots(1, len(scopes), figsize=(5.2 * len(scopes), 4.6), squeeze=False)
    for ax, (scope, f) in zip(axes[0], scopes, strict=True):
        y, p = f["y_true"].to_numpy(), f["y_pred"].to_numpy()
        lo, hi = float(min(y.min(), p.min())), float(max(y.max(), p.max()))
        pad = 0.04 * (hi - lo or 1.0)
        ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="0.5", lw=1, ls="--", label="1:1")
        ax.scatter(y, p, s=18, alpha=0.75, color=colors[scope], edgecolor="white", linewidth=0.4)
        r2 = 1.0 - float(np.sum((y - p) ** 2) / np.sum((y - y.mean()) ** 2))
        ax.text(0.04, 0.96, f"{metric[scope]} = {_rmse(y, p):.3f}\nR² = {r2:.3f}\nn = {y.size}",
                transform=ax.transAxes, va="top", fontsize=9,
                bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "0.8"})  # fmt: skip
        ax.set(xlim=(lo - pad, hi + pad), ylim=(lo - pad, hi + pad), aspect="equal",
               xlabel=f"Observed {target}", ylabel=f"Predicted {target}",
               title=titles[scope])  # fmt: skip
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return cast("Figure", fig)


def _fig_residuals(plt: Any, preds: pl.DataFrame, target: str) -> Figure:
    fig, ax = plt.subplots(figsize=(8, 3.8))
    for scope, color, name in (("cv", "#1f77b4", "CV"), ("test", "#d62728", "Test")):
        f = preds.filter(pl.col("scope") == scope)
        if f.height:
            y, p = f["y_true"].to_numpy(), f["y_pred"].to_numpy()
            ax.scatter(p, y - p, s=16, alpha=0.7, color=color, edgecolor="white", linewidth=0.4,
                       label=f"{name} (sd {np.std(y - p, ddof=1):.3f})")  # fmt: skip
    ax.axhline(0.0, color="0.3", lw=1)
    ax.set(xlabel=f"Predicted {target}", ylabel=f"Residual {target} (observed \u2212 predicted)",
           title="Residuals")  # fmt: skip
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, fontsize=9)
    fig.tight_layout()
    return cast("Figure", fig)


def _fig_rmsecv(plt: Any, ranking: pl.DataFrame, best: dict[str, Any]) -> Figure | None:
    curves = ranking.filter(pl.col("n_components").is_not_null()).sort("n_components")
    if curves.height == 0:
        return None
    fig, ax = plt.subplots(figsize=(10, 4.4))
    groups = curves.partition_by(["preprocessing", "model"], as_dict=True, maintain_order=True)
    cmap = plt.get_cmap("tab10")
    for i, ((pre, model), f) in enumerate(sorted(groups.items(), key=lambda kv: str(kv[0]))):
        label = f"{pre} ({model})" if len({k[1] for k in groups}) > 1 else str(pre)
        ax.plot(f["n_components"], f["rmsecv"], marker="o", ms=3, lw=1.4, color=cmap(i % 10),
                label=label)  # fmt: skip
    if best.get("n_components") is not None and best.get("rmsecv") is not None:
        ax.scatter([best["n_components"]], [best["rmsecv"]], s=140, facecolor="none",
                   edgecolor="black", lw=1.5, zorder=5, label="selected")  # fmt: skip
    ax.set(xlabel="Number of latent variables", ylabel="RMSECV",
           title="RMSECV vs number of components per preprocessing")  # fmt: skip
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return cast("Figure", fig)


def _fig_spectra(
    plt: Any, x: np.ndarray, y: np.ndarray, chain: FittedChain, e: Explanation, target: str
) -> Figure:
    rng = np.random.default_rng(0)
    rows = np.sort(rng.choice(x.shape[0], min(N_SPECTRA, x.shape[0]), replace=False))
    raw, z = x[rows], chain.transform(x[rows])
    norm = plt.Normalize(float(y.min()), float(y.max()))
    cmap = plt.get_cmap("viridis")
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
    steps = " → ".join(e.steps) if e.steps else "none"
    for ax, data, wl, title in (
        (axes[0], raw, e.wavelength, "Raw spectra"),
        (axes[1], z, e.model_wavelength, f"Preprocessed ({steps})"),
    ):
        for k, r in enumerate(rows):
            ax.plot(wl, data[k], lw=0.8, alpha=0.85, color=cmap(norm(y[r])))
        ax.set(xlabel=_axis_label(e.unit), title=title, xlim=(wl.min(), wl.max()))
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("Signal (as stored)")
    axes[1].set_ylabel("Preprocessed signal")
    sm = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
    fig.colorbar(sm, ax=axes, label=target, fraction=0.03, pad=0.01)
    fig.suptitle(f"{len(rows)} of {x.shape[0]} labelled spectra, coloured by {target}", fontsize=10)
    return cast("Figure", fig)


def _fig_coef(plt: Any, e: Explanation) -> Figure:
    n = 2 if e.vip is not None else 1
    fig, axes = plt.subplots(n, 1, figsize=(9, 3.2 * n), sharex=True, squeeze=False)
    ax = axes[0][0]
    ax.axhline(0.0, color="0.5", lw=0.8)
    ax.plot(e.coef_wavelength, e.coef, color="#1f77b4", lw=1.4)
    space = "raw spectra" if e.coef_space == "original" else "preprocessed spectra"
    lv = f", {e.n_components} LV" if e.n_components else ""
    scale = ", original target scale" if e.y_processing else ""
    ax.set(ylabel="Coefficient", title=f"Regression coefficients ({space}{lv}{scale})")
    ax.grid(alpha=0.3)
    if e.vip is not None:
        ax2 = axes[1][0]
        ax2.fill_between(e.model_wavelength, e.vip, color="#2ca02c", alpha=0.25, lw=0)
        ax2.plot(e.model_wavelength, e.vip, color="#2ca02c", lw=1.4)
        ax2.axhline(1.0, color="#d62728", lw=1, ls="--", label="VIP = 1")
        ax2.set(ylabel="VIP", title="Variable importance in projection (preprocessed axis)")
        ax2.legend(frameon=False, fontsize=9)
        ax2.grid(alpha=0.3)
    axes[-1][0].set_xlabel(_axis_label(e.unit))
    fig.tight_layout()
    return cast("Figure", fig)


def _parts(fitted: FittedChain | FittedGraph, run_id: str) -> tuple[list[ModelPart], str]:
    """The run's models to plot one by one, or none and why (a model of several inputs)."""
    try:
        return model_parts(fitted, run_id), ""
    except GraphKindError:
        assert isinstance(fitted, FittedGraph)  # a chain is always one part
        cols = ", ".join(dict.fromkeys(i.column for i in fitted.inputs()))
        why = (
            f"the {fitted.kind!r} model reads {len(fitted.inputs())} preprocessed inputs (of "
            f"{cols}) at once, so it has no single preprocessing chain or wavelength axis to plot"
        )
        return [], why


def _kind(fitted: FittedChain | FittedGraph) -> str:
    """``chain``, ``stack graph``, ``tuned graph (n_components=9)``, ..."""
    if not isinstance(fitted, FittedGraph):
        return "chain"
    params = dict(fitted.info.get("params") or {})
    tuned = f" ({', '.join(f'{k}={v}' for k, v in sorted(params.items()))})" if params else ""
    return f"{fitted.kind} graph{tuned}"


def report(
    workspace: Workspace | str | Path,
    run_id: str,
    out: str | Path = "report.html",
    *,
    chain: FittedChain | FittedGraph | None = None,
    dataset: SpectralDataset | None = None,
) -> Path:
    """Write one self-contained HTML report of run ``run_id``; return its path.

    Sections: the ranking (top :data:`TOP` variants), predicted vs observed (CV and test
    predictions of the best variant), RMSECV vs number of components per preprocessing,
    residuals, raw and preprocessed spectra (a seeded sample of the run's dataset version,
    coloured by the target), and the regression coefficients and VIP vs wavelength. Plots are
    PNG images embedded as base64 data URIs, so the file can be mailed or archived alone.
    ``chain`` (the run's fitted chain or graph) and ``dataset`` skip loading them (used by
    sessions).

    A run stored as a fitted graph gets the spectra and coefficient sections once per model
    (per group of a separated run, per base of a stack; see
    :func:`~nirsframe.explain.model_parts`); a model reading several inputs (``sources``,
    ``views``) has no single axis for them, and one line says so instead.

    Parameters
    ----------
    workspace
        The workspace (or its directory).
    run_id
        The recorded run.
    out
        The HTML file to write (parent directories are created).
    """
    from nirsframe.workspace import Workspace

    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    record = ws.run(run_id)
    plt = _plt()
    fitted = chain if chain is not None else ws.fitted(run_id)
    ds = dataset or ws.open_dataset(record.dataset.name, record.dataset.version)
    columns = fitted.metadata_columns() if isinstance(fitted, FittedGraph) else []
    data = run_data(ws, record, ds, columns)
    target = data.target
    ranking = ranking_frame(ws.results(run_id))
    best_params = dict(record.parameters.get("best") or {})
    best_variant = best_params.get("variant")
    best_row = (
        ranking.filter(pl.col("variant") == best_variant).row(0, named=True)
        if best_variant is not None and ranking.filter(pl.col("variant") == best_variant).height
        else (ranking.row(0, named=True) if ranking.height else {})
    )
    preds = ws.predictions(run_id)
    if best_variant is not None:
        preds = preds.filter(pl.col("variant") == best_variant)
    preds = preds.filter(pl.col("scope").is_in(["cv", "test"]) & pl.col("y_true").is_not_null())
    parts, omitted = _parts(fitted, run_id)
    explained = (
        explain_nodes(ws, run_id, importance=False, shap=False, chain=fitted, dataset=ds)
        if parts
        else {}
    )

    figures: list[tuple[str, str, str]] = []  # (title, caption, data URI)
    with plt.rc_context({"font.size": 10, "axes.titlesize": 11, "axes.spines.top": False,
                         "axes.spines.right": False}):  # fmt: skip
        if preds.height:
            figures.append(("Predicted vs observed",
                            "Out-of-fold (CV) and test predictions of the selected model.",
                            _png(_fig_pred_obs(plt, preds, target))))  # fmt: skip
        curve = _fig_rmsecv(plt, ranking, best_row)
        if curve is not None:
            figures.append(("RMSECV vs number of components",
                            "Cross-validated error of every variant, one line per "
                            "preprocessing; the circle marks the selected model.",
                            _png(curve)))  # fmt: skip
        if preds.height:
            figures.append(("Residuals", "Residuals of the selected model vs its prediction.",
                            _png(_fig_residuals(plt, preds, target))))  # fmt: skip
        for part in parts:
            e = explained[part.name]
            rows = part.rows(data, np.arange(data.y.size))
            of = "" if len(parts) == 1 else f" \u2014 {part.name}"
            figures.append((f"Spectra{of}", "A seeded sample of the run's spectra before and "
                            "after the selected preprocessing.",
                            _png(_fig_spectra(plt, data.x[rows], data.y[rows], part.chain, e,
                                              target))))  # fmt: skip
            figures.append((f"Coefficients and VIP{of}", "Regression coefficients and VIP "
                            "scores of the selected model. " + " ".join(e.notes),
                            _png(_fig_coef(plt, e))))  # fmt: skip

    esc = html.escape
    names = {"rmsecv": "RMSECV", "r2cv": "R²CV", "rmsep": "RMSEP", "r2p": "R²P"}
    summary = ", ".join(
        f"{names[k]} {best_row[k]:.4g}" for k in names if best_row.get(k) is not None
    )
    ref = record.dataset
    meta = (
        f'<p class="meta">Run <code>{esc(run_id)}</code> · created '
        f"{esc(record.created_at.strftime('%Y-%m-%d %H:%M UTC'))} · dataset "
        f"<code>{esc(ref.name)}@{ref.version}</code> (sha256 {esc(ref.hash[:12])}) · pipeline "
        f"<code>{esc(record.pipeline_hash[:12])}</code> · nirsframe {esc(record.code_version)}</p>"
        f'<p class="meta">Target <b>{esc(target)}</b> · {data.train.size} training rows, '
        f"{data.test.size} test rows · {ranking.height} variants · fitted model: "
        f"{esc(_kind(fitted))}</p>"
    )
    best_txt = (
        f"<p><b>Selected:</b> {esc(str(best_row.get('preprocessing', '')))} + "
        f"{esc(str(best_row.get('model', '')))}"
        + (f" ({best_row['n_components']} LV)" if best_row.get("n_components") else "")
        + (f" — {esc(summary)}" if summary else "")
        + "</p>"
    )
    sections = [
        _Section("Summary", meta + best_txt),
        _Section(f"Ranking (top {min(TOP, ranking.height)})", _table(ranking, best_variant)),
    ]
    for title, caption, uri in figures:
        sections.append(
            _Section(
                title,
                f'<figure><img src="{uri}" alt="{esc(caption)}">'
                f"<figcaption>{esc(caption)}</figcaption></figure>",
            )
        )
    if omitted:
        body = f'<p class="omitted">Omitted: {esc(omitted)}.</p>'
        sections.append(_Section("Spectra, coefficients and VIP", body))
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    doc = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>nirsframe report — {esc(record.dataset.name)} / {esc(target)}</title>"
        f"<style>{_CSS}</style></head><body>"
        f"<h1>{esc(record.dataset.name)}: {esc(target)}</h1>"
        + "".join(f"<h2>{esc(s.title)}</h2>{s.body}" for s in sections)
        + f'<p class="meta">Generated by nirsframe on {stamp}.</p></body></html>\n'
    )
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(doc, encoding="utf-8")
    return path
