"""JSON API for cases, parties and patrols: thin over cases.services."""

from __future__ import annotations

from datetime import date

from ninja import Query, Router, Schema, Status

from liuhen.access.services import get_for, require
from liuhen.cases import events, services
from liuhen.cases.models import Case, Party, Patrol
from liuhen.cases.privacy import listed_parties, shown_party
from liuhen.cases.queries import CaseFilter, case_page, search_cases
from liuhen.cases.schemas import (
    CaseDetailOut,
    CaseFactsIn,
    CaseIn,
    CaseOut,
    CasePage,
    FromPatrolIn,
    PartyIn,
    PartyOut,
    PatrolIn,
    PatrolOut,
    TransitionIn,
)
from liuhen.core.errors import InvalidInput, NotFound
from liuhen.core.schemas import Code, Search
from liuhen.org.models import Unit

router = Router(tags=["案件"])
# The columns CaseOut reads, so a page of the list loads no more than it returns.
LIST_FIELDS = ("id", "number", "unit_id", "unit__name", "kind", "cause", "source", "stage",
               "opened_on", "hearing_requested", "is_random_inspection", "is_disputed",
               "is_major_incident")


def _unit(user, unit_id: int) -> Unit:
    unit = Unit.objects.filter(pk=unit_id).first()
    if unit is None:
        raise InvalidInput("执法单位不存在", detail={"field": "unit_id"})
    return unit


class CaseQuery(Schema):
    unit: int | None = None
    kind: Code | None = None
    stage: Code | None = None
    officer: int | None = None
    party: Search | None = None
    q: Search | None = None
    opened_from: date | None = None
    opened_to: date | None = None
    page: int = 1
    page_size: int = 50


@router.get("/cases", response=CasePage, summary="案件列表")
def list_cases(request, query: Query[CaseQuery]):
    """Newest first; ``count`` is exact up to 10,000 (``count_capped`` says when more match)."""
    require(request.user, "case.view", event=events.event_case_listed)
    if query.page < 1 or not 1 <= query.page_size <= 200:
        raise InvalidInput("页码应不小于1，每页条数应在1到200之间")
    search = search_cases(actor=request.user, filters=CaseFilter(
        unit=query.unit, kind=query.kind, stage=query.stage, officer=query.officer,
        party=query.party, q=query.q, opened_from=query.opened_from, opened_to=query.opened_to))
    found = case_page(search, number=query.page, page_size=query.page_size, within_cap=False)
    # Deferred join: the page's ids come from the ordering index alone (already scoped and
    # filtered), then only those rows are read, with the columns CaseOut shows.
    rows = (Case.objects.filter(pk__in=found.ids).select_related("unit").only(*LIST_FIELDS)
            .in_bulk())
    return {"count": found.count, "count_capped": found.capped, "has_next": found.has_next,
            "page": found.number, "page_size": query.page_size,
            "items": [rows[pk] for pk in found.ids if pk in rows]}


@router.post("/cases", response={201: CaseOut}, summary="新建案件（立案）")
def create_case(request, payload: CaseIn):
    patrol = None
    if payload.patrol_id:
        patrol = get_for(request.user, "patrol.view", Patrol.objects, payload.patrol_id,
                         denied_event=events.event_case_created)
    case = services.create_case(
        actor=request.user, unit=_unit(request.user, payload.unit_id), kind=payload.kind,
        cause=payload.cause, source=payload.source, officer_ids=payload.officer_ids,
        party_ids=payload.party_ids, patrol=patrol, summary=payload.summary,
        opened_on=payload.opened_on, complaint_received_on=payload.complaint_received_on,
        is_random_inspection=payload.is_random_inspection, is_disputed=payload.is_disputed,
        is_major_incident=payload.is_major_incident)
    return Status(201, case)


@router.get("/cases/{case_id}", response=CaseDetailOut, summary="案件详情")
def get_case(request, case_id: int):
    return get_for(request.user, "case.view", Case.objects.select_related("unit"), case_id,
                   read_event=events.event_case_viewed)


@router.patch("/cases/{case_id}", response=CaseOut, summary="修改案件事实")
def update_case(request, case_id: int, payload: CaseFactsIn):
    case = get_for(request.user, "case.change", Case.objects, case_id,
                   denied_event=events.event_case_changed)
    changes = payload.dict(exclude_unset=True)
    return services.update_case_facts(actor=request.user, case=case, **changes)


@router.post("/cases/{case_id}/transitions", response=CaseOut, summary="变更环节")
def transition_case(request, case_id: int, payload: TransitionIn):
    case = get_for(request.user, "case.view", Case.objects, case_id,
                   denied_event=events.event_case_transition_refused)
    return services.move_case(actor=request.user, case=case, to_stage=payload.to,
                              note=payload.note)


@router.get("/parties", response=list[PartyOut], summary="当事人列表")
def list_parties(request, q: Search = "", limit: int = 50):
    require(request.user, "party.view")
    qs = Party.objects.restrict(request.user, "party.view")
    if q:
        qs = qs.filter(name__contains=q.strip())
    # 第十七条第四款: a list shows persons' names masked, to everyone (cases.privacy).
    return listed_parties(qs[: max(1, min(limit, 200))])


@router.post("/parties", response={201: PartyOut}, summary="登记当事人")
def create_party(request, payload: PartyIn):
    party = services.create_party(
        actor=request.user, unit=_unit(request.user, payload.unit_id), kind=payload.kind,
        name=payload.name, id_number=payload.id_number,
        legal_representative=payload.legal_representative, phone=payload.phone,
        address=payload.address)
    return Status(201, shown_party(request.user, party))


@router.get("/parties/{party_id}", response=PartyOut, summary="当事人详情")
def get_party(request, party_id: int):
    party = get_for(request.user, "party.view", Party.objects.select_related("unit"), party_id,
                    read_event=events.event_party_viewed)
    return shown_party(request.user, party)


@router.get("/patrols", response=list[PatrolOut], summary="巡查列表")
def list_patrols(request, limit: int = 50):
    require(request.user, "patrol.view")
    qs = Patrol.objects.restrict(request.user, "patrol.view").prefetch_related("officers")
    return list(qs[: max(1, min(limit, 200))])


@router.post("/patrols", response={201: PatrolOut}, summary="登记日常巡查")
def create_patrol(request, payload: PatrolIn):
    patrol = services.create_patrol(
        actor=request.user, unit=_unit(request.user, payload.unit_id), date=payload.date,
        area=payload.area, officer_ids=payload.officer_ids, notes=payload.notes)
    return Status(201, patrol)


@router.get("/patrols/{patrol_id}", response=PatrolOut, summary="巡查详情")
def get_patrol(request, patrol_id: int):
    return get_for(request.user, "patrol.view", Patrol.objects, patrol_id,
                   read_event=events.event_patrol_viewed)


@router.post("/patrols/{patrol_id}/cases", response={201: CaseOut}, summary="由巡查立案")
def case_from_patrol(request, patrol_id: int, payload: FromPatrolIn):
    patrol = get_for(request.user, "patrol.view", Patrol.objects, patrol_id,
                     denied_event=events.event_case_created)
    case = services.open_case_from_patrol(
        actor=request.user, patrol=patrol, kind=payload.kind, cause=payload.cause,
        officer_ids=payload.officer_ids, party_ids=payload.party_ids, summary=payload.summary)
    return Status(201, case)


__all__ = ["router", "NotFound"]
