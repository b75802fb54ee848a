"""JSON API of party copies (第十七条第二款) and supplies to review bodies and courts
(第十七条第三款): register, the leader in charge's decision, make or build, hand over, download
what was given. Thin over disclosure.services and disclosure.supply, the same functions the pages
call (every rule and audit entry is there)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from django.http import FileResponse
from ninja import Field, Router, Schema, Status

from liuhen.access.services import get_for, require
from liuhen.cases.models import Case
from liuhen.core.errors import InvalidInput
from liuhen.core.schemas import MaskedId, Name, Plan, Reason, Short
from liuhen.disclosure import decisions, events, services, supply
from liuhen.evidence.models import Recording
from liuhen.evidence.storage import get_storage
from liuhen.records.models import Document

router = Router(tags=["复制与提供（第十七条）"])


class PartyCopyIn(Schema):
    # one of the two (第十七条第二款: a recording, or a case document)
    recording_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    document_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    recipient_name: Short
    recipient_number: MaskedId = ""
    identity_check: Literal["id_card", "business_licence", "power_of_attorney", "lawyer"]
    reason: Reason


class PartyCopyOut(Schema):
    id: int
    number: str
    recording_id: int | None
    document_id: int | None
    recipient_name: str
    recipient_number: str
    identity_check: str
    reason: str
    status: str
    registered_by_id: int
    registered_at: datetime
    decided_by_id: int | None
    decided_at: datetime | None
    decision_note: str
    redaction_plan: dict
    copy_sha256: str
    copy_sm3: str
    copy_size: int | None
    made_at: datetime | None
    handed_over_at: datetime | None
    confidentiality: str

    @staticmethod
    def resolve_confidentiality(obj) -> str:
        return services.record_mark(obj.record)


class PartyCopyDecisionIn(Schema):
    decision: Literal["approve", "refuse"]
    note: Reason = ""


class PartyCopyPlanIn(Schema):
    plan: Plan


class SupplyIn(Schema):
    case_id: int = Field(ge=1, le=2**63 - 1)
    body_kind: Literal["review", "court"]
    body_name: Name
    letter_number: Short
    received_on: date
    recording_ids: list[int] = Field(default_factory=list, max_length=1000)
    document_ids: list[int] = Field(default_factory=list, max_length=1000)
    note: Reason = ""


class SupplyDecisionIn(Schema):
    decision: Literal["approve", "refuse"]
    note: Reason = ""


class SupplyHandOverIn(Schema):
    how: Name


class SupplyCheckOut(Schema):
    zip_ok: bool
    package_ok: bool
    failures: list[str]


class SupplyOut(Schema):
    id: int
    number: str
    body_kind: str
    body_name: str
    letter_number: str
    received_on: date
    response_due: date | None
    response_rule: str
    case_id: int
    status: str
    decided_by_id: int | None
    decided_at: datetime | None
    decision_note: str
    document_ids: list[int]
    recording_ids: list[int]
    package_id: str
    manifest_sha256: str
    zip_sha256: str
    zip_sm3: str
    key_fingerprint: str
    sm2_key_fingerprint: str
    built_at: datetime | None
    supplied_at: datetime | None
    supplied_how: str

    @staticmethod
    def resolve_document_ids(obj) -> list[int]:
        return sorted(obj.documents.values_list("pk", flat=True))

    @staticmethod
    def resolve_recording_ids(obj) -> list[int]:
        return sorted(obj.recordings.values_list("pk", flat=True))


def _copy(request, copy_id: int, event: str = events.event_copies_viewed):
    """The copy named in the path, seen under ``disclosure.view``; a refusal is audited as the
    operation asked (services.get_copy). The operation's own rule is checked by its service."""
    return services.get_copy(request.user, copy_id, event=event)


@router.get("/disclosure/copies", response=list[PartyCopyOut], summary="当事人复制登记")
def copies(request):
    require(request.user, "disclosure.view", event=events.event_copies_viewed)
    return list(services.visible_copies(request.user)
                .select_related("recording", "document__case")[:500])


@router.post("/disclosure/copies", response={201: PartyCopyOut}, summary="登记当事人复制申请")
def register_copy(request, payload: PartyCopyIn):
    require(request.user, "disclosure.register", event=events.event_copy_registered)
    if (payload.recording_id is None) == (payload.document_id is None):
        raise InvalidInput("请给出 recording_id 或 document_id 之一", detail={"field": "recording_id"})
    recording = document = None
    if payload.recording_id is not None:
        recording = get_for(request.user, "recording.view", Recording.objects,
                            payload.recording_id, denied_event=events.event_copy_registered)
    else:
        document = get_for(request.user, "document.view",
                           Document.objects.select_related("case__unit"), payload.document_id,
                           denied_event=events.event_copy_registered)
    created = services.register_party_copy(
        actor=request.user, recording=recording, document=document,
        recipient_name=payload.recipient_name,
        recipient_number=payload.recipient_number, identity_check=payload.identity_check,
        reason=payload.reason)
    return Status(201, created)


@router.get("/disclosure/copies/{copy_id}", response=PartyCopyOut, summary="一件当事人复制登记")
def copy_detail(request, copy_id: int):
    return _copy(request, copy_id)


@router.post("/disclosure/copies/{copy_id}/decision", response=PartyCopyOut,
             summary="审批当事人复制（主管负责人）")
def decide(request, copy_id: int, payload: PartyCopyDecisionIn):
    _copy(request, copy_id, events.event_copy_approved if payload.decision == "approve"
          else events.event_copy_refused)
    return decisions.decide(kind=decisions.PARTY_COPY, approver=request.user, pk=copy_id,
                            approve=payload.decision == "approve", note=payload.note)


