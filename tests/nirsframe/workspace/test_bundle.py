"""Bundles: signed round trips, tampering anywhere is rejected, pickle payloads never run."""

from __future__ import annotations

import io
import json
import pickle
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sklearn.cross_decomposition import PLSRegression

from nirsframe.dataset import SpectralDataset
from nirsframe.exceptions import BundleError
from nirsframe.operators import MultiplicativeScatterCorrection, StandardNormalVariate
from nirsframe.workspace import FittedChain, Workspace, export_bundle, import_bundle, read_bundle
from nirsframe.workspace.bundle import _zip_bytes, load_bundle_bytes

KEY = b"nirsframe-test-key-0123456789"  # test-only HMAC secret
GOLDEN = Path(__file__).with_name("golden_bundle_v1.zip")
GOLDEN_KEY = b"nirsframe-golden-bundle-key-v1"  # test-only; the golden bundle is HMAC-signed
II, JJ = np.meshgrid(np.arange(10.0), np.arange(20.0), indexing="ij")
# Closed-form spectra (no RNG): reproducible on any numpy.
GX = 1.0 + 0.3 * np.sin(0.4 * JJ + 0.7 * II) + 0.05 * II * np.cos(0.2 * JJ) + 0.01 * JJ
GY = 2.0 * GX[:, 5] - GX[:, 14] + 0.1 * np.arange(10.0)
GOLDEN_PREDICTIONS = [
    1.9730107088891478,
    1.9127874272090786,
    1.8472180171659518,
    1.5468140396768855,
    2.2648535827300442,
    1.9839457765951574,
    1.9954592758399057,
    1.9736884651114692,
    1.9574058041578428,
    1.9438622711778908,
]


def golden_chain() -> FittedChain:
    snv = StandardNormalVariate().fit(GX)
    msc = MultiplicativeScatterCorrection().fit(snv.transform(GX))
    pls = PLSRegression(n_components=2).fit(msc.transform(snv.transform(GX)), GY)
    return FittedChain.from_estimators([snv, msc], pls)


def make_workspace(root: Path) -> tuple[Workspace, str]:
    ws = Workspace(root)
    ref = ws.ingest(SpectralDataset.from_numpy(GX, y=GY), "golden", source="closed-form")
    chain = golden_chain()
    rec = ws.record_run(
        dataset=ref,
        spec_json='{"model":{"n_components":2,"op":"pls"},"steps":[{"op":"snv"},{"op":"msc"}]}',
        parameters={"cv": "none"},
        results={"rmse": 0.0},
        chain=chain,
        run_id="golden-run",
    )
    return ws, rec.run_id


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, str, bytes]:
    root = tmp_path_factory.mktemp("src")
    ws, run_id = make_workspace(root / "ws")
    path = export_bundle(ws, run_id, root / "b.zip", key=KEY)
    return ws, run_id, path.read_bytes()


def rejected(data: bytes, **kw: Any) -> bool:
    try:
        load_bundle_bytes(data, **{"key": KEY, **kw})
    except BundleError:
        return True
    return False


def manifest_span(data: bytes) -> tuple[int, int]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.getinfo("manifest.json")
    start = info.header_offset + 30 + len(info.filename)
    return start, start + info.file_size


