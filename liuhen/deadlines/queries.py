"""Read side of the statutory deadlines: what a user may see is due soon or overdue.

Everything here queries the stored :class:`~liuhen.deadlines.models.CaseDeadlineEntry`
rows (kept current by ``refresh_case_deadlines`` on every change of a case), scoped by
``restrict(user, "case.view")`` like the cases themselves, so the dashboard costs a few
indexed queries however many cases there are.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Q

from liuhen.core.errors import InvalidInput
from liuhen.core.kept import kept
from liuhen.deadlines.models import CaseDeadlineEntry
from liuhen.org.models import Officer, Unit

__all__ = ["ALERT_STATUSES", "DeadlineFilter", "alerts", "summary", "visible_entries"]

ALERT_STATUSES = {
    "overdue": "已逾期",
    "due_soon": "即将到期",
    "alert": "即将到期和已逾期",
    "open": "全部未履行",
}


def visible_entries(user):
    """Open deadlines of the cases ``user`` may see.

    Archived cases have no rows (archiving runs ``case_changed``, which empties them), so no
    join on the case's stage is needed here.
    """
    return CaseDeadlineEntry.objects.restrict(user, "case.view")


@dataclass
class DeadlineFilter:
    unit: int | None = None  # the unit and its sub-units
    officer: int | None = None  # cases this officer handles
    status: str = "alert"


def alerts(user, today: _dt.date, filters: DeadlineFilter | None = None):
    """The visible open deadlines matching ``filters``, most urgent first."""

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
    # No DISTINCT: every join here is many-to-one, except the officers' one, where each
    # (deadline, officer) pair is counted once per officer — which is what is wanted.
    return {
        "overdue": Count("id", filter=Q(due__lt=today)),
        "due_soon": Count("id", filter=Q(due__gte=today)),
    }


def summary(user, today: _dt.date) -> dict:
    """Due-soon and overdue counts: in total, for the user's own cases, per unit, per officer.

    Two grouped queries (per unit, per officer), kept for ``settings.DEADLINE_SUMMARY_SECONDS``
    (LIUHEN_DEADLINE_SUMMARY_SECONDS, 30; the test suite: 0) per scope, that is per scoped
    query's SQL, which carries the user's units and the day: everyone of one scope shares
    them. The total is the sum of the units' rows (every entry has one case and one unit)
    and the user's own counts are their officer's row (an officer is one login), so no
    query of their own; before, four queries were a third of the dashboard's time under
    load (issue 9 item 3). Grouped by id only; names are fetched afterwards for the few
    units and officers found (grouping on text columns costs more than the lookup).
    """

    qs = visible_entries(user).filter(warn_from__lte=today)
    per_unit, per_officer = _grouped(qs, today)
    zero = {"overdue": 0, "due_soon": 0}
    total = {k: sum(r[k] for r in per_unit) for k in zero}
    officer_id = Officer.objects.filter(user=user).values_list("pk", flat=True).first()
    mine = next(
        ({k: r[k] for k in zero} for r in per_officer if r["case__officers__id"] == officer_id),
        zero,
    )
    return {"total": total, "mine": mine, "per_unit": per_unit, "per_officer": per_officer}


def _grouped(qs, today: _dt.date) -> tuple[list[dict], list[dict]]:
    """(per unit, per officer) rows of ``qs``, fresh or kept per scoped query's SQL
    (core.kept; copies: callers may change them)."""
    if qs.query.is_empty():  # no scope: nothing to count, and no SQL to key it by
        return [], []
    per_unit, per_officer = kept(
        ("deadline-summary", str(qs.query)),
        settings.DEADLINE_SUMMARY_SECONDS,
        lambda: _count_groups(qs, today),
    )
    return [dict(r) for r in per_unit], [dict(r) for r in per_officer]


def _count_groups(qs, today: _dt.date) -> tuple[list[dict], list[dict]]:
    counts = _counts(today)
    per_unit = list(qs.values("case__unit_id").annotate(**counts).order_by())
    units = {u.pk: u for u in Unit.objects.filter(pk__in=[r["case__unit_id"] for r in per_unit])}
    for row in per_unit:
        unit = units[row["case__unit_id"]]
        row.update({"case__unit__name": unit.name, "case__unit__path": unit.path})
    per_unit.sort(key=lambda r: r["case__unit__path"])
    per_officer = list(
        qs.filter(case__officers__isnull=False)
        .values("case__officers__id")
        .annotate(**counts)
        .order_by()
    )
    officers = {
        o.pk: o
        for o in Officer.objects.select_related("unit").filter(
            pk__in=[r["case__officers__id"] for r in per_officer]
        )
    }
    for row in per_officer:
        officer = officers[row["case__officers__id"]]
        row.update(
            {"case__officers__name": officer.name, "case__officers__unit__name": officer.unit.name}
        )
    per_officer.sort(key=lambda r: (-r["overdue"], -r["due_soon"], r["case__officers__name"]))
    return per_unit, per_officer
