"""Archive package of a case (第十五条) and its DA/T 70 四性检测: written by the packaging
library (BagIt validated by ``bagit``), metadata JSON and XML, audit extract, the offline
verifier; the four checks pass on a good package and a flipped byte fails authenticity."""

from __future__ import annotations

import base64
import io
import json
import shutil
import subprocess
from xml.etree import ElementTree as ET

import bagit
import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone
from pypdf import PdfReader

from liuhen.audit.models import AuditEntry
from liuhen.core.errors import Conflict, Forbidden
from liuhen.keeping import archive, casefile
from liuhen.packaging import SigningKey, SM2SigningKey
from liuhen.packaging.keys import BureauKeys, bureau_keys

pytestmark = pytest.mark.django_db


@pytest.fixture
def keys():
    """The bureau's keys as the one loader gives them: Ed25519 and SM2 (GB/T 32918)."""
    return BureauKeys(SigningKey.generate(), SM2SigningKey.generate())


def test_case_package_and_four_checks(people, filed_case, keys, tmp_path):
    keeper = people["keeper_a"].user
    with pytest.raises(Conflict, match="装订"):
        archive.build_package(actor=keeper, case=filed_case, dest_dir=tmp_path, keys=keys)
    bound = casefile.bind(actor=keeper, case_file=casefile.assemble(
        actor=people["officer_a"].user, case=filed_case))
    with pytest.raises(Forbidden):
        archive.build_package(actor=people["officer_a"].user, case=filed_case,
                              dest_dir=tmp_path, keys=keys)
    package = archive.build_package(actor=keeper, case=filed_case, dest_dir=tmp_path,
                                    keys=keys)
    root = tmp_path / package.external_id
    bagit.Bag(str(root)).validate()
    paths = {p.relative_to(root / "data").as_posix() for p in (root / "data").rglob("*")
             if p.is_file()}
    assert f"卷宗/{bound.archive_number}.pdf" in paths
    assert sum(p.startswith("音像资料/") for p in paths) == 2
    assert sum(p.startswith("文字记录/") for p in paths) == 2  # the decision PDF and the scan
    assert {"metadata.json", "metadata.xml", "audit.json"} <= paths
    meta = json.loads((root / "data" / "metadata.json").read_text(encoding="utf-8"))
    xml = ET.fromstring((root / "data" / "metadata.xml").read_bytes())
    assert xml.tag == "案件档案包" and xml.findtext("档号") == bound.archive_number
    assert len(xml.findall("文件")) == len(meta["文件"]) == 5
    assert {f.findtext("SHA256") for f in xml.findall("文件")} == {f["SHA256"]
                                                                  for f in meta["文件"]}
    audit = json.loads((root / "data" / "audit.json").read_text(encoding="utf-8"))
    assert any(e["action"] == "casefile.bound" for e in audit[f"卷宗/{bound.archive_number}.pdf"])

    checks = package.checks
    assert [checks[k]["name"] for k in archive.CHECKS] == ["真实性", "完整性", "可用性", "安全性"]
    assert checks["authenticity"]["ok"] and checks["integrity"]["ok"]
    assert checks["usability"]["ok"] and {u["format"].split("/")[0] for u in
                                          checks["usability"]["files"]} >= {"PDF", "mov,mp4,m4a,3gp,3g2,mj2"}
    if shutil.which("clamscan") is None:
        assert checks["security"]["ok"] is None and "未安装" in checks["security"]["detail"]
    assert package.preserved
    report = json.loads(archive.report_json(package))
    assert report["preserved"] and report["checks"]["integrity"]["ok"]
    pdf = PdfReader(io.BytesIO(archive.report_pdf(package)))
    text = "".join(p.extract_text() for p in pdf.pages).replace(" ", "")
    assert all(name in text for name in ("真实性", "完整性", "可用性", "安全性", "已登记长期保存"))
    assert AuditEntry.objects.filter(action="package.built", outcome="succeeded").exists()

    # A flipped byte in an original: authenticity fails, the package would not be preserved.
    victim = next((root / "data" / "音像资料").iterdir())
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.chmod(0o644)
    victim.write_bytes(bytes(data))
    items = archive._items(filed_case, bound)
    again = archive.four_checks(root, items, fingerprint=keys.fingerprint,
                                sm2_fingerprint=keys.sm2_fingerprint)
    assert again["authenticity"]["ok"] is False
    assert any(victim.name in f for f in again["authenticity"]["failures"])


