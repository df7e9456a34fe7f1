"""Signed, self-checking bundles of one run: spec, fitted chain, run record and lineage.

A bundle is one zip file in a canonical form (members stored uncompressed, fixed timestamps,
fixed order; written by :func:`_zip_bytes`), with these members:

- ``manifest.json``: ``format_version`` (1 for a chain, 2 for a graph), code version, run
  record, lineage, and the SHA-256 of every other member;
- ``manifest.sig`` (when signed): HMAC-SHA256 or Ed25519 signature of the manifest bytes;
- ``spec.json``: the canonical pipeline spec;
- version 1: ``chain.json`` and ``arrays/NN_<name>.npy``: the fitted chain (see :mod:`.chain`);
- version 2: ``graph.json`` and ``nodes/NNN/...`` (each a chain's members): the fitted graph of
  a stacked, tuned, separated, multi-source or target-processed run (see :mod:`.graph`).

Reading checks, in order and before parsing anything else: the zip structure, the member names
(no unknown, duplicate or path-like names), that the file is byte-for-byte the canonical encoding
of its members (so a flipped byte anywhere in the file, even in zip metadata no reader looks at,
is rejected), the signature of the manifest, and every member's hash. Any failure is a
:class:`~nirsframe.exceptions.BundleError` and nothing is written to the workspace.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from nirsframe.exceptions import BundleError, InvalidParameterError, WorkspaceError
from nirsframe.workspace.chain import FittedChain
from nirsframe.workspace.graph import FittedGraph
from nirsframe.workspace.store import DatasetRef, RunRecord, Workspace, _code_version

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "BUNDLE_FORMAT_VERSION",
    "GRAPH_BUNDLE_FORMAT_VERSION",
    "KEY_ENV_VAR",
    "Bundle",
    "export_bundle",
    "import_bundle",
    "load_bundle_bytes",
    "read_bundle",
]

BUNDLE_FORMAT_VERSION = 1
#: The bundle format of a fitted graph (version 1 holds exactly one chain).
GRAPH_BUNDLE_FORMAT_VERSION = 2
KEY_ENV_VAR = "NIRSFRAME_BUNDLE_KEY"
KeyType = Literal["hmac", "ed25519"]
KeyLike = bytes | str | os.PathLike[str]
_ALGORITHMS: dict[str, str] = {"hmac": "hmac-sha256", "ed25519": "ed25519"}
_CHAIN_MEMBER = r"(chain\.json|arrays/[0-9]{2}_[A-Za-z_][A-Za-z0-9_]{0,63}\.npy)"
_MEMBER = re.compile(
    rf"^(manifest\.json|manifest\.sig|spec\.json|graph\.json|{_CHAIN_MEMBER}|nodes/[0-9]{{3}}/{_CHAIN_MEMBER})$"
)
_MAX_BYTES = 1 << 31  # stored zip without zip64: every offset must fit in 32 bits
_MIN_HMAC_KEY = 16
_DOS_DATE = (0 << 9) | (1 << 5) | 1  # 1980-01-01, the zip epoch: bundles are reproducible
_EXTERNAL_ATTR = 0o100644 << 16


_NOT_MODEL = ("manifest.json", "manifest.sig", "spec.json")


def _order(names: list[str]) -> list[str]:
    head = [n for n in ("manifest.json", "manifest.sig") if n in names]
    return head + sorted(n for n in names if n not in head)


def _zip_bytes(members: Mapping[str, bytes]) -> bytes:
    """The canonical zip of ``members``: stored, 1980-01-01 timestamps, fixed member order."""
    out = io.BytesIO()
    central = []
    for name in _order(list(members)):
        data = members[name]
        raw = name.encode("ascii")
        crc = zlib.crc32(data) & 0xFFFFFFFF
        offset = out.tell()
        out.write(
            struct.pack(
                "<IHHHHHIIIHH",
                0x04034B50,
                20,
                0,
                0,
                0,
                _DOS_DATE,
                crc,
                len(data),
                len(data),
                len(raw),
                0,
            )
        )
        out.write(raw)
        out.write(data)
        central.append(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                (3 << 8) | 20,
                20,
                0,
                0,
                0,
                _DOS_DATE,
                crc,
                len(data),
                len(data),
                len(raw),
                0,
                0,
                0,
                0,
                _EXTERNAL_ATTR,
                offset,
            )
            + raw
        )
    start = out.tell()
    for entry in central:
        out.write(entry)
    size = out.tell() - start
    n = len(central)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, n, n, size, start, 0))
    return out.getvalue()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- keys -----------------------------------------------------------------------------------
def _key_material(key: KeyLike | None) -> bytes | None:
    """Raw key bytes: ``bytes`` as given, a path's content, else the file named by the env var."""
    if key is None:
        env = os.environ.get(KEY_ENV_VAR)
        if not env:
            return None
        key = Path(env)
    if isinstance(key, bytes):
        return key
    path = Path(key)
    if not path.is_file():
        msg = f"bundle key file {str(path)!r} does not exist"
        raise BundleError(msg)
    return path.read_bytes().rstrip(b"\r\n")


