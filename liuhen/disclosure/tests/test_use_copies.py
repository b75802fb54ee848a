"""Internal copies under a grant (复制, 第十六条): every copy path gives a watermarked derived file
(video frames, photo pixels, PDF pages), recorded with SHA-256 and SM3 and linked to the original
and the grant; the original is never served as a copy and never changes. Without a copy grant,
after it expired or was revoked, or for a 国家秘密 record (第十七条第四款), refused and audited
naming the actor and the record."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from conftest import logged_in
from liuhen.access import grants
from liuhen.audit.models import AuditEntry
from liuhen.disclosure import copies, events, marks, unusual
from liuhen.disclosure.models import UseCopy
from liuhen.disclosure.tests.marked import pdf_text, stored_sha256, watermark_contrast
from liuhen.evidence.storage import get_storage
from liuhen.records import pdf as record_pdf

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(handled_case):
    return handled_case


@pytest.fixture
def video(stored_recording, case):
    return stored_recording("h264", case=case)


def _read(key: str) -> bytes:
    with get_storage().open(key) as fh:
        return fh.read()


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _ask(client, obj, kind="evidence.recording"):
    return client.post("/use/copies/new/", {"target": f"{kind}:{obj.pk}"})


def _denied(actor, obj, action=events.event_record_copied):
    return AuditEntry.objects.filter(action=action, outcome="denied", actor_id=actor.user.pk,
                                     object_type=obj._meta.label_lower, object_id=str(obj.pk))


def test_a_copy_without_a_grant_is_refused_and_audited(people, video):
    """第十六条: the case's own officer views by right, but copying always needs a grant."""
    officer = people["officer_a2"]
    page = logged_in(officer).get(f"/use/copies/new/?target=evidence.recording:{video.pk}")
    assert page.status_code == 200 and 'id="no-grant"' in page.content.decode()
    refused = _ask(logged_in(officer), video)
    assert refused.status_code == 403
    assert _denied(officer, video).exists()
    assert not UseCopy.objects.exists()
    # The old way, the original as a file: refused too, never served.
    got = logged_in(officer).get(f"/recordings/{video.pk}/original?download=1")
    assert got.status_code == 403


def test_a_video_copy_is_watermarked_recorded_and_the_original_untouched(
        people, video, grant_access):
    officer = people["officer_a2"]
    before = stored_sha256(video.storage_key)
    assert before == video.sha256
    grant = grant_access(officer, people["head_a"], video, ["copy"])
    client = logged_in(officer)
    # The recording page's button and an old ?download=1 link both lead to the copy's page,
    # never to the stored bytes.
    page = client.get(f"/recordings/{video.pk}/").content.decode()
    assert 'id="copy-link"' in page and "下载原始文件" not in page
    moved = client.get(f"/recordings/{video.pk}/original?download=1")
    assert moved.status_code == 302 and "/use/copies/new/" in moved["Location"]
    assert not AuditEntry.objects.filter(action="recording.downloaded",
                                         outcome="succeeded").exists()

    made = _ask(client, video)
    assert made.status_code == 302
    copy = UseCopy.objects.get()
    assert made["Location"] == f"/use/copies/{copy.pk}/"
    assert copy.status == "made" and copy.grant == grant and copy.recording == video
    assert copy.source_sha256 == video.sha256 and copy.source_sm3 == video.sm3
    stored = _read(copy.copy_key)
    assert hashlib.sha256(stored).hexdigest() == copy.copy_sha256 != video.sha256
    entry = AuditEntry.objects.get(action=events.event_record_copied, outcome="succeeded")
    assert entry.actor_id == officer.user.pk and entry.object_id == str(video.pk)
    assert entry.detail["grant"] == grant.number and entry.detail["sha256"] == copy.copy_sha256
    assert entry.detail["sm3"] == copy.copy_sm3 and entry.detail["copy"] == copy.number

    shown = client.get(f"/use/copies/{copy.pk}/").content.decode()
    assert copy.copy_sm3 in shown and grant.number in shown and 'id="no-picture"' not in shown
    downloaded = client.get(f"/use/copies/{copy.pk}/download")
    assert downloaded.status_code == 200
    assert downloaded["Content-Disposition"].startswith("attachment;")
    data = _body(downloaded)
    assert data == stored
    got = AuditEntry.objects.get(action=events.event_copy_file_downloaded, outcome="succeeded")
    assert got.detail["grant"] == grant.number and got.object_id == str(video.pk)

    # The watermark is in the decoded pixels: the holder's name and number, time, grant.
    lines = copy.watermark.split(" / ")
    assert officer.name in lines[0] and grant.number in lines[2]
    inside, away = watermark_contrast(_read(video.storage_key), data, lines)
    assert inside > 8 and inside > 3 * away, (inside, away)
    assert stored_sha256(video.storage_key) == before  # the original never changes


