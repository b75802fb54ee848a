"""The package builder: a valid BagIt bag with SHA-256 and SM3 manifests (DA/T 97), a canonical
signed manifest, and never a silently altered original (第十七条第三款)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat

import bagit
import pytest

from conftest import start_together
from liuhen.core.testing import TEST_NOW
from liuhen.evidence.digests import digest_file
from liuhen.packaging import (
    DigestMismatch,
    InvalidPackagePath,
    KeyFileError,
    PackageBuilder,
    PackagingError,
    SigningKey,
    SM2SigningKey,
    SM3Bag,
    canonical_json,
    verifier,
)
from liuhen.packaging.tests.conftest import build

TOP_LEVEL = {
    "bagit.txt",
    "bag-info.txt",
    "manifest-sha256.txt",
    "manifest-sm3.txt",
    "tagmanifest-sha256.txt",
    "tagmanifest-sm3.txt",
    "manifest.json",
    "manifest.sig",
    "public-key.pem",
    "verify.py",
    "README.txt",
    "data",
}


def test_package_is_a_valid_bagit_bag_with_both_manifests(package, originals):
    root = package.path
    assert {p.name for p in root.iterdir()} == TOP_LEVEL
    bag = bagit.Bag(str(root))
    bag.validate()  # SHA-256 recomputed by the reference implementation
    assert bag.info["Source-Organization"] == "某市人力资源和社会保障局"
    assert bag.info["External-Identifier"] == "ZJB-2026-0012"
    assert bag.info["Bagging-Date"] == TEST_NOW.date().isoformat()
    total = sum(p.stat().st_size for p in originals.values()) + len(
        "证据清单\n1. 执法记录仪录像\n".encode()
    )
    assert bag.info["Payload-Oxum"] == f"{total}.5"
    SM3Bag(str(root)).validate()  # SM3 recomputed too
    sm3_lines = (root / "manifest-sm3.txt").read_text("utf-8").splitlines()
    for name, path in originals.items():
        digests = digest_file(path)
        assert f"{digests.sm3}  data/{name}" in sm3_lines
        assert (root / "data" / name).read_bytes() == path.read_bytes()


def test_plain_bagit_ignores_the_sm3_manifest_sm3bag_does_not(package):
    """Recorded finding: bagit 1.9 only reads hashlib.algorithms_guaranteed, so a wrong SM3
    manifest passes bagit.Bag.validate(); SM3Bag and our verifier catch it."""
    manifest = package.path / "manifest-sm3.txt"
    lines = manifest.read_text("utf-8").splitlines()
    lines[0] = "0" * 64 + lines[0][64:]
    manifest.write_text("\n".join(lines) + "\n", "utf-8")
    tags = package.path / "tagmanifest-sha256.txt"  # keep the tag manifest consistent
    tags.write_text(
        "".join(
            f"{hashlib.sha256((package.path / line.split('  ', 1)[1]).read_bytes()).hexdigest()}"
            f"  {line.split('  ', 1)[1]}\n"
            for line in tags.read_text("utf-8").splitlines()
        ),
        "utf-8",
    )
    assert bagit.Bag(str(package.path)).is_valid()
    with pytest.raises(bagit.BagValidationError, match="sm3"):
        SM3Bag(str(package.path)).validate()
    report = verifier.verify(package.path)
    assert "bag.manifest_digest" in {f.code for f in report.failures}


def test_manifest_is_canonical_signed_and_carries_the_callers_metadata(package, signer):
    data = (package.path / "manifest.json").read_bytes()
    manifest = json.loads(data)
    assert canonical_json(manifest) == data  # the one serialisation: sorted, UTF-8, indent 2
    assert "执法记录仪" in data.decode("utf-8")  # Chinese as itself, not \\u escapes
    signature = base64.b64decode((package.path / "manifest.sig").read_bytes())
    assert signer.verify(signature, data)
    assert (package.path / "public-key.pem").read_bytes() == signer.public_key_pem
    assert manifest["signature"]["public_key_fingerprint"] == signer.fingerprint
    assert manifest["package"]["metadata"]["court"] == "某市中级人民法院"
    assert manifest["package"]["created_at"] == TEST_NOW.isoformat(timespec="seconds")
    first = manifest["files"][0]
    assert first["path"] == "data/录像/执法记录仪_0001.MP4"
    assert first["metadata"]["device"] == "DSJ-00017"
    assert first["metadata"]["officer"] == {"name": "张三", "number": "44010012"}
    assert [c["action"] for c in first["metadata"]["custody"]] == ["ingested", "packaged"]
    assert first["metadata"]["captured_at"].endswith("+08:00")
    assert {f["path"] for f in manifest["files"]} == {f.path for f in package.files}
    verify_py = next(s for s in manifest["support_files"] if s["path"] == "verify.py")
    assert (
        verify_py["sha256"] == hashlib.sha256((package.path / "verify.py").read_bytes()).hexdigest()
    )
    assert package.manifest_sha256 == hashlib.sha256(data).hexdigest()
    assert package.manifest_sm3 == hashlib.new("sm3", data).hexdigest()


def test_sm2_signature_beside_ed25519_over_the_same_manifest(sm2_package, signer, sm2_signer):
    """第十七条第三款: the package carries the bureau's SM2 signature (GB/T 32918, SM3, default
    ID) beside the Ed25519 one, both over the exact bytes of manifest.json, which declares the
    SM2 key's fingerprint and lists its public key with the support files."""
    root = sm2_package.path
    data = (root / "manifest.json").read_bytes()
    manifest = json.loads(data)
    assert signer.verify(base64.b64decode((root / "manifest.sig").read_bytes()), data)
    sm2_signature = base64.b64decode((root / "manifest.sm2.sig").read_bytes())
    assert sm2_signer.verify(sm2_signature, data)
    assert (root / "public-key-sm2.pem").read_bytes() == sm2_signer.public_key_pem
    declared = manifest["signature_sm2"]
    assert declared["algorithm"] == "SM2" and declared["id"] == "1234567812345678"
    assert declared["digest"] == "sm3" and "GB/T 32918" in declared["standard"]
    assert declared["public_key_fingerprint"] == sm2_signer.fingerprint
    assert manifest["signature"]["algorithm"] == "Ed25519"  # beside it, not instead
    assert "public-key-sm2.pem" in {f["path"] for f in manifest["support_files"]}
    assert sm2_package.sm2_key_fingerprint == sm2_signer.fingerprint
    tags = (root / "tagmanifest-sha256.txt").read_text("utf-8")
    assert "manifest.sm2.sig" in tags and "public-key-sm2.pem" in tags
    bagit.Bag(str(root)).validate()
    report = verifier.verify(root)
    assert report.ok and {"signature.valid", "sm2.signature.valid"} <= {
        f.code for f in report.findings
    }


