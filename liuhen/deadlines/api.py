"""JSON API of the statutory deadlines: one case's deadlines, and the due-soon/overdue list."""

from __future__ import annotations

import datetime as _dt

from django.utils import timezone
from ninja import Query, Router, Schema, Status

from liuhen.access.services import get_for, require
from liuhen.audit.services import record
from liuhen.cases.models import Case
from liuhen.core.errors import InvalidInput
from liuhen.deadlines.events import event_case_deadlines_viewed, event_deadlines_listed
from liuhen.deadlines.queries import DeadlineFilter, alerts, summary
from liuhen.deadlines.services import STATUS_LABELS, case_deadlines, record_deadline_fact

router = Router(tags=["法定期限"])


class CaseDeadlineOut(Schema):
    code: str
    name: str
    citation: str
    description: str
    obligor: str
    start: _dt.date | None
    started_by: str
    due: _dt.date | None
    status: str
    status_label: str
    met_on: _dt.date | None
    met_by: str
    met_ids: dict
    extended: bool
    extended_by: str
    provisional: bool
    rolled_forward: bool
    days_left: int | None
    working_days_left: int | None
    note: str
    error: str


class CaseDeadlinesOut(Schema):
    case_id: int
    number: str
    today: _dt.date
    deadlines: list[CaseDeadlineOut]


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
    status: str = "alert"
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
    return {
        "case_id": case.pk,
        "number": case.number,
        "today": today,
        "deadlines": [d.as_dict() for d in case_deadlines(case, today=today)],
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
    kind: str
    on: _dt.date
    hearing_date: _dt.date | None = None
    note: str = ""


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
        "deadlines": [d.as_dict() for d in case_deadlines(case)],
    })