def _check_key_type(key_type: str) -> str:
    if key_type not in _ALGORITHMS:
        msg = f"'key_type' must be one of {sorted(_ALGORITHMS)}; got {key_type!r}"
        raise BundleError(msg)
    return _ALGORITHMS[key_type]


def _hmac_key(material: bytes) -> bytes:
    if len(material) < _MIN_HMAC_KEY:
        msg = f"an HMAC bundle key must have at least {_MIN_HMAC_KEY} bytes; got {len(material)}"
        raise BundleError(msg)
    return material


def _sign(manifest: bytes, material: bytes, key_type: str) -> bytes:
    if key_type == "hmac":
        return hmac.new(_hmac_key(material), manifest, hashlib.sha256).digest()
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        if len(material) == 32:
            private = Ed25519PrivateKey.from_private_bytes(material)
        else:
            loaded = serialization.load_pem_private_key(material, password=None)
            if not isinstance(loaded, Ed25519PrivateKey):
                msg = f"the signing key is not an Ed25519 private key; got {type(loaded).__name__}"
                raise BundleError(msg)
            private = loaded
    except ValueError as exc:
        msg = f"cannot load the Ed25519 private key: {exc}"
        raise BundleError(msg) from exc
    return private.sign(manifest)


def _verify(manifest: bytes, signature: bytes, material: bytes, key_type: str) -> None:
    if key_type == "hmac":
        expected = hmac.new(_hmac_key(material), manifest, hashlib.sha256).digest()
        if not hmac.compare_digest(expected, signature):
            msg = "bundle signature does not match (HMAC-SHA256): tampered or wrong key"
            raise BundleError(msg)
        return
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

    try:
        if len(material) == 32:
            public = Ed25519PublicKey.from_public_bytes(material)
        elif b"PRIVATE KEY" in material:
            private = serialization.load_pem_private_key(material, password=None)
            if not isinstance(private, Ed25519PrivateKey):
                raise ValueError(type(private).__name__)
            public = private.public_key()
        else:
            loaded = serialization.load_pem_public_key(material)
            if not isinstance(loaded, Ed25519PublicKey):
                raise ValueError(type(loaded).__name__)
            public = loaded
    except ValueError as exc:
        msg = f"cannot load the Ed25519 verification key: {exc}"
        raise BundleError(msg) from exc
    try:
        public.verify(signature, manifest)
    except InvalidSignature as exc:
        msg = "bundle signature does not match (Ed25519): tampered or wrong key"
        raise BundleError(msg) from exc


# -- reading --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Bundle:
    """A verified bundle: its manifest, canonical spec JSON and fitted chain (or graph)."""

    manifest: Mapping[str, Any]
    spec_json: str
    chain: FittedChain | FittedGraph
    signed: bool

    @property
    def run(self) -> Mapping[str, Any]:
        """The run record (as exported)."""
        return self.manifest["run"]  # type: ignore[no-any-return]

    @property
    def lineage(self) -> Mapping[str, Any]:
        """The lineage of the run in its source workspace."""
        return self.manifest["lineage"]  # type: ignore[no-any-return]


def _members(data: bytes) -> dict[str, bytes]:
    """Member bytes of a canonical bundle zip, or a :class:`BundleError`."""
    if len(data) >= _MAX_BYTES:
        msg = f"bundle is too large ({len(data)} bytes; limit {_MAX_BYTES})"
        raise BundleError(msg)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
            names = [i.filename for i in infos]
            if len(set(names)) != len(names):
                dup = sorted({n for n in names if names.count(n) > 1})
                msg = f"bundle has duplicate members {dup}"
                raise BundleError(msg)
            for info in infos:
                if not _MEMBER.match(info.filename):
                    msg = f"bundle has an unexpected member {info.filename!r}"
                    raise BundleError(msg)
                if info.compress_type != zipfile.ZIP_STORED or info.file_size > len(data):
                    msg = f"bundle member {info.filename!r} is compressed or oversized"
                    raise BundleError(msg)
            members = {i.filename: zf.read(i) for i in infos}
    except BundleError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        msg = f"bundle is not a valid zip (truncated or corrupted): {exc}"
        raise BundleError(msg) from exc
    except (struct.error, NotImplementedError, RuntimeError, KeyError) as exc:
        msg = f"bundle zip structure is invalid: {exc!r}"
        raise BundleError(msg) from exc
    if _zip_bytes(members) != data:
        msg = "bundle is not in canonical form: its bytes were altered"
        raise BundleError(msg)
    return members


