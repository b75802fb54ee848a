"""Violations of 第二十六条: raised by a detector with the evidence that raised it, or entered
by hand (第二十六条 (六)), then confirmed or dismissed by the legal affairs office with a
reason, given a measure and closed. The steps are kept in ``ViolationStep``."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from liuhen.access.querysets import RestrictedQuerySet
from liuhen.supervision.choices import (
    CircularStatus,
    Measure,
    PeriodKind,
    Population,
    RectificationStatus,
    ReviewResult,
    Strata,
    ViolationItem,
    ViolationStatus,
)


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


class SpotCheck(models.Model):
    """A spot check of one period (第二十三条): the sampling plan (population, filters,
    strata, size per stratum) and what makes the draw reproducible: the seed and the
    population's identity (its size and a SHA-256 over its members per stratum, as the draw
    method computes it: see ``sampling``)."""

    title = models.CharField("名称", max_length=200)
    period_start = models.DateField("期间起")
    period_end = models.DateField("期间止")
    population = models.CharField("抽查对象", max_length=12, choices=Population.choices)
    filters = models.JSONField("筛选条件", default=dict, blank=True)
    strata = models.CharField("分层", max_length=12, choices=Strata.choices)
    per_stratum = models.PositiveIntegerField("每层抽取数")
    seed = models.CharField("随机种子", max_length=64)
    # sampling.METHOD of the draw: 1 read every id, 2 groups by id buckets; a redraw uses it.
    draw_method = models.PositiveSmallIntegerField(
        "抽取方法", default=2, choices=[(1, "方法一：逐条读取编号计算标识"),
                                      (2, "方法二：按编号分段汇总计算标识")])
    population_size = models.PositiveIntegerField("总体数量", default=0)
    population_digest = models.CharField("总体标识（SHA-256）", max_length=64)
    strata_sizes = models.JSONField("各层数量", default=dict)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="+", verbose_name="发起人")
    opened_at = models.DateTimeField("发起时间", default=timezone.now)

    objects = RestrictedQuerySet.as_manager()
    # Bureau-wide: the legal affairs office's own work; units see their items' rectifications.
    unit_lookup = "opened_by__officer__unit"

    class Meta:
        verbose_name = "抽查"
        verbose_name_plural = "抽查"
        ordering = ["-opened_at", "-id"]

    def __str__(self) -> str:
        return self.title


class DrawTally(models.Model):
    """Recordings not disposed of, counted per capture day (UTC+8), unit, kind and bucket of
    ``tallies.BUCKET`` ids: their number, the sum of their ids and of their squared ids modulo
    ``tallies.PRIME``. Kept by triggers on the recordings (``tallies``), read by the spot-check
    draw (第二十三条) instead of a million recordings; never written by the application."""

    day = models.DateField("拍摄日（北京时间）")
    unit_id = models.BigIntegerField("单位")
    kind = models.CharField("类型", max_length=8)
    bucket = models.BigIntegerField("编号分段")
    members = models.BigIntegerField("数量")
    id_sum = models.BigIntegerField("编号之和")
    square_sum = models.BigIntegerField("编号平方模和")

    class Meta:
        verbose_name = "抽样计数"
        verbose_name_plural = "抽样计数"
        constraints = [
            models.UniqueConstraint(
                fields=["day", "unit_id", "kind", "bucket"], name="drawtally_key"
            )
        ]


class SpotCheckItem(models.Model):
    """One sampled record and its review: scores per criterion (data/review_criteria.toml),
    findings on its timeline, an overall result."""

    spot_check = models.ForeignKey(SpotCheck, on_delete=models.PROTECT, related_name="items",
                                   verbose_name="抽查")
    stratum = models.CharField("层", max_length=100)
    position = models.PositiveIntegerField("序号")
    object_type = models.CharField("对象类型", max_length=32)
    object_id = models.PositiveBigIntegerField("对象ID")
    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+",
                             verbose_name="单位")
    scores = models.JSONField("评分", default=dict, blank=True)
    result = models.CharField("结论", max_length=10, choices=ReviewResult.choices, blank=True)
    comment = models.TextField("评查意见", blank=True)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="+", verbose_name="评查人")
    reviewed_at = models.DateTimeField("评查时间", null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    unit_lookup = "unit"

    class Meta:
        verbose_name = "抽查项"
        verbose_name_plural = "抽查项"
        ordering = ["spot_check", "position"]
        constraints = [models.UniqueConstraint(fields=["spot_check", "position"],
                                               name="spotcheck_item_position")]


class ReviewFinding(models.Model):
    """A problem seen in a review, at a moment of the recording's timeline when it has one."""

    item = models.ForeignKey(SpotCheckItem, on_delete=models.PROTECT, related_name="findings",
                             verbose_name="抽查项")
    criterion = models.CharField("评查项目", max_length=40)
    offset_seconds = models.FloatField("时间点（秒）", null=True, blank=True)
    note = models.TextField("问题描述")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", verbose_name="记录人")
    created_at = models.DateTimeField("记录时间", default=timezone.now)

    objects = RestrictedQuerySet.as_manager()
    unit_lookup = "item__unit"

    class Meta:
        verbose_name = "评查发现"
        verbose_name_plural = "评查发现"
        ordering = ["item", "offset_seconds", "id"]


