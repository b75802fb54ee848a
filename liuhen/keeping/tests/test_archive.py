"""Archive package of a case (第十五条) and its DA/T 70 四性检测: written by the packaging
library (BagIt validated by ``bagit``), metadata JSON and XML, audit extract, the offline
verifier; the four checks pass on a good package and a flipped byte fails authenticity."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from xml.etree import ElementTree as ET

import bagit
import pytest
import time_machine
from django.utils import timezone
from pypdf import PdfReader

from liuhen.audit.models import AuditEntry
from liuhen.core.errors import Conflict, Forbidden
from liuhen.keeping import archive, casefile
from liuhen.packaging import SigningKey

pytestmark = pytest.mark.django_db


@pytest.fixture
def signer():
    return SigningKey.generate()


def test_case_package_and_four_checks(people, filed_case, signer, tmp_path):
    keeper = people["keeper_a"].user
    with pytest.raises(Conflict, match="装订"):
        archive.build_package(actor=keeper, case=filed_case, dest_dir=tmp_path, signer=signer)
    bound = casefile.bind(actor=keeper, case_file=casefile.assemble(
        actor=people["officer_a"].user, case=filed_case))
    with pytest.raises(Forbidden):
        archive.build_package(actor=people["officer_a"].user, case=filed_case,
                              dest_dir=tmp_path, signer=signer)
    package = archive.build_package(actor=keeper, case=filed_case, dest_dir=tmp_path,
                                    signer=signer)
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
    again = archive.four_checks(root, items, fingerprint=signer.fingerprint)
    assert again["authenticity"]["ok"] is False
    assert any(victim.name in f for f in again["authenticity"]["failures"])


def test_archive_case_command_writes_package_and_disc_image(people, filed_case, tmp_path):
    """liuhen archive_case: the package, its four checks, an ISO image read back with the
    Chinese names intact."""
    from django.core.management import call_command

    from liuhen.packaging import read_back

    keeper = people["keeper_a"].user
    casefile.bind(actor=keeper, case_file=casefile.assemble(actor=people["officer_a"].user,
                                                            case=filed_case))
    key = tmp_path / "bureau.pem"
    SigningKey.load_or_create(key)
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
        people, filed_case, signer, tmp_path, settings):
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
                                     signer=signer)

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
        people, filed_case, signer, tmp_path):
    """A package rebuilt within the second (the clock stopped here) is a new package with its
    own number and folder, not an IntegrityError (the ClamAV test hit it on an idle machine)."""
    keeper = people["keeper_a"].user
    casefile.bind(actor=keeper, case_file=casefile.assemble(
        actor=people["officer_a"].user, case=filed_case))
    with time_machine.travel(timezone.now(), tick=False):
        first = archive.build_package(actor=keeper, case=filed_case, dest_dir=tmp_path,
                                      signer=signer)
        second = archive.build_package(actor=keeper, case=filed_case, dest_dir=tmp_path,
                                       signer=signer)
    assert second.external_id == f"{first.external_id}-2"
    assert (tmp_path / first.external_id).is_dir() and (tmp_path / second.external_id).is_dir()
