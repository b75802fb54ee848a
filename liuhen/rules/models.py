"""Stored completeness snapshots: what each case has and lacks (第十条), re-evaluated on change."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from liuhen.access.querysets import RestrictedQuerySet


class CaseCompleteness(models.Model):
    """The latest evaluation of one case against its kind's rules (one row per case).

    ``items`` holds every requirement with its status and the records meeting it;
    ``missing`` the ids of the missing ones, for the reports.
    """

    case = models.OneToOneField(
        "cases.Case",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="completeness",
        verbose_name="案件",
    )
    ratio = models.FloatField("完整率", default=1.0, db_index=True)
    met = models.PositiveIntegerField("已具备", default=0)
    missing_count = models.PositiveIntegerField("缺失", default=0, db_index=True)
    waived = models.PositiveIntegerField("已豁免", default=0)
    not_applicable = models.PositiveIntegerField("不适用", default=0)
    applicable = models.PositiveIntegerField("适用项", default=0)
    items = models.JSONField("逐项结果", default=list)
    missing = models.JSONField("缺失项", default=list)
    evaluated_at = models.DateTimeField("评估时间", default=timezone.now)

    objects = RestrictedQuerySet.as_manager()
    unit_lookup = "case__unit"
    case_lookup = "case"

    class Meta:
        verbose_name = "记录完整性"
        verbose_name_plural = "记录完整性"

    def __str__(self) -> str:
        return f"{self.case_id}: {self.ratio:.0%}"

    @property
    def percent(self) -> int:
        return int(self.ratio * 100 + 0.5) if self.ratio < 1 else 100
