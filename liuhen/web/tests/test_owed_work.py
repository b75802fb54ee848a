"""The database is the source of truth for owed work (issue 16 item 3): derivations that never
reached the queue (Redis down at ingest) or were lost with it (Redis restarted without
persistence) are queued again, database jobs stuck RUNNING after their worker was killed are
released, temporary folders of killed derivations are removed, and doing any of it twice does
no harm."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from conftest import free_port
from liuhen.evidence.choices import DerivationStatus
from liuhen.evidence.models import Derivative, Recording
from liuhen.evidence.tasks import DERIVE_TEMP_PREFIX, derive_media, derive_recording
from liuhen.evidence.tests.conftest import make_media, stored_recording, vault  # noqa: F401
from liuhen.evidence.tests.test_tasks import INGEST_SCRIPT, STATUS_SCRIPT, _run_script
from liuhen.web import jobs


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _running_task(*, worker: str, started) -> DBTaskResult:
    return DBTaskResult.objects.create(
        status="RUNNING", args_kwargs={"args": [1], "kwargs": {}}, task_path=derive_media.module_path,
        backend_name="default", queue_name="default", run_after=started, started_at=started,
        worker_ids=[worker])


@pytest.mark.django_db
def test_jobs_stuck_running_are_released(settings):
    settings.TASKS_BACKEND = "db"
    now = timezone.now()
    host = socket.gethostname()[:40]
    dead_here = _running_task(worker=f"{host}:{_dead_pid()}:abc", started=now)
    alive_here = _running_task(worker=f"{host}:{os.getpid()}:abc", started=now)
    elsewhere_old = _running_task(worker="node-b:123:abc", started=now - timedelta(hours=7))
    elsewhere_new = _running_task(worker="node-b:123:abc", started=now - timedelta(hours=1))
    released = jobs.release_stuck_tasks(lease=timedelta(hours=6), now=now)
    assert sorted(released) == sorted([str(dead_here.pk), str(elsewhere_old.pk)])
    statuses = dict(DBTaskResult.objects.values_list("pk", "status"))
    assert statuses[dead_here.pk] == statuses[elsewhere_old.pk] == "READY"
    assert statuses[alive_here.pk] == statuses[elsewhere_new.pk] == "RUNNING"
    # Idempotent: a second round releases nothing more.
    assert jobs.release_stuck_tasks(lease=timedelta(hours=6), now=now) == []


@pytest.mark.django_db
def test_pending_derivations_are_queued_once_on_the_database_queue(settings, monkeypatch,
                                                                   stored_recording):  # noqa: F811
    settings.TASKS_BACKEND = "db"
    recording = stored_recording("h264")
    Recording.objects.filter(pk=recording.pk).update(derivation_status=DerivationStatus.PENDING)
    queued = []  # the test backend would run the job at once: record what is queued instead
    monkeypatch.setattr(jobs, "enqueue_derivation", lambda pk: queued.append(pk) or True)
    owed_after = timedelta(minutes=30)
    now = timezone.now()
    assert jobs.requeue_pending_derivations(older_than=owed_after, now=now) == []  # not yet owed
    later = now + timedelta(minutes=31)
    # A job already waiting in the database queue: nothing more is queued.
    waiting = DBTaskResult.objects.create(
        args_kwargs={"args": [recording.pk], "kwargs": {}}, task_path=derive_media.module_path,
        backend_name="default", run_after=now)
    assert jobs.queued_derivations() == {recording.pk}
    assert jobs.requeue_pending_derivations(older_than=owed_after, now=later) == []
    # The job was lost: queued again, once per round while it is not waiting.
    waiting.delete()
    assert jobs.requeue_pending_derivations(older_than=owed_after, now=later) == [recording.pk]
    assert queued == [recording.pk]


@pytest.mark.django_db
def test_deriving_twice_does_no_harm(stored_recording):  # noqa: F811
    recording = stored_recording("h264")
    assert derive_recording(recording_id=recording.pk) == DerivationStatus.DONE
    before = sorted(Derivative.objects.filter(recording=recording)
                    .values_list("kind", "storage_key", "sha256"))
    assert [kind for kind, _, _ in before] == ["poster"] + ["thumbnail"] * 6
    # A re-queued job for a recording already done does nothing …
    assert derive_recording(recording_id=recording.pk) == DerivationStatus.DONE
    # … and one that runs again in full (two workers took it) stores nothing twice.
    Recording.objects.filter(pk=recording.pk).update(derivation_status=DerivationStatus.PENDING)
    assert derive_recording(recording_id=recording.pk) == DerivationStatus.DONE
    after = sorted(Derivative.objects.filter(recording=recording)
                   .values_list("kind", "storage_key", "sha256"))
    assert after == before


def test_temp_folders_of_killed_derivations_are_removed(tmp_path):
    dead = tmp_path / f"{DERIVE_TEMP_PREFIX}{_dead_pid()}-x1"
    alive = tmp_path / f"{DERIVE_TEMP_PREFIX}{os.getpid()}-x2"
    old = tmp_path / f"{DERIVE_TEMP_PREFIX}old"
    new = tmp_path / f"{DERIVE_TEMP_PREFIX}new"
    other = tmp_path / "liuhen-pdf-x"
    for folder in (dead, alive, old, new, other):
        folder.mkdir()
        (folder / "proxy.mp4").write_bytes(b"partial")
    # Times from the (frozen) clock the code reads, not the real one the files were made at.
    two_days_ago, a_minute_ago = time.time() - 2 * 86400, time.time() - 60
    os.utime(old, (two_days_ago, two_days_ago))
    for folder in (dead, alive, new, other):
        os.utime(folder, (a_minute_ago, a_minute_ago))
    assert sorted(jobs.clean_stale_temp_folders(tmp_path)) == sorted([dead, old])
    assert alive.exists() and new.exists() and other.exists()


class OwnRedis:
    """A Redis of this test's own that can be stopped and started on the same port, without
    persistence (a restart loses the queue, as the issue measured)."""

    def __init__(self, folder):
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            pytest.fail("redis-server is not installed (make test installs Debian's redis-server)")
        self.port, self.folder, self.proc = free_port(), folder, None
        folder.mkdir()
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                if time.time() > deadline or self.proc.poll() is not None:
                    self.stop()
                    pytest.fail("redis-server did not start")
                time.sleep(0.05)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None


REQUEUE_SCRIPT = """
import json, sys
from datetime import timedelta
from liuhen.web import jobs
print(json.dumps(jobs.requeue_pending_derivations(older_than=timedelta(0))))
"""


QUEUED_SCRIPT = """
import json
from liuhen.web import jobs
print(json.dumps(sorted(jobs.queued_derivations())))
"""


@pytest.mark.slow
def test_pending_derivations_are_requeued_after_a_redis_outage(server_process, tmp_path):
    redis = OwnRedis(tmp_path / "redis")
    server = server_process({"LIUHEN_TASKS": "rq", "LIUHEN_REDIS_URL": redis.url})
    try:
        # Redis down at ingest: the recording is stored, its derivation never queued.
        created = _run_script(server, INGEST_SCRIPT, str(server.data_dir / f"{uuid.uuid4().hex}.mp4"))
        assert created["status"] == "pending"
        redis.start()
        assert _run_script(server, REQUEUE_SCRIPT, "") == [created["id"]]
        assert _run_script(server, REQUEUE_SCRIPT, "") == []  # already waiting: not twice
        # Redis restarted without persistence: the queued job is lost, and queued again.
        redis.stop()
        redis.start()
        assert _run_script(server, REQUEUE_SCRIPT, "") == [created["id"]]
        assert _run_script(server, QUEUED_SCRIPT, "") == [created["id"]]
        # (The job itself runs in RQ's worker: evidence/tests/test_tasks.py.) Derived, the
        # recording is owed nothing more.
        server.manage("derive", "--pending")
        after = _run_script(server, STATUS_SCRIPT, str(created["id"]))
        assert after["status"] == "done" and "proxy" in after["kinds"]
        assert _run_script(server, REQUEUE_SCRIPT, "") == []  # nothing owed any more
    finally:
        redis.stop()