def members_of(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def resign(members: dict[str, bytes], *, key: bytes = KEY, **manifest_changes: Any) -> bytes:
    """Re-hash and re-sign ``members``: what an attacker holding the key could produce."""
    import hashlib
    import hmac

    manifest = json.loads(members["manifest.json"])
    manifest["members"] = {
        n: hashlib.sha256(d).hexdigest()
        for n, d in members.items()
        if n not in ("manifest.json", "manifest.sig")
    }
    manifest.update(manifest_changes)
    raw = json.dumps(manifest).encode()
    sig = hmac.new(key, raw, hashlib.sha256).hexdigest()
    out = {**members, "manifest.json": raw}
    out["manifest.sig"] = json.dumps({"algorithm": "hmac-sha256", "signature": sig}).encode()
    return _zip_bytes(out)


# -- round trips ----------------------------------------------------------------------------
def test_export_import_round_trip(source: tuple[Workspace, str, bytes], tmp_path: Path) -> None:
    ws, run_id, data = source
    (tmp_path / "b.zip").write_bytes(data)
    dest = Workspace(tmp_path / "dest")
    rec = import_bundle(tmp_path / "b.zip", dest, key=KEY, require_signature=True)
    assert rec.operation == "import"
    assert rec.run_id == run_id
    assert rec.chain_hash == ws.run(run_id).chain_hash
    assert rec.origin is not None
    assert rec.origin["dataset"]["name"] == "golden"
    np.testing.assert_array_equal(dest.chain(run_id).predict(GX), ws.chain(run_id).predict(GX))
    assert import_bundle(tmp_path / "b.zip", dest, key=KEY) == rec  # idempotent
    manifest = json.loads(members_of(data)["manifest.json"])
    assert manifest["format_version"] == 1
    assert manifest["run"]["run_id"] == run_id
    assert manifest["lineage"]["raw_source"] == "closed-form"


def test_export_is_canonical_zip(source: tuple[Workspace, str, bytes]) -> None:
    _, _, data = source
    members = members_of(data)
    assert list(members)[:2] == ["manifest.json", "manifest.sig"]
    assert _zip_bytes(members) == data


def test_ed25519_and_key_files(
    source: tuple[Workspace, str, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws, run_id, _ = source
    private = Ed25519PrivateKey.generate()
    priv_pem = tmp_path / "k.pem"
    priv_pem.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    pub_pem = tmp_path / "k.pub"
    pub_pem.write_bytes(
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    path = export_bundle(ws, run_id, tmp_path / "e.zip", key=priv_pem, key_type="ed25519")
    assert read_bundle(path, key=pub_pem, key_type="ed25519").signed
    monkeypatch.setenv("NIRSFRAME_BUNDLE_KEY", str(pub_pem))
    assert read_bundle(path, key_type="ed25519", require_signature=True).signed
    other = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    with pytest.raises(BundleError, match="Ed25519"):
        read_bundle(path, key=other, key_type="ed25519")
    # Algorithm confusion: the public key used as an HMAC secret must not verify.
    with pytest.raises(BundleError, match=r"expected 'hmac-sha256'"):
        read_bundle(path, key=pub_pem, key_type="hmac")


def test_signature_policy(source: tuple[Workspace, str, bytes], tmp_path: Path) -> None:
    ws, run_id, data = source
    assert not rejected(data)
    assert rejected(data, key=b"another-key-of-16-bytes")
    with pytest.raises(BundleError, match="at least 16"):
        load_bundle_bytes(data, key=b"short")
    assert load_bundle_bytes(data, key=None).signed is False  # hashes still checked
    with pytest.raises(BundleError, match="signature is required"):
        load_bundle_bytes(data, key=None, require_signature=True)
    unsigned = export_bundle(ws, run_id, tmp_path / "u.zip").read_bytes()
    with pytest.raises(BundleError, match="not signed"):
        load_bundle_bytes(unsigned, key=KEY)


# -- tampering ------------------------------------------------------------------------------
def test_every_manifest_byte_flip_is_rejected(source: tuple[Workspace, str, bytes]) -> None:
    _, _, data = source
    start, end = manifest_span(data)
    for pos in range(start, end):
        bad = bytearray(data)
        bad[pos] ^= 0xFF
        assert rejected(bytes(bad)), pos


def test_sampled_byte_flips_are_rejected(source: tuple[Workspace, str, bytes]) -> None:
    _, _, data = source
    rng = np.random.default_rng(7)
    for pos in rng.choice(len(data), size=min(300, len(data)), replace=False):
        bad = bytearray(data)
        bad[pos] ^= 1 << int(rng.integers(8))
        assert rejected(bytes(bad)), pos
        assert rejected(bytes(bad), key=None), pos


@pytest.mark.slow
def test_every_byte_flip_is_rejected(source: tuple[Workspace, str, bytes]) -> None:
    _, _, data = source
    for pos in range(len(data)):
        bad = bytearray(data)
        bad[pos] ^= 0xFF
        assert rejected(bytes(bad), key=None), pos


def test_truncations_are_rejected(source: tuple[Workspace, str, bytes]) -> None:
    _, _, data = source
    for n in [0, 1, 4, 22, len(data) // 2, len(data) - 22, len(data) - 1, *range(0, len(data), 53)]:
        assert rejected(data[:n]), n
    assert rejected(data + b"\0")


@pytest.mark.parametrize(
    "name", ["evil.txt", "../x.npy", "arrays/../../x.npy", "/abs.npy", "a\\b.npy"]
)
def test_unknown_or_traversal_members_are_rejected(
    source: tuple[Workspace, str, bytes], name: str
) -> None:
    _, _, data = source
    members = {**members_of(data), name: b"x"}
    with pytest.raises(BundleError, match="unexpected member"):
        load_bundle_bytes(resign(members), key=KEY)


def test_duplicate_members_are_rejected(source: tuple[Workspace, str, bytes]) -> None:
    _, _, data = source
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for n, d in members_of(data).items():
            zf.writestr(n, d)
        with pytest.warns(UserWarning, match="Duplicate"):
            zf.writestr("spec.json", b"{}")
    with pytest.raises(BundleError, match="duplicate"):
        load_bundle_bytes(buf.getvalue(), key=KEY)


def test_non_canonical_zip_is_rejected(source: tuple[Workspace, str, bytes]) -> None:
    _, _, data = source
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, d in members_of(data).items():
            zf.writestr(n, d)
    assert rejected(buf.getvalue())


@pytest.mark.parametrize("version", [2, 0, "1", 1.0, None, True])
def test_wrong_format_version_is_rejected(
    source: tuple[Workspace, str, bytes], version: Any
) -> None:
    _, _, data = source
    with pytest.raises(BundleError, match="format_version"):
        load_bundle_bytes(resign(members_of(data), format_version=version), key=KEY)


def test_resigned_but_altered_member_list(source: tuple[Workspace, str, bytes]) -> None:
    _, _, data = source
    members = members_of(data)
    del members["spec.json"]
    with pytest.raises(BundleError, match=r"spec\.json"):
        load_bundle_bytes(resign(members), key=KEY)


class Boom:
    """Unpickling this creates a marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (self.marker,))


def test_pickle_payloads_are_never_executed(
    source: tuple[Workspace, str, bytes], tmp_path: Path
) -> None:
    _, _, data = source
    marker = tmp_path / "pwned"
    buf = io.BytesIO()
    np.save(buf, np.array([Boom(marker)], dtype=object), allow_pickle=True)
    payload = buf.getvalue()
    # Positive controls: the payloads do run when unpickled.
    np.load(io.BytesIO(payload), allow_pickle=True)
    assert marker.exists()
    marker.unlink()
    pickle.loads(pickle.dumps(Boom(marker)))
    assert marker.exists()
    marker.unlink()

    members = members_of(data)
    npy = next(n for n in members if n.startswith("arrays/") and "reference_" in n)
    dest = Workspace(tmp_path / "dest")
    attacks = [
        resign({**members, npy: payload}),  # an object array where a float array belongs
        resign({**members, "arrays/99_model.pkl": pickle.dumps(Boom(marker))}),
    ]
    for i, attack in enumerate(attacks):
        (tmp_path / f"a{i}.zip").write_bytes(attack)
        with pytest.raises(BundleError):
            import_bundle(tmp_path / f"a{i}.zip", dest, key=KEY)
        assert not marker.exists()
    assert dest.runs().height == 0
    assert not any((tmp_path / "dest" / "chains").iterdir())
    assert not (tmp_path / "dest" / "runs.lance").exists()


def test_failed_import_writes_nothing(source: tuple[Workspace, str, bytes], tmp_path: Path) -> None:
    _, _, data = source
    bad = bytearray(data)
    bad[len(bad) // 2] ^= 0x01
    (tmp_path / "bad.zip").write_bytes(bytes(bad))
    dest = Workspace(tmp_path / "dest")
    with pytest.raises(BundleError):
        import_bundle(tmp_path / "bad.zip", dest, key=KEY)
    assert sorted(p.name for p in (tmp_path / "dest").iterdir()) == [".locks", "chains", "datasets"]
    assert not any((tmp_path / "dest" / "chains").iterdir())


# -- golden bundle --------------------------------------------------------------------------
def test_golden_bundle_keeps_loading_and_predicting() -> None:
    """Format contract: a bundle written by format v1 loads and predicts the same numbers."""
    assert GOLDEN.stat().st_size < 16_000
    bundle = read_bundle(GOLDEN, key=GOLDEN_KEY, require_signature=True)
    assert bundle.manifest["format_version"] == 1
    assert [s.op for s in bundle.chain.steps] == ["snv", "msc"]
    np.testing.assert_allclose(bundle.chain.predict(GX), GOLDEN_PREDICTIONS, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        golden_chain().predict(GX), GOLDEN_PREDICTIONS, rtol=1e-12, atol=1e-12
    )


def write_golden(path: Path = GOLDEN) -> None:  # pragma: no cover - run by hand
    """Regenerate the golden bundle (only when the format version changes)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        ws, run_id = make_workspace(Path(tmp))
        export_bundle(ws, run_id, path, key=GOLDEN_KEY)
    print(golden_chain().predict(GX).tolist())


if __name__ == "__main__":  # pragma: no cover
    write_golden()
