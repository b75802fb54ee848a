"""`liuhen scheduler`: enqueue the periodic jobs (fixity, anchors, upload clean-up) when they fall
due. Any number of nodes may run it: the one holding the database lease leads (issue 14 item 2)."""

from __future__ import annotations

import logging
import signal
import time

from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections
from django.utils import timezone

from liuhen.web import schedule

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "按计划把定期任务（固定值校验、锚点、清理过期上传）放入任务队列；多节点时由持有租约的一个节点调度"

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true",
                            help="把所有定期任务立即放入队列一次后退出")
        parser.add_argument("--list", action="store_true", dest="list_jobs", help="列出定期任务及上次运行时间")

    def handle(self, *args, once, list_jobs, **options):
        schedule.import_legacy_state()
        if list_jobs:
            self._list()
        elif once:
            now = timezone.now()
            for job in schedule.jobs():
                job.enqueue()
                schedule.record_run(job.name, now, schedule.node_name())
                self.stdout.write(f"已放入队列：{job.label}")
        else:
            self._loop()

    def _list(self) -> None:
        state = schedule.load_state()
        for job in schedule.jobs():
            last = state.get(job.name)
            when = timezone.localtime(last).strftime("%Y-%m-%d %H:%M") if last else "从未"
            hours = job.every.total_seconds() / 3600
            self.stdout.write(f"{job.name}\t{job.label}\t每 {hours:g} 小时\t上次：{when}")
        lease = schedule.leader()
        if lease and lease.expires_at > timezone.now():
            self.stdout.write(f"调度主节点：{lease.holder}（租约至 "
                              f"{timezone.localtime(lease.expires_at):%H:%M:%S}）")
        else:
            self.stdout.write("调度主节点：无（没有正在运行的调度进程）")

    def _loop(self) -> None:
        stopping = []
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
        started = timezone.now()
        node = schedule.node_name()
        self.stdout.write(f"定期任务调度已启动（节点 {node}）")
        self.stdout.flush()
        # The lease is renewed from its own thread, so a long tick never lets it lapse under
        # a living leader (schedule.LeaseKeeper); this loop only runs the due jobs.
        keeper = schedule.LeaseKeeper(node, on_change=self._say_leading).start()
        try:
            while not stopping:
                wait = keeper.renew_every
                if keeper.leading:
                    close_old_connections()  # a database restarted since the last tick
                    began = time.monotonic()
                    try:
                        ran = schedule.run_due(started=started, node=node)
                        wait = min(wait, schedule.next_wake(timezone.now(), started))
                    except DatabaseError:  # the database is down: retry next tick
                        log.exception("scheduler: database unavailable")
                        ran = []
                    took = time.monotonic() - began
                    if took > keeper.renew_every:  # harmless now, but worth knowing
                        log.warning("scheduler: a tick took %.1f s (%s)", took,
                                    ", ".join(ran) or "no job")
                deadline = time.monotonic() + wait
                while not stopping and time.monotonic() < deadline:
                    time.sleep(min(1.0, wait))
        except KeyboardInterrupt:  # Ctrl+C reaches the whole process group of `liuhen serve`
            pass
        finally:
            keeper.stop()  # hands the lease over at once

    def _say_leading(self, leading: bool) -> None:
        self.stdout.write("本节点为调度主节点" if leading else "另一节点正在调度，本节点待命")
        self.stdout.flush()
