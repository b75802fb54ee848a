"""Derived media jobs: proxies, posters, thumbnails (tasks.py).

Derivatives never replace or alter the original (第二十六条 (二)); a browser-playable proxy is
made for originals browsers cannot play, so reviewers can watch every recording (第二十二条).
Tested by calling the job directly, and once each through the real db worker and RQ worker.
"""

from __future__ import annotations

import hashlib
import json
import uuid

import pytest

from liuhen.audit.models import AuditEntry
from liuhen.evidence import events, media
from liuhen.evidence.models import Derivative
from liuhen.evidence.tasks import derive_media, derive_recording, enqueue_derivation


def _sha256(fh) -> str:
    digest = hashlib.sha256()
    while chunk := fh.read(1 << 20):
        digest.update(chunk)
    return digest.hexdigest()


def _stored_sha256(vault, key) -> str:
    with vault.open(key) as fh:
        return _sha256(fh)


@pytest.mark.django_db
def test_hevc_gets_proxy_poster_thumbnails_and_original_is_untouched(stored_recording, vault):
    """An HEVC original gets an H.264/AAC proxy, a poster and 6 thumbnails, each stored with
    its own digest; the original's bytes are unchanged (第二十六条 (二))."""
    recording = stored_recording("hevc")
    assert recording.derivation_status == "pending"
    assert derive_media.call(recording.pk) == "done"

    recording.refresh_from_db()
    assert recording.derivation_status == "done"
    kinds = sorted(Derivative.objects.filter(recording=recording).values_list("kind", flat=True))
    assert kinds == ["poster", "proxy"] + ["thumbnail"] * 6
    for derivative in recording.derivatives.all():
        assert _stored_sha256(vault, derivative.storage_key) == derivative.sha256
        assert vault.size(derivative.storage_key) == derivative.size
        assert derivative.tool_version == media.TOOL_VERSION
        assert derivative.storage_key.startswith(f"derived/{recording.sha256}/")
    assert _stored_sha256(vault, recording.storage_key) == recording.sha256

    proxy = recording.derivatives.get(kind="proxy")
    with vault.local_path(proxy.storage_key) as path:
        info = media.probe(path)
    assert (info.video_codec, info.audio_codec, info.readable) == ("h264", "aac", True)
    assert media.is_browser_playable(info)
    assert proxy.media_type == "video/mp4"

    entry = AuditEntry.objects.get(
        action=events.event_recording_derived, object_id=str(recording.pk)
    )
    assert len(entry.detail["derivatives"]) == 8


@pytest.mark.django_db
def test_playable_h264_needs_no_proxy(stored_recording):
    recording = stored_recording("h264")
    derive_media.call(recording.pk)
    kinds = set(recording.derivatives.values_list("kind", flat=True))
    assert kinds == {"poster", "thumbnail"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("wav", {"proxy"}),  # audio: AAC proxy, no pictures
        ("avi", {"proxy", "poster", "thumbnail"}),  # MJPEG/AVI: not playable in browsers
        ("jpeg", {"poster"}),  # photo: a poster, shown as is
    ],
)
def test_derivatives_per_kind(stored_recording, kind, expected):
    recording = stored_recording(kind)
    derive_media.call(recording.pk)
    assert set(recording.derivatives.values_list("kind", flat=True)) == expected


@pytest.mark.django_db
def test_unreadable_original_is_kept_and_needs_nothing(stored_recording):
    """A truncated recording is kept as is (flagged at ingest); no derivative is attempted."""
    recording = stored_recording("truncated")
    assert recording.readable is False
    assert derive_recording(recording_id=recording.pk) == "not_needed"
    assert not recording.derivatives.exists()


@pytest.mark.django_db
def test_failure_is_recorded_not_raised(stored_recording, monkeypatch):
    """A job that fails sets ``failed`` and writes an audit entry; the worker does not crash."""
    recording = stored_recording("hevc")

    def broken(src, dst, **kwargs):
        raise media.MediaError("encoder exploded")

    monkeypatch.setattr(media, "make_proxy", broken)
    assert derive_media.call(recording.pk) == "failed"
    recording.refresh_from_db()
    assert recording.derivation_status == "failed"
    entry = AuditEntry.objects.get(
        action=events.event_recording_derivation_failed, object_id=str(recording.pk)
    )
    assert entry.outcome == "failed" and "encoder exploded" in entry.reason
    assert not recording.derivatives.filter(kind="proxy").exists()

    monkeypatch.undo()  # a retry (force) makes only what is missing
    assert derive_recording(recording_id=recording.pk, force=True) == "done"
    assert recording.derivatives.filter(kind="proxy").count() == 1
    assert recording.derivatives.filter(kind="poster").count() == 1


def test_a_full_temporary_disk_is_said_so(stored_recording, monkeypatch):
    """The derivatives are made in the worker's temporary folder (issue 14 item 6: the
    original is not copied there): when that disk is full the failure names the folder and
    what to do, in the audit entry and on the recording's page (第二十六条)."""
    import errno
    import tempfile

    recording = stored_recording("hevc")

    def full(src, dst, **kwargs):
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as exc:
            raise media.MediaError(f"proxy failed: {exc}") from exc

    monkeypatch.setattr(media, "make_proxy", full)
    assert derive_media.call(recording.pk) == "failed"
    entry = AuditEntry.objects.get(
        action=events.event_recording_derivation_failed, object_id=str(recording.pk)
    )
    assert entry.reason.startswith("DerivativeSpaceTooSmall: 派生文件的临时目录")
    assert tempfile.gettempdir() in entry.reason and "liuhen derive --failed" in entry.reason


