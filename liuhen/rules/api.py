"""JSON API of the completeness rules: the rule set, the report; a case's records and
completeness come from ``liuhen.cases.records_api`` mounted here."""

from __future__ import annotations

from ninja import Router

from liuhen.cases.records_api import router as records_router
from liuhen.core.access import require
from liuhen.rules import engine, events, reports

router = Router(tags=["记录完整性"])
router.add_router("/", records_router)


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
