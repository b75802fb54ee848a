"""Periodic jobs: what runs on its own, how often, and a tiny scheduler that enqueues them.

`liuhen serve` starts `liuhen scheduler` beside the job worker, so a bureau that only ran
``make run`` still gets its fixity checks (第二十六条 (二): nobody may alter or delete a recording
unnoticed), a daily anchor of the audit chain's head and its expired uploads cleaned. The
scheduler only *enqueues* jobs through the django-tasks API (database queue or RQ); the worker
runs them. When each job last ran is kept in the database (``web.PeriodicRun``), so a restart
neither repeats a daily fixity run nor forgets it.

Several nodes may run the scheduler (issue 14 item 2, docs/scale-out.md): the one holding the
lease row (``web.SchedulerLease``) leads and enqueues; the others wait and take over within
``LIUHEN_SCHEDULER_LEASE_SECONDS`` when it dies. Each run is also claimed by compare-and-set on
its row, so a period's job runs once whatever the node count.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import import_module
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone

from liuhen.web.models import PeriodicRun, SchedulerLease

log = logging.getLogger(__name__)

# A job never run is first due this long after the scheduler started (capped at its interval),
# so that start-up is not slowed by a fixity pass.
FIRST_DELAY = timedelta(minutes=10)
OWED_WORK_EVERY = timedelta(minutes=5)
# An inline job that failed (the nightly backup on a full backup disk) is tried again after this,
# not on the next tick: each try of a backup writes a new dated folder, and tries every 5 s would
# fill the disk it failed on. A queued job whose queue was unreachable is retried on the next
# tick as before (nothing ran). Kept in the leader's process: a new leader tries at once.
INLINE_RETRY_AFTER = timedelta(minutes=15)
_retry_after: dict[str, datetime] = {}
LEASE_NAME = "scheduler"


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
    if settings.CIRCULAR_DRAFT_MONTHLY:
        # 第二十四条: last month's circular drafted for the legal affairs office to complete and
        # publish. Looked at daily, so a month whose first days the cluster was down is still
        # drafted; the job drafts a month once (a unique row per scheduled month).
        found.append(Periodic(
            "circular-draft", "liuhen.supervision.tasks.draft_circular_task",
            timedelta(hours=24), {}, "每月通报草稿（上月）",
        ))
    # Finishes uploads whose bytes all arrived but were never stored (a crash), then removes
    # expired unfinished ones (issue 16); `liuhen serve` also queues it once at start-up.
    found.append(Periodic(
        "upload-cleanup", "liuhen.evidence.tus.recovery.upload_upkeep_task",
        timedelta(minutes=15), {}, "完成已传完的上传，清理过期的未完成上传",
    ))
    # 第十四条: an object whose erasure failed after its tombstone committed (a file-system
    # error, S3 unreachable) is erased again; nothing else ever would (issue 11).
    found.append(Periodic(
        "disposal-erasures", "liuhen.keeping.tasks.retry_erasures_task", timedelta(hours=1), {},
        "重试删除已销毁记录的存储对象",
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


def node_name() -> str:
    """This scheduler process as the lease and the run rows name it: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


# -- Leadership: one scheduler enqueues for the whole cluster (issue 14 item 2) ---------------

def take_lead(holder: str, now: datetime | None = None) -> bool:
    """Take or renew the scheduler's lease for ``holder``; True when it leads now.

    One conditional UPDATE on the lease row (works alike on PostgreSQL and SQLite): it succeeds
    when ``holder`` already holds the lease or the lease has expired, so a leader that died is
    replaced within ``LIUHEN_SCHEDULER_LEASE_SECONDS``. Node clocks are compared through the
    expiry time, so the nodes keep their clocks synchronised (NTP), as recordings need anyway.
    """
    now = now or timezone.now()
    SchedulerLease.objects.bulk_create(
        [SchedulerLease(name=LEASE_NAME, holder="", expires_at=now, taken_at=now)],
        ignore_conflicts=True)
    expires = now + timedelta(seconds=settings.SCHEDULER_LEASE_SECONDS)
    lease = SchedulerLease.objects.filter(name=LEASE_NAME)
    if lease.filter(holder=holder).update(expires_at=expires):
        return True
    return bool(lease.filter(expires_at__lte=now).update(holder=holder, expires_at=expires,
                                                         taken_at=now))


def give_up_lead(holder: str) -> None:
    """Let another node lead at once (a scheduler stopped on purpose, not crashed)."""
    SchedulerLease.objects.filter(name=LEASE_NAME, holder=holder).update(
        expires_at=timezone.now() - timedelta(seconds=1))


