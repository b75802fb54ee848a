"""The scheduler's state, shared by every node through the database (issue 14 item 2).

Several app nodes may each run `liuhen scheduler`; one of them leads (holds the
:class:`SchedulerLease`) and only the leader enqueues. Each job's last run is a
:class:`PeriodicRun` row claimed by compare-and-set, so a job runs once per period even in the
moment two nodes both believe they lead (a leader that stalled past its lease).
"""

from __future__ import annotations

from django.db import models


class SchedulerLease(models.Model):
    """Who leads the scheduler, until when: renewed by the leader on every tick, taken over by
    another node once ``expires_at`` has passed (the leader died or lost the database)."""

    name = models.CharField("名称", max_length=40, primary_key=True)
    holder = models.CharField("持有者", max_length=200, blank=True)
    expires_at = models.DateTimeField("到期时间")
    taken_at = models.DateTimeField("取得时间")

    class Meta:
        verbose_name = "调度主节点租约"
        verbose_name_plural = verbose_name

    def __str__(self) -> str:
        return f"{self.name}: {self.holder}"


class PeriodicRun(models.Model):
    """When a periodic job (liuhen.web.schedule.jobs) was last enqueued, by which node."""

    name = models.CharField("任务", max_length=40, primary_key=True)
    last_run = models.DateTimeField("上次运行", null=True, blank=True)
    node = models.CharField("节点", max_length=200, blank=True)

    class Meta:
        verbose_name = "定期任务运行记录"
        verbose_name_plural = verbose_name

    def __str__(self) -> str:
        return f"{self.name}: {self.last_run}"
