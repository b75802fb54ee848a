"""Exports under a grant (拷贝/导出, 第十六条): the granted records as one package built by the
shared builder (liuhen.packaging) with the offline verifier inside, every file a watermarked
derived copy, registered and kept; refused and audited (actor and record) without an export
grant, after expiry or revocation, and for 国家秘密 (第十七条第四款)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import zipfile
from datetime import timedelta
from types import SimpleNamespace

import pytest

from conftest import logged_in
from liuhen.access import grants
from liuhen.audit.models import AuditEntry
from liuhen.disclosure import copies, events, exports, marks
from liuhen.disclosure.models import Export
from liuhen.disclosure.tests.marked import pdf_text, stored_sha256, watermark_contrast
from liuhen.evidence.storage import get_storage
from liuhen.packaging import verify
from liuhen.records import pdf as record_pdf

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(people, handled_case, stored_recording):
    case = handled_case
    stored_recording("h264", case=case)
    record_pdf.generate_document(actor=people["officer_a"].user, case=case,
                                 doc_type="penalty_decision", store=True)
    return case


@pytest.fixture
def settings_dirs(settings, tmp_path, key):
    settings.EXPORT_DIR = tmp_path / "exported"
    return settings


def _post(client, grant, **chosen):
    return client.post("/use/exports/new/", {"grant": grant.pk, **chosen})


def _denied(actor, target_type, target_id, action=events.event_record_exported):
    return AuditEntry.objects.filter(action=action, outcome="denied", actor_id=actor.user.pk,
                                     object_type=target_type, object_id=str(target_id))


def _read(key: str) -> bytes:
    with get_storage().open(key) as fh:
        return fh.read()


def test_without_an_export_grant_nothing_leaves(people, case, grant_access, settings_dirs):
    officer = people["officer_b"]
    view_only = grant_access(officer, people["head_a"], case, ["view", "copy"])
    client = logged_in(officer)
    assert client.get(f"/use/exports/new/?grant={view_only.pk}").status_code == 400
    assert _post(client, view_only).status_code == 403
    entry = _denied(officer, "cases.case", case.pk).get()
    assert view_only.number in entry.reason and entry.detail["grant"] == view_only.number
    # Someone else's grant (or none at all) is not found, and the attempt is audited.
    other = grant_access(people["officer_a2"], people["head_a"], case, ["export"])
    assert _post(client, other).status_code == 404
    assert _denied(officer, "access.grant", other.pk, events.event_export_made).exists()
    assert not Export.objects.exists()


def test_an_export_is_a_signed_package_of_watermarked_copies(
        people, case, grant_access, settings_dirs, bare_python, tmp_path, key):
    officer = people["officer_b"]  # another unit: the grant is the only way (第十六条)
    grant = grant_access(officer, people["head_a"], case, ["export"])
    recording, document = case.recordings.get(), case.documents.get()
    originals = {r.storage_key: stored_sha256(r.storage_key) for r in (recording, document)}
    client = logged_in(officer)
    page = client.get(f"/use/exports/new/?grant={grant.pk}").content.decode()
    assert recording.original_name in page and 'id="make-export"' in page
    mine = client.get("/access/mine/").content.decode()
    assert f"/use/exports/new/?grant={grant.pk}" in mine
    case_page = client.get(f"/cases/{case.pk}/").content.decode()
    assert f'href="/use/exports/new/?grant={grant.pk}" id="export-case"' in case_page

    made = _post(client, grant)
    export = Export.objects.get()
    assert made.status_code == 302 and made["Location"] == f"/use/exports/{export.pk}/"
    assert export.status == "made" and export.grant == grant and export.case == case
    files = {i["record"]: i for i in export.items}
    assert set(files) == {f"evidence.recording:{recording.pk}",
                          f"records.document:{document.pk}"}

    # Kept as handed out: the ZIP's digests are registered; the verifier inside passes
    # offline with the standard library alone (a clean venv), checking the signature.
    archive = exports.kept_zip(export)
    data = archive.read_bytes()
    assert hashlib.sha256(data).hexdigest() == export.zip_sha256
    assert verify(export.package_path, fingerprint=key.fingerprint).ok
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(tmp_path / "out")
    folder = tmp_path / "out" / export.package_id
    checked = subprocess.run([str(bare_python), "-I", str(folder / "verify.py"), str(folder),
                              "--fingerprint", key.fingerprint], capture_output=True, text=True,
                             timeout=120)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["package"]["metadata"]["授权编号"] == grant.number
    assert {f["metadata"]["source_sha256"] for f in manifest["files"]} == {
        recording.sha256, document.sha256}

    # Every file is a watermarked copy, never the original: pixels and PDF text say so.
    lines = export.watermark.split(" / ")
    assert people["officer_b"].name in lines[0] and grant.number in lines[2]
    for item in files.values():
        payload = (folder / "data" / item["path"]).read_bytes()
        assert hashlib.sha256(payload).hexdigest() == item["sha256"] != item["source_sha256"]
        if item["record"].startswith("records."):
            assert all(f"授权 {grant.number}" in text for text in pdf_text(payload))
            assert item["source_sha256"] == document.sha256
        else:
            inside, away = watermark_contrast(_read(recording.storage_key), payload, lines)
            assert inside > 8 and inside > 3 * away, (inside, away)
            assert item["source_sha256"] == recording.sha256
    assert {k: stored_sha256(k) for k in originals} == originals

    made_entry = AuditEntry.objects.get(action=events.event_export_made, outcome="succeeded")
    assert made_entry.actor_id == officer.user.pk and made_entry.detail["grant"] == grant.number
    assert made_entry.detail["zip_sha256"] == export.zip_sha256
    per_record = AuditEntry.objects.filter(action=events.event_record_exported,
                                           outcome="succeeded")
    assert {(e.object_type, e.object_id) for e in per_record} == {
        ("evidence.recording", str(recording.pk)), ("records.document", str(document.pk))}
    assert {e.detail["grant"] for e in per_record} == {grant.number}

    got = client.get(f"/use/exports/{export.pk}/download")
    assert got.status_code == 200 and b"".join(got.streaming_content) == data
    assert AuditEntry.objects.get(action=events.event_export_downloaded,
                                  outcome="succeeded").detail["grant"] == grant.number


def test_chosen_records_only(people, case, grant_access, settings_dirs):
    officer = people["officer_b"]
    grant = grant_access(officer, people["head_a"], case, ["export"])
    recording = case.recordings.get()
    assert _post(logged_in(officer), grant, recordings=[recording.pk]).status_code == 302
    assert [i["record"] for i in Export.objects.get().items] == [
        f"evidence.recording:{recording.pk}"]


def test_expired_or_revoked_grants_export_nothing(people, case, grant_access, settings_dirs,
                                                  frozen_clock):
    officer = people["officer_b"]
    grant = grant_access(officer, people["head_a"], case, ["export"], days=1)
    assert _post(logged_in(officer), grant).status_code == 302
    export = Export.objects.get()
    frozen_clock.shift(timedelta(days=1, hours=1))
    client = logged_in(officer)
    assert client.get(f"/use/exports/{export.pk}/download").status_code == 403
    assert _denied(officer, "disclosure.export", export.pk,
                   events.event_export_downloaded).exists()
    assert _post(client, grant).status_code == 403
    assert "不在有效期内" in _denied(officer, "cases.case", case.pk).get().reason

    again = grant_access(officer, people["head_a"], case, ["export"])
    grants.revoke_grant(actor=people["head_a"].user, grant_id=again.pk, reason="工作已完成")
    assert _post(client, again).status_code == 403
    assert "已撤销" in _denied(officer, "cases.case", case.pk).order_by("-seq")[0].reason
    assert Export.objects.count() == 1


def test_state_secret_is_never_exported(people, case, grant_access, settings_dirs):
    officer = people["officer_b"]
    grant = grant_access(officer, people["head_a"], case, ["export"])
    marks.set_mark(actor=people["head_a"].user, target=case, level="state_secret",
                   reason="涉及国家秘密")
    assert _post(logged_in(officer), grant).status_code == 403
    entry = AuditEntry.objects.filter(action=events.event_record_exported, outcome="denied",
                                      actor_id=officer.user.pk).first()
    assert entry is not None and "国家秘密" in entry.reason
    assert not Export.objects.exists()


def test_the_api_exports_and_serves_the_package(people, case, grant_access, settings_dirs,
                                                api, monkeypatch):
    officer = people["officer_b"]
    client = api(officer)
    grant = grant_access(officer, people["head_a"], case, ["view", "export"])
    queued, job = [], exports.build_export_job
    monkeypatch.setattr(copies, "INLINE_MAX_BYTES", 0)
    monkeypatch.setattr(exports, "build_export_job", SimpleNamespace(enqueue=queued.append))
    pending = client.post("/api/use/exports", {"grant_id": grant.pk})
    assert pending.status_code == 202 and pending.json()["status"] == "pending"
    export_id = pending.json()["id"]
    assert queued == [export_id]
    assert client.get(f"/api/use/exports/{export_id}/package").status_code == 409
    assert job.call(export_id) == "made"  # what the worker runs
    body = client.get(f"/api/use/exports/{export_id}").json()
    assert body["grant_number"] == grant.number and len(body["zip_sha256"]) == 64
    got = client.get(f"/api/use/exports/{export_id}/package")
    assert got.status_code == 200
    assert hashlib.sha256(b"".join(got.streaming_content)).hexdigest() == body["zip_sha256"]
    assert api(people["officer_a"]).get(f"/api/use/exports/{export_id}").status_code == 404


def test_the_legal_office_sees_every_copy_and_export(people, case, grant_access, settings_dirs):
    """第十六条, 第二十六条第三项: what was made under grants is registered for supervision."""
    officer = people["officer_b"]
    grant = grant_access(officer, people["head_a"], case, ["export"])
    assert _post(logged_in(officer), grant).status_code == 302
    export = Export.objects.get()
    refused = logged_in(officer).get("/use/register/")
    assert refused.status_code == 403
    assert AuditEntry.objects.filter(action=events.event_use_register_viewed, outcome="denied",
                                     actor_id=officer.user.pk).exists()
    page = logged_in(people["legal"]).get("/use/register/").content.decode()
    assert export.number in page and export.zip_sha256 in page and grant.number in page
    assert 'id="use-register"' in logged_in(people["legal"]).get(
        "/disclosure/unusual/").content.decode()