class LeaseKeeper:
    """Holds the scheduler's lease from a thread of its own, on its own database connection.

    The lease is renewed every third of its length whatever the scheduler's main loop is doing.
    When the loop renewed it between ticks, a tick longer than two thirds of the lease let it
    lapse under a leader that was alive (the two-scheduler test saw a 3 s lease lapse on an
    idle machine: the first tick imports every job's module, the circular's PDF stack among
    them; an inline job such as the nightly backup of a large vault takes minutes; a queue
    slow to answer blocks an enqueue). Another node then took the lead while the first still
    ran due jobs. Now the main loop only asks :attr:`leading`, which is true only while the
    last successful renewal's term runs (monotonic clock), so a node that cannot reach the
    database stops running jobs when its lease ends, as the other nodes see it end. Each run is
    still claimed by compare-and-set (``_claim``), so even then no period runs twice.
    """

    def __init__(self, holder: str, *, on_change=None):
        self.holder = holder
        self.seconds = float(settings.SCHEDULER_LEASE_SECONDS)  # the term take_lead grants
        self.renew_every = self.seconds / 3
        self.on_change = on_change  # called with True/False when leadership changes
        self._held_until = 0.0  # time.monotonic() until which the lease is ours
        self._was_leading: bool | None = None
        self._stop = threading.Event()
        self._first = threading.Event()
        self._thread = threading.Thread(target=self._run, name="liuhen-scheduler-lease",
                                        daemon=True)

    @property
    def leading(self) -> bool:
        return time.monotonic() < self._held_until

    def start(self) -> LeaseKeeper:
        """Start renewing; returns once the first attempt to take the lease has answered."""
        self._thread.start()
        self._first.wait(self.seconds)
        return self

    def stop(self) -> None:
        """Stop renewing and hand the lease over at once (a stop on purpose, not a crash)."""
        self._stop.set()
        self._thread.join(self.seconds + 30)

    def renew(self) -> bool:
        """One attempt to take or renew the lease; True when this node leads now."""
        began = time.monotonic()
        try:
            close_old_connections()  # a database restarted since the last renewal
            if take_lead(self.holder):
                self._held_until = began + self.seconds
            else:
                self._held_until = 0.0  # the database says another node holds it
        except DatabaseError:
            # Unreachable: the term already granted runs out by itself (the other nodes see it
            # end at the same time); no renewal, so no job after it.
            from liuhen.web.jobs import drop_connections

            log.exception("scheduler: database unavailable, lease not renewed")
            drop_connections()
        leading = self.leading
        if leading != self._was_leading and self.on_change is not None:
            self.on_change(leading)
        self._was_leading = leading
        return leading

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self.renew()
                self._first.set()
                self._stop.wait(self.renew_every)
        finally:
            self._first.set()
            try:
                if self.leading:
                    give_up_lead(self.holder)
            except DatabaseError:
                pass  # the lease expires by itself
            self._held_until = 0.0
            connection.close()  # this thread's own connection


def leader() -> SchedulerLease | None:
    """The lease row (who leads, until when), or None before any scheduler ran."""
    return SchedulerLease.objects.filter(name=LEASE_NAME).first()


# -- When each job last ran, in the database so that every node sees it -----------------------

def load_state() -> dict[str, datetime]:
    """When each job was last enqueued (jobs never run are absent)."""
    return dict(PeriodicRun.objects.filter(last_run__isnull=False)
                .values_list("name", "last_run"))


def record_run(name: str, now: datetime, node: str = "") -> None:
    """Note that ``name`` was enqueued at ``now`` (``liuhen scheduler --once``)."""
    PeriodicRun.objects.update_or_create(name=name, defaults={"last_run": now, "node": node})


def import_legacy_state(path: Path | None = None) -> None:
    """Carry ``LIUHEN_DATA_DIR/scheduler.json`` (where the state lived before it moved into the
    database) over once, so an upgraded node neither repeats nor forgets a daily run."""
    path = path or Path(settings.DATA_DIR) / "scheduler.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        for name, value in raw.items():
            PeriodicRun.objects.get_or_create(
                name=name, defaults={"last_run": datetime.fromisoformat(value)})
    except FileNotFoundError:
        return
    except (OSError, ValueError, TypeError, AttributeError):
        log.warning("scheduler: %s unreadable, not carried over", path)
    path.rename(path.with_name(path.name + ".imported"))


def due_at(job: Periodic, state: dict[str, datetime], started: datetime) -> datetime:
    """When ``job`` falls due: ``every`` after its last run, or ``FIRST_DELAY`` after the
    scheduler started when it never ran."""
    last = state.get(job.name)
    return started + min(job.every, FIRST_DELAY) if last is None else last + job.every


def _claim(job: Periodic, last: datetime | None, now: datetime, node: str) -> bool:
    """Compare-and-set the job's last run from ``last`` to ``now``: True for exactly one node
    when two try the same period."""
    PeriodicRun.objects.bulk_create([PeriodicRun(name=job.name)], ignore_conflicts=True)
    row = PeriodicRun.objects.filter(name=job.name)
    row = row.filter(last_run__isnull=True) if last is None else row.filter(last_run=last)
    return bool(row.update(last_run=now, node=node))


def run_due(now: datetime | None = None, started: datetime | None = None,
            node: str = "") -> list[str]:
    """Enqueue every due job and record its run in the database; return the names enqueued.

    Each job is claimed before it is enqueued, so two schedulers never both enqueue one
    period's run. A job whose queue is unreachable gets its previous last run back, is logged
    and tried again on the next tick, never lost.
    """
    now = now or timezone.now()
    started = started or now
    enqueued = []
    for job in jobs():
        last = load_state().get(job.name)
        if now < due_at(job, {job.name: last} if last else {}, started):
            continue
        if now < _retry_after.get(job.name, now):
            continue  # an inline job that failed a moment ago
        if not _claim(job, last, now, node):
            continue  # another node ran it for this period
        try:
            job.enqueue()
        except Exception:  # noqa: BLE001 - tried again on the next tick, or later (inline)
            log.exception("scheduler: %s %s failed", "running" if job.inline else "enqueueing",
                          job.name)
            PeriodicRun.objects.filter(name=job.name, last_run=now).update(last_run=last)
            if job.inline:
                _retry_after[job.name] = now + INLINE_RETRY_AFTER
            continue
        _retry_after.pop(job.name, None)
        enqueued.append(job.name)
    return enqueued


def next_wake(now: datetime, started: datetime) -> float:
    """Seconds until the next job falls due (at least 5 s, at most 5 minutes)."""
    state = load_state()
    times = [due_at(job, state, started) for job in jobs()]
    if not times:
        return 300.0
    return max(5.0, min(300.0, (min(times) - now).total_seconds()))