def test_a_photo_copy_carries_the_watermark_in_its_pixels(people, stored_recording, case,
                                                          grant_access):
    photo = stored_recording("jpeg", case=case)
    officer = people["officer_a2"]
    grant_access(officer, people["head_a"], photo, ["copy"])
    assert _ask(logged_in(officer), photo).status_code == 302
    copy = UseCopy.objects.get()
    data = _read(copy.copy_key)
    assert copy.copy_key.endswith(".jpg") and copy.copy_sha256 == hashlib.sha256(data).hexdigest()
    inside, away = watermark_contrast(_read(photo.storage_key), data, copy.watermark.split(" / "))
    assert inside > 8 and inside > 3 * away, (inside, away)
    assert stored_sha256(photo.storage_key) == photo.sha256


def test_a_document_copy_is_a_watermarked_pdf(people, case, grant_access):
    """A written record (PDF) is copied with the mark over every page, as Chinese text."""
    officer = people["officer_a2"]
    doc = record_pdf.generate_document(actor=officer.user, case=case,
                                       doc_type="penalty_decision", store=True).document
    grant = grant_access(officer, people["head_a"], case, ["copy"])
    assert _ask(logged_in(officer), doc, "records.document").status_code == 302
    copy = UseCopy.objects.get()
    assert copy.document == doc and copy.copy_key.endswith(".pdf")
    for text in pdf_text(_read(copy.copy_key)):
        assert f"授权 {grant.number}" in text and officer.name in text, text
    assert stored_sha256(doc.storage_key) == doc.sha256
    assert _denied(officer, doc).count() == 0


def test_revoked_or_expired_grants_copy_nothing_more(people, video, grant_access, frozen_clock):
    officer = people["officer_a2"]
    grant = grant_access(officer, people["head_a"], video, ["copy"], days=2)
    client = logged_in(officer)
    assert _ask(client, video).status_code == 302
    copy = UseCopy.objects.get()
    grants.revoke_grant(actor=people["head_a"].user, grant_id=grant.pk, reason="工作已完成")
    assert client.get(f"/use/copies/{copy.pk}/download").status_code == 403
    assert _denied(officer, video, events.event_copy_file_downloaded).exists()
    assert _ask(client, video).status_code == 403
    assert _denied(officer, video).count() == 1

    grant_access(officer, people["head_a"], video, ["copy"], days=1)
    assert client.get(f"/use/copies/{copy.pk}/download").status_code == 200
    frozen_clock.shift(timedelta(days=2))  # past the end of the grant's last day
    client = logged_in(officer)  # the old session ended while idle
    assert client.get(f"/use/copies/{copy.pk}/download").status_code == 403
    assert _ask(client, video).status_code == 403
    assert _denied(officer, video).count() == 2
    # 第二十六条第三项: the refused attempts are listed for the legal affairs office.
    refused = unusual.refusals(timezone.now() - timedelta(days=3))
    assert sum(r["actor_id"] == officer.user.pk for r in refused) >= 3
    # Another user never reaches someone else's copy (404, audited).
    assert logged_in(people["officer_a"]).get(f"/use/copies/{copy.pk}/").status_code == 404