@router.post("/disclosure/copies/{copy_id}/plan", response=PartyCopyOut,
             summary="制定遮挡方案（第十七条第四款）")
def plan(request, copy_id: int, payload: PartyCopyPlanIn):
    _copy(request, copy_id, events.event_copy_plan_set)
    return services.set_redaction_plan(actor=request.user, copy_id=copy_id, text=payload.plan)


@router.post("/disclosure/copies/{copy_id}/make", response=PartyCopyOut,
             summary="制作复制件（加水印，按遮挡方案处理）")
def make(request, copy_id: int):
    _copy(request, copy_id, events.event_copy_made)
    return services.make_party_copy(actor=request.user, copy_id=copy_id)


@router.post("/disclosure/copies/{copy_id}/hand-over", response=PartyCopyOut,
             summary="登记交付复制件")
def hand_over(request, copy_id: int):
    _copy(request, copy_id, events.event_copy_handed_over)
    return services.hand_over_party_copy(actor=request.user, copy_id=copy_id)


@router.get("/disclosure/copies/{copy_id}/download", summary="下载复制件（已加水印，非原件）",
            openapi_extra={"responses": {200: {
                "description": "复制件（视频或照片），交付当事人的同一文件",
                "content": {"application/octet-stream": {}}}}})
def copy_download(request, copy_id: int):
    found = _copy(request, copy_id, events.event_copy_downloaded)
    path = services.copy_for_download(actor=request.user, copy_id=found.pk, request=request)
    suffix = path.rsplit(".", 1)[-1] if "." in path else "bin"
    return FileResponse(get_storage().open(path), as_attachment=True,
                        filename=f"{found.number}-复制件.{suffix}",
                        headers={"Cache-Control": "no-store"})


# --- supplies to review bodies and courts (第十七条第三款) ---------------------------------------


def _supply(request, supply_id: int, event: str = events.event_supplies_viewed):
    """The supply named in the path, seen under ``disclosure.view``; a refusal is audited as the
    operation asked (supply.get_supply). The operation's own rule is checked by its service."""
    return supply.get_supply(request.user, supply_id, event=event)


@router.get("/disclosure/supplies", response=list[SupplyOut], summary="提供登记（复议、诉讼）")
def supplies(request):
    require(request.user, "disclosure.view", event=events.event_supplies_viewed)
    return list(supply.visible_supplies(request.user)
                .prefetch_related("documents", "recordings")[:500])


@router.post("/disclosure/supplies", response={201: SupplyOut},
             summary="登记行政复议机关、人民法院调取（第十七条第三款）")
def register_supply(request, payload: SupplyIn):
    case = get_for(request.user, "case.view", Case.objects.select_related("unit"),
                   payload.case_id, denied_event=events.event_supply_registered)
    created = supply.register_supply(
        actor=request.user, case=case, body_kind=payload.body_kind, body_name=payload.body_name,
        letter_number=payload.letter_number, received_on=payload.received_on,
        recording_ids=payload.recording_ids, document_ids=payload.document_ids,
        note=payload.note)
    return Status(201, created)


@router.get("/disclosure/supplies/{supply_id}", response=SupplyOut, summary="一件提供登记")
def supply_detail(request, supply_id: int):
    return _supply(request, supply_id)


@router.post("/disclosure/supplies/{supply_id}/decision", response=SupplyOut,
             summary="审批提供（主管负责人，登记人不得自批）")
def decide_supply(request, supply_id: int, payload: SupplyDecisionIn):
    _supply(request, supply_id, events.event_supply_approved if payload.decision == "approve"
            else events.event_supply_refused)
    return decisions.decide(kind=decisions.SUPPLY, approver=request.user, pk=supply_id,
                            approve=payload.decision == "approve", note=payload.note)


@router.post("/disclosure/supplies/{supply_id}/build", response=SupplyOut,
             summary="制作证据包并留存（签名清单、离线核验程序）")
def build_supply(request, supply_id: int):
    _supply(request, supply_id, events.event_supply_built)
    return supply.build_supply(actor=request.user, supply_id=supply_id)


@router.post("/disclosure/supplies/{supply_id}/supplied", response=SupplyOut,
             summary="登记已提供（方式、时间）")
def supplied(request, supply_id: int, payload: SupplyHandOverIn):
    _supply(request, supply_id, events.event_supply_supplied)
    return supply.mark_supplied(actor=request.user, supply_id=supply_id, how=payload.how)


@router.post("/disclosure/supplies/{supply_id}/check", response=SupplyCheckOut,
             summary="核验留存件与提供时一致（复制留存）")
def check_supply(request, supply_id: int):
    _supply(request, supply_id, events.event_supply_checked)
    return supply.check_supply(actor=request.user, supply_id=supply_id, request=request)


@router.get("/disclosure/supplies/{supply_id}/package", summary="下载留存的证据包（ZIP）",
            openapi_extra={"responses": {200: {
                "description": "证据包 ZIP：与登记的 SHA-256、SM3 相同的字节",
                "content": {"application/zip": {}}}}})
def supply_package(request, supply_id: int):
    _supply(request, supply_id, events.event_supply_downloaded)
    path = supply.package_for_download(actor=request.user, supply_id=supply_id,
                                       request=request)
    return FileResponse(open(path, "rb"), as_attachment=True, filename=path.name,
                        headers={"Cache-Control": "no-store"})
