"""nirskern imports numpy, numba (with llvmlite, numba's own IR builder, for an intrinsic) and the
standard library only (never polars, sklearn, scipy or nirsframe)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

KERNELS = Path(__file__).resolve().parents[2] / "kernels" / "nirskern"
ALLOWED = {"numpy", "numba", "llvmlite", "nirskern", "__future__"}


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("path", sorted(KERNELS.glob("*.py")), ids=lambda p: p.name)
def test_kernel_module_imports(path: Path) -> None:
    foreign = {
        r for r in imported_roots(path) if r not in ALLOWED and r not in sys.stdlib_module_names
    }
    assert not foreign, f"{path.name} imports {sorted(foreign)}"


def test_the_check_can_fail(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import polars as pl\nfrom sklearn.base import BaseEstimator\n")
    assert imported_roots(bad) - ALLOWED - set(sys.stdlib_module_names) == {"polars", "sklearn"}
