"""The ``nirsframe`` command line (typer).

>>> from typer.testing import CliRunner
>>> CliRunner().invoke(app, ["operators", "--json"]).exit_code
0
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer
from rich.console import Console
from rich.table import Table

from nirsframe.exceptions import NirsframeError

app = typer.Typer(
    help="Dataframe-native NIR spectroscopy: search, fit, keep and replay chemometric models.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()

RANK_COLUMNS = ("preprocessing", "model", "n_components", "rmsecv", "r2cv", "rmsep", "r2p")


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
    """Run the CLI, turning nirsframe errors into a one-line reason."""
    try:
        app()
    except NirsframeError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)





@app.command()
def demo(
    workspace: Annotated[
        Path, typer.Option(help="Lance workspace directory for the results.")
    ] = Path("nirsframe-workspace"),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    top: Annotated[int, typer.Option(help="Rows of the ranking to print.")] = 10,
) -> None:
    """Search preprocessings x PLS 1-20 on the shipped Tecator data (fat) and rank them."""
    from nirsframe.demo import run_demo

    try:
        result = run_demo(workspace)
    except NirsframeError as exc:
        fail(str(exc))
        return
    if as_json:
        typer.echo(json.dumps(result.to_json_dict(), default=str))
        return
    print_ranking(result.ranking, f"{result.name}: {len(result.variants)} variants", top)
    best = result.best
    console.print(
        f"best: {best['preprocessing']} + PLS({best['n_components']}): "
        f"RMSECV {best['rmsecv']:.4f}, RMSEP {best['rmsep']:.4f}; "
        f"steps computed: {result.applications}; run {result.run_id} in {workspace}/"
    )
