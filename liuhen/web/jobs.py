"""The job worker that outlives outages, and the work the database says is owed (issue 16 items
2 and 3).

* :class:`ResilientWorker` is django-tasks-db's worker with one change: a database error while
  it looks for, claims or records a job is logged and retried with a back-off instead of ending
  the process (PostgreSQL restarting, SQLite's disk full). `liuhen worker` runs it.
* :func:`requeue_owed_work` treats the database as the source of truth for what work is owed:
  recordings whose derivation is still pending after a threshold are queued again when no job
  for them is waiting (Redis was down at ingest, or restarted without persistence and lost its
  queue), database jobs stuck RUNNING whose worker is gone or whose lease ran out are made
  ready again, and temporary folders left by killed derivations are removed. Running a
  derivation twice does no harm (``derive_recording`` does nothing for a recording no longer
  pending, and stores each derivative once), so re-queueing errs on the side of doing it.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import socket
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connections
from django.utils import timezone
from django.utils.crypto import get_random_string

from liuhen.evidence.choices import DerivationStatus
from liuhen.evidence.models import Recording
from liuhen.evidence.tasks import DERIVE_TEMP_PREFIX, derive_media, enqueue_derivation
from liuhen.web.supervise import pid_alive

log = logging.getLogger("liuhen.jobs")

OUTAGE_FIRST_DELAY = 1.0
OUTAGE_MAX_DELAY = 30.0


def worker_id() -> str:
    """``host:pid:random``: who claimed a job, so a dead worker's jobs can be told apart."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{get_random_string(8)}"


def yield_to_people() -> None:
    """Lower this process's CPU priority to ``settings.JOB_WORKER_NICE`` (never raise it).

    The job worker's work (browser copies, fixity, anchors, upkeep) can wait; a person at a page
    and an ingest within 第十三条's 24 hours cannot. On a 2-core machine a derivation (FFmpeg
    encoding on every core) ran at the web workers' and the ingest station's priority and took
    half of their CPU while it lasted (issue 9: the station's files/s with derivation running
    0.35 of the baseline, paused 0.41). Niced, it still uses every idle cycle: nothing owed is
    dropped, only done when nobody waits. FFmpeg's threads inherit it (they start later).
    """
    lower_by = settings.JOB_WORKER_NICE - os.getpriority(os.PRIO_PROCESS, 0)
    if lower_by > 0:
        os.nice(lower_by)


def _django_tasks_db_worker():
    from django_tasks_db.management.commands.db_worker import Worker

    return Worker


def run_db_worker(*, queue_names: list[str], interval: float = 1.0, sleep=time.sleep,
                  stop_after_outages: int | None = None) -> None:
    """Run the database worker until it is told to stop; a database outage only pauses it.

    ``stop_after_outages`` is for tests: return after that many outages were survived.
    """
    worker = _django_tasks_db_worker()(
        queue_names=queue_names, interval=interval, batch=False, backend_name="default",
        startup_delay=False, max_tasks=None, worker_id=worker_id(), excluded_queue_names=[])
    worker.configure_signals()
    delay, outages = OUTAGE_FIRST_DELAY, 0
    while worker.running:
        try:
            worker.run()
            return
        except DatabaseError as exc:
            outages += 1
            log.error("worker: database unavailable (%s: %s); retrying in %.0f s",
                      type(exc).__name__, str(exc).strip().splitlines()[0] if str(exc) else "",
                      delay)
            drop_connections()
            if stop_after_outages is not None and outages >= stop_after_outages:
                return
            sleep(delay)
            delay = min(delay * 2, OUTAGE_MAX_DELAY)


def drop_connections() -> None:
    """Close this thread's database connections after an outage; a broken one is dropped."""
    for conn in connections.all(initialized_only=True):
        try:
            conn.close()
        except DatabaseError:
            conn.connection = None  # the socket is gone; let Django open a new one


# --- owed work ----------------------------------------------------------------------------

def queued_derivations() -> set[int]:
    """Recording ids with a derivation job waiting or running in the queue."""
    path = derive_media.module_path
    if settings.TASKS_BACKEND == "db":
        from django_tasks_db.models import DBTaskResult

        rows = DBTaskResult.objects.filter(task_path=path, status__in=("READY", "RUNNING"))
        return {_first_arg(row.args_kwargs) for row in rows} - {None}
    if settings.TASKS_BACKEND == "rq":
        import django_rq
        from rq.job import Job
        from rq.registry import StartedJobRegistry

        queue = django_rq.get_queue("default")
        ids = list(set(queue.job_ids) | set(StartedJobRegistry(queue=queue).get_job_ids()))
        jobs = Job.fetch_many(ids, connection=queue.connection) if ids else []
        return {_first_arg({"args": list(job.args or []), "kwargs": job.kwargs or {}})
                for job in jobs if job is not None and job.func_name == path} - {None}
    return set()


