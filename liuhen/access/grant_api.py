"""JSON API of access requests and grants (调阅申请与授权, 第十六条): ask, the approver's
inbox and decision, my requests and grants, withdraw and revoke. Thin over access.grants."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from ninja import Field, Router, Schema, Status

from liuhen.access import grants
from liuhen.access.choices import UseAction
from liuhen.core.schemas import Reason

router = Router(tags=["调阅申请与授权"])

Use = Literal["view", "copy", "export"]


class AccessRequestIn(Schema):
    target_type: Literal["cases.case", "evidence.recording", "records.document"]
    target_id: int = Field(ge=1, le=2**63 - 1)
    actions: list[Use] = Field(default=[UseAction.VIEW], min_length=1)
    reason: Reason
    wanted_from: date | None = None
    wanted_until: date


class AccessGrantOut(Schema):
    id: int
    number: str
    request_id: int
    target_type: str
    target_id: str
    actions: list[str]
    valid_from: datetime
    valid_until: datetime
    granted_by_id: int
    granted_at: datetime
    revoked_at: datetime | None
    revoke_reason: str


class AccessRequestOut(Schema):
    id: int
    number: str
    requester_id: int
    target_type: str
    target_id: str
    target_label: str
    unit_id: int
    actions: list[str]
    reason: str
    wanted_from: datetime
    wanted_until: datetime
    status: str
    created_at: datetime
    decided_by_id: int | None
    decided_at: datetime | None
    decision_note: str


class AccessDecisionIn(Schema):
    decision: Literal["approve", "refuse"]
    actions: list[Use] | None = None
    valid_until: date | None = None
    note: Reason = ""


class GrantRevokeIn(Schema):
    reason: Reason = ""


@router.post("/access/requests", response={201: AccessRequestOut}, summary="提交调阅申请")
def create_request(request, payload: AccessRequestIn):
    created = grants.create_request(
        requester=request.user, target_type=payload.target_type, target_id=payload.target_id,
        actions=payload.actions, reason=payload.reason, wanted_from=payload.wanted_from,
        wanted_until=payload.wanted_until)
    return Status(201, created)


@router.get("/access/requests", response=list[AccessRequestOut], summary="我的调阅申请")
def my_requests(request):
    return list(grants.requests_of(request.user)[:500])


@router.post("/access/requests/{request_id}/withdraw", response=AccessRequestOut, summary="撤回申请")
def withdraw(request, request_id: int):
    return grants.withdraw_request(requester=request.user, request_id=request_id)


@router.get("/access/inbox", response=list[AccessRequestOut], summary="待我审批的调阅申请")
def inbox(request):
    return list(grants.pending_for(request.user).order_by("created_at", "id")[:500])


@router.post("/access/requests/{request_id}/decision", response={200: AccessGrantOut | AccessRequestOut},
             summary="审批调阅申请（批准可缩小事项和期限）")
def decide(request, request_id: int, payload: AccessDecisionIn):
    if payload.decision == "approve":
        return grants.approve_request(approver=request.user, request_id=request_id,
                                      actions=payload.actions, valid_until=payload.valid_until,
                                      note=payload.note)
    return grants.refuse_request(approver=request.user, request_id=request_id,
                                 reason=payload.note)


@router.get("/access/grants", response=list[AccessGrantOut], summary="我的调阅授权")
def my_grants(request):
    return list(grants.grants_of(request.user)[:500])


@router.post("/access/grants/{grant_id}/revoke", response=AccessGrantOut, summary="撤销或交回授权")
def revoke(request, grant_id: int, payload: GrantRevokeIn):
    return grants.revoke_grant(actor=request.user, grant_id=grant_id, reason=payload.reason)
