"""Pages that compose several areas: the dashboard (cases, deadlines), the case page
(facts, written records, completeness, deadlines, recordings) and the health check."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import EmptyResultSet
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from liuhen.access import services as access_services
from liuhen.access.querysets import allows, user_role
from liuhen.access.services import get_for
from liuhen.cases import events as case_events
from liuhen.cases import stages
from liuhen.cases.choices import Phase, Stage
from liuhen.cases.models import Case
from liuhen.cases.views import detail_context
from liuhen.core import inbox
from liuhen.core.kept import kept
from liuhen.core.pages import handles_errors
from liuhen.evidence import views as evidence_views


@login_required
def dashboard(request):
    user = request.user
    officer = getattr(user, "officer", None)
    context = {"officer": officer, "role": user_role(user)}
    if allows(user, "case.view"):
        visible = Case.objects.restrict(user, "case.view")
        # The user's own cases by id first (an officer handles a few hundred at most): joined
        # and ordered by opening date, PostgreSQL walked the date index of every case of the
        # scope looking for ten of them, 0.65 s for a legal office with none of 100,000
        # (issue 9 item 3, bench_pages_load --profile).
        own = Case.officers.through.objects.filter(officer__user=user)
        mine = visible.filter(pk__in=list(own.values_list("case_id", flat=True))).exclude(
            stage=Stage.ARCHIVING
        )
        context["my_cases"] = mine.select_related("unit").order_by("-opened_on")[:10]
        # The list stops at 10 rows: say how many there are and link to all of them.
        context["my_case_count"] = mine.count() if officer is not None else 0
        # Every case of the scope counted by stage (a detachment's 50,000 of 100,000 cases:
        # 12.6 ms of SQLite), kept per scope like the deadline counts beside it
        # (DEADLINE_SUMMARY_SECONDS, core.kept; issue 9 item 3).
        grouped = visible.order_by().values_list("stage").annotate(n=Count("id"))
        grouped = grouped.values_list("stage", "n")
        try:
            key = ("cases-per-stage", str(grouped.query))
        except EmptyResultSet:  # nothing in scope
            counts = {}
        else:
            counts = dict(kept(key, settings.DEADLINE_SUMMARY_SECONDS, lambda: list(grouped)))
        steps = [(s.value, s.label, counts.get(s.value, 0)) for s in Stage if s != Stage.PATROL]
        context["per_stage"] = steps
        # Reported by 第二条's phases, each with the law's finer steps under it (issue 8 item 2).
        context["per_phase"] = [
            (
                p.label,
                sum(n for code, _, n in steps if stages.phase(code) == p),
                [step for step in steps if stages.phase(step[0]) == p],
            )
            for p in Phase
        ]
        context["case_total"] = sum(counts.values())
    context["inbox"] = inbox.sections(user, limit=0)
    # 第十六条: what waits for this approver, and the requester's own open items. The inbox
    # counted the first already: its 调阅申请待审批 section is access_services.pending_for(user),
    # listed whenever it is not empty (one COUNT, not the same one twice; issue 9 item 3).
    waiting = next((s for s in context["inbox"] if s.key == "access_requests"), None)
    context["access_pending"] = waiting.count if waiting is not None else 0
    context["access_mine"] = access_services.access_counts(user)
    return render(request, "web/dashboard.html", context)


@login_required
def inbox_page(request):
    """待办 (issue 13 item 2): everything that waits for this person, each linked to the place
    to act; the same providers give the count in the navigation and on the dashboard."""
    sections = inbox.sections(request.user)
    return render(
        request,
        "web/inbox.html",
        {
            "sections": sections,
            "total": sum(s.count for s in sections),
            "today": timezone.localdate(),
        },
    )


@login_required
def inbox_count(request):
    """htmx: the number beside 待办 in the navigation, refreshed every two minutes."""
    total = inbox.total(request.user)
    return render(request, "web/_inbox_count.html", {"total": total})


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


@login_required
@handles_errors
def case_detail(request, pk):
    """案件详情: facts, parties, officers, stage timeline (the cases app), with the panels of
    the apps above it: completeness (rules), deadlines and generated documents (deadlines,
    records). The read is audited."""
    case = get_for(
        request.user,
        "case.view",
        Case.objects.select_related("unit", "patrol", "created_by__officer"),
        pk,
        read_event=case_events.event_case_viewed,
    )
    context = detail_context(
        request,
        case,
        panels="web/_case_panels.html",
        case_use=access_services.right_for(request.user, case, "view"),
    )
    return render(request, "cases/case_detail.html", context)


def recording_detail(request, pk):
    """The recording page (the vault's, ``evidence.views.recording_detail``) with the panels of
    the apps above it: retention and disposal date (keeping, 第十四条)."""
    return evidence_views.recording_detail(request, pk, panels="web/_recording_panels.html")
