"""Periodic jobs (liuhen.web.schedule): fixity and upload clean-up run without anyone
remembering a cron line (第二十六条 (二): alterations and deletions must not go unnoticed)."""

from __future__ import annotations

import json
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
from liuhen.web.models import PeriodicRun

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
                                                     "circular-draft", "upload-cleanup",
                                                     "disposal-erasures", "owed-work"]


def test_nothing_runs_at_start_up_then_each_job_when_due(settings, state_file):
    settings.FIXITY_EVERY_HOURS, settings.FIXITY_SAMPLE = 24, 0
    started = timezone.now()
    assert schedule.run_due(now=started, started=started) == []
    assert _fixity_runs() == 0
    later = started + schedule.FIRST_DELAY
    assert sorted(schedule.run_due(now=later, started=started)) == [
        "audit-anchor", "circular-draft", "disposal-erasures", "fixity", "owed-work",
        "upload-cleanup", "violations"]
    assert _fixity_runs() == 1  # the immediate test backend ran the enqueued job
    # An hour on: only the hourly jobs; a day on: fixity again.
    assert schedule.run_due(now=later + timedelta(hours=1), started=started) == [
        "upload-cleanup", "disposal-erasures", "owed-work"]
    assert "fixity" in schedule.run_due(now=later + timedelta(hours=24), started=started)
    assert _fixity_runs() == 2


def test_state_survives_a_restart_and_is_carried_over_from_the_old_file(state_file):
    now = timezone.now()
    schedule.record_run("fixity", now)
    assert schedule.load_state() == {"fixity": now}
    # Restarted five minutes later: fixity is not repeated.
    started = now + timedelta(minutes=5)
    ran = schedule.run_due(now=started + schedule.FIRST_DELAY, started=started)
    assert "fixity" not in ran and "audit-anchor" in ran
    # Before issue 14 the state was a file in the node's data folder: read once, then set aside.
    PeriodicRun.objects.all().delete()
    state_file.write_text(json.dumps({"fixity": now.isoformat()}), encoding="utf-8")
    schedule.import_legacy_state()
    assert schedule.load_state() == {"fixity": now}
    assert not state_file.exists() and state_file.with_name("scheduler.json.imported").exists()
    state_file.write_text("{not json", encoding="utf-8")
    schedule.import_legacy_state()  # logged, not fatal
    assert schedule.load_state() == {"fixity": now}


def test_a_queue_that_is_down_is_retried(monkeypatch, state_file):
    def down(self):
        raise ConnectionError("redis down")

    monkeypatch.setattr(schedule.Periodic, "enqueue", down)
    now = timezone.now()
    assert schedule.run_due(now=now + timedelta(hours=2), started=now) == []
    assert schedule.load_state() == {}  # still due on the next tick
    assert schedule.next_wake(now, now) == 300  # sleeps at most five minutes
    almost = now + schedule.OWED_WORK_EVERY - timedelta(seconds=30)
    assert schedule.next_wake(almost, now) == pytest.approx(30, abs=1)


def test_an_inline_job_that_failed_waits_before_it_runs_again(settings, state_file, monkeypatch):
    # The nightly backup (issue 16 item 5) on a full backup disk: it ran again on every tick
    # (5 s), each try writing a new dated folder onto the disk that was full.
    settings.BACKUP_DIR = state_file.parent / "backups"
    monkeypatch.setattr(schedule, "_retry_after", {})
    tries = []

    def disk_full(**kwargs):
        tries.append(kwargs)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("liuhen.web.backup.nightly_backup", disk_full)
    started = timezone.now()
    first = started + schedule.FIRST_DELAY
    assert "backup" not in schedule.run_due(now=first, started=started)
    assert len(tries) == 1 and "backup" not in schedule.load_state()  # still owed
    assert "backup" not in schedule.run_due(now=first + timedelta(seconds=5), started=started)
    assert len(tries) == 1  # not again on the next tick
    monkeypatch.setattr("liuhen.web.backup.nightly_backup", lambda **kwargs: tries.append(kwargs))
    later = first + schedule.INLINE_RETRY_AFTER
    assert "backup" in schedule.run_due(now=later, started=started)
    assert len(tries) == 2 and schedule.load_state()["backup"] == later