def test_without_an_sm2_key_the_package_is_signed_with_ed25519_alone(package):
    assert not (package.path / "manifest.sm2.sig").exists()
    assert "signature_sm2" not in json.loads((package.path / "manifest.json").read_bytes())
    assert package.sm2_key_fingerprint == ""


def test_result_lists_each_file_with_the_digests_of_the_original(package, originals):
    by_path = {f.path: f for f in package.files}
    for name, path in originals.items():
        d = digest_file(path)
        f = by_path[f"data/{name}"]
        assert (f.size, f.sha256, f.sm3) == (d.size, d.sha256, d.sm3)
    assert package.payload_bytes == sum(f.size for f in package.files)


def test_matching_expected_digests_are_accepted(tmp_path, signer, originals):
    name, path = next(iter(originals.items()))
    with PackageBuilder(
        tmp_path / "p", title="t", organization="o", external_id="x", signer=signer
    ) as builder:
        builder.add_file(name, path, expected=digest_file(path))  # a Digests
        builder.add_file("b.mp4", path, expected={"sha256": digest_file(path).sha256})
        result = builder.finish()
    assert len(result.files) == 2


def test_recorded_sm3_is_reused_when_the_copy_has_the_recorded_sha256(
    tmp_path, signer, originals, monkeypatch
):
    """Packaging hashes each copy once, with SHA-256 only, when the original's SHA-256 and SM3
    were recorded at ingest: equal SHA-256 means equal bytes, so the recorded SM3 holds (the
    bench's second SM3 pass removed, issue 11). No SM3 is computed for the payload here."""
    from liuhen.packaging import builder as builder_module

    def no_sm3(*args, **kwargs):
        raise AssertionError("SM3 computed for a payload whose SM3 was recorded")

    monkeypatch.setattr(builder_module, "DigestWriter", no_sm3)
    name, path = next(iter(originals.items()))
    recorded = digest_file(path)
    with PackageBuilder(
        tmp_path / "p", title="t", organization="o", external_id="x", signer=signer
    ) as builder:
        added = builder.add_file(name, path, expected=recorded)
        builder.finish()
    assert (added.size, added.sha256, added.sm3) == (recorded.size, recorded.sha256, recorded.sm3)
    # A changed byte still fails the build: SHA-256 is always computed from the copy.
    changed = tmp_path / "changed.mp4"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1
    changed.write_bytes(bytes(data))
    with (
        PackageBuilder(
            tmp_path / "q", title="t", organization="o", external_id="x", signer=signer
        ) as builder,
        pytest.raises(DigestMismatch, match="sha256"),
    ):
        builder.add_file(name, changed, expected=recorded)