class Rectification(models.Model):
    """限期整改 asked of a unit for a reviewed item, and its follow-up (第二十三条)."""

    item = models.ForeignKey(SpotCheckItem, on_delete=models.PROTECT,
                             related_name="rectifications", verbose_name="抽查项")
    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+",
                             verbose_name="整改单位")
    request = models.TextField("整改要求")
    deadline = models.DateField("整改期限")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+", verbose_name="提出人")
    requested_at = models.DateTimeField("提出时间", default=timezone.now)
    status = models.CharField("状态", max_length=10, choices=RectificationStatus.choices,
                              default=RectificationStatus.REQUESTED)
    response = models.TextField("整改情况", blank=True)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="+",
                                    verbose_name="报告人")
    reported_at = models.DateTimeField("报告时间", null=True, blank=True)
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="+",
                                    verbose_name="验收人")
    verified_at = models.DateTimeField("验收时间", null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    unit_lookup = "unit"

    class Meta:
        verbose_name = "限期整改"
        verbose_name_plural = "限期整改"
        ordering = ["deadline", "id"]


class Circular(models.Model):
    """A circular (通报, 第二十四条) of one period: the office's text, the scoring formula and
    every unit's inputs and scores as they were when it was made, and once published its PDF
    with the PDF's SHA-256. Kept, never changed after publication."""

    title = models.CharField("标题", max_length=200)
    period_kind = models.CharField("周期", max_length=8, choices=PeriodKind.choices)
    period_start = models.DateField("期间起")
    period_end = models.DateField("期间止")
    text = models.TextField("通报正文", blank=True)
    formula = models.JSONField("评分办法", default=dict)
    rows = models.JSONField("各单位数据与得分", default=list)
    as_of = models.DateField("数据截至")
    status = models.CharField("状态", max_length=10, choices=CircularStatus.choices,
                              default=CircularStatus.DRAFT)
    # None: drafted by the scheduler's monthly job, for the legal affairs office to complete.
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+",
                                   verbose_name="制作人")
    created_at = models.DateTimeField("制作时间", default=timezone.now)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     null=True, blank=True, related_name="+",
                                     verbose_name="发布人")
    published_at = models.DateTimeField("发布时间", null=True, blank=True)
    pdf = models.BinaryField("通报PDF", null=True, blank=True)
    pdf_sha256 = models.CharField("PDF 的 SHA-256 摘要", max_length=64, blank=True)

    class Meta:
        verbose_name = "通报"
        verbose_name_plural = "通报"
        ordering = ["-period_start", "-id"]
        constraints = [
            # The monthly job drafts a period once, whichever node runs it and however often.
            models.UniqueConstraint(fields=["period_kind", "period_start"],
                                    condition=models.Q(created_by__isnull=True),
                                    name="circular_one_scheduled_draft"),
        ]

    def __str__(self) -> str:
        return self.title


class TrainingSession(models.Model):
    """A training on whole-process recording given by or for the legal affairs office
    (第二十五条): topic, date, hours, trainer, materials."""

    topic = models.CharField("培训主题", max_length=200)
    held_on = models.DateField("培训日期", db_index=True)
    hours = models.DecimalField("学时", max_digits=4, decimal_places=1)
    trainer = models.CharField("授课人", max_length=100)
    materials = models.TextField("培训材料", blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", verbose_name="登记人")
    created_at = models.DateTimeField("登记时间", default=timezone.now)

    class Meta:
        verbose_name = "培训"
        verbose_name_plural = "培训"
        ordering = ["-held_on", "-id"]

    def __str__(self) -> str:
        return f"{self.held_on:%Y-%m-%d} {self.topic}"


class TrainingAttendance(models.Model):
    """One officer's attendance of a training, with the hours credited (a part may be less
    than the session's hours)."""

    session = models.ForeignKey(TrainingSession, on_delete=models.PROTECT,
                                related_name="attendances", verbose_name="培训")
    officer = models.ForeignKey("org.Officer", on_delete=models.PROTECT,
                                related_name="trainings", verbose_name="参训人员")
    hours = models.DecimalField("计入学时", max_digits=4, decimal_places=1)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+", verbose_name="登记人")
    recorded_at = models.DateTimeField("登记时间", default=timezone.now)

    objects = RestrictedQuerySet.as_manager()
    unit_lookup = "officer__unit"

    class Meta:
        verbose_name = "参训记录"
        verbose_name_plural = "参训记录"
        ordering = ["session", "officer"]
        constraints = [models.UniqueConstraint(fields=["session", "officer"],
                                               name="training_attendance_once")]