def test_archive_case_command_writes_package_and_disc_image(people, filed_case, tmp_path):
    """liuhen archive_case: the package, its four checks, an ISO image read back with the
    Chinese names intact."""
    from liuhen.packaging import read_back

    keeper = people["keeper_a"].user
    casefile.bind(actor=keeper, case_file=casefile.assemble(actor=people["officer_a"].user,
                                                            case=filed_case))
    key = tmp_path / "bureau.pem"
    SigningKey.load_or_create(key)
    SM2SigningKey.load_or_create(tmp_path / "signing-sm2.pem")  # beside --key (第十五条)
    out = io.StringIO()
    call_command("archive_case", filed_case.number, "--as", keeper.username, "--key", str(key),
                 "--dest", str(tmp_path / "out"), "--medium", "cd", stdout=out)
    text = out.getvalue()
    assert "真实性（authenticity）：通过" in text and "光盘映像" in text
    (iso,) = (tmp_path / "out" / "iso").rglob("*.iso")  # iso/<package>/, as the page writes
    report = read_back(iso)
    assert report.ok
    if shutil.which("isoinfo"):  # Debian's genisoimage; its -J prints CJK as '_' (test_disc)
        listing = subprocess.run(["isoinfo", "-R", "-f", "-i", str(iso)], capture_output=True,
                                 text=True, check=True).stdout
        assert "/data/音像资料/" in listing and "/data/卷宗/" in listing


def _hash_signature(db_dir, data: bytes, name: str) -> None:
    """A ClamAV hash signature (.hdb: MD5:size:name) of ``data``, in a database of our own:
    freshclam cannot reach ClamAV's servers here, and a test must not depend on them."""
    import hashlib

    db_dir.mkdir(exist_ok=True)
    (db_dir / "liuhen-test.hdb").write_text(
        f"{hashlib.md5(data).hexdigest()}:{len(data)}:{name}\n")  # noqa: S324 (ClamAV's format)


@pytest.mark.skipif(shutil.which("clamscan") is None,
                    reason="ClamAV (Debian clamav, Makefile SYSTEM_PACKAGES) not installed")
def test_security_check_scans_with_clamav_and_an_infected_file_blocks_preservation(
        people, filed_case, keys, tmp_path, settings):
    """DA/T 70 安全性: clamscan with the bureau's signature databases. None there: "not
    scanned", said so (not "clean"); a clean package passes; a file matching a signature fails
    the check and the package is not registered as preserved."""
    keeper = people["keeper_a"].user
    bound = casefile.bind(actor=keeper, case_file=casefile.assemble(
        actor=people["officer_a"].user, case=filed_case))
    db_dir = tmp_path / "clamav"
    settings.CLAMAV_DATABASE_DIR = db_dir  # not there yet: no signature database

    def build(where):
        return archive.build_package(actor=keeper, case=filed_case, dest_dir=tmp_path / where,
                                     keys=keys)

    unscanned = build("none")
    security = unscanned.checks["security"]
    assert security["ok"] is None and "没有病毒特征库" in security["detail"]
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(
        archive.report_pdf(unscanned))).pages).replace(" ", "")
    assert "没有病毒特征库" in text

    _hash_signature(db_dir, b"not in any package", "Liuhen.Test.Unrelated")
    clean = build("clean")
    assert clean.checks["security"]["ok"] is True and clean.preserved
    assert clean.checks["security"]["databases"] == ["liuhen-test.hdb"]
    assert "未发现病毒" in clean.checks["security"]["detail"]

    # The case file's PDF itself matches a signature: 安全性 fails, not preserved.
    _hash_signature(db_dir, casefile.read_pdf(bound), "Liuhen.Test.CaseFile")
    infected = build("infected")
    security = infected.checks["security"]
    assert security["ok"] is False and not infected.preserved
    assert any(f"卷宗/{bound.archive_number}.pdf" in line and "Liuhen.Test.CaseFile" in line
               for line in security["infected"])
    assert infected.checks["authenticity"]["ok"] and infected.checks["integrity"]["ok"]
    entry = AuditEntry.objects.filter(action="package.built").latest("id")
    assert entry.outcome == "failed" and entry.detail["checks"]["security"] is False