@pytest.mark.parametrize("field", ["sha256", "sm3", "size"])
def test_an_original_that_differs_from_its_recorded_digests_fails_the_build(
    tmp_path, signer, originals, field
):
    name, path = next(iter(originals.items()))
    recorded = digest_file(path)
    expected = {"sha256": recorded.sha256, "sm3": recorded.sm3, "size": recorded.size}
    expected[field] = "0" * 64 if field != "size" else recorded.size + 1
    dest = tmp_path / "p"
    # A recorded SM3 is reused when the copy's SHA-256 matches (see the next test); a recorded
    # SM3 that is itself wrong is caught when the builder is told to recompute it.
    builder = PackageBuilder(
        dest,
        title="t",
        organization="o",
        external_id="x",
        signer=signer,
        recompute_sm3=field == "sm3",
    )
    builder.add_bytes("before.txt", b"added before")
    with pytest.raises(DigestMismatch, match="包未生成") as caught:
        builder.add_file(name, path, expected=expected)
    assert field in caught.value.expected
    assert not dest.exists()
    assert list(tmp_path.iterdir()) == [tmp_path / "originals"]  # no partial folder left
    with pytest.raises(PackagingError, match="中止"):
        builder.finish()


def test_a_source_longer_or_shorter_than_declared_fails(tmp_path, signer):
    import io

    builder = PackageBuilder(
        tmp_path / "p", title="t", organization="o", external_id="x", signer=signer
    )
    with pytest.raises(DigestMismatch, match="大小"):
        builder.add_stream("a.bin", lambda: io.BytesIO(b"12345"), 4)
    builder = PackageBuilder(
        tmp_path / "q", title="t", organization="o", external_id="x", signer=signer
    )
    with pytest.raises(DigestMismatch):
        builder.add_stream("a.bin", lambda: io.BytesIO(b"123"), 4)


@pytest.mark.parametrize(
    "name",
    [
        "../escape.mp4",
        "a/./b.mp4",
        "",
        "con.txt",
        "a:b.mp4",
        "文件?.mp4",
        "x" * 65,
        "关于某公司拖欠劳动者工资一案的现场检查笔录.pdf",  # 22 characters, 67 bytes of UTF-8
        "trailing.",
        " lead.mp4",
        "tab\there.mp4",
        "😀.jpg",
        "a/b/c/d/e/f/g.mp4",
    ],
)
def test_names_a_disc_or_windows_cannot_hold_are_refused(tmp_path, signer, name):
    builder = PackageBuilder(
        tmp_path / "p", title="t", organization="o", external_id="x", signer=signer
    )
    with pytest.raises(InvalidPackagePath):
        builder.add_bytes(name, b"x")


def test_the_longest_chinese_name_a_disc_holds_is_accepted(tmp_path, signer):
    builder = PackageBuilder(
        tmp_path / "p", title="t", organization="o", external_id="x", signer=signer
    )
    name = "劳" * 20 + ".pdf"  # 64 bytes of UTF-8: pycdlib's Joliet limit
    builder.add_bytes(f"{name[:-4]}/{name}", b"x")
    result = builder.finish()
    assert [f.path for f in result.files] == [f"data/{name[:-4]}/{name}"]


def test_names_that_would_merge_on_windows_are_refused(tmp_path, signer):
    builder = PackageBuilder(
        tmp_path / "p", title="t", organization="o", external_id="x", signer=signer
    )
    builder.add_bytes("录像/A.mp4", b"x")
    with pytest.raises(InvalidPackagePath, match="同名"):
        builder.add_bytes("录像/a.MP4", b"y")
    builder = PackageBuilder(
        tmp_path / "q", title="t", organization="o", external_id="x", signer=signer
    )
    builder.add_bytes("录像", b"x")
    with pytest.raises(InvalidPackagePath):
        builder.add_bytes("录像/a.mp4", b"y")


