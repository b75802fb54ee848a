"""Template tags for the statutory-deadline panels (case page, dashboard).

``{% load liuhen_deadlines %}`` then ``{% case_deadlines_panel case %}`` inside the case page
or ``{% deadline_dashboard %}`` in the dashboard's deadline slot, so the pages owned by other
parts of the app need only one line to show the deadlines.
"""

from __future__ import annotations

from django import template
from django.conf import settings
from django.utils import timezone

from liuhen.access.querysets import allows, unit_allowed
from liuhen.core.kept import kept
from liuhen.deadlines.queries import DeadlineFilter, alerts, summary
from liuhen.deadlines.services import DEADLINE_FACTS, case_deadlines
from liuhen.records.pdf import GENERATABLE

register = template.Library()


@register.inclusion_tag("deadlines/_deadlines_panel.html", takes_context=True)
def case_deadlines_panel(context, case):
    """Every deadline of ``case`` (the caller has already checked the user may see it)."""

    today = timezone.localdate()
    user = context.get("user")
    can_generate = user is not None and unit_allowed(user, "document.create", case.unit)
    deadlines = case_deadlines(case, today=today)
    return {
        "case": case,
        "deadlines": deadlines,
        # 工作日历 ends: say which deadlines cannot be computed and what to do (issue 8 item 8).
        "uncomputable": [d for d in deadlines if d.status == "unknown"],
        # 2027 (and any year not yet published) is provisional: say so above the list.
        "provisional_years": sorted({y for d in deadlines if d.met_on is None
                                     for y in d.provisional_years}),
        "today": today,
        "user": user,
        "parties": list(case.party_list()) if can_generate else [],
        "forms": [(code, f.title) for code, f in GENERATABLE.items()] if can_generate else [],
        "facts": [(code, label) for code, (label, _) in DEADLINE_FACTS.items()]
        if can_generate and case.stage != "archiving"
        else [],
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("deadlines/_deadlines_dashboard.html", takes_context=True)
def deadline_dashboard(context, limit: int = 10):
    """Due-soon (yellow) and overdue (red) counts per officer and unit, and the most urgent."""
    user = context.get("user") or getattr(context.get("request"), "user", None)
    if user is None or not allows(user, "case.view"):
        return {"visible": False}
    today = timezone.localdate()
    return {
        "visible": True,
        "today": today,
        "summary": summary(user, today),
        "urgent": _urgent(user, today, limit),
    }


def _urgent(user, today, limit: int) -> list:
    """The most urgent deadlines of the user's scope, kept like the counts beside them
    (``DEADLINE_SUMMARY_SECONDS`` per scope: on 100,000 cases ordering every open deadline
    of a detachment by due date took 0.35 s of SQLite, issue 9 item 3). A copy of the list:
    the rows are only read."""
    qs = alerts(user, today, DeadlineFilter(status="alert"))[:limit]
    return list(kept(("deadline-urgent", str(qs.query)), settings.DEADLINE_SUMMARY_SECONDS,
                     lambda: list(qs)))
