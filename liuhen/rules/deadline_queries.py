"""Read side of the statutory deadlines: what a user may see is due soon or overdue.

Everything here queries the stored :class:`~liuhen.rules.holiday_models.CaseDeadlineEntry`
rows (kept current by ``refresh_case_deadlines`` on every change of a case), scoped by
``restrict(user, "case.view")`` like the cases themselves, so the dashboard costs a few
indexed queries however many cases there are.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

from django.db.models import Count, Q

from liuhen.cases.choices import Stage
from liuhen.core.errors import InvalidInput
from liuhen.rules.holiday_models import CaseDeadlineEntry

__all__ = ["ALERT_STATUSES", "DeadlineFilter", "alerts", "summary", "visible_entries"]

ALERT_STATUSES = {"overdue": "已逾期", "due_soon": "即将到期", "alert": "即将到期和已逾期",
                  "open": "全部未履行"}


def visible_entries(user):
    """Open deadlines of the cases ``user`` may see (archived cases have none)."""
    return (CaseDeadlineEntry.objects.restrict(user, "case.view")
            .exclude(case__stage=Stage.ARCHIVING))


@dataclass
class DeadlineFilter:
    unit: int | None = None  # the unit and its sub-units
    officer: int | None = None  # cases this officer handles
    status: str = "alert"


def alerts(user, today: _dt.date, filters: DeadlineFilter | None = None):
    """The visible open deadlines matching ``filters``, most urgent first."""
    from liuhen.org.models import Unit

    filters = filters or DeadlineFilter()
    qs = visible_entries(user)
    if filters.status not in ALERT_STATUSES:
        raise InvalidInput("期限状态应为 overdue、due_soon、alert 或 open")
    if filters.status == "overdue":
        qs = qs.filter(due__lt=today)
    elif filters.status == "due_soon":
        qs = qs.filter(warn_from__lte=today, due__gte=today)
    elif filters.status == "alert":
        qs = qs.filter(warn_from__lte=today)
    if filters.unit:
        unit = Unit.objects.filter(pk=filters.unit).first()
        qs = qs.filter(case__unit__path__startswith=unit.path) if unit else qs.none()
    if filters.officer:
        qs = qs.filter(case__officers__pk=filters.officer)
    return qs.select_related("case", "case__unit").order_by("due", "case_id", "code")


def _counts(today: _dt.date) -> dict:
    return {"overdue": Count("id", filter=Q(due__lt=today), distinct=True),
            "due_soon": Count("id", filter=Q(due__gte=today), distinct=True)}


def summary(user, today: _dt.date) -> dict:
    """Due-soon and overdue counts: in total, for the user's own cases, per unit, per officer."""
    qs = visible_entries(user).filter(warn_from__lte=today)
    counts = _counts(today)
    total = qs.aggregate(**counts)
    mine = qs.filter(case__officers__user=user).aggregate(**counts)
    per_unit = list(qs.values("case__unit_id", "case__unit__name", "case__unit__path")
                    .annotate(**counts).order_by("case__unit__path"))
    per_officer = list(qs.filter(case__officers__isnull=False)
                       .values("case__officers__id", "case__officers__name",
                               "case__officers__unit__name")
                       .annotate(**counts).order_by("-overdue", "-due_soon",
                                                    "case__officers__name"))
    return {"total": total, "mine": mine, "per_unit": per_unit, "per_officer": per_officer}
