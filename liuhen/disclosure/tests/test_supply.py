"""Supply to a review body or a court (第十七条第三款): registered with the body's letter, approved
by the leader in charge (never a unit head, never the registrar), built with the shared
PackageBuilder and signed with the key `liuhen signing_key` made, kept as supplied (复制留存);
the offline verifier inside passes under a Python with only the standard library, and a flipped
byte, an edited manifest line or a swapped signature each fail it."""

from __future__ import annotations

import base64
import json
import subprocess
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from pypdf import PdfReader

from liuhen.audit.models import AuditEntry
from liuhen.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from liuhen.deadlines.calendar import CalendarRangeError
from liuhen.deadlines.statutory import compute_deadline
from liuhen.disclosure import events, supply
from liuhen.evidence.digests import digest_file
from liuhen.keeping import casefile
from liuhen.packaging import SigningKey

pytestmark = pytest.mark.django_db


def _register(people, case, **kwargs):
    values = {"body_kind": "court", "body_name": "某市某区人民法院",
              "letter_number": "（2026）冀0102行初15号",
              "received_on": timezone.localdate() - timedelta(days=2)} | kwargs
    return supply.register_supply(actor=people["legal"].user, case=case, **values)


def _run(python, folder, *args):
    return subprocess.run([str(python), "-I", str(folder / "verify.py"), str(folder), *args],
                          capture_output=True, text=True, timeout=120)


def _unzip(archive, dest):
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(dest)
    (folder,) = [p for p in dest.iterdir() if p.is_dir()]
    return folder


def test_supply_built_kept_and_verified_offline(people, filed_case, key, sm2_key, bare_python,
                                                tmp_path, settings):
    s = _register(people, filed_case)
    assert s.number.startswith("提供〔") and s.status == "requested"
    assert s.documents.count() == 2 and s.recordings.count() == 2  # the case's stored records
    # 行政诉讼法第六十七条: fifteen days from the complaint copy, by the deadline rules.
    try:
        due = compute_deadline("litigation_response", s.received_on).due
    except CalendarRangeError:
        due = None
    assert s.response_due == due and "第六十七条" in s.response_rule

    with pytest.raises(Conflict):  # nothing is built before approval
        supply.build_supply(actor=people["legal"].user, supply_id=s.pk)
    with pytest.raises(Forbidden):  # 主管负责人, not a unit head
        supply.approve_supply(approver=people["head_a"].user, supply_id=s.pk)
    assert AuditEntry.objects.filter(action=events.event_supply_approved, outcome="denied",
                                     actor_id=people["head_a"].user.pk).exists()
    supply.approve_supply(approver=people["leader"].user, supply_id=s.pk, note="同意提供")
    with pytest.raises(NotFound):  # an officer of another team cannot build it
        supply.build_supply(actor=people["officer_b"].user, supply_id=s.pk)
    s = supply.build_supply(actor=people["legal"].user, supply_id=s.pk)
    assert s.status == "built" and s.key_fingerprint == key.fingerprint
    assert s.sm2_key_fingerprint == sm2_key.fingerprint  # SM2 beside Ed25519 (GB/T 32918)
    built = AuditEntry.objects.get(action=events.event_supply_built, outcome="succeeded")
    assert built.detail["sm2_key_fingerprint"] == sm2_key.fingerprint
    assert s.file_count == 6  # 2 documents, 2 recordings, 证据清单.pdf, audit.json

    archive = supply.kept_zip(s)
    assert digest_file(archive).sha256 == s.zip_sha256  # what is kept is what is registered
    assert supply.check_kept(s) == {"zip_ok": True, "package_ok": True, "failures": []}
    kept = json.loads((settings.SUPPLY_DIR / s.package_id / "manifest.json").read_bytes())
    recordings = [f for f in kept["files"] if f["metadata"].get("kind") == "recording"]
    original = {r.sha256 for r in s.recordings.all()}
    assert {f["sha256"] for f in recordings} == original  # originals unaltered
    assert all(f["metadata"]["custody"] and f["metadata"]["captured_at"] for f in recordings)
    assert kept["package"]["metadata"]["来函文号"] == "（2026）冀0102行初15号"
    assert kept["signature_sm2"]["public_key_fingerprint"] == sm2_key.fingerprint

    # The receiver unzips the ZIP and runs the verifier with only the standard library.
    folder = _unzip(archive, tmp_path / "court")
    good = _run(bare_python, folder, "--fingerprint", key.fingerprint,
                "--sm2-fingerprint", sm2_key.fingerprint)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "结论：通过" in good.stdout and "Result: PASSED" in good.stdout
    assert "Ed25519 与 SM2 签名均有效" in good.stdout

    victim = next((folder / "data" / "音像资料").iterdir())
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.chmod(0o644)
    victim.write_bytes(bytes(data))
    flipped = _run(bare_python, folder)
    assert flipped.returncode == 1 and victim.name in flipped.stdout
    assert "结论：未通过" in flipped.stdout

    folder = _unzip(archive, tmp_path / "court2")
    manifest = folder / "manifest.json"
    manifest.chmod(0o644)
    manifest.write_text(manifest.read_text("utf-8").replace(
        "（2026）冀0102行初15号", "（2026）冀0102行初16号", 1), "utf-8")
    edited = _run(bare_python, folder)
    assert edited.returncode == 1 and "签名无效" in edited.stdout
    assert "SM2 签名无效" in edited.stdout  # both signatures see the changed line

    folder = _unzip(archive, tmp_path / "court3")
    sig = folder / "manifest.sig"
    sig.chmod(0o644)
    sig.write_bytes(base64.b64encode(SigningKey.generate().sign(manifest.read_bytes())) + b"\n")
    swapped = _run(bare_python, folder)
    assert swapped.returncode == 1 and "签名无效" in swapped.stdout

    s = supply.mark_supplied(actor=people["legal"].user, supply_id=s.pk, how="当面递交书记员")
    assert s.status == "supplied" and s.supplied_at is not None
    actions = set(AuditEntry.objects.filter(object_type="disclosure.supply", object_id=str(s.pk))
                  .values_list("action", flat=True))
    assert {events.event_supply_registered, events.event_supply_approved,
            events.event_supply_built, events.event_supply_supplied} <= actions