@pytest.mark.django_db
def test_idempotent_and_missing_recording(stored_recording):
    recording = stored_recording("h264")
    derive_media.call(recording.pk)
    count = recording.derivatives.count()
    assert derive_media.call(recording.pk) == "done"  # already done: nothing new
    assert recording.derivatives.count() == count
    assert derive_media.call(999_999) == "missing"


@pytest.mark.django_db
def test_ingest_enqueues_derivation_on_commit(stored_recording, django_capture_on_commit_callbacks):
    """The ingest service queues the job once the recording is committed (immediate backend
    in tests: the job runs at once)."""
    with django_capture_on_commit_callbacks(execute=True):
        recording = stored_recording("hevc")
    recording.refresh_from_db()
    assert recording.derivation_status == "done"
    assert recording.derivatives.filter(kind="proxy").exists()


def test_enqueue_failure_does_not_raise(monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionError("queue down")

    from types import SimpleNamespace

    from liuhen.evidence import tasks

    monkeypatch.setattr(tasks, "derive_media", SimpleNamespace(enqueue=down))
    assert enqueue_derivation(1) is False


# -- through the real workers ---------------------------------------------------------------

INGEST_SCRIPT = """
import json, sys
from datetime import datetime, UTC
from liuhen.access.choices import Role
from liuhen.org.tests.factories import OfficerFactory, UnitFactory
from liuhen.evidence.services import ingest_recording
from liuhen.evidence.tests import mediafactory
import uuid
tag = uuid.uuid4().hex[:8]  # factory sequences restart in every process: keep names unique
officer = OfficerFactory(unit=UnitFactory(name="unit-" + tag), role=Role.OFFICER,
                         user__username="w" + tag, credential_number="c" + tag,
                         qualification_number="q" + tag)
path = mediafactory.make_hevc_mp4(sys.argv[-1], seconds=1,
                                  creation_time=datetime.now(UTC).replace(microsecond=0))
rec = ingest_recording(source_path=path, original_name="worker.mp4", actor=officer.user,
                       channel="web").recording
rec.refresh_from_db()
print(json.dumps({"id": rec.pk, "status": rec.derivation_status}))
"""

STATUS_SCRIPT = """
import json, sys
from liuhen.evidence.models import Recording
rec = Recording.objects.get(pk=int(sys.argv[-1]))
print(json.dumps({"status": rec.derivation_status,
                  "kinds": sorted(rec.derivatives.values_list("kind", flat=True))}))
"""


def _run_script(server, script: str, arg: str) -> dict:
    path = server.data_dir / f"script_{uuid.uuid4().hex[:6]}.py"
    path.write_text(script)
    code = f"import sys; sys.argv=['x', {arg!r}]; exec(open({str(path)!r}).read())"
    result = server.manage("shell", "-c", code)
    return json.loads(result.stdout.strip().splitlines()[-1])


def _through_worker(server, worker_args: list[str]) -> dict:
    """Ingest in one process (the job is queued on commit), run the worker, read the result."""
    created = _run_script(server, INGEST_SCRIPT, str(server.data_dir / f"{uuid.uuid4().hex}.mp4"))
    assert created["status"] == "pending"  # queued, not run inline
    server.manage(*worker_args)
    return _run_script(server, STATUS_SCRIPT, str(created["id"]))


@pytest.mark.slow
def test_through_db_worker_and_rq_worker(server_process, redis_url):
    """The job runs in the real workers: django-tasks-db (`liuhen db_worker`) and
    django-tasks-rq on the real Redis (`liuhen rqworker --burst` with the tasks Job class)."""
    server = server_process({"LIUHEN_TASKS": "db"})
    after = _through_worker(server, ["db_worker", "--batch", "--queue-name", "default"])
    assert after["status"] == "done"
    assert after["kinds"] == ["poster", "proxy"] + ["thumbnail"] * 6

    server.env.update({"LIUHEN_TASKS": "rq", "LIUHEN_REDIS_URL": redis_url})
    worker = ["rqworker", "--burst", "--job-class", "django_tasks_rq.backend.Job", "default"]
    after = _through_worker(server, worker)
    assert after["status"] == "done"
    assert "proxy" in after["kinds"]


@pytest.mark.django_db
def test_derive_command_catches_up_pending_and_failed(stored_recording, monkeypatch):
    """`liuhen derive --pending --failed` runs the job for recordings the queue missed."""
    from django.core.management import CommandError, call_command

    pending = stored_recording("h264")
    failing = stored_recording("hevc")
    monkeypatch.setattr(
        media, "make_proxy", lambda *a, **k: (_ for _ in ()).throw(media.MediaError("boom"))
    )
    with pytest.raises(CommandError):
        call_command("derive", "--pending")
    pending.refresh_from_db()
    failing.refresh_from_db()
    assert (pending.derivation_status, failing.derivation_status) == ("done", "failed")
    monkeypatch.undo()
    call_command("derive", "--failed")
    failing.refresh_from_db()
    assert failing.derivation_status == "done"
    with pytest.raises(CommandError):
        call_command("derive")
