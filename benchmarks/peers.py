"""Create and locate the peers' own virtualenv (``benchmarks/.peers-venv``).

The libraries nirsframe is compared with (nirs4all, chemotools, ikpls, ...) are installed in a
separate virtualenv so that their dependency pins never leak into the project's ``.venv``. The
venv is created on first use and reused afterwards; it is gitignored.

Examples
--------
>>> from benchmarks.peers import PEERS_VENV
>>> PEERS_VENV.name
'.peers-venv'
"""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

PEERS_VENV = Path(__file__).resolve().parent / ".peers-venv"

# Pinned where the comparison depends on a version (nirs4all's engines changed across releases);
# nirs4all 1.4.10 pulls no deep-learning framework, so this stays CPU only.
PEER_REQUIREMENTS = (
    "nirs4all==1.4.10",
    "chemotools",
    "ikpls",
    "scikit-learn",
    "scipy",
    "pybaselines",
    "PyWavelets",
    "threadpoolctl",
    "pylance",  # case (d) reads and writes Lance datasets
)

_STAMP = PEERS_VENV / ".installed"


def peers_python() -> Path:
    """Return the path of the peers venv's interpreter (it may not exist yet)."""
    return PEERS_VENV / "bin" / "python"


def ensure_peers_venv(*, quiet: bool = False) -> Path:
    """Create the peers venv and install :data:`PEER_REQUIREMENTS` unless already done.

    Parameters
    ----------
    quiet
        Pass ``-q`` to pip.

    Returns
    -------
    pathlib.Path
        The venv's python interpreter.

    Examples
    --------
    >>> ensure_peers_venv()  # doctest: +SKIP
    PosixPath('.../benchmarks/.peers-venv/bin/python')
    """
    py = peers_python()
    wanted = "\n".join(PEER_REQUIREMENTS)
    if _STAMP.exists() and _STAMP.read_text() == wanted and py.exists():
        return py
    if not py.exists():
        # The base interpreter, not the project venv's, so the two environments are independent.
        venv.EnvBuilder(with_pip=True, clear=True).create(PEERS_VENV)
    pip = [str(py), "-m", "pip", "install", "--disable-pip-version-check"]
    if quiet:
        pip.append("-q")
    subprocess.run([*pip, *PEER_REQUIREMENTS], check=True)
    _STAMP.write_text(wanted)
    return py


if __name__ == "__main__":
    sys.stdout.write(f"{ensure_peers_venv()}\n")
