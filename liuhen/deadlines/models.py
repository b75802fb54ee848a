"""The editable working-day calendar and the stored open deadlines of each case.

* :class:`HolidayYear` / :class:`Holiday`: the State Council's yearly holiday arrangement
  (放假与调休上班), editable in Django admin, seeded from ``deadlines/data/holidays.toml``.
  Every working-day deadline (行政处罚法 第八十五条, 行政强制法 第六十九条,
  行政复议法 第八十八条) is counted on this calendar.
* :class:`CaseDeadlineEntry`: one row per open statutory deadline of a case (not yet met,
  owed by the bureau), refreshed whenever a fact of the case changes, so that the dashboard
  and ``/deadlines/`` count due-soon and overdue items with one indexed query instead of
  evaluating every case in Python.

Their tables keep the names they had in the rules app (``rules_holidayyear``, …).
"""

from __future__ import annotations

import datetime as _dt

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from liuhen.access.querysets import RestrictedQuerySet

__all__ = ["CaseDeadlineEntry", "DayKind", "Holiday", "HolidayYear"]


class DayKind(models.TextChoices):
    HOLIDAY = "holiday", "放假"
    WORKDAY = "workday", "调休上班"


class HolidayYear(models.Model):
    """One year's holiday arrangement (国务院办公厅关于××××年部分节假日安排的通知).

    A loaded year counts Monday–Friday as working days except the listed holidays, and the
    listed weekend workdays as working days. A year that is not loaded is never guessed:
    deadlines touching it say so instead of showing a wrong date.
    """

    year = models.PositiveSmallIntegerField("年度", unique=True)
    provisional = models.BooleanField(
        "暂定",
        default=False,
        help_text="国务院通知尚未发布、按农历推算的年度；据此计算的期限标注“暂定”。"
        "通知发布后请核对每一天并取消勾选。",
    )
    source = models.CharField(
        "依据",
        max_length=300,
        blank=True,
        help_text="通知名称及文号，如《国务院办公厅关于2026年部分节假日安排的通知》",
    )
    document_number = models.CharField(
        "文号", max_length=60, blank=True, help_text="通知的文号，如 国办发明电〔2024〕12号"
    )
    updated_at = models.DateTimeField("最近修改", default=timezone.now)

    class Meta:
        verbose_name = "节假日安排（年度）"
        verbose_name_plural = "节假日安排（年度）"
        db_table = "rules_holidayyear"  # the table keeps its name from the rules app (issue 15)
        ordering = ["year"]

    def __str__(self) -> str:
        return f"{self.year}年{'（暂定）' if self.provisional else ''}"


class Holiday(models.Model):
    """One day that differs from the Monday–Friday rule: a holiday or a weekend workday."""

    calendar_year = models.ForeignKey(
        HolidayYear, on_delete=models.CASCADE, related_name="days", verbose_name="所属年度"
    )
    date = models.DateField("日期", unique=True)
    name = models.CharField("节日", max_length=30)
    kind = models.CharField("类型", max_length=10, choices=DayKind.choices)
    updated_at = models.DateTimeField("最近修改", default=timezone.now)

    class Meta:
        verbose_name = "放假/调休日"
        verbose_name_plural = "放假/调休日"
        db_table = "rules_holiday"  # the table keeps its name from the rules app (issue 15)
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}{self.get_kind_display()}"

    def clean(self) -> None:
        errors = {}
        if self.date and self.kind == DayKind.WORKDAY and self.date.weekday() < 5:
            errors["kind"] = "调休上班日必须是周六或周日（周一至周五本来就是工作日）"
        if self.date and self.calendar_year_id:
            year = self.calendar_year.year
            # 元旦假期可能从上一年 12 月底开始，列在下一年度的通知里。
            if self.date.year not in (year, year - 1) or (
                self.date.year == year - 1 and self.date < _dt.date(year - 1, 12, 1)
            ):
                errors["date"] = f"日期不属于{year}年度的节假日安排"
        if errors:
            raise ValidationError(errors)


class CaseDeadlineEntry(models.Model):
    """An open statutory deadline of a case (not yet met, owed by the enforcement organ).

    ``warn_from`` is the first day on which it counts as "due soon" (three working days
    before ``due`` by default), so "due soon" and "overdue" are plain date comparisons at
    query time and need no re-evaluation as days pass. Rows are rewritten by
    :func:`liuhen.deadlines.services.refresh_case_deadlines`, never edited by hand.
    """

    case = models.ForeignKey(
        "cases.Case", on_delete=models.CASCADE, related_name="deadline_entries", verbose_name="案件"
    )
    code = models.CharField("期限", max_length=40)
    name = models.CharField("期限名称", max_length=60)
    citation = models.CharField("法律依据", max_length=200)
    start = models.DateField("起算日")
    due = models.DateField("届满日", db_index=True)
    warn_from = models.DateField("提醒起始日", db_index=True)
    extended = models.BooleanField("已延长", default=False)
    provisional = models.BooleanField("暂定日历", default=False)
    computed_at = models.DateTimeField("计算时间", default=timezone.now)

    objects = RestrictedQuerySet.as_manager()
    unit_lookup = "case__unit"
    case_lookup = "case"

    class Meta:
        verbose_name = "案件待办期限"
        verbose_name_plural = "案件待办期限"
        db_table = "rules_casedeadlineentry"  # the table keeps its name from the rules app (issue 15)
        ordering = ["due", "case_id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "code"], name="case_deadline_entry_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.name} {self.due:%Y-%m-%d}"

    def status_on(self, today: _dt.date) -> str:
        if today > self.due:
            return "overdue"
        if today >= self.warn_from:
            return "due_soon"
        return "ok"
