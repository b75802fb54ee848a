"""Periodic jobs (liuhen.web.schedule): fixity and upload clean-up run without anyone
remembering a cron line (第二十六条 (二): alterations and deletions must not go unnoticed)."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from liuhen.audit.models import AuditEntry
from liuhen.evidence import events
from liuhen.evidence import uploads as upload_files
from liuhen.evidence.models import UploadSession
from liuhen.evidence.tests.test_tus import Tus, _path
from liuhen.web import schedule

pytestmark = pytest.mark.django_db


@pytest.fixture
def state_file(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.AUDIT_ANCHOR_DIR = tmp_path / "audit-anchors"
    return tmp_path / "scheduler.json"


def _fixity_runs() -> int:
    return AuditEntry.objects.filter(action=events.event_fixity_run).count()


def test_jobs_follow_the_settings(settings):
    settings.FIXITY_EVERY_HOURS, settings.FIXITY_SAMPLE = 24, 0
    fixity = {job.name: job for job in schedule.jobs()}["fixity"]
    assert fixity.every == timedelta(hours=24) and fixity.kwargs == {"sample": None}
    settings.FIXITY_EVERY_HOURS, settings.FIXITY_SAMPLE = 6, 50
    fixity = {job.name: job for job in schedule.jobs()}["fixity"]
    assert fixity.every == timedelta(hours=6) and fixity.kwargs == {"sample": 50}
    settings.FIXITY_EVERY_HOURS = 0
    assert [job.name for job in schedule.jobs()] == ["audit-anchor", "violations",
                                                     "upload-cleanup", "owed-work"]


def test_nothing_runs_at_start_up_then_each_job_when_due(settings, state_file):
    settings.FIXITY_EVERY_HOURS, settings.FIXITY_SAMPLE = 24, 0
    started = timezone.now()
    state: dict = {}
    assert schedule.run_due(state, now=started, started=started) == []
    assert _fixity_runs() == 0
    later = started + schedule.FIRST_DELAY
    assert sorted(schedule.run_due(state, now=later, started=started)) == [
        "audit-anchor", "fixity", "owed-work", "upload-cleanup", "violations"]
    assert _fixity_runs() == 1  # the immediate test backend ran the enqueued job
    # An hour on: only the hourly clean-up; a day on: fixity again.
    assert schedule.run_due(state, now=later + timedelta(hours=1), started=started) == [
        "upload-cleanup", "owed-work"]
    assert "fixity" in schedule.run_due(state, now=later + timedelta(hours=24), started=started)
    assert _fixity_runs() == 2


def test_state_survives_a_restart_and_a_damaged_file(state_file):
    now = timezone.now()
    schedule.save_state({"fixity": now})
    assert schedule.load_state() == {"fixity": now}
    assert not list(state_file.parent.glob("*.tmp"))  # written by rename
    # Restarted five minutes later: fixity is not repeated.
    started = now + timedelta(minutes=5)
    state = schedule.load_state()
    ran = schedule.run_due(state, now=started + schedule.FIRST_DELAY, started=started)
    assert "fixity" not in ran
    state_file.write_text("{not json", encoding="utf-8")
    assert schedule.load_state() == {}


def test_a_queue_that_is_down_is_retried(monkeypatch, state_file):
    def down(self):
        raise ConnectionError("redis down")

    monkeypatch.setattr(schedule.Periodic, "enqueue", down)
    now = timezone.now()
    state: dict = {}
    assert schedule.run_due(state, now=now + timedelta(hours=2), started=now) == []
    assert state == {}  # still due on the next tick
    assert schedule.next_wake(state, now, now) == 300  # sleeps at most five minutes
    almost = now + schedule.OWED_WORK_EVERY - timedelta(seconds=30)
    assert schedule.next_wake(state, almost, now) == pytest.approx(30, abs=1)


def test_hourly_cleanup_drops_expired_partial_uploads(people, state_file):
    from liuhen.access.services import create_token

    client = Tus(create_token(user=people["officer_a"].user, name="采集站")[1])
    url = _path(client.create(100))
    UploadSession.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    now = timezone.now()
    assert "upload-cleanup" in schedule.run_due({}, now=now + timedelta(hours=1), started=now)
    assert not UploadSession.objects.exists() and not list(upload_files.upload_dir().iterdir())
    assert client.head(url).status_code in (404, 410)


def test_scheduler_command_once_and_list(settings, state_file, capsys):
    settings.FIXITY_EVERY_HOURS, settings.FIXITY_SAMPLE = 12, 0
    call_command("scheduler", "--list")
    assert "固定值校验（全部原件）" in capsys.readouterr().out
    call_command("scheduler", "--once")
    assert _fixity_runs() == 1
    assert set(schedule.load_state()) == {"audit-anchor", "fixity", "upload-cleanup",
                                              "owed-work", "violations"}
    call_command("scheduler", "--list")
    assert "从未" not in capsys.readouterr().out


def _session_commands(sid: int) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getsid(int(entry.name)) == sid:
                found.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except (OSError, ProcessLookupError):
            continue
    return found


def test_serve_starts_the_scheduler_beside_the_worker(server_process):
    server = server_process().start(worker=True)
    deadline = time.time() + 20
    while time.time() < deadline:
        commands = _session_commands(server.proc.pid)
        if any("liuhen scheduler" in c for c in commands):
            break
        time.sleep(0.3)
    assert any("liuhen scheduler" in c for c in commands), commands
    assert any("liuhen worker" in c for c in commands)
    assert any("liuhen supervise" in c for c in commands)
