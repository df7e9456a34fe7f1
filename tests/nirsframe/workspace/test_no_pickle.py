"""No pickle anywhere: every .py file under nirsframe/ and kernels/ is checked with ``ast``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
BANNED_MODULES = {
    "pickle",
    "cPickle",
    "_pickle",
    "joblib",
    "cloudpickle",
    "dill",
    "shelve",
    "marshal",
}
BANNED_CALLS = {"torch.load", "pickle.load", "pickle.loads", "joblib.load", "numpy.load.pickle"}


def _sources() -> list[Path]:
    return sorted(p for d in ("nirsframe", "kernels") for p in (ROOT / d).rglob("*.py"))


def _violations(source: str, filename: str) -> list[str]:
    """Lines of ``source`` that import a pickle-like module or load with pickle enabled."""
    tree = ast.parse(source, filename)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in BANNED_MODULES:
                    found.append(f"{filename}:{node.lineno} import {alias.name}")
        elif isinstance(node, ast.ImportFrom):
            if node.module and node.module.split(".")[0] in BANNED_MODULES:
                found.append(f"{filename}:{node.lineno} from {node.module} import")
        elif isinstance(node, ast.Call):
            func = ast.unparse(node.func)
            if func in BANNED_CALLS or func.endswith("torch.load") or func == "__import__":
                found.append(f"{filename}:{node.lineno} call {func}")
            for kw in node.keywords:
                if kw.arg == "allow_pickle" and not (
                    isinstance(kw.value, ast.Constant) and kw.value.value is False
                ):
                    found.append(f"{filename}:{node.lineno} {func}(allow_pickle=...)")
            if func.endswith("import_module") and node.args:
                arg = node.args[0]
                if isinstance(arg, ast.Constant) and str(arg.value).split(".")[0] in BANNED_MODULES:
                    found.append(f"{filename}:{node.lineno} import_module({arg.value!r})")
    return found


def test_sources_are_found() -> None:
    names = {p.name for p in _sources()}
    assert {"chain.py", "bundle.py", "store.py"} <= names


@pytest.mark.parametrize(
    "snippet",
    [
        "import pickle",
        "import joblib as jl",
        "from cloudpickle import dumps",
        "import dill",
        "from pickle import loads",
        "torch.load('m.pt')",
        "np.load(f, allow_pickle=True)",
        "np.load(f, allow_pickle=flag)",
        "importlib.import_module('pickle')",
    ],
)
def test_checker_catches(snippet: str) -> None:
    """Positive controls: the checker flags each banned construct."""
    assert _violations(snippet, "<snippet>")


def test_checker_allows_safe_loads() -> None:
    assert not _violations("np.load(f, allow_pickle=False)\nimport json", "<snippet>")


def test_no_pickle_in_sources() -> None:
    problems = [v for p in _sources() for v in _violations(p.read_text(), str(p.relative_to(ROOT)))]
    assert not problems, "pickle-like code found:\n" + "\n".join(problems)