def read_bundle(
    path: str | os.PathLike[str],
    *,
    key: KeyLike | None = None,
    key_type: KeyType = "hmac",
    require_signature: bool = False,
) -> Bundle:
    """Read and verify a bundle without touching any workspace.

    Parameters
    ----------
    path
        The bundle file.
    key
        Verification key: ``bytes``, or the path of a key file; default: the file named by
        ``$NIRSFRAME_BUNDLE_KEY``. HMAC keys are the shared secret; Ed25519 keys are a PEM public
        (or private) key or 32 raw public-key bytes. With a key, a valid signature is required.
    key_type
        ``"hmac"`` or ``"ed25519"``: fixed by the caller, never taken from the bundle.
    require_signature
        Refuse unsigned bundles (and bundles read without a key).
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        msg = f"cannot read bundle {str(path)!r}: {exc}"
        raise BundleError(msg) from exc
    return load_bundle_bytes(data, key=key, key_type=key_type, require_signature=require_signature)


def load_bundle_bytes(
    data: bytes,
    *,
    key: KeyLike | None = None,
    key_type: KeyType = "hmac",
    require_signature: bool = False,
) -> Bundle:
    """:func:`read_bundle` on the bytes of a bundle file."""
    algorithm = _check_key_type(key_type)
    members = _members(data)
    if "manifest.json" not in members:
        msg = "bundle has no manifest.json"
        raise BundleError(msg)
    raw_manifest = members["manifest.json"]
    material = _key_material(key)
    signed = False
    if material is not None:
        if "manifest.sig" not in members:
            msg = "bundle is not signed but a key was given"
            raise BundleError(msg)
        try:
            sig = json.loads(members["manifest.sig"])
            sig_algorithm, signature = sig["algorithm"], bytes.fromhex(sig["signature"])
        except (ValueError, KeyError, TypeError) as exc:
            msg = f"manifest.sig is malformed: {exc!r}"
            raise BundleError(msg) from exc
        if sig_algorithm != algorithm:
            msg = f"bundle is signed with {sig_algorithm!r}; expected {algorithm!r}"
            raise BundleError(msg)
        _verify(raw_manifest, signature, material, key_type)
        signed = True
    elif require_signature:
        msg = f"a signature is required: pass key= or set ${KEY_ENV_VAR}"
        raise BundleError(msg)
    try:
        manifest = json.loads(raw_manifest)
    except ValueError as exc:
        msg = f"manifest.json is not JSON: {exc}"
        raise BundleError(msg) from exc
    if not isinstance(manifest, dict):
        msg = "manifest.json must be a JSON object"
        raise BundleError(msg)
    version = manifest.get("format_version")
    versions = (BUNDLE_FORMAT_VERSION, GRAPH_BUNDLE_FORMAT_VERSION)
    if type(version) is not int or version not in versions:
        msg = f"unsupported bundle format_version {version!r}; this reader reads {list(versions)}"
        raise BundleError(msg)
    listed = manifest.get("members")
    if not isinstance(listed, dict):
        msg = "manifest.json 'members' must be an object"
        raise BundleError(msg)
    present = set(members) - {"manifest.json", "manifest.sig"}
    if set(listed) != present:
        listed_names = sorted(map(str, listed))
        msg = f"bundle members {sorted(present)} differ from the manifest's {listed_names}"
        raise BundleError(msg)
    for name in sorted(present):
        if not isinstance(listed[name], str) or not hmac.compare_digest(
            listed[name], _sha256(members[name])
        ):
            msg = f"bundle member {name!r} does not match its manifest hash"
            raise BundleError(msg)
    # Everything is authenticated: parse the rest.
    for k in ("run", "lineage"):
        if not isinstance(manifest.get(k), dict):
            msg = f"manifest.json {k!r} must be an object"
            raise BundleError(msg)
    model_members = {k: v for k, v in members.items() if k not in _NOT_MODEL}
    try:
        spec_json = members["spec.json"].decode("utf-8")
        chain: FittedChain | FittedGraph
        if ("graph.json" in model_members) != (version == GRAPH_BUNDLE_FORMAT_VERSION):
            holds = (
                "a graph (graph.json)" if version == GRAPH_BUNDLE_FORMAT_VERSION else "one chain"
            )
            msg = f"format_version {version} bundles hold {holds}; this one does not"
            raise WorkspaceError(msg)
        if version == GRAPH_BUNDLE_FORMAT_VERSION:
            chain = FittedGraph.from_members(model_members)
            chain.compile()  # rebuilds every operator and model (and checks their probes)
        else:
            chain = FittedChain.from_members(model_members)
            chain.operators()
            chain.build_model()
    except KeyError as exc:
        msg = f"bundle lacks member {exc}"
        raise BundleError(msg) from exc
    except (UnicodeDecodeError, WorkspaceError, InvalidParameterError, TypeError) as exc:
        msg = f"bundle content is invalid: {exc}"
        raise BundleError(msg) from exc
    return Bundle(manifest, spec_json, chain, signed)


# -- export / import ------------------------------------------------------------------------
def export_bundle(
    workspace: Workspace,
    run_id: str,
    path: str | os.PathLike[str],
    *,
    key: KeyLike | None = None,
    key_type: KeyType = "hmac",
) -> Path:
    """Write run ``run_id`` of ``workspace`` (spec, chain, record, lineage) as one bundle.

    Signed when a key is given or ``$NIRSFRAME_BUNDLE_KEY`` names a key file. The file is
    written to a temporary name and renamed, so ``path`` is never left half-written.

    Examples
    --------
    >>> export_bundle(ws, run_id, "model.nfb", key=b"0123456789abcdef")  # doctest: +SKIP
    """
    algorithm = _check_key_type(key_type)
    record = workspace.run(run_id)
    chain = workspace.fitted(run_id)
    material = _key_material(key)
    members = chain.to_members()
    members["spec.json"] = record.spec_json.encode()
    graph = isinstance(chain, FittedGraph)
    manifest = {
        "format_version": GRAPH_BUNDLE_FORMAT_VERSION if graph else BUNDLE_FORMAT_VERSION,
        "kind": "nirsframe.bundle",
        "created_at": datetime.now(UTC).isoformat(),
        "code_version": record.code_version,
        "exported_by": _code_version(),
        "signature_algorithm": algorithm if material is not None else None,
        "run": record.to_dict(),
        "lineage": workspace.lineage(run_id).to_dict(),
        "members": {n: _sha256(d) for n, d in sorted(members.items())},
    }
    raw = json.dumps(manifest, sort_keys=True, indent=1).encode()
    members["manifest.json"] = raw
    if material is not None:
        sig = {"algorithm": algorithm, "signature": _sign(raw, material, key_type).hex()}
        members["manifest.sig"] = json.dumps(sig, sort_keys=True).encode()
    out = Path(path)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    tmp.write_bytes(_zip_bytes(members))
    os.replace(tmp, out)
    return out


def import_bundle(
    path: str | os.PathLike[str],
    workspace: Workspace,
    *,
    key: KeyLike | None = None,
    key_type: KeyType = "hmac",
    require_signature: bool = False,
) -> RunRecord:
    """Verify a bundle, then record its run (operation ``"import"``) in ``workspace``.

    Nothing is written unless every check passes. Importing the same bundle twice returns the
    existing record; a different chain under the same run id is a :class:`BundleError`.
    """
    bundle = read_bundle(path, key=key, key_type=key_type, require_signature=require_signature)
    run = bundle.run
    try:
        d = run["dataset"]
        ref = DatasetRef(str(d["name"]), str(d["uri"]), int(d["version"]), str(d["hash"]))
        run_id = str(run["run_id"])
        pipeline_hash = str(run["pipeline_hash"])
        parameters = dict(run["parameters"])
        status = str(run["status"])
        duration = run.get("duration_s")
        duration_s = None if duration is None else float(duration)
    except (KeyError, TypeError, ValueError) as exc:
        msg = f"bundle run record is malformed: {exc!r}"
        raise BundleError(msg) from exc
    chain_hash = bundle.chain.content_hash()
    if run.get("chain_hash") != chain_hash:
        msg = "bundle chain does not match the chain hash of its run record"
        raise BundleError(msg)
    try:
        existing = workspace.run(run_id)
    except WorkspaceError:
        existing = None
    except ValueError as exc:
        msg = f"bundle run id {run_id!r} is invalid: {exc}"
        raise BundleError(msg) from exc
    if existing is not None:
        if existing.chain_hash != chain_hash:
            msg = f"run {run_id!r} already exists in the workspace with a different chain"
            raise BundleError(msg)
        return existing
    if workspace.chain_path(run_id).exists():
        msg = f"a chain for run {run_id!r} already exists in the workspace"
        raise BundleError(msg)
    return workspace.record_run(
        dataset=ref,
        spec_json=bundle.spec_json,
        pipeline_hash=pipeline_hash,
        parameters=parameters,
        chain=bundle.chain,
        run_id=run_id,
        status=status,
        duration_s=duration_s,
        operation="import",
        origin=bundle.lineage,
    )
