"""JSON API of the completeness rules: the rule set, the report, one case's completeness."""

from __future__ import annotations

from datetime import datetime

from ninja import Router, Schema

from liuhen.access.services import get_for, require
from liuhen.cases.models import Case
from liuhen.rules import engine, events, reports
from liuhen.rules import services as rules_services

router = Router(tags=["记录完整性"])


class RequirementOut(Schema):
    id: str
    title: str
    article: str
    status: str
    status_label: str
    reason: str = ""
    needs: str
    trigger: str = ""
    add: str
    records: list[dict] = []
    approver: str | None = None


class CompletenessOut(Schema):
    case_id: int
    case_number: str
    ratio: float
    percent: int
    met: int
    missing: int
    waived: int
    not_applicable: int
    applicable: int
    evaluated_at: datetime
    items: list[RequirementOut]


def completeness_body(case: Case) -> dict:
    snap = rules_services.completeness_for(case)
    return {
        "case_id": case.pk,
        "case_number": case.number,
        "ratio": snap.ratio,
        "percent": snap.percent,
        "met": snap.met,
        "missing": snap.missing_count,
        "waived": snap.waived,
        "not_applicable": snap.not_applicable,
        "applicable": snap.applicable,
        "evaluated_at": snap.evaluated_at,
        "items": rules_services.describe(snap),
    }


@router.get(
    "/cases/{case_id}/completeness",
    # Published under the records router's tag and module name before issue 15: kept.
    tags=["记录完整性", "文字记录与完整性"],
    operation_id="liuhen_cases_records_api_get_completeness",
    response=CompletenessOut,
    summary="案件记录完整性（逐项要求及依据条款）",
)
def get_completeness(request, case_id: int):
    case = get_for(
        request.user,
        "rules.view",
        Case.objects,
        case_id,
        read_event=events.event_completeness_viewed,
    )
    return completeness_body(case)


@router.get("/rules", summary="全过程记录要求（规则集）")
def list_rules(request):
    require(request.user, "rules.view", event=events.event_completeness_viewed)
    return [
        {
            "id": r.id,
            "kind": r.kind,
            "title": r.title,
            "article": r.article,
            "from_stage": r.from_stage,
            "trigger": r.trigger_text,
            "needs": r.needs_text(),
        }
        for rules in engine.load_rules().values()
        for r in rules
    ]


@router.get("/rules/report", summary="记录完整性统计（本单位/全局）")
def get_report(request, unit: int | None = None):
    require(request.user, "report.view", event=events.event_report_viewed)
    return reports.build_report(actor=request.user, unit_id=unit)
