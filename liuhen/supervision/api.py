"""JSON API of supervision, thin over the services the pages call: violations (第二十六条):
list and show (scoped like the pages), the legal affairs office's steps, manual entry and a
detector run; circulars (第二十四条): list and show (drafts to the office only), make a draft,
publish it."""

from __future__ import annotations

from datetime import date, datetime

from ninja import Field, Router, Schema, Status

from liuhen.access.services import get_for, require
from liuhen.audit.services import record, record_denied
from liuhen.core.errors import InvalidInput, NotFound
from liuhen.core.schemas import Code, Name, Reason, Summary
from liuhen.org.models import Officer, Unit
from liuhen.supervision import circulars, events, services
from liuhen.supervision.choices import ViolationItem
from liuhen.supervision.models import Circular, Violation

router = Router(tags=["监督检查"])


class ViolationOut(Schema):
    id: int
    item: int
    item_label: str = Field(..., alias="get_item_display")
    detector: str
    title: str
    unit_id: int | None
    officer_id: int | None
    subject_type: str
    subject_id: str
    evidence: dict
    detected_at: datetime
    status: str
    status_label: str = Field(..., alias="get_status_display")
    decision_reason: str
    measure: str
    measure_deadline: date | None
    measure_note: str
    closing_note: str
    closed_at: datetime | None


class ReasonIn(Schema):
    reason: Reason


class MeasureIn(Schema):
    measure: Code
    deadline: date | None = None
    note: Reason = ""


class CloseIn(Schema):
    note: Reason


class ReportIn(Schema):
    unit_id: int
    description: Reason
    officer_id: int | None = None
    item: int = ViolationItem.OTHER


class DetectOut(Schema):
    findings: int
    created: int
    refreshed: int


def _violation(request, violation_id: int) -> Violation:
    return get_for(request.user, "violation.view", services.visible_violations(request.user),
                   violation_id)


@router.get("/violations", response=list[ViolationOut], summary="违规事项列表（第二十六条）")
def list_violations(request, item: int | None = None, status: Code = "",
                    unit: int | None = None):
    require(request.user, "violation.view", event=events.event_violations_listed)
    qs = services.visible_violations(request.user)
    if item:
        qs = qs.filter(item=item)
    if status:
        qs = qs.filter(status=status)
    if unit:
        qs = qs.filter(unit_id=unit)
    return list(qs[:500])


# Before /violations/{violation_id}: the literal path must be tried first.
@router.post("/violations/detect", response=DetectOut, summary="运行违规检测")
def detect(request):
    services.require_handle(request.user, events.event_violations_detected)
    return services.detect_violations(actor=request.user)


@router.get("/violations/{violation_id}", response=ViolationOut, summary="违规事项详情")
def show_violation(request, violation_id: int):
    return get_for(request.user, "violation.view", services.visible_violations(request.user),
                   violation_id, read_event=events.event_violation_viewed)


@router.post("/violations", response={201: ViolationOut}, summary="人工登记违规事项")
def report_violation(request, payload: ReportIn):
    services.require_handle(request.user, events.event_violation_reported)
    unit = Unit.objects.filter(pk=payload.unit_id).first()
    if unit is None:
        raise InvalidInput("单位不存在", detail={"field": "unit_id"})
    officer = None
    if payload.officer_id:
        officer = Officer.objects.filter(pk=payload.officer_id).first()
        if officer is None:
            raise InvalidInput("人员不存在", detail={"field": "officer_id"})
    return Status(201, services.report_violation(
        actor=request.user, unit=unit, officer=officer, description=payload.description,
        item=payload.item))


@router.post("/violations/{violation_id}/confirm", response=ViolationOut, summary="确认")
def confirm(request, violation_id: int, payload: ReasonIn):
    return services.confirm(actor=request.user, violation=_violation(request, violation_id),
                            reason=payload.reason)


@router.post("/violations/{violation_id}/dismiss", response=ViolationOut, summary="排除")
def dismiss(request, violation_id: int, payload: ReasonIn):
    return services.dismiss(actor=request.user, violation=_violation(request, violation_id),
                            reason=payload.reason)


@router.post("/violations/{violation_id}/measure", response=ViolationOut,
             summary="处理措施：批评教育、限期整改、移送处分")
def take_measure(request, violation_id: int, payload: MeasureIn):
    return services.take_measure(actor=request.user,
                                 violation=_violation(request, violation_id),
                                 measure=payload.measure, deadline=payload.deadline,
                                 note=payload.note)


@router.post("/violations/{violation_id}/close", response=ViolationOut, summary="办结")
def close(request, violation_id: int, payload: CloseIn):
    return services.close(actor=request.user, violation=_violation(request, violation_id),
                          note=payload.note)


# --- circulars (第二十四条) ---------------------------------------------------------------


class CircularSummaryOut(Schema):
    id: int
    title: str
    period_kind: str
    period_kind_label: str = Field(..., alias="get_period_kind_display")
    period_start: date
    period_end: date
    as_of: date
    status: str
    status_label: str = Field(..., alias="get_status_display")
    drafted_by_schedule: bool
    created_at: datetime
    published_at: datetime | None
    pdf_sha256: str

    @staticmethod
    def resolve_drafted_by_schedule(obj) -> bool:
        return obj.created_by_id is None


class CircularOut(CircularSummaryOut):
    text: str
    formula: dict
    rows: list[dict]


class CircularIn(Schema):
    kind: Code = Field(..., description="month, quarter 或 year")
    day: date = Field(..., description="期间内的任一天")
    title: Name = ""
    text: Summary = ""


class PublishIn(Schema):
    text: Summary | None = Field(None, description="通报正文；省略则用草稿中的正文")


def _circular(request, circular_id: int, event: str) -> Circular:
    """A circular the caller may see (drafts: the legal affairs office only), else 404."""
    require(request.user, "circular.view", event=event,
            target=("supervision.circular", str(circular_id)[:64]))
    found = circulars.visible_circulars(request.user).filter(pk=circular_id).first()
    if found is None:
        record_denied(actor=request.user, action=event,
                      target=("supervision.circular", str(circular_id)[:64]),
                      reason="对象不存在或无权访问")
        raise NotFound()
    return found


@router.get("/circulars", response=list[CircularSummaryOut], summary="通报列表（第二十四条）")
def list_circulars(request, status: Code = "", kind: Code = ""):
    require(request.user, "circular.view", event=events.event_circular_listed)
    qs = circulars.visible_circulars(request.user)
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(period_kind=kind)
    return list(qs[:200])


@router.get("/circulars/{circular_id}", response=CircularOut,
            summary="通报详情：各单位数据、得分与评分办法")
def show_circular(request, circular_id: int):
    found = _circular(request, circular_id, events.event_circular_viewed)
    record(actor=request.user, action=events.event_circular_viewed, target=found)
    return found


@router.post("/circulars", response={201: CircularOut}, summary="制作通报草稿（第二十四条）")
def create_circular(request, payload: CircularIn):
    return Status(201, circulars.create_circular(
        actor=request.user, kind=payload.kind, day=payload.day, title=payload.title,
        text=payload.text))


@router.post("/circulars/{circular_id}/publish", response=CircularOut,
             summary="发布通报（生成并保存 PDF，此后不再改动）")
def publish_circular(request, circular_id: int, payload: PublishIn):
    require(request.user, "circular.manage", event=events.event_circular_published,
            target=("supervision.circular", str(circular_id)[:64]))
    found = _circular(request, circular_id, events.event_circular_published)
    return circulars.publish_circular(actor=request.user, circular=found, text=payload.text)
