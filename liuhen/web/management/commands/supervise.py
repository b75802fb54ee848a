"""`liuhen supervise`: run the job worker and the scheduler, restarting either when it exits
(back-off, logged; issue 16 item 2). `liuhen serve` starts it; on a node that only runs jobs it
is the command to run."""

from __future__ import annotations

import signal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from liuhen.web.supervise import Child, Supervisor, liuhen_command


class Command(BaseCommand):
    help = "运行并守护后台任务进程和定期任务调度（退出后自动重启）"

    def add_arguments(self, parser):
        parser.add_argument("--no-worker", action="store_true", help="不启动后台任务进程")
        parser.add_argument("--no-scheduler", action="store_true", help="不启动定期任务调度")

    def handle(self, *args, no_worker, no_scheduler, **options):
        children = supervised_children(worker=not no_worker, scheduler=not no_scheduler)
        if not children:
            raise CommandError("没有需要守护的进程（LIUHEN_TASKS=immediate，或两者都已关闭）。")
        supervisor = Supervisor(children)
        signal.signal(signal.SIGTERM, supervisor.stop)
        signal.signal(signal.SIGINT, supervisor.stop)
        supervisor.run()


def supervised_children(*, worker: bool, scheduler: bool) -> list[Child]:
    """The worker and the scheduler as configured (none with the immediate test backend)."""
    if settings.TASKS_BACKEND not in ("db", "rq"):
        return []
    children = []
    if worker:
        children.append(Child("worker", liuhen_command("worker")))
    if scheduler:
        children.append(Child("scheduler", liuhen_command("scheduler")))
    return children