def test_state_secret_is_never_copied(people, video, case, grant_access):
    """第十七条第四款: 国家秘密 refuses every copy, whatever grant is held."""
    officer = people["officer_a2"]
    grant_access(officer, people["head_a"], video, ["copy"])
    marks.set_mark(actor=people["head_a"].user, target=case, level="state_secret",
                   reason="涉及国家秘密")
    page = logged_in(officer).get(f"/use/copies/new/?target=evidence.recording:{video.pk}")
    assert 'id="state-secret"' in page.content.decode()
    assert _ask(logged_in(officer), video).status_code == 403
    entry = _denied(officer, video).get()
    assert "国家秘密" in entry.reason
    assert not UseCopy.objects.exists()


def test_a_large_video_is_made_by_a_job_and_shown_as_in_progress(
        people, video, grant_access, monkeypatch):
    officer = people["officer_a2"]
    grant_access(officer, people["head_a"], video, ["copy"])
    queued, job = [], copies.make_copy_job
    assert video.duration_seconds > 0.5  # longer than the re-encode done inline
    monkeypatch.setattr(copies, "INLINE_MAX_MEDIA_SECONDS", 0.5)
    monkeypatch.setattr(copies, "make_copy_job", SimpleNamespace(enqueue=queued.append))
    client = logged_in(officer)
    assert _ask(client, video).status_code == 302
    copy = UseCopy.objects.get()
    assert queued == [copy.pk] and copy.status == "pending"
    page = client.get(f"/use/copies/{copy.pk}/").content.decode()
    assert "正在生成" in page and 'http-equiv="refresh"' in page
    assert client.get(f"/use/copies/{copy.pk}/download").status_code == 409
    assert job.call(copy.pk) == "made"  # what the worker runs
    assert client.get(f"/use/copies/{copy.pk}/download").status_code == 200


def test_the_api_makes_and_serves_the_copy(people, video, grant_access, api):
    officer = people["officer_a2"]
    client = api(officer)
    refused = client.post("/api/use/copies",
                          {"target_type": "evidence.recording", "target_id": video.pk})
    assert refused.status_code == 403 and refused.json()["code"] == "grant_required"
    grant = grant_access(officer, people["head_a"], video, ["copy"])
    made = client.post("/api/use/copies",
                       {"target_type": "evidence.recording", "target_id": video.pk})
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["grant_number"] == grant.number and body["status"] == "made"
    got = client.get(f"/api/use/copies/{body['id']}/download")
    assert got.status_code == 200
    assert hashlib.sha256(_body(got)).hexdigest() == body["copy_sha256"]
    assert [c["id"] for c in client.get("/api/use/copies").json()] == [body["id"]]
    other = api(people["officer_a"]).get(f"/api/use/copies/{body['id']}")
    assert other.status_code == 404


def test_an_audio_copy_says_it_has_no_picture_to_mark(people, stored_recording, case,
                                                      grant_access):
    """An audio recording has no frame to burn the mark into: the copy is still a derived file
    with its own digests, and its page says plainly that no visible mark is in it."""
    audio = stored_recording("wav", case=case)
    officer = people["officer_a2"]
    grant_access(officer, people["head_a"], audio, ["copy"])
    client = logged_in(officer)
    assert _ask(client, audio).status_code == 302
    copy = UseCopy.objects.get()
    assert copy.status == "made" and copy.copy_sha256 != audio.sha256
    assert copy.copy_description["operations"]["watermark"] is None
    assert 'id="no-picture"' in client.get(f"/use/copies/{copy.pk}/").content.decode()
    assert stored_sha256(audio.storage_key) == audio.sha256
