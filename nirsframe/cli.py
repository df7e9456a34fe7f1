"""The ``nirsframe`` command line (typer).

>>> from typer.testing import CliRunner
>>> CliRunner().invoke(app, ["operators", "--json"]).exit_code
0
"""

from __future__ import annotations

import json
import sys
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer
from rich.console import Console
from rich.table import Table

from nirsframe.exceptions import NirsframeError

if TYPE_CHECKING:
    import polars as pl

    from nirsframe.engine import EngineName
    from nirsframe.explain import Explanation
    from nirsframe.pipeline.result import SearchResult
    from nirsframe.workspace.bundle import KeyType

app = typer.Typer(
    help="Dataframe-native NIR spectroscopy: search, fit, keep and replay chemometric models.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()

RANK_COLUMNS = (
    "preprocessing",
    "model",
    "n_components",
    "rmsecv",
    "r2cv",
    "rmsep",
    "r2p",
    "accuracy_cv",
    "balanced_accuracy_cv",
    "accuracy_test",
)


def fail(message: str) -> None:
    """Print a one-line reason on stderr and exit with status 1."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def print_ranking(ranking: pl.DataFrame, title: str, n: int = 10) -> None:
    """A rich table of the ``n`` best rows."""
    table = Table(title=title)
    cols = [c for c in RANK_COLUMNS if c in ranking.columns]
    for c in cols:
        table.add_column(c, justify="left" if c in ("preprocessing", "model") else "right")
    for row in ranking.head(n).iter_rows(named=True):
        table.add_row(*(_fmt(row[c]) for c in cols))
    console.print(table)


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


@app.command()
def operators(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List every registered operator with its parameters and defaults."""
    from nirsframe.operators import REGISTRY

    rows: list[dict[str, Any]] = [
        {
            "name": name,
            "kind": info.kind,
            "class": info.estimator.__name__,
            "parameters": {
                k: f.default for k, f in info.params.model_fields.items() if k != "x_axis"
            },
            "summary": info.summary,
        }
        for name, info in sorted(REGISTRY.items())
    ]
    if as_json:
        typer.echo(json.dumps(rows, default=str))
        return
    table = Table(title=f"{len(rows)} operators")
    for c in ("name", "kind", "parameters", "summary"):
        table.add_column(c)
    for r in rows:
        params = ", ".join(f"{k}={v!r}" for k, v in r["parameters"].items())
        table.add_row(r["name"], r["kind"], params, r["summary"])
    console.print(table)


def main() -> None:  # pragma: no cover - console entry point
    """Run the CLI, turning nirsframe and file-system errors into a one-line reason."""
    try:
        app()
    except (NirsframeError, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)


WorkspaceOpt = Annotated[Path, typer.Option("--workspace", "-w", help="Lance workspace directory.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")]


def _search(
    pipeline: Path | str,
    data: Path | str,
    *,
    target: str | None,
    workspace: Path | None,
    train_values: list[str] | None,
    test_values: list[str] | None,
    quiet: bool,
    engine: str | None = None,
    ray_address: str | None = None,
) -> SearchResult:
    from nirsframe.api import run as run_search

    with console.status("searching...", spinner="dots") if not quiet else nullcontext():
        return run_search(
            pipeline,
            data,
            target=target,
            workspace=workspace,
            train_values=train_values,
            test_values=test_values,
            engine=cast("EngineName | None", engine),
            ray_address=ray_address,
        )


def _report(result: SearchResult, *, as_json: bool, quiet: bool, top: int) -> None:
    if as_json:
        typer.echo(json.dumps(result.to_json_dict(), default=str))
        return
    if quiet:
        return
    print_ranking(result.ranking, f"{result.name}: {len(result.variants)} variants", top)
    best = result.best
    comps = f"({best['n_components']})" if best["n_components"] else ""
    if "accuracy_cv" in best:
        test = best.get("accuracy_test")
        score = f"CV accuracy {best['accuracy_cv']:.4f}" + (
            f", test accuracy {test:.4f}" if test is not None else ""
        )
    else:
        rmsep = f", RMSEP {best['rmsep']:.4f}" if best["rmsep"] is not None else ""
        score = f"RMSECV {best['rmsecv']:.4f}{rmsep}"
    run_id = f"; run {result.run_id}" if result.run_id else ""
    console.print(f"best: {best['preprocessing']} + {best['model']}{comps}: {score}{run_id}")


@app.command()
def run(
    pipeline: Annotated[Path, typer.Argument(help="Pipeline file (YAML or JSON).")],
    data: Annotated[
        str,
        typer.Option("--data", "-d", help="Data: .parquet, .csv, .lance or a nirs4all folder."),
    ],
    target: Annotated[
        str | None, typer.Option(help="Target column (overrides the pipeline's).")
    ] = None,
    workspace: Annotated[
        Path | None, typer.Option("--workspace", "-w", help="Record the run in this workspace.")
    ] = None,
    train_value: Annotated[
        list[str] | None, typer.Option(help="Split-column values of training rows (repeatable).")
    ] = None,
    test_value: Annotated[
        list[str] | None, typer.Option(help="Split-column values of test rows (repeatable).")
    ] = None,
    engine: Annotated[
        str | None,
        typer.Option(
            help="Stream a Lance source by map-reduce instead of loading it: local or ray "
            "(nirsframe\\[ray]); stateless preprocessing + PLS only."
        ),
    ] = None,
    ray_address: Annotated[
        str | None,
        typer.Option("--ray-address", help="Ray cluster address, e.g. auto or ray://head:10001."),
    ] = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
    top: Annotated[int, typer.Option(help="Rows of the ranking to print.")] = 10,
) -> None:
    """Search every variant of PIPELINE on the data with cross-validation and rank them."""
    try:
        result = _search(
            pipeline,
            data,
            target=target,
            workspace=workspace,
            train_values=train_value,
            test_values=test_value,
            quiet=quiet or as_json,
            engine=engine,
            ray_address=ray_address,
        )
    except (NirsframeError, OSError) as exc:
        fail(str(exc))
        return
    _report(result, as_json=as_json, quiet=quiet, top=top)


@app.command()
def validate(
    pipeline: Annotated[Path, typer.Argument(help="Pipeline file (YAML or JSON).")],
    as_json: JsonOpt = False,
) -> None:
    """Check a pipeline file and count its variants (nothing is run)."""
    from nirsframe.pipeline.spec import expand, load_pipeline, pipeline_hash

    try:
        spec = load_pipeline(pipeline)
        n = len(expand(spec))
    except NirsframeError as exc:
        fail(str(exc))
        return
    digest = pipeline_hash(spec)
    info = {"name": spec.name, "variants": n, "pipeline_hash": digest}
    typer.echo(
        json.dumps(info) if as_json else f"{spec.name}: valid, {n} variants, hash {digest[:12]}"
    )


@app.command()
def predict(
    workspace: WorkspaceOpt,
    run_id: Annotated[str, typer.Option("--run", help="Run id to replay.")],
    data: Annotated[str, typer.Option("--data", "-d", help="Spectra to predict.")],
    out: Annotated[
        str, typer.Option("--out", "-o", help="Output .parquet file, or a Lance target URI.")
    ],
    resample: Annotated[
        bool, typer.Option(help="Resample onto the run's axis if it differs.")
    ] = False,
    engine: Annotated[
        str | None,
        typer.Option(
            help="Stream a Lance source into a Lance --out in one commit: local or ray "
            "(needs the nirsframe\\[ray] extra). Default: in memory, or local for a Lance --out."
        ),
    ] = None,
    ray_address: Annotated[
        str | None,
        typer.Option("--ray-address", help="Ray cluster address, e.g. auto or ray://head:10001."),
    ] = None,
    quiet: QuietOpt = False,
) -> None:
    """Predict new spectra with a recorded run's fitted chain (no pickle involved)."""
    from nirsframe.api import predict as replay
    from nirsframe.engine.route import lance_uri

    try:
        if engine is not None or lance_uri(out) is not None:
            version = replay(
                workspace, run_id, data, out=out, engine=cast("EngineName", engine or "local"),
                ray_address=ray_address, resample=resample,
            )  # fmt: skip
            if not quiet:
                console.print(f"predictions committed to {out} as version {version}")
            return
        frame = replay(workspace, run_id, data, resample=resample)
    except (NirsframeError, OSError) as exc:
        fail(str(exc))
        return
    frame.write_parquet(out)
    if not quiet:
        console.print(f"{frame.height} predictions written to {out}")


@app.command()
def runs(workspace: WorkspaceOpt, as_json: JsonOpt = False) -> None:
    """List the runs of a workspace."""
    from nirsframe.workspace import Workspace

    cols = ["run_id", "created_at", "operation", "dataset_name", "dataset_version", "pipeline_hash"]
    if not workspace.is_dir():
        fail(f"no workspace at {workspace}")
        return
    frame = Workspace(workspace).runs()
    frame = frame.select([c for c in cols if c in frame.columns])
    if as_json:
        typer.echo(frame.write_json())
        return
    table = Table(title=f"{frame.height} runs in {workspace}")
    for c in frame.columns:
        table.add_column(c)
    for row in frame.iter_rows():
        table.add_row(*(str(v)[:32] for v in row))
    console.print(table)


@app.command()
def lineage(
    run_id: Annotated[str, typer.Argument(help="Run id.")],
    workspace: WorkspaceOpt,
    verify: Annotated[bool, typer.Option(help="Re-hash the input dataset version.")] = False,
) -> None:
    """Print the chain prediction -> run -> pipeline -> dataset version -> raw data (JSON)."""
    from nirsframe.workspace import Workspace

    try:
        info = Workspace(workspace).lineage(run_id, verify=verify).to_dict()
    except NirsframeError as exc:
        fail(str(exc))
        return
    typer.echo(json.dumps(info, indent=2, default=str))


@app.command()
def tag(
    name: Annotated[str, typer.Argument(help="Tag name.")],
    workspace: WorkspaceOpt,
    dataset: Annotated[
        str | None, typer.Option(help="Tag a dataset version (default: the runs table).")
    ] = None,
    version: Annotated[int | None, typer.Option(help="Version to tag (default: latest).")] = None,
) -> None:
    """Name a version of a dataset (or of the runs table); tagged versions survive cleanup."""
    from nirsframe.workspace import Workspace

    try:
        v = Workspace(workspace).tag(name, version, dataset=dataset)
    except NirsframeError as exc:
        fail(str(exc))
        return
    typer.echo(f"tagged {dataset or 'runs'}@{v} as {name!r}")


@app.command("export")
def export_cmd(
    run_id: Annotated[str, typer.Argument(help="Run id.")],
    workspace: WorkspaceOpt,
    out: Annotated[Path, typer.Option("--out", "-o", help="Bundle file to write.")],
    key: Annotated[
        Path | None, typer.Option(help="Signing key file (HMAC secret or Ed25519 PEM).")
    ] = None,
    key_type: Annotated[str, typer.Option(help="hmac or ed25519.")] = "hmac",
) -> None:
    """Write a run as one verifiable bundle (manifest with hashes, spec, fitted arrays)."""
    from nirsframe.workspace import Workspace, export_bundle

    try:
        path = export_bundle(
            Workspace(workspace), run_id, out, key=key, key_type=cast("KeyType", key_type)
        )
    except NirsframeError as exc:
        fail(str(exc))
        return
    typer.echo(f"bundle written to {path}")


@app.command("import")
def import_cmd(
    bundle: Annotated[Path, typer.Argument(help="Bundle file.")],
    workspace: WorkspaceOpt,
    key: Annotated[Path | None, typer.Option(help="Verification key file.")] = None,
    key_type: Annotated[str, typer.Option(help="hmac or ed25519.")] = "hmac",
    require_signature: Annotated[bool, typer.Option(help="Refuse unsigned bundles.")] = False,
) -> None:
    """Verify a bundle (every hash, the signature) and record its run in the workspace."""
    from nirsframe.workspace import Workspace, import_bundle

    try:
        record_ = import_bundle(
            bundle,
            Workspace(workspace),
            key=key,
            key_type=cast("KeyType", key_type),
            require_signature=require_signature,
        )
    except NirsframeError as exc:
        fail(str(exc))
        return
    typer.echo(f"imported run {record_.run_id}")


@app.command()
def demo(
    workspace: WorkspaceOpt = Path("nirsframe-workspace"),
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
    top: Annotated[int, typer.Option(help="Rows of the ranking to print.")] = 10,
) -> None:
    """The main job on embedded defaults: the shipped Tecator data (fat), 7 preprocessings x
    PLS 1-20, 10-fold venetian CV on the C+M sets, RMSEP on the T set, recorded in a workspace
    with an HTML report (WORKSPACE/report.html)."""
    from nirsframe.demo import DEMO_PIPELINE, SAMPLE_DATA, TEST_VALUES, TRAIN_VALUES

    try:
        result = _search(
            DEMO_PIPELINE,
            SAMPLE_DATA,
            target=None,
            workspace=workspace,
            train_values=list(TRAIN_VALUES),
            test_values=list(TEST_VALUES),
            quiet=quiet or as_json,
        )
    except (NirsframeError, OSError) as exc:
        fail(str(exc))
        return
    _report(result, as_json=as_json, quiet=quiet, top=top)
    from nirsframe.report import report as write_report

    html = write_report(workspace, result.run_id or "", workspace / "report.html")
    if not (quiet or as_json):
        console.print(f"steps computed: {result.applications}; workspace: {workspace}/")
        console.print(f"report: {html}")


@app.command()
def generate(
    output: Annotated[Path, typer.Argument(help="Lance dataset to write.")],
    n_samples: Annotated[int, typer.Option("--n-samples", "-n", help="Physical samples.")] = 1000,
    components: Annotated[
        str, typer.Option(help="Comma-separated components (targets).")
    ] = "water,protein,fat,starch",
    instrument: Annotated[
        list[str] | None,
        typer.Option(help="NAME:START:STOP:N_POINTS[:RESOLUTION]; repeat for multi-source."),
    ] = None,
    repetitions: Annotated[int, typer.Option(help="Spectra per sample.")] = 1,
    classes: Annotated[int, typer.Option(help="Product types (0: none).")] = 0,
    closure: Annotated[bool, typer.Option(help="Close compositions to 100 %.")] = False,
    band_shape: Annotated[str, typer.Option(help="gaussian or voigt.")] = "gaussian",
    scatter: Annotated[float, typer.Option(help="Log multiplicative scatter std.")] = 0.1,
    noise: Annotated[float, typer.Option(help="Detector noise std.")] = 2e-4,
    dtype: Annotated[str, typer.Option(help="float32 or float64.")] = "float32",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    threads: Annotated[int, typer.Option(help="Blocks generated in parallel.")] = 1,
    mode: Annotated[str, typer.Option(help="create, append or overwrite.")] = "create",
    engine: Annotated[
        str,
        typer.Option(help="local (stream here) or ray (Ray tasks, one commit; nirsframe\\[ray])."),
    ] = "local",
    ray_address: Annotated[
        str | None,
        typer.Option("--ray-address", help="Ray cluster address, e.g. auto or ray://head:10001."),
    ] = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Stream synthetic NIR spectra (Beer-Lambert mixtures) into a Lance dataset."""
    from rich.progress import Progress

    from nirsframe.synthetic.command import run_generate

    kw: dict[str, Any] = {
        "components": components, "repetitions": repetitions, "n_classes": classes,
        "closure": closure, "band_shape": band_shape, "scatter": scatter, "noise": noise,
        "dtype": dtype, "seed": seed, "threads": threads, "mode": mode, "engine": engine,
        "ray_address": ray_address,
    }  # fmt: skip
    show = not (quiet or as_json)
    try:
        with Progress(console=console, disable=not show, transient=True) as bar:
            task = bar.add_task("generating", total=n_samples * max(repetitions, 1))
            summary = run_generate(
                output, n_samples, instruments=instrument or (),
                progress=lambda rows: bar.advance(task, rows), **kw,
            )  # fmt: skip
    except (NirsframeError, OSError, ValueError) as exc:
        fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return
    if as_json:
        typer.echo(json.dumps(summary))
    elif not quiet:
        console.print(
            f"wrote {summary['rows']} spectra to {summary['uri']} (version {summary['version']}) "
            f"in {summary['seconds']} s ({summary['spectra_per_minute']} spectra/min)"
        )


@app.command("predict-lance")
def predict_lance_cmd(
    workspace: WorkspaceOpt,
    run_id: Annotated[str, typer.Option("--run", help="Run id whose fitted chain predicts.")],
    source: Annotated[
        str, typer.Option("--source", "-s", help="Lance source URI (nirsframe-written).")
    ],
    out: Annotated[
        str, typer.Option("--out", "-o", help="Lance target URI (created when absent).")
    ],
    engine: Annotated[
        str, typer.Option(help="local (stream here) or ray (needs the nirsframe\\[ray] extra).")
    ] = "local",
    ray_address: Annotated[
        str | None,
        typer.Option("--ray-address", help="Ray cluster address, e.g. auto or ray://head:10001."),
    ] = None,
    source_version: Annotated[
        str | None, typer.Option(help="Source version number or tag (default: latest).")
    ] = None,
    mode: Annotated[
        str, typer.Option(help="append or overwrite when the target exists.")
    ] = "append",
    batch_rows: Annotated[int, typer.Option(help="Rows per batch.")] = 8192,
    storage_option: Annotated[
        list[str] | None,
        typer.Option(help="Lance storage option KEY=VALUE (repeatable), for both ends."),
    ] = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Predict a Lance dataset with a run's chain, committing ONE new version of the target."""
    from nirsframe.engine import predict_lance

    options: dict[str, str] = {}
    for item in storage_option or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            fail(f"--storage-option must be KEY=VALUE; got {item!r}")
        options[key] = value
    version: int | str | None = source_version
    if source_version is not None and source_version.isdigit():
        version = int(source_version)
    try:
        new = predict_lance(
            workspace, run_id, source, out, engine=engine, ray_address=ray_address,  # type: ignore[arg-type]
            source_version=version, mode=mode, batch_rows=batch_rows,  # type: ignore[arg-type]
            storage_options=options or None,
        )  # fmt: skip
    except NirsframeError as exc:
        fail(str(exc))
        return
    if as_json:
        typer.echo(json.dumps({"uri": out, "version": new, "engine": engine}))
    elif not quiet:
        console.print(f"predictions committed to {out} as version {new} ({engine} engine)")


@app.command()
def explain(
    run_id: Annotated[str, typer.Argument(help="Run id.")],
    workspace: WorkspaceOpt,
    repeats: Annotated[int, typer.Option("--repeats", help="Permutations per band.")] = 5,
    band_width: Annotated[
        int | None, typer.Option(help="Points per permuted band (default P // 50).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the band permutations.")] = 0,
    top: Annotated[int, typer.Option(help="Wavelengths to print, by importance.")] = 10,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Coefficients, VIP, band permutation importance (and SHAP if installed) of a run.

    A stacked or separated run is explained per model (each base, each group), one table each.
    """
    from nirsframe.explain import explain_nodes

    try:
        es = explain_nodes(workspace, run_id, n_repeats=repeats, band_width=band_width, seed=seed)
    except NirsframeError as exc:
        fail(str(exc))
        return
    if as_json:
        single = list(es) == ["model"]
        nodes = {name: e.to_json_dict() for name, e in es.items()}
        typer.echo(json.dumps(nodes["model"] if single else {"run_id": run_id, "nodes": nodes}))
        return
    if quiet:
        return
    for name, e in es.items():
        _explain_table(run_id if name == "model" else f"{run_id}, {name}", e, top)


def _explain_table(title: str, e: Explanation, top: int) -> None:
    frame = e.frame
    if "importance" in frame.columns and frame["importance"].null_count() < frame.height:
        frame = frame.sort("importance", descending=True, nulls_last=True)
    scale = ""
    if e.y_processing:
        scale = f", original target scale ({' -> '.join(e.y_processing)} inverted)"
    table = Table(
        title=f"run {title}: {e.model}"
        + (f" ({e.n_components} LV)" if e.n_components else "")
        + f", coef on the {e.coef_space} axis{scale}"
    )
    cols = [
        c
        for c in ("wavelength", "coef", "vip", "importance", "importance_std", "shap_mean_abs")
        if c in frame.columns
    ]
    for c in cols:
        table.add_column(c, justify="right")
    for row in frame.head(top).iter_rows(named=True):
        table.add_row(*(_fmt(row[c]) for c in cols))
    console.print(table)
    for note in e.notes:
        console.print(f"note: {note}")


@app.command()
def report(
    run_id: Annotated[str, typer.Argument(help="Run id.")],
    workspace: WorkspaceOpt,
    out: Annotated[Path, typer.Option("--out", "-o", help="HTML file to write.")] = Path(
        "report.html"
    ),
    quiet: QuietOpt = False,
) -> None:
    """Write one self-contained HTML report of a run (ranking, plots embedded as PNG)."""
    from nirsframe.report import report as write_report

    try:
        path = write_report(workspace, run_id, out)
    except NirsframeError as exc:
        fail(str(exc))
        return
    if not quiet:
        console.print(f"report written to {path}")


@app.command("import-nirs4all")
def import_nirs4all(
    pipeline: Annotated[Path, typer.Argument(help="nirs4all pipeline file (.json or .yaml).")],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the spec here (default: stdout).")
    ] = None,
    target: Annotated[str, typer.Option(help="Target column of the converted spec.")] = "y",
    name: Annotated[str | None, typer.Option(help="Pipeline name (default: the file's).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Write JSON instead of YAML.")] = False,
) -> None:
    """Convert a nirs4all pipeline file into a nirsframe pipeline spec."""
    import yaml

    from nirsframe.pipeline.nirs4all_import import convert_nirs4all

    if not pipeline.is_file():
        fail(f"no such file: {pipeline}")
        return
    try:
        spec = convert_nirs4all(pipeline, target=target, name=name)
    except NirsframeError as exc:
        fail(str(exc))
        return
    if as_json:
        text = json.dumps(spec, indent=2, ensure_ascii=False) + "\n"
    else:
        text = yaml.safe_dump(spec, sort_keys=False, allow_unicode=True)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
