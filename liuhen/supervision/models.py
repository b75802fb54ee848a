"""Violations of 第二十六条: raised by a detector with the evidence that raised it, or entered
by hand (第二十六条 (六)), then confirmed or dismissed by the legal affairs office with a
reason, given a measure and closed. The steps are kept in ``ViolationStep``."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from liuhen.access.querysets import RestrictedQuerySet
from liuhen.supervision.choices import Measure, ViolationItem, ViolationStatus


class Violation(models.Model):
    """One suspected or confirmed violation of 第二十六条, about one unit (and officer)."""

    item = models.PositiveSmallIntegerField("第二十六条项", choices=ViolationItem.choices)
    detector = models.CharField("检测规则", max_length=40)
    # Re-running the detectors finds the same thing again: the fingerprint keeps it one row.
    fingerprint = models.CharField("指纹", max_length=200, unique=True)
    title = models.CharField("事项", max_length=200)
    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, null=True, blank=True,
                             related_name="violations", verbose_name="单位")
    officer = models.ForeignKey("org.Officer", on_delete=models.PROTECT, null=True, blank=True,
                                related_name="violations", verbose_name="人员")
    subject_type = models.CharField("对象类型", max_length=64, blank=True)
    subject_id = models.CharField("对象ID", max_length=64, blank=True)
    evidence = models.JSONField("依据", default=dict, blank=True)
    detected_at = models.DateTimeField("发现时间", default=timezone.now, db_index=True)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="+",
                                    verbose_name="登记人")
    status = models.CharField("状态", max_length=16, choices=ViolationStatus.choices,
                              default=ViolationStatus.OPEN, db_index=True)
    decision_reason = models.TextField("核查意见", blank=True)
    measure = models.CharField("处理措施", max_length=16, choices=Measure.choices, blank=True)
    measure_deadline = models.DateField("整改期限", null=True, blank=True)
    measure_note = models.TextField("措施说明", blank=True)
    closing_note = models.TextField("办结说明", blank=True)
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    unit_lookup = "unit"

    class Meta:
        verbose_name = "违规事项"
        verbose_name_plural = "违规事项"
        ordering = ["-detected_at", "-id"]
        indexes = [models.Index(fields=["unit", "status", "-detected_at"],
                                name="violation_unit_status")]

    def __str__(self) -> str:
        return f"{self.get_item_display()[:4]} {self.title}"


class ViolationStep(models.Model):
    """One step of handling a violation: who moved it from which status to which, and why."""

    violation = models.ForeignKey(Violation, on_delete=models.PROTECT, related_name="steps",
                                  verbose_name="违规事项")
    from_status = models.CharField("原状态", max_length=16, blank=True,
                                   choices=ViolationStatus.choices)
    to_status = models.CharField("新状态", max_length=16, choices=ViolationStatus.choices)
    at = models.DateTimeField("时间", default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                              blank=True, related_name="+", verbose_name="操作人")
    note = models.TextField("说明", blank=True)

    objects = RestrictedQuerySet.as_manager()
    unit_lookup = "violation__unit"

    class Meta:
        verbose_name = "处理记录"
        verbose_name_plural = "处理记录"
        ordering = ["violation", "at", "id"]
