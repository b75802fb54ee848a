"""Pages of the rules app: the rule set and the completeness report."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from liuhen.access.services import require
from liuhen.cases.choices import CaseKind
from liuhen.core.pages import handles_errors
from liuhen.rules import engine, events, reports


@login_required
@handles_errors
def rule_list(request):
    """全过程记录要求: every rule per kind with its article, as the data files say."""
    require(request.user, "rules.view", event=events.event_completeness_viewed)
    kinds = [(CaseKind(kind).label, rules) for kind, rules in engine.load_rules().items()]
    return render(request, "rules/rule_list.html", {"kinds": kinds})


@login_required
@handles_errors
def report(request):
    """记录完整性统计 for unit heads and the legal affairs office (第二十四条)."""
    require(request.user, "report.view", event=events.event_report_viewed)
    try:
        unit_id = int(request.GET.get("unit") or 0) or None
    except ValueError:
        unit_id = None
    data = reports.build_report(actor=request.user, unit_id=unit_id)
    return render(request, "rules/report.html", {"report": data})
