"""The one path that deletes an original (第十四条 disposal; 第二十六条 (二) everywhere else):
a tombstone through ``evidence.disposal`` with both approvals, the object erased after commit,
the database refusing every other change; ``liuhen verify`` sees no orphan and nothing missing.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from liuhen.audit.models import AuditEntry
from liuhen.core.errors import InvalidInput
from liuhen.evidence import disposal
from liuhen.evidence.fixity import verify_recordings
from liuhen.evidence.models import Recording, RecordingDisposal


def _approvals(people, *, head="head_a", legal="legal"):
    now = timezone.now()
    return (disposal.Approval(people[head].user, now - timedelta(hours=2), "同意"),
            disposal.Approval(people[legal].user, now - timedelta(hours=1), "同意销毁"))


def _dispose(people, rec, *, register="XH-2026-001", **kwargs):
    head, legal = kwargs.pop("approvals", None) or _approvals(people)
    return disposal.dispose_original(
        actor=people["keeper_a"].user, recording=rec, register_number=register,
        proposed_by=people["keeper_a"].user, proposed_at=timezone.now() - timedelta(days=1),
        unit_head=head, legal=legal, retention={"rule": "patrol_recording", "months": 6},
        **kwargs)


def test_direct_updates_cannot_make_a_tombstone(stored_recording):
    rec = stored_recording()
    for change in ({"disposed_at": timezone.now(), "disposal_register": "XH-1"},
                   {"disposal_register": "XH-1"},
                   {"disposed_at": timezone.now()}):
        with pytest.raises(DatabaseError), transaction.atomic():
            Recording.objects.filter(pk=rec.pk).update(**change)
    rec.refresh_from_db()
    assert rec.disposed_at is None and rec.disposal_register == ""


def test_a_permit_without_two_people_is_not_enough(people, stored_recording):
    rec = stored_recording()
    now = timezone.now()
    keeper, head = people["keeper_a"].user, people["head_a"].user
    with transaction.atomic():
        RecordingDisposal.objects.create(
            recording=rec, register_number="XH-9", proposed_by=keeper, proposed_at=now,
            unit_head_approved_by=head, unit_head_approved_at=now, legal_approved_by=head,
            legal_approved_at=now, executed_by=keeper)
        with pytest.raises(DatabaseError), transaction.atomic():
            Recording.objects.filter(pk=rec.pk).update(disposed_at=now, disposal_register="XH-9")
        transaction.set_rollback(True)


def test_service_refuses_missing_or_wrong_approvals(people, stored_recording):
    rec = stored_recording()
    head, legal = _approvals(people)
    for bad in ((head, disposal.Approval(head.user, head.at)),  # one person twice
                (disposal.Approval(people["officer_a"].user, head.at), legal),  # not a head
                (head, disposal.Approval(people["head_detachment"].user, legal.at)),  # not legal
                (None, legal)):
        with pytest.raises(InvalidInput):
            _dispose(people, rec, approvals=bad)
    assert AuditEntry.objects.filter(action="recording.disposal_refused",
                                     outcome="denied").count() == 4
    rec.refresh_from_db()
    assert rec.disposed_at is None


def test_disposal_makes_a_tombstone_and_erases_the_object(
        people, stored_recording, vault, django_capture_on_commit_callbacks):
    rec = stored_recording()
    original = vault.path(rec.storage_key)
    assert original.exists()
    with django_capture_on_commit_callbacks(execute=True):
        permit = _dispose(people, rec)
    rec.refresh_from_db()
    assert rec.disposed_at is not None and rec.disposal_register == "XH-2026-001"
    assert (rec.sha256, rec.sm3, rec.size) == (permit.recording.sha256, permit.recording.sm3,
                                               permit.recording.size)  # digests stay
    assert not original.exists()
    permit.refresh_from_db()
    assert permit.object_erased_at is not None and rec.storage_key in permit.erase_detail["removed"]
    actions = list(AuditEntry.objects.filter(object_type="evidence.recording",
                                             object_id=str(rec.pk))
                   .order_by("seq").values_list("action", flat=True))
    assert actions[-2:] == ["recording.disposed", "recording.object_erased"]
    # A tombstone never changes again, its permit is never deleted or rewritten.
    for change in ({"disposed_at": None}, {"location": "某处"}, {"derivation_status": "done"}):
        with pytest.raises(DatabaseError), transaction.atomic():
            Recording.objects.filter(pk=rec.pk).update(**change)
    with pytest.raises(DatabaseError), transaction.atomic():
        RecordingDisposal.objects.filter(pk=permit.pk).delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        RecordingDisposal.objects.filter(pk=permit.pk).update(register_number="XH-X")
    with pytest.raises(DatabaseError), transaction.atomic():
        RecordingDisposal.objects.filter(pk=permit.pk).update(object_erased_at=None)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM evidence_recording WHERE id = %s", [rec.pk])
    # Verify: no orphan, nothing missing, the tombstone not checked.
    report = verify_recordings(scope="all")
    assert report.problems == [] and report.orphans == [] and report.pending_erasure == []
    assert not report.failed


def test_erasure_failure_is_recorded_and_retried(
        people, stored_recording, vault, django_capture_on_commit_callbacks, monkeypatch):
    rec = stored_recording()
    real = type(vault).erase_original

    def broken(self, key, *, permit):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(type(vault), "erase_original", broken)
    with django_capture_on_commit_callbacks(execute=True):
        permit = _dispose(people, rec)
    failed = AuditEntry.objects.filter(action="recording.object_erased").latest("seq")
    assert failed.outcome == "failed" and "将重试" in failed.reason
    report = verify_recordings(scope="all")
    # Still stored, but neither an orphan nor missing: pending erasure, named as such.
    assert report.orphans == [] and report.problems == []
    assert report.pending_erasure == [rec.storage_key] and "待删除" in report.summary()
    monkeypatch.setattr(type(vault), "erase_original", real)
    assert disposal.erase_pending() == 1
    permit.refresh_from_db()
    assert permit.object_erased_at is not None and not vault.path(rec.storage_key).exists()


def test_storage_refuses_to_erase_without_a_tombstone(stored_recording, vault):
    rec = stored_recording()
    for permit in (None, RecordingDisposal(recording=rec, register_number="XH-1")):
        with pytest.raises(ValueError):
            vault.erase_original(rec.storage_key, permit=permit)
    assert vault.path(rec.storage_key).exists()


def test_a_disposed_original_is_not_stored_again(people, make_media, stored_recording,
                                                 django_capture_on_commit_callbacks):
    from liuhen.core.errors import Conflict
    from liuhen.evidence.services import ingest_recording

    path = make_media("h264")
    rec = stored_recording(path=path)
    with django_capture_on_commit_callbacks(execute=True):
        _dispose(people, rec)
    with pytest.raises(Conflict) as caught:
        ingest_recording(source_path=path, original_name=path.name, channel="web",
                         actor=people["officer_a"].user)
    assert "已依法销毁" in caught.value.message
    assert AuditEntry.objects.filter(action="recording.refused", outcome="denied").exists()


def test_tombstone_page_and_streams(client, people, stored_recording,
                                    django_capture_on_commit_callbacks):
    rec = stored_recording()
    with django_capture_on_commit_callbacks(execute=True):
        _dispose(people, rec)
    client.force_login(people["officer_a"].user)
    page = client.get(f"/recordings/{rec.pk}/").content.decode()
    assert "原件已依法销毁" in page and "XH-2026-001" in page and rec.sha256 in page
    response = client.get(f"/recordings/{rec.pk}/original")
    assert response.status_code == 410 and "已依法销毁" in response.content.decode()


def test_s3_waits_for_object_lock_then_erases_every_version(
        people, make_media, s3, settings, frozen_clock, django_capture_on_commit_callbacks):
    """COMPLIANCE retention is never bypassed: refused while it lasts, every version deleted
    once it has passed (moto runs in this process, on the same frozen clock)."""
    from liuhen.evidence.services import ingest_recording
    from liuhen.evidence.storage import get_storage

    bucket = s3()
    settings.S3_OBJECT_LOCK_DAYS = 30
    path = make_media("h264")
    rec = ingest_recording(source_path=path, original_name=path.name, channel="web",
                           actor=people["officer_a"].user).recording
    storage = get_storage()
    assert storage.retained_until(rec.storage_key) > timezone.now() + timedelta(days=29)
    with pytest.raises(disposal.ObjectLocked):
        _dispose(people, rec)
    rec.refresh_from_db()
    assert rec.disposed_at is None and storage.exists(rec.storage_key)
    assert AuditEntry.objects.filter(action="recording.disposal_refused").exists()

    frozen_clock.shift(timedelta(days=31))
    with django_capture_on_commit_callbacks(execute=True):
        permit = _dispose(people, rec)
    permit.refresh_from_db()
    assert permit.object_erased_at is not None
    versions = s3.client.list_object_versions(Bucket=bucket, Prefix=rec.storage_key)
    assert not versions.get("Versions") and not versions.get("DeleteMarkers")
    report = verify_recordings(scope="all")
    assert report.orphans == [] and report.problems == [] and not report.failed