def test_leaving_the_with_block_without_finish_leaves_nothing(tmp_path, signer):
    with PackageBuilder(
        tmp_path / "p", title="t", organization="o", external_id="x", signer=signer
    ) as builder:
        builder.add_bytes("a.txt", b"x")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(PackagingError, match="已存在"):
        (tmp_path / "exists").mkdir()
        PackageBuilder(
            tmp_path / "exists", title="t", organization="o", external_id="x", signer=signer
        )


@pytest.mark.parametrize("kind", [SigningKey, SM2SigningKey], ids=["ed25519", "sm2"])
def test_key_is_created_once_with_mode_0600_and_reloaded(tmp_path, kind):
    """The SM2 key is kept exactly as the Ed25519 key: created once, 0600, exclusively."""
    path = tmp_path / "keys" / "bureau.pem"
    key = kind.load_or_create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    again = kind.load_or_create(path)
    assert again.fingerprint == key.fingerprint
    assert kind.load(path).verify(key.sign(b"m"), b"m")


KEY_RACE = """
import sys
from liuhen.packaging import SigningKey, SM2SigningKey
kind = {"ed25519": SigningKey, "sm2": SM2SigningKey}[sys.argv[2]]
print("ready", flush=True)
sys.stdin.readline()
print(kind.load_or_create(sys.argv[1]).fingerprint)
"""


@pytest.mark.parametrize("kind", ["ed25519", "sm2"])
def test_processes_creating_the_key_together_all_sign_with_one_key(tmp_path, kind):
    """Web workers and the job worker may make the first package at once: the loser of the
    race must read the winner's key, never a file that exists but is still empty (it was
    created with O_EXCL and then written, so a loser could read nothing in between)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    env = {**os.environ, "PYTHONPATH": str(root)}
    for trial in range(3):
        path = tmp_path / f"keys{trial}" / "bureau.pem"
        prints = set(start_together(KEY_RACE, [[str(path), kind]] * 6, env))
        assert len(prints) == 1
        assert [p.name for p in path.parent.iterdir()] == ["bureau.pem"]
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def _p256_key_file(path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    path.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def _other_kind(kind):
    return SM2SigningKey if kind is SigningKey else SigningKey


@pytest.mark.parametrize(
    ("kind", "name"), [(SigningKey, "Ed25519"), (SM2SigningKey, "SM2")], ids=["ed25519", "sm2"]
)
def test_key_readable_by_others_missing_or_of_another_kind_is_refused(tmp_path, kind, name):
    path = tmp_path / "k.pem"
    kind.load_or_create(path)
    os.chmod(path, 0o644)
    with pytest.raises(KeyFileError, match="0600"):
        kind.load(path)
    with pytest.raises(KeyFileError, match="不存在"):
        kind.load(tmp_path / "missing.pem")
    others = [tmp_path / "p256.pem", tmp_path / "other.pem"]
    _p256_key_file(others[0])  # an EC key on another curve
    _other_kind(kind).load_or_create(others[1])  # the other kind of the bureau's keys
    for other in others:
        os.chmod(other, 0o600)
        with pytest.raises(KeyFileError, match=name):
            kind.load(other)


def test_sm2_key_with_a_password(tmp_path):
    path = tmp_path / "sm2.pem"
    key = SM2SigningKey.load_or_create(path, password=b"bureau secret")
    assert b"ENCRYPTED PRIVATE KEY" in path.read_bytes()
    assert SM2SigningKey.load(path, password=b"bureau secret").fingerprint == key.fingerprint
    assert key.verify(key.sign(b"m"), b"m")
    with pytest.raises(KeyFileError):
        SM2SigningKey.load(path, password=b"wrong")


def test_metadata_that_json_cannot_hold_is_refused_before_anything_is_signed(tmp_path, signer):
    with (
        pytest.raises(TypeError, match="not JSON serialisable"),
        PackageBuilder(
            tmp_path / "p",
            title="t",
            organization="o",
            external_id="x",
            signer=signer,
            metadata={"blob": object()},
        ) as builder,
    ):
        builder.add_bytes("a.txt", b"x")
        builder.finish()
    assert list(tmp_path.iterdir()) == []


def test_extra_bag_info_fields_are_written(tmp_path, signer, originals):
    result = build(
        tmp_path / "p",
        signer,
        originals,
        bag_info={"Contact-Name": "王五", "Internal-Sender-Identifier": "AR-7"},
    )
    info = bagit.Bag(str(result.path)).info
    assert info["Contact-Name"] == "王五"
    assert info["Internal-Sender-Identifier"] == "AR-7"
