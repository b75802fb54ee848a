"""`liuhen worker`: the job worker (derived media, fixity, anchors, upload upkeep), which waits
out a database or Redis outage instead of exiting (issue 16 item 2)."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from liuhen.web import jobs

log = logging.getLogger("liuhen.jobs")


class Command(BaseCommand):
    help = "运行后台任务进程；数据库或 Redis 暂时不可用时等待后重试，不退出"

    def add_arguments(self, parser):
        parser.add_argument("--queue", default="default", help="任务队列（默认 default）")

    def handle(self, *args, queue, **options):
        # What a killed derivation of this machine left behind goes first.
        jobs.clean_stale_temp_folders()
        jobs.yield_to_people()
        if settings.TASKS_BACKEND == "db":
            jobs.run_db_worker(queue_names=[queue])
        elif settings.TASKS_BACKEND == "rq":
            _run_rq_worker(queue)
        else:
            raise CommandError("LIUHEN_TASKS=immediate 时任务随请求执行，无需后台任务进程。")


def _run_rq_worker(queue: str) -> None:
    """RQ's worker, started again after a Redis outage ends it (back-off up to 30 s)."""
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    delay = jobs.OUTAGE_FIRST_DELAY
    while True:
        try:
            call_command("rqworker", queue, job_class="django_tasks_rq.backend.Job")
            return
        except (RedisConnectionError, RedisTimeoutError) as exc:
            log.error("worker: Redis unavailable (%s); retrying in %.0f s", exc, delay)
            time.sleep(delay)
            delay = min(delay * 2, jobs.OUTAGE_MAX_DELAY)
