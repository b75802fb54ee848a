"""The offline verifier as a court clerk runs it (第十七条第三款): the package's own verify.py, in
a Python with nothing but the standard library; every kind of tampering named in its report."""

from __future__ import annotations

import ast
import base64
import glob
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from liuhen.packaging import verifier
from liuhen.packaging.tests.conftest import build, run_verifier

VERIFIER_SOURCE = Path(verifier.__file__)


def _flip_byte(path: Path, offset: int = 1000) -> None:
    data = bytearray(path.read_bytes())
    data[offset % len(data)] ^= 0x01
    path.write_bytes(bytes(data))


def test_package_passes_in_a_bare_python(package, bare_python):
    done = run_verifier(bare_python, package.path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "结论：通过" in done.stdout and "Result: PASSED" in done.stdout
    assert verifier.format_fingerprint(package.key_fingerprint) in done.stdout
    assert "5 个文件齐全" in done.stdout
    assert "SM3 实现 implementation: OpenSSL" in done.stdout


def test_package_passes_with_the_pure_python_sm3_forced(package, bare_python):
    done = run_verifier(bare_python, package.path, "--sm3", "python", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] is True
    assert report["sm3_implementation"] == "python"
    assert report["files_checked"] == 5
    assert report["bytes_checked"] == package.payload_bytes


def test_verifier_run_from_anywhere_checks_the_folder_it_is_in(package, bare_python, tmp_path):
    done = run_verifier(bare_python, package.path, cwd=tmp_path)
    assert done.returncode == 0, done.stdout


def test_fingerprint_given_by_the_bureau_must_match(package, bare_python):
    good = run_verifier(
        bare_python,
        package.path,
        "--fingerprint",
        verifier.format_fingerprint(package.key_fingerprint),
    )
    assert good.returncode == 0
    assert "公钥指纹与您提供的指纹一致" in good.stdout
    bad = run_verifier(bare_python, package.path, "--fingerprint", "ab" * 32)
    assert bad.returncode == 1
    assert "不是用局方的密钥签名的" in bad.stdout


def _tamper_payload(package):
    _flip_byte(package.path / "data/录像/执法记录仪_0001.MP4")
    return ["file.sha256", "file.sm3"], [
        "内容被改动：SHA-256 不符",
        "content ALTERED",
        "data/录像/执法记录仪_0001.MP4",
    ]


def _tamper_manifest_line(package):
    path = package.path / "manifest.json"
    text = path.read_text("utf-8").replace('"device": "DSJ-00017"', '"device": "DSJ-00099"', 1)
    path.write_text(text, "utf-8")
    return ["signature.invalid"], ["签名无效", "manifest.json was changed after signing"]


def _swap_signature(package, other):
    (package.path / "manifest.sig").write_bytes((other.path / "manifest.sig").read_bytes())
    return ["signature.invalid"], ["签名无效", "signature INVALID"]


def _remove_file(package):
    (package.path / "data/照片/现场照片 1.jpg").unlink()
    return ["file.missing"], ["文件缺失", "file MISSING", "data/照片/现场照片 1.jpg"]


def _add_file(package):
    (package.path / "data/录像/补充.mp4").write_bytes(b"not listed")
    return ["file.unlisted"], ["清单外的文件", "UNLISTED file", "data/录像/补充.mp4"]


@pytest.mark.parametrize("tamper", ["payload", "manifest_line", "signature", "missing", "extra"])
def test_tampering_is_detected_with_a_clear_message(
    tmp_path, signer, originals, package, bare_python, tamper
):
    if tamper == "signature":
        other = build(tmp_path / "other", signer, dict(list(originals.items())[:1]))
        codes, texts = _swap_signature(package, other)
    else:
        codes, texts = {
            "payload": _tamper_payload,
            "manifest_line": _tamper_manifest_line,
            "missing": _remove_file,
            "extra": _add_file,
        }[tamper](package)
    done = run_verifier(bare_python, package.path)
    assert done.returncode == 1, done.stdout
    assert "结论：未通过" in done.stdout and "Result: FAILED" in done.stdout
    for text in texts:
        assert text in done.stdout, done.stdout
    as_json = run_verifier(bare_python, package.path, "--json")
    assert as_json.returncode == 1
    found = {f["code"] for f in json.loads(as_json.stdout)["findings"] if f["status"] == "fail"}
    assert set(codes) <= found, found


def test_a_package_re_signed_with_another_key_is_caught_only_by_the_fingerprint(
    package, bare_python
):
    """An attacker who edits the manifest, re-signs it and swaps public-key.pem produces a
    self-consistent package: comparing the fingerprint (README, --fingerprint) catches it."""
    from liuhen.packaging import SigningKey, canonical_json

    attacker = SigningKey.generate()
    manifest = json.loads((package.path / "manifest.json").read_bytes())
    manifest["signature"]["public_key_fingerprint"] = attacker.fingerprint
    data = canonical_json(manifest)
    (package.path / "manifest.json").write_bytes(data)
    (package.path / "manifest.sig").write_bytes(base64.b64encode(attacker.sign(data)))
    (package.path / "public-key.pem").write_bytes(attacker.public_key_pem)
    done = run_verifier(bare_python, package.path, "--fingerprint", package.key_fingerprint)
    assert done.returncode == 1
    assert "key.untrusted" in done.stdout or "不是用局方的密钥签名的" in done.stdout
    assert "support.changed" not in done.stdout  # the verifier itself was not touched


def test_a_changed_verifier_or_tag_file_is_reported(package):
    with open(package.path / "verify.py", "a", encoding="utf-8") as fh:
        fh.write("\n# changed\n")
    (package.path / "bag-info.txt").write_bytes(
        (package.path / "bag-info.txt").read_bytes().replace(b"Payload-Oxum: ", b"Payload-Oxum: 1")
    )
    codes = {f.code for f in verifier.verify(package.path).failures}
    assert {"support.changed", "bag.tag_digest", "bag.oxum"} <= codes


def test_system_files_a_file_browser_leaves_are_notes_not_failures(package):
    (package.path / "data" / ".DS_Store").write_bytes(b"finder")
    (package.path / "data" / "录像" / "Thumbs.db").write_bytes(b"explorer")
    report = verifier.verify(package.path)
    assert report.ok
    assert sum(f.code == "file.system" for f in report.findings) == 2


def test_a_folder_without_a_manifest_fails_plainly(tmp_path, bare_python):
    (tmp_path / "verify.py").write_bytes(VERIFIER_SOURCE.read_bytes())
    done = run_verifier(bare_python, tmp_path)
    assert done.returncode == 1
    assert "没有 manifest.json" in done.stdout


def test_verifier_needs_nothing_newer_than_python_3_8():
    source = VERIFIER_SOURCE.read_text("utf-8")
    ast.parse(source, feature_version=(3, 8))
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            imported.add(node.module.split(".")[0])
    stdlib = {
        "__future__",
        "argparse",
        "base64",
        "hashlib",
        "json",
        "os",
        "stat",
        "struct",
        "sys",
        "time",
        "unicodedata",
        "concurrent",
    }
    assert imported <= stdlib, imported - stdlib


def _python38():
    found = shutil.which("python3.8")
    candidates = ([found] if found else []) + sorted(
        glob.glob("/root/.pyenv/versions/3.8*/bin/python3.8")
    )
    for candidate in candidates:
        probe = subprocess.run(
            [candidate, "-c", "import sys; print(sys.version_info[:2])"],
            capture_output=True,
            text=True,
        )
        if probe.returncode == 0 and probe.stdout.strip() == "(3, 8)":
            return candidate
    return None


@pytest.mark.skipif(_python38() is None, reason="no Python 3.8 interpreter on this machine")
def test_runs_under_a_real_python_3_8(package):
    done = run_verifier(_python38(), package.path, "--sm3", "python")
    assert done.returncode == 0, done.stdout + done.stderr


def test_without_sm3_in_openssl_the_builtin_sm3_is_used(package, monkeypatch):
    """A laptop whose OpenSSL lacks SM3 (hashlib.new("sm3") raises): auto falls back."""
    monkeypatch.setattr(verifier, "openssl_sm3_available", lambda: False)
    report = verifier.verify(package.path)
    assert report.ok, report.render()
    assert report.sm3 == "python"
    assert "内置纯 Python" in report.render()


# --- SM2 beside Ed25519 (GB/T 32918; 第十七条第三款) ---------------------------------------------


def test_sm2_package_passes_in_a_bare_python_with_both_fingerprints(
    sm2_package, sm2_signer, bare_python
):
    done = run_verifier(
        bare_python,
        sm2_package.path,
        "--fingerprint",
        sm2_package.key_fingerprint,
        "--sm2-fingerprint",
        verifier.format_fingerprint(sm2_signer.fingerprint),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SM2 签名（GB/T 32918，SM3）有效" in done.stdout
    assert "SM2 公钥指纹与您提供的指纹一致" in done.stdout
    assert verifier.format_fingerprint(sm2_signer.fingerprint) in done.stdout
    assert "Ed25519 与 SM2 签名均有效" in done.stdout
    as_json = json.loads(run_verifier(bare_python, sm2_package.path, "--json").stdout)
    assert as_json["ok"] and as_json["sm2_key_fingerprint"] == sm2_signer.fingerprint
    # the SM2 key given as a file (obtained from the bureau separately) works as well
    key_file = sm2_package.path.parent / "bureau-sm2.pem"
    key_file.write_bytes(sm2_signer.public_key_pem)
    by_file = run_verifier(bare_python, sm2_package.path, "--sm2-public-key", str(key_file))
    assert by_file.returncode == 0, by_file.stdout


def test_sm2_verified_with_the_builtin_sm3_too(sm2_package, monkeypatch):
    """A laptop whose OpenSSL has no SM3: Z and e come from the pure-Python SM3."""
    monkeypatch.setattr(verifier, "openssl_sm3_available", lambda: False)
    report = verifier.verify(sm2_package.path)
    assert report.ok, report.render()
    assert "sm2.signature.valid" in {f.code for f in report.findings}


def _sm2_flip_signature(package):
    path = package.path / "manifest.sm2.sig"
    signature = bytearray(base64.b64decode(path.read_bytes()))
    signature[-1] ^= 0x01  # one bit of s
    path.write_bytes(base64.b64encode(bytes(signature)) + b"\n")
    return {"sm2.signature.invalid"}, "SM2 签名无效"


def _sm2_change_manifest_line(package):
    path = package.path / "manifest.json"
    path.write_text(path.read_text("utf-8").replace('"DSJ-00017"', '"DSJ-00018"', 1), "utf-8")
    return {"signature.invalid", "sm2.signature.invalid"}, "SM2 签名无效"


def _sm2_remove_signature(package):
    (package.path / "manifest.sm2.sig").unlink()
    return {"sm2.signature.missing"}, "SM2 签名文件 manifest.sm2.sig 缺失"


def _sm2_replace_key(package):
    from liuhen.packaging import SM2SigningKey

    (package.path / "public-key-sm2.pem").write_bytes(SM2SigningKey.generate().public_key_pem)
    return {"sm2.key.mismatch", "sm2.signature.invalid", "support.changed"}, "公钥文件被替换"


@pytest.mark.parametrize(
    "tamper",
    [_sm2_flip_signature, _sm2_change_manifest_line, _sm2_remove_signature, _sm2_replace_key],
    ids=["signature_byte", "manifest_line", "signature_removed", "key_replaced"],
)
def test_sm2_tampering_is_detected_with_a_clear_message(sm2_package, bare_python, tamper):
    codes, text = tamper(sm2_package)
    done = run_verifier(bare_python, sm2_package.path, "--json")
    assert done.returncode == 1, done.stdout
    found = {f["code"] for f in json.loads(done.stdout)["findings"] if f["status"] == "fail"}
    assert codes <= found, found
    shown = run_verifier(bare_python, sm2_package.path)
    assert text in shown.stdout and "结论：未通过" in shown.stdout, shown.stdout


def test_sm2_fingerprint_asked_for_must_match_and_the_signature_exist(
    sm2_package, package, bare_python
):
    wrong = run_verifier(bare_python, sm2_package.path, "--sm2-fingerprint", "cd" * 32)
    assert wrong.returncode == 1 and "不是用局方的 SM2 密钥签名的" in wrong.stdout
    # An Ed25519-only package cannot pass a reader who asks for the SM2 signature.
    absent = run_verifier(bare_python, package.path, "--sm2-fingerprint", "cd" * 32)
    assert absent.returncode == 1 and "此包没有 SM2 签名" in absent.stdout
    plain = run_verifier(bare_python, package.path)
    assert plain.returncode == 0 and "SM2" not in plain.stdout.split("-" * 72)[0]


@pytest.mark.skipif(_python38() is None, reason="no Python 3.8 interpreter on this machine")
def test_sm2_package_verifies_under_a_real_python_3_8(sm2_package):
    done = run_verifier(_python38(), sm2_package.path, "--sm3", "python", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "sm2.signature.valid" in {f["code"] for f in json.loads(done.stdout)["findings"]}
