"""The workspace: versioned datasets, runs with lineage, fitted chains without pickle, bundles.

>>> from nirsframe.workspace import Workspace, dataset_hash
"""

from nirsframe.workspace.bundle import export_bundle, import_bundle, read_bundle
from nirsframe.workspace.chain import ChainStep, FittedChain, load_chain, save_chain
from nirsframe.workspace.graph import FittedGraph, UnseenGroupError
from nirsframe.workspace.hashing import dataset_hash, spec_hash
from nirsframe.workspace.store import DatasetRef, Lineage, RunRecord, Workspace

__all__ = [
    "ChainStep",
    "DatasetRef",
    "FittedChain",
    "FittedGraph",
    "Lineage",
    "RunRecord",
    "UnseenGroupError",
    "Workspace",
    "dataset_hash",
    "export_bundle",
    "import_bundle",
    "load_chain",
    "read_bundle",
    "save_chain",
    "spec_hash",
]
