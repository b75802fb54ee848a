"""`liuhen scheduler`: enqueue the periodic jobs (fixity, upload clean-up) when they fall due."""

from __future__ import annotations

import signal
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.utils import timezone

from liuhen.web import schedule


class Command(BaseCommand):
    help = "按计划把定期任务（固定值校验、清理过期上传）放入任务队列"

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true",
                            help="把所有定期任务立即放入队列一次后退出")
        parser.add_argument("--list", action="store_true", dest="list_jobs", help="列出定期任务及上次运行时间")

    def handle(self, *args, once, list_jobs, **options):
        state = schedule.load_state()
        if list_jobs:
            for job in schedule.jobs():
                last = state.get(job.name)
                when = timezone.localtime(last).strftime("%Y-%m-%d %H:%M") if last else "从未"
                hours = job.every.total_seconds() / 3600
                self.stdout.write(f"{job.name}\t{job.label}\t每 {hours:g} 小时\t上次：{when}")
            return
        if once:
            for job in schedule.jobs():
                job.enqueue()
                state[job.name] = timezone.now()
                self.stdout.write(f"已放入队列：{job.label}")
            schedule.save_state(state)
            return
        stopping = []
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
        started = timezone.now()
        self.stdout.write("定期任务调度已启动")
        try:
            while not stopping:
                close_old_connections()  # a database restarted since the last tick
                if schedule.run_due(state, started=started):
                    schedule.save_state(state)
                deadline = time.monotonic() + schedule.next_wake(state, timezone.now(), started)
                while not stopping and time.monotonic() < deadline:
                    time.sleep(1)
        except KeyboardInterrupt:  # Ctrl+C reaches the whole process group of `liuhen serve`
            pass
