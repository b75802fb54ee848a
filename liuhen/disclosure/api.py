"""JSON API of party copies (第十七条第二款) and the supply register (第十七条第三款): thin over
disclosure.services and disclosure.supply (every rule and audit entry is there)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from ninja import Field, Router, Schema, Status

from liuhen.core.errors import NotFound
from liuhen.disclosure import marks, services, supply
from liuhen.evidence.models import Recording

router = Router(tags=["复制与提供（第十七条）"])


class PartyCopyIn(Schema):
    recording_id: int = Field(ge=1, le=2**63 - 1)
    recipient_name: str = Field(max_length=100)
    recipient_number: str = Field("", max_length=40)
    identity_check: Literal["id_card", "business_licence", "power_of_attorney", "lawyer"]
    reason: str = Field(max_length=2000)


class PartyCopyOut(Schema):
    id: int
    number: str
    recording_id: int
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
        return marks.effective_mark(obj.recording)


class PartyCopyDecisionIn(Schema):
    decision: Literal["approve", "refuse"]
    note: str = Field("", max_length=2000)


class PartyCopyPlanIn(Schema):
    plan: str = Field(max_length=4000)


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
    package_id: str
    manifest_sha256: str
    zip_sha256: str
    zip_sm3: str
    key_fingerprint: str
    built_at: datetime | None
    supplied_at: datetime | None
    supplied_how: str


def _copy(request, copy_id: int):
    found = services.visible_copies(request.user).select_related("recording") \
        .filter(pk=copy_id).first()
    if found is None:
        raise NotFound()
    return found


@router.get("/disclosure/copies", response=list[PartyCopyOut], summary="当事人复制登记")
def copies(request):
    return list(services.visible_copies(request.user).select_related("recording")[:500])


@router.post("/disclosure/copies", response={201: PartyCopyOut}, summary="登记当事人复制申请")
def register_copy(request, payload: PartyCopyIn):
    recording = (Recording.objects.restrict(request.user, "recording.view")
                 .filter(pk=payload.recording_id).first())
    if recording is None:
        raise NotFound()
    created = services.register_party_copy(
        actor=request.user, recording=recording, recipient_name=payload.recipient_name,
        recipient_number=payload.recipient_number, identity_check=payload.identity_check,
        reason=payload.reason)
    return Status(201, created)


@router.get("/disclosure/copies/{copy_id}", response=PartyCopyOut, summary="一件当事人复制登记")
def copy_detail(request, copy_id: int):
    return _copy(request, copy_id)


@router.post("/disclosure/copies/{copy_id}/decision", response=PartyCopyOut,
             summary="审批当事人复制（主管负责人）")
def decide(request, copy_id: int, payload: PartyCopyDecisionIn):
    _copy(request, copy_id)
    if payload.decision == "approve":
        return services.approve_party_copy(approver=request.user, copy_id=copy_id,
                                           note=payload.note)
    return services.refuse_party_copy(approver=request.user, copy_id=copy_id,
                                      reason=payload.note)


@router.post("/disclosure/copies/{copy_id}/plan", response=PartyCopyOut,
             summary="制定遮挡方案（第十七条第四款）")
def plan(request, copy_id: int, payload: PartyCopyPlanIn):
    _copy(request, copy_id)
    return services.set_redaction_plan(actor=request.user, copy_id=copy_id, text=payload.plan)


@router.post("/disclosure/copies/{copy_id}/make", response=PartyCopyOut,
             summary="制作复制件（加水印，按遮挡方案处理）")
def make(request, copy_id: int):
    _copy(request, copy_id)
    return services.make_party_copy(actor=request.user, copy_id=copy_id)


@router.post("/disclosure/copies/{copy_id}/hand-over", response=PartyCopyOut,
             summary="登记交付复制件")
def hand_over(request, copy_id: int):
    _copy(request, copy_id)
    return services.hand_over_party_copy(actor=request.user, copy_id=copy_id)


@router.get("/disclosure/supplies", response=list[SupplyOut], summary="提供登记（复议、诉讼）")
def supplies(request):
    return list(supply.visible_supplies(request.user)[:500])
