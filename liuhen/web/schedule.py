"""Periodic jobs: what runs on its own, how often, and a tiny scheduler that enqueues them.

`liuhen serve` starts `liuhen scheduler` beside the job worker, so a bureau that only ran
``make run`` still gets its fixity checks (第二十六条 (二): nobody may alter or delete a recording
unnoticed), a daily anchor of the audit chain's head and its expired uploads cleaned. The
scheduler only *enqueues* jobs through the django-tasks API (database queue or RQ); the worker
runs them. When each job last ran is kept in
``LIUHEN_DATA_DIR/scheduler.json``, so a restart neither repeats a daily fixity run nor forgets it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import import_module
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from liuhen.core.files import write_atomically

log = logging.getLogger(__name__)

# A job never run is first due this long after the scheduler started (capped at its interval),
# so that start-up is not slowed by a fixity pass.
FIRST_DELAY = timedelta(minutes=10)
OWED_WORK_EVERY = timedelta(minutes=5)


@dataclass(frozen=True)
class Periodic:
    """One periodic job: a django-tasks task (dotted path), how often, with which arguments."""

    name: str
    task: str
    every: timedelta
    kwargs: dict = field(default_factory=dict)
    label: str = ""
    # Run in the scheduler's own process instead of queued: for work that must go on while the
    # queue is down (re-queueing what the queue lost).
    inline: bool = False

    def enqueue(self) -> None:
        module, _, attr = self.task.rpartition(".")
        target = getattr(import_module(module), attr)
        if self.inline:
            target(**self.kwargs)
        else:
            target.enqueue(**self.kwargs)


def jobs() -> list[Periodic]:
    """The periodic jobs as configured (an interval of 0 hours switches a job off)."""
    found = []
    if settings.FIXITY_EVERY_HOURS:
        found.append(Periodic(
            "fixity", "liuhen.evidence.fixity.scheduled_fixity",
            timedelta(hours=settings.FIXITY_EVERY_HOURS),
            {"sample": settings.FIXITY_SAMPLE or None},
            "固定值校验（抽样）" if settings.FIXITY_SAMPLE else "固定值校验（全部原件）",
        ))
    if settings.AUDIT_ANCHOR_EVERY_HOURS:
        found.append(Periodic(
            "audit-anchor", "liuhen.audit.tasks.anchor_task",
            timedelta(hours=settings.AUDIT_ANCHOR_EVERY_HOURS), {}, "审计日志链头锚点",
        ))
    if settings.VIOLATION_DETECT_EVERY_HOURS:
        # 第二十六条: the detectors list new suspected violations for the legal affairs office.
        found.append(Periodic(
            "violations", "liuhen.supervision.tasks.detect_violations_task",
            timedelta(hours=settings.VIOLATION_DETECT_EVERY_HOURS), {}, "第二十六条违规检测",
        ))
    # Finishes uploads whose bytes all arrived but were never stored (a crash), then removes
    # expired unfinished ones (issue 16); `liuhen serve` also queues it once at start-up.
    found.append(Periodic(
        "upload-cleanup", "liuhen.evidence.tus.recovery.upload_upkeep_task",
        timedelta(minutes=15), {}, "完成已传完的上传，清理过期的未完成上传",
    ))
    # The database says what work is owed (issue 16 item 3): derivations still pending and jobs
    # whose worker died are queued again, temporary folders of killed derivations removed.
    found.append(Periodic(
        "owed-work", "liuhen.web.jobs.requeue_owed_work", OWED_WORK_EVERY, {},
        "重新排队未完成的派生任务和中断的任务", inline=True,
    ))
    if settings.BACKUP_DIR:
        # In the scheduler's own process: a backup reads the database and the vault directly.
        found.append(Periodic("backup", "liuhen.web.backup.nightly_backup", timedelta(hours=24),
                              {}, "每日备份（数据库、音像原件、锚点、密钥）", inline=True))
    return found


def state_path() -> Path:
    return Path(settings.DATA_DIR) / "scheduler.json"


def load_state(path: Path | None = None) -> dict[str, datetime]:
    """When each job was last enqueued; an unreadable file counts as never (logged)."""
    path = path or state_path()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return {name: datetime.fromisoformat(value) for name, value in raw.items()}
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, TypeError, AttributeError):
        log.warning("scheduler: %s unreadable, treating every job as never run", path)
        return {}


def save_state(state: dict[str, datetime], path: Path | None = None) -> None:
    """Write the state atomically (temporary file, then rename)."""
    write_atomically(path or state_path(),
                     json.dumps({k: v.isoformat() for k, v in state.items()}))


def due_at(job: Periodic, state: dict[str, datetime], started: datetime) -> datetime:
    """When ``job`` falls due: ``every`` after its last run, or ``FIRST_DELAY`` after the
    scheduler started when it never ran."""
    last = state.get(job.name)
    return started + min(job.every, FIRST_DELAY) if last is None else last + job.every


def run_due(state: dict[str, datetime], now: datetime | None = None,
            started: datetime | None = None) -> list[str]:
    """Enqueue every due job, record it in ``state``; return the names enqueued.

    A job whose queue is unreachable is logged and tried again on the next tick, never lost.
    """
    now = now or timezone.now()
    started = started or now
    enqueued = []
    for job in jobs():
        if now < due_at(job, state, started):
            continue
        try:
            job.enqueue()
        except Exception:  # noqa: BLE001 - the next tick tries again
            log.exception("scheduler: could not enqueue %s", job.name)
            continue
        state[job.name] = now
        enqueued.append(job.name)
    return enqueued


def next_wake(state: dict[str, datetime], now: datetime, started: datetime) -> float:
    """Seconds until the next job falls due (at least 5 s, at most 5 minutes)."""
    times = [due_at(job, state, started) for job in jobs()]
    if not times:
        return 300.0
    return max(5.0, min(300.0, (min(times) - now).total_seconds()))
