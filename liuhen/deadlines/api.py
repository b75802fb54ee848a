"""JSON API of the statutory deadlines: one case's deadlines, and the due-soon/overdue list."""

from __future__ import annotations

import datetime as _dt

from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from liuhen.access.services import get_for, require
from liuhen.audit.services import record
from liuhen.cases.models import Case
from liuhen.core.errors import InvalidInput
from liuhen.core.schemas import Code, Reason
from liuhen.deadlines.events import event_case_deadlines_viewed, event_deadlines_listed
from liuhen.deadlines.holidays import current_calendar
from liuhen.deadlines.queries import DeadlineFilter, alerts, summary
from liuhen.deadlines.services import (
    STATUS_LABELS,
    calendar_coverage,
    case_deadline_report,
    record_deadline_fact,
)

router = Router(tags=["法定期限"])


class ProcedureFlagOut(Schema):
    """An act recorded out of the law's order (deadlines.procedure)."""

    code: str = Field(description="如 decision_before_window（陈述申辩、申请听证期届满前作出决定）")
    text: str
    citation: str = Field(description="违反的条文，如“行政处罚法第四十五条、第六十二条、第六十四条第一项”")


class DisplacedOut(Schema):
    """The general rule a special rule displaced (特别规定优先, 行政处罚法第六十条“从其规定”)."""

    code: str
    name: str
    citation: str
    description: str
    due: _dt.date | None = Field(description="若适用一般规定将届满之日（仅供对照，不适用）")
    text: str = Field(description="如“依劳动保障监察条例第十七条，不适用行政处罚法第六十条九十日期限”")


class CaseDeadlineOut(Schema):
    code: str = Field(description="期限规则代码（deadlines.statutory.RULES），如 penalty_decision")
    name: str
    kind: str = Field(
        description="organ_duty 机关应在期限内履行 / party_period 当事人的期间 / "
        "waiting_period 等待期（期满后方可实施，行政强制法第五十四条）"
    )
    kind_label: str
    citation: str = Field(description="法律依据（条文）")
    description: str
    counting: str = Field(description="working_days 工作日 / calendar_days 自然日 / months 月")
    obligor: str
    start: _dt.date | None
    started_by: str
    due: _dt.date | None = Field(description="届满日；工作日历未载入该年度时为 null（见 error）")
    status: str = Field(
        description="ok / due_soon / overdue / met / unknown；等待期另有 waiting / premature"
    )
    status_label: str
    met_on: _dt.date | None
    met_by: str
    met_ids: dict
    extended: bool
    extended_by: str
    provisional: bool = Field(description="计算用到了暂定（尚未发布）的节假日安排")
    provisional_years: list[int] = Field(
        description="期间经过的暂定年度（如 [2027]）：国务院通知载入后届满日可能变动"
    )
    rolled_forward: bool
    waiting_period: bool
    days_left: int | None
    working_days_left: int | None
    displaced: DisplacedOut | None = Field(
        description="本期限作为特别规定所排除的一般规定；无则为 null"
    )
    flags: list[ProcedureFlagOut] = Field(description="与本期限有关的程序顺序提示")
    note: str
    case_note: str = Field(description="就本案所作说明，如逾期缴纳罚款的加处罚款（第七十二条）")
    error: str


class CaseDeadlinesOut(Schema):
    case_id: int
    number: str
    today: _dt.date
    calendar: str = Field(description="工作日历载入的年度及暂定年度")
    deadlines: list[CaseDeadlineOut]
    procedure_flags: list[ProcedureFlagOut] = Field(
        description="案件记录显示的程序顺序问题（如陈述申辩期届满前作出决定）"
    )


class AlertOut(Schema):
    case_id: int
    number: str
    unit: str
    code: str
    name: str
    citation: str
    start: _dt.date
    due: _dt.date
    status: str
    status_label: str
    extended: bool
    provisional: bool


class AlertsOut(Schema):
    today: _dt.date
    overdue: int
    due_soon: int
    items: list[AlertOut]
    per_unit: list[dict]
    per_officer: list[dict]