def _first_arg(args_kwargs) -> int | None:
    args = (args_kwargs or {}).get("args") or []
    if args and isinstance(args[0], int):
        return args[0]
    kwargs = (args_kwargs or {}).get("kwargs") or {}
    value = kwargs.get("recording_id")
    return value if isinstance(value, int) else None


def requeue_pending_derivations(*, older_than: timedelta | None = None,
                                now=None) -> list[int]:
    """Queue again each recording still pending after ``older_than`` with no job waiting for
    it; returns their ids (the queue was down at ingest, or lost its jobs)."""
    if older_than is None:
        older_than = timedelta(minutes=settings.REQUEUE_AFTER_MINUTES)
    cutoff = (now or timezone.now()) - older_than
    pending = list(Recording.objects.filter(derivation_status=DerivationStatus.PENDING,
                                            stored_at__lte=cutoff)
                   .order_by("pk").values_list("pk", flat=True))
    if not pending:
        return []
    waiting = queued_derivations()
    requeued = [pk for pk in pending if pk not in waiting and enqueue_derivation(pk)]
    if requeued:
        log.warning("owed work: %d pending derivation(s) queued again: %s", len(requeued),
                    ", ".join(map(str, requeued[:20])))
    return requeued


def release_stuck_tasks(*, lease: timedelta | None = None, now=None) -> list[str]:
    """Make database jobs stuck RUNNING ready again: at once when the worker that claimed them
    ran on this machine and is gone, otherwise when they started longer than ``lease`` ago."""
    if settings.TASKS_BACKEND != "db":
        return []
    from django_tasks_db.models import DBTaskResult

    if lease is None:
        lease = timedelta(hours=settings.TASK_LEASE_HOURS)
    now = now or timezone.now()
    host = socket.gethostname()[:40]
    released = []
    for row in DBTaskResult.objects.filter(status="RUNNING"):
        owner = (row.worker_ids or [""])[-1]
        owner_host, _, rest = owner.partition(":")
        pid = rest.partition(":")[0]
        dead_here = owner_host == host and pid.isdigit() and not pid_alive(int(pid))
        expired = row.started_at is None or row.started_at <= now - lease
        if not (dead_here or expired):
            continue
        updated = DBTaskResult.objects.filter(pk=row.pk, status="RUNNING").update(
            status="READY", started_at=None)
        if updated:
            released.append(str(row.pk))
            log.warning("owed work: job %s (%s) of worker %s released (%s)", row.pk,
                        row.task_path, owner or "?", "worker gone" if dead_here else "lease over")
    return released


_TEMP_PID = re.compile(rf"^{re.escape(DERIVE_TEMP_PREFIX)}(\d+)-")
STALE_TEMP_AGE = timedelta(days=1)


def clean_stale_temp_folders(folder: Path | None = None) -> list[Path]:
    """Remove ``liuhen-derive-*`` folders whose process is gone (or, without a process id,
    older than a day): what a killed derivation left in the system's temporary folder."""
    folder = Path(folder or tempfile.gettempdir())
    removed = []
    for path in folder.glob(f"{DERIVE_TEMP_PREFIX}*"):
        match = _TEMP_PID.match(path.name)
        try:
            if match:
                stale = not pid_alive(int(match.group(1)))
            else:
                stale = time.time() - path.stat().st_mtime > STALE_TEMP_AGE.total_seconds()
        except OSError:
            continue
        if stale and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    if removed:
        log.warning("owed work: %d temporary folder(s) of killed derivations removed",
                    len(removed))
    return removed


def requeue_owed_work() -> dict:
    """The scheduler's owed-work round (every few minutes): all three above, each on its own
    so that one failing (Redis down) does not keep the others from running."""
    result: dict = {}
    for name, step in (("released", release_stuck_tasks),
                       ("requeued", requeue_pending_derivations),
                       ("cleaned", clean_stale_temp_folders)):
        try:
            result[name] = step()
        except Exception:  # noqa: BLE001 - the next round tries again
            log.exception("owed work: %s failed", name)
            result[name] = None
    return result