def test_kept_copy_altered_is_found(people, filed_case, key, settings):
    s = _register(people, filed_case, body_kind="review", body_name="某市人民政府",
                  letter_number="某政复〔2026〕3号")
    assert "行政复议法》第四十八条" in s.response_rule
    supply.approve_supply(approver=people["leader"].user, supply_id=s.pk)
    s = supply.build_supply(actor=people["legal"].user, supply_id=s.pk)
    archive = supply.kept_zip(s)
    archive.chmod(0o644)
    with open(archive, "r+b") as fh:
        fh.seek(200)
        byte = fh.read(1)
        fh.seek(200)
        fh.write(bytes([byte[0] ^ 0xFF]))
    assert supply.check_kept(s)["zip_ok"] is False
    # A file of the kept folder altered: each failure reads in words (issue 13 item 1), first
    # what is wrong, then the file, never the verifier's code.
    kept = max((p for p in Path(s.package_path).rglob("*") if p.is_file()),
               key=lambda p: p.stat().st_size)
    kept.chmod(0o644)
    kept.write_bytes(b"x" + kept.read_bytes()[1:])
    checked = supply.check_kept(s)
    assert checked["package_ok"] is False and checked["failures"]
    assert all(not failure.split()[0].isascii() for failure in checked["failures"])


def test_refusals(people, filed_case, settings, tmp_path):
    with pytest.raises(NotFound):  # another team's case
        _register_as = supply.register_supply
        _register_as(actor=people["officer_b"].user, case=filed_case, body_kind="court",
                     body_name="法院", letter_number="1号", received_on=timezone.localdate())
    assert AuditEntry.objects.filter(action=events.event_supply_registered,
                                     outcome="denied").exists()
    with pytest.raises(InvalidInput):
        _register(people, filed_case, letter_number=" ")
    with pytest.raises(InvalidInput):
        _register(people, filed_case, received_on=timezone.localdate() + timedelta(days=1))
    with pytest.raises(InvalidInput):
        _register(people, filed_case, recording_ids=[999999])
    s = _register(people, filed_case)
    with pytest.raises(Forbidden):  # the registrar never approves (and is not the leader)
        supply.approve_supply(approver=people["legal"].user, supply_id=s.pk)
    with pytest.raises(InvalidInput):
        supply.refuse_supply(approver=people["leader"].user, supply_id=s.pk, reason="")
    supply.refuse_supply(approver=people["leader"].user, supply_id=s.pk, reason="来函不全")
    settings.SIGNING_KEY_FILE = tmp_path / "none.pem"
    s2 = _register(people, filed_case)
    supply.approve_supply(approver=people["leader"].user, supply_id=s2.pk)
    with pytest.raises(Conflict, match="signing_key"):
        supply.build_supply(actor=people["legal"].user, supply_id=s2.pk)