def test_security_check_without_clamscan_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(archive.shutil, "which", lambda name: None)
    result = archive._virus_scan(tmp_path)
    assert result["ok"] is None and "未安装 ClamAV" in result["detail"]


def test_two_packages_of_a_case_in_the_same_second_get_their_own_numbers(
        people, filed_case, keys, tmp_path):
    """A package rebuilt within the second (the clock stopped here) is a new package with its
    own number and folder, not an IntegrityError (the ClamAV test hit it on an idle machine)."""
    keeper = people["keeper_a"].user
    casefile.bind(actor=keeper, case_file=casefile.assemble(
        actor=people["officer_a"].user, case=filed_case))
    with time_machine.travel(timezone.now(), tick=False):
        first = archive.build_package(actor=keeper, case=filed_case, dest_dir=tmp_path,
                                      keys=keys)
        second = archive.build_package(actor=keeper, case=filed_case, dest_dir=tmp_path,
                                       keys=keys)
    assert second.external_id == f"{first.external_id}-2"
    assert (tmp_path / first.external_id).is_dir() and (tmp_path / second.external_id).is_dir()


def test_archive_package_signed_with_sm2_and_a_tampered_sm2_signature_is_named(
        people, filed_case, settings, tmp_path, bare_python):
    """第十五条 archive packages are signed by the same loader and keys as the supplies of
    第十七条第三款 (``LIUHEN_SM2_SIGNING``: Ed25519 and SM2). The offline verifier inside checks
    both; an SM2 signature swapped for another key's is named as such, while Ed25519 holds."""
    settings.SIGNING_KEY_FILE = tmp_path / "keys" / "signing.pem"
    settings.SM2_SIGNING, settings.SM2_SIGNING_KEY_FILE = True, ""
    settings.ARCHIVE_DIR = tmp_path / "archive"
    with pytest.raises(Conflict, match="liuhen signing_key"):  # never made on first use
        bureau_keys()
    call_command("signing_key", stdout=io.StringIO())
    keys = bureau_keys()
    keeper = people["keeper_a"].user
    casefile.bind(actor=keeper, case_file=casefile.assemble(
        actor=people["officer_a"].user, case=filed_case))
    package = archive.archive_case(actor=keeper, case=filed_case)
    assert (package.key_fingerprint, package.sm2_key_fingerprint) == (
        keys.fingerprint, keys.sm2.fingerprint)
    assert package.preserved and "SM2" in package.checks["authenticity"]["detail"]
    entry = AuditEntry.objects.get(action="package.built")
    assert entry.detail["sm2_key_fingerprint"] == keys.sm2.fingerprint
    root = settings.ARCHIVE_DIR / package.external_id
    manifest = json.loads((root / "manifest.json").read_bytes())
    assert manifest["signature_sm2"]["public_key_fingerprint"] == keys.sm2.fingerprint
    assert archive.verify_kept(package).ok

    copy = tmp_path / "clerk"
    shutil.copytree(root, copy)
    good = subprocess.run([str(bare_python), "-I", str(copy / "verify.py"), str(copy),
                           "--sm2-fingerprint", keys.sm2.fingerprint],
                          capture_output=True, text=True, timeout=300)
    assert good.returncode == 0 and "Ed25519 与 SM2 签名均有效" in good.stdout, good.stdout

    forged = base64.b64encode(SM2SigningKey.generate().sign((root / "manifest.json")
                                                             .read_bytes())) + b"\n"
    sig = copy / "manifest.sm2.sig"
    sig.chmod(0o644)
    sig.write_bytes(forged)
    bad = subprocess.run([str(bare_python), "-I", str(copy / "verify.py"), str(copy)],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 1 and "SM2 签名无效" in bad.stdout, bad.stdout
    assert "manifest.json 的 Ed25519 签名有效" in bad.stdout  # only the SM2 one is wrong

    # The kept package itself tampered the same way: the page's check (verify_kept) says so.
    kept = root / "manifest.sm2.sig"
    kept.chmod(0o644)
    kept.write_bytes(forged)
    report = archive.verify_kept(package)
    assert not report.ok and "sm2.signature.invalid" in {f.code for f in report.failures}
