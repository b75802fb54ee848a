"""原件校验 page: what the fixity checks found, for records keepers, unit heads and the legal office.

The checks themselves run daily on their own (`liuhen scheduler`) and on demand (`liuhen
verify`); see :mod:`liuhen.evidence.fixity`. This page answers the records keeper's questions:
is any original damaged or missing now (its latest check failed), when were originals last
checked, which have never been checked, and the full history of failed checks. Nothing here
changes anything; the view is audited (第二十六条 (二), 第二十三条 supervision).
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Max, OuterRef, Q, Subquery
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from liuhen.access.services import require
from liuhen.audit.services import record
from liuhen.evidence import events
from liuhen.evidence.choices import FixityOutcome
from liuhen.evidence.models import FixityCheck, Recording
from liuhen.evidence.queries import fixity_checks_for
from liuhen.evidence.views import page_errors

HISTORY_ROWS = 200


def fixity_overview(user, *, now=None) -> dict:
    """Figures and rows for the page (plain data, also usable by a report or an API)."""
    now = now or timezone.now()
    checks = fixity_checks_for(user)
    recordings = Recording.objects.restrict(user, "recording.fixity")
    # Start from the failed checks (few), not from every recording (a million): a recording is
    # an open problem while its latest check is not "ok".
    failed_ids = checks.exclude(outcome=FixityOutcome.OK).filter(recording__isnull=False)
    latest = FixityCheck.objects.filter(recording=OuterRef("pk")).order_by("-at", "-id")
    open_problems = list(
        recordings.filter(pk__in=failed_ids.values("recording_id"))
        .annotate(last_outcome=Subquery(latest.values("outcome")[:1]),
                  last_at=Subquery(latest.values("at")[:1]))
        .exclude(last_outcome=FixityOutcome.OK)
        .select_related("unit").order_by("-last_at")[:HISTORY_ROWS]
    )
    for rec in open_problems:
        rec.last_outcome_label = FixityOutcome(rec.last_outcome).label
    month = checks.filter(at__gte=now - timedelta(days=30)).aggregate(
        total=Count("id"),
        ok=Count("id", filter=Q(outcome=FixityOutcome.OK)),
        failed=Count("id", filter=~Q(outcome=FixityOutcome.OK)),
    )
    return {
        "open_problems": open_problems,
        "month": month,
        "last_check": checks.aggregate(last=Max("at"))["last"],
        "never_checked": recordings.filter(fixity_checks__isnull=True).count(),
        "recordings": recordings.count(),
        "orphans": list(checks.filter(recording__isnull=True).order_by("-at")[:50]),
    }


@login_required
@page_errors
@require_GET
def fixity_page(request):
    require(request.user, "recording.fixity", event=events.event_fixity_listed)
    show_all = request.GET.get("show") == "all"
    overview = fixity_overview(request.user)
    history = fixity_checks_for(request.user).select_related("recording", "recording__unit")
    if not show_all:
        history = history.exclude(outcome=FixityOutcome.OK)
    history = list(history.order_by("-at", "-id")[:HISTORY_ROWS])
    record(
        actor=request.user,
        action=events.event_fixity_listed,
        detail={"page": True, "show_all": show_all, "rows": len(history),
                "open_problems": len(overview["open_problems"])},
    )
    return render(request, "evidence/fixity.html", {
        **overview, "history": history, "show_all": show_all, "history_rows": HISTORY_ROWS,
    })