def test_sm2_key_missing_builds_nothing_and_switched_off_signs_ed25519_alone(
        people, filed_case, key, settings):
    """第十七条第三款: with SM2 signing on (the default) a missing SM2 key stops the build, never
    a package silently signed with one key; LIUHEN_SM2_SIGNING=false (a host whose OpenSSL has
    no SM2) signs with Ed25519 alone, and check_kept still passes."""
    s = _register(people, filed_case)
    supply.approve_supply(approver=people["leader"].user, supply_id=s.pk)
    settings.SM2_SIGNING_KEY_FILE = str(settings.SIGNING_KEY_FILE.parent / "absent-sm2.pem")
    with pytest.raises(Conflict, match="SM2"):
        supply.build_supply(actor=people["legal"].user, supply_id=s.pk)
    assert not settings.SUPPLY_DIR.exists() or not any(settings.SUPPLY_DIR.iterdir())
    settings.SM2_SIGNING = False
    s = supply.build_supply(actor=people["legal"].user, supply_id=s.pk)
    assert s.status == "built" and s.sm2_key_fingerprint == ""
    kept = json.loads((settings.SUPPLY_DIR / s.package_id / "manifest.json").read_bytes())
    assert "signature_sm2" not in kept
    assert supply.check_kept(s) == {"zip_ok": True, "package_ok": True, "failures": []}


def _evidence_list_text(folder) -> str:
    reader = PdfReader(str(folder / "data" / "证据清单.pdf"))
    return "".join(page.extract_text() for page in reader.pages).replace(" ", "")


def test_bound_case_file_is_supplied_and_verified(people, filed_case, key, sm2_key, bare_python,
                                                  tmp_path, settings):
    """第十七条第三款 names the 执法案卷 first: the latest bound 卷宗 (第十二条) goes into the
    package as bound, its digests in the signed manifest, checked by the verifier inside."""
    draft = casefile.assemble(actor=people["officer_a"].user, case=filed_case)
    bound = casefile.bind(actor=people["keeper_a"].user, case_file=draft)
    s = _register(people, filed_case)
    supply.approve_supply(approver=people["leader"].user, supply_id=s.pk)
    s = supply.build_supply(actor=people["legal"].user, supply_id=s.pk)
    assert s.file_count == 7  # the 卷宗 beside 2 documents, 2 recordings, 证据清单, audit.json
    root = settings.SUPPLY_DIR / s.package_id
    manifest = json.loads((root / "manifest.json").read_bytes())
    path = f"data/卷宗/{bound.archive_number}.pdf"
    (entry,) = [f for f in manifest["files"] if f["path"] == path]
    assert (entry["sha256"], entry["sm3"], entry["size"]) == (bound.sha256, bound.sm3, bound.size)
    assert entry["metadata"]["kind"] == "case_file" and entry["metadata"]["custody"]
    facts = manifest["package"]["metadata"]["卷宗"]
    assert facts["档号"] == bound.archive_number and facts["SHA-256"] == bound.sha256
    assert manifest["files"][0]["path"] == path  # the first item, before the documents
    built = AuditEntry.objects.get(action=events.event_supply_built, outcome="succeeded")
    assert built.detail["case_file"]["archive_number"] == bound.archive_number
    text = _evidence_list_text(root)
    assert bound.archive_number in text and "检查装订" in text and "尚未装订" not in text
    assert supply.case_file_line(s).startswith(f"已提供卷宗：档号 {bound.archive_number}")

    folder = _unzip(supply.kept_zip(s), tmp_path / "court")
    good = _run(bare_python, folder, "--fingerprint", key.fingerprint,
                "--sm2-fingerprint", sm2_key.fingerprint)
    assert good.returncode == 0 and "结论：通过" in good.stdout, good.stdout + good.stderr
    victim = folder / path
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.chmod(0o644)
    victim.write_bytes(bytes(data))
    flipped = _run(bare_python, folder)
    assert flipped.returncode == 1 and f"{bound.archive_number}.pdf" in flipped.stdout


def test_without_a_bound_case_file_the_package_says_so(people, filed_case, key, settings):
    """No bound 卷宗 (a draft does not count): the documents in order as before, and the manifest
    and the 证据清单 say explicitly that the 卷宗 is not yet bound."""
    casefile.assemble(actor=people["officer_a"].user, case=filed_case)  # a draft, unbound
    s = _register(people, filed_case)
    assert supply.case_file_line(s) == supply.NOT_BOUND
    supply.approve_supply(approver=people["leader"].user, supply_id=s.pk)
    s = supply.build_supply(actor=people["legal"].user, supply_id=s.pk)
    root = settings.SUPPLY_DIR / s.package_id
    manifest = json.loads((root / "manifest.json").read_bytes())
    assert manifest["package"]["metadata"]["卷宗"] == supply.NOT_BOUND
    assert "卷宗尚未装订" in supply.NOT_BOUND
    assert not any(f["path"].startswith("data/卷宗/") for f in manifest["files"])
    assert [f["metadata"]["kind"] for f in manifest["files"]][:2] == ["document", "document"]
    assert "卷宗尚未装订" in _evidence_list_text(root)
    assert AuditEntry.objects.get(action=events.event_supply_built).detail["case_file"] is None