def test_one_leader_at_a_time_and_a_dead_one_is_replaced(settings):
    """Issue 14 item 2: of two schedulers only the lease holder leads; it renews; when it stops
    renewing (died) the other takes over once the lease has run out, not before."""
    settings.SCHEDULER_LEASE_SECONDS = 90
    now = timezone.now()
    assert schedule.take_lead("node-a", now)
    assert not schedule.take_lead("node-b", now + timedelta(seconds=1))
    assert schedule.take_lead("node-a", now + timedelta(seconds=30))  # renewed to now+120 s
    assert not schedule.take_lead("node-b", now + timedelta(seconds=119))
    assert schedule.take_lead("node-b", now + timedelta(seconds=120))
    assert schedule.leader().holder == "node-b"
    assert not schedule.take_lead("node-a", now + timedelta(seconds=121))
    schedule.give_up_lead("node-b")  # stopped on purpose: hands over at once
    assert schedule.take_lead("node-a", timezone.now())


def test_the_lease_keeper_leads_for_the_term_it_was_granted(settings, monkeypatch):
    """The scheduler's lease, renewed from its own thread (schedule.LeaseKeeper): this node
    leads while the term of its last renewal runs; a database it cannot reach does not cut the
    term short (the other nodes see it run out at the same time) nor extend it; a lease the
    database gives to another node ends it at once. Each change is said once."""
    from django.db import OperationalError

    import liuhen.web.jobs

    settings.SCHEDULER_LEASE_SECONDS = 1.5
    # The keeper's own thread starts each renewal by closing a broken connection; here it runs
    # in the test's thread, whose connection is inside the test's transaction.
    monkeypatch.setattr(schedule, "close_old_connections", lambda: None)
    changes = []
    keeper = schedule.LeaseKeeper("node-a", on_change=changes.append)
    assert keeper.renew_every == pytest.approx(0.5)
    assert keeper.renew() and keeper.leading
    assert not schedule.take_lead("node-b")
    assert keeper.renew() and changes == [True]

    real_take_lead = schedule.take_lead

    def unreachable(holder, now=None):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(schedule, "take_lead", unreachable)
    monkeypatch.setattr(liuhen.web.jobs, "drop_connections", lambda: None)
    assert keeper.renew()  # the granted term still runs
    time.sleep(1.6)
    assert not keeper.renew() and not keeper.leading  # ... and ended on time, not renewed
    assert changes == [True, False]

    monkeypatch.setattr(schedule, "take_lead", real_take_lead)
    assert keeper.renew() and changes == [True, False, True]
    schedule.give_up_lead("node-a")  # as if the term had run out while this node stalled
    assert schedule.take_lead("node-b")
    assert not keeper.renew() and not keeper.leading  # the database says node-b leads
    assert changes == [True, False, True, False]


def test_a_period_runs_once_when_two_nodes_both_think_they_lead(state_file):
    """A leader that stalled past its lease and a new leader tick in the same minute: each
    job's run is claimed on its row, so only one of them enqueues it."""
    started = timezone.now()
    later = started + schedule.FIRST_DELAY
    first = schedule.run_due(now=later, started=started, node="node-a")
    assert "fixity" in first and _fixity_runs() == 1
    assert schedule.run_due(now=later + timedelta(seconds=2), started=started,
                            node="node-b") == []
    assert _fixity_runs() == 1
    assert PeriodicRun.objects.get(name="fixity").node == "node-a"
    # Both read the same last run and race for it: the compare-and-set lets one through.
    last = schedule.load_state()["fixity"]
    job = {j.name: j for j in schedule.jobs()}["fixity"]
    day_on = last + job.every
    assert schedule._claim(job, last, day_on, "node-a")
    assert not schedule._claim(job, last, day_on, "node-b")


def test_hourly_cleanup_drops_expired_partial_uploads(people, state_file):
    from liuhen.access.services import create_token

    client = Tus(create_token(user=people["officer_a"].user, name="采集站")[1])
    url = _path(client.create(100))
    UploadSession.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    now = timezone.now()
    assert "upload-cleanup" in schedule.run_due(now=now + timedelta(hours=1), started=now)
    assert not UploadSession.objects.exists() and not list(upload_files.upload_dir().iterdir())
    assert client.head(url).status_code in (404, 410)


def test_scheduler_command_once_and_list(settings, state_file, capsys):
    settings.FIXITY_EVERY_HOURS, settings.FIXITY_SAMPLE = 12, 0
    call_command("scheduler", "--list")
    assert "固定值校验（全部原件）" in capsys.readouterr().out
    call_command("scheduler", "--once")
    assert _fixity_runs() == 1
    assert set(schedule.load_state()) == {"audit-anchor", "fixity", "upload-cleanup",
                                              "owed-work", "violations", "circular-draft",
                                              "disposal-erasures"}
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