class AlertQuery(Schema):
    unit: int | None = None
    officer: int | None = None
    status: Code = "alert"
    limit: int = 200


@router.get("/cases/{case_id}/deadlines", response=CaseDeadlinesOut, summary="案件的法定期限")
def get_case_deadlines(request, case_id: int):
    """Every statutory deadline of the case with its source, due date, status and what met
    it. Reading it is audited (第二十六条 (三))."""
    case = get_for(
        request.user,
        "case.view",
        Case.objects.select_related("unit"),
        case_id,
        read_event=event_case_deadlines_viewed,
    )
    today = timezone.localdate()
    calendar = current_calendar()
    deadlines, flags = case_deadline_report(case, today, calendar=calendar)
    return {
        "case_id": case.pk,
        "number": case.number,
        "today": today,
        "calendar": calendar_coverage(calendar),
        "deadlines": [d.as_dict() for d in deadlines],
        "procedure_flags": flags,
    }


@router.get("/deadlines", response=AlertsOut, summary="即将到期与已逾期的法定期限")
def list_deadlines(request, query: Query[AlertQuery]):
    """Open deadlines of the cases the user may see (``restrict``), with counts per unit and
    per officer."""

    user = request.user
    require(user, "case.view", event=event_deadlines_listed)
    if not 1 <= query.limit <= 1000:
        raise InvalidInput("limit 应在1到1000之间")
    today = timezone.localdate()
    filters = DeadlineFilter(unit=query.unit, officer=query.officer, status=query.status)
    items = []
    for e in alerts(user, today, filters)[: query.limit]:
        state = e.status_on(today)
        items.append(
            {
                "case_id": e.case_id,
                "number": e.case.number,
                "unit": e.case.unit.name,
                "code": e.code,
                "name": e.name,
                "citation": e.citation,
                "start": e.start,
                "due": e.due,
                "status": state,
                "status_label": STATUS_LABELS[state],
                "extended": e.extended,
                "provisional": e.provisional,
            }
        )
    counts = summary(user, today)
    record(
        actor=user,
        action=event_deadlines_listed,
        detail={"unit": query.unit, "officer": query.officer, "status": query.status, "via": "api"},
    )
    return {
        "today": today,
        "overdue": counts["total"]["overdue"] or 0,
        "due_soon": counts["total"]["due_soon"] or 0,
        "items": items,
        "per_unit": [
            {
                "unit_id": u["case__unit_id"],
                "unit": u["case__unit__name"],
                "overdue": u["overdue"],
                "due_soon": u["due_soon"],
            }
            for u in counts["per_unit"]
        ],
        "per_officer": [
            {
                "officer_id": o["case__officers__id"],
                "officer": o["case__officers__name"],
                "overdue": o["overdue"],
                "due_soon": o["due_soon"],
            }
            for o in counts["per_officer"]
        ],
    }


class DeadlineFactIn(Schema):
    kind: Code
    on: _dt.date
    hearing_date: _dt.date | None = None
    note: Reason = ""


class DeadlineFactOut(Schema):
    document_id: int
    deadlines: list[CaseDeadlineOut]


@router.post(
    "/cases/{case_id}/deadline-facts", response={201: DeadlineFactOut}, summary="登记期限相关事实"
)
def post_deadline_fact(request, case_id: int, payload: DeadlineFactIn):
    """Record a fact that starts or meets a deadline (kinds: ``DEADLINE_FACTS``), kept as a
    written record of type “其他”; answers with the case's deadlines afterwards."""

    case = get_for(request.user, "document.create", Case.objects.select_related("unit"), case_id)
    document = record_deadline_fact(
        actor=request.user,
        case=case,
        kind=payload.kind,
        on=payload.on,
        hearing_date=payload.hearing_date,
        note=payload.note[:500],
    )
    return Status(201, {
        "document_id": document.pk,
        "deadlines": [d.as_dict() for d in case_deadline_report(case)[0]],
    })
