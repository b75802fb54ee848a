"""The leader in charge's decision on what leaves the bureau, one rule for both kinds: a party
copy (第十七条第二款: 经主管负责人批准) and a supply to a review body or a court (第十七条第三款,
approved the same way). Only the leader in charge decides, never the one who registered the
request; a refusal always gives its reason; only a request still waiting is decided; the
decision and every refused attempt are audited inside the transaction. Pages, the API and the
services call :func:`decide`; :func:`may_decide` tells a page whether to offer the buttons."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models, transaction
from django.utils import timezone

from liuhen.access.choices import Role
from liuhen.access.querysets import user_role
from liuhen.audit.services import record, record_denied
from liuhen.core.errors import Conflict, Forbidden, InvalidInput
from liuhen.disclosure import events
from liuhen.disclosure.choices import CopyStatus, SupplyStatus
from liuhen.disclosure.models import PartyCopy, Supply

# 第十七条第二款: 经主管负责人（或主要负责人）批准; 第十七条第三款 follows the same approver.
APPROVER_ROLES = frozenset({Role.BUREAU_LEADER})


@dataclass(frozen=True)
class DecisionKind:
    """What differs between the two kinds of request: the model, its states, who registered
    it, the audit actions and the article the refusal cites."""

    model: type[models.Model]
    object_type: str
    registrar_field: str
    waiting: str
    approved: str
    refused: str
    event_approved: str
    event_refused: str
    rule: str


PARTY_COPY = DecisionKind(
    model=PartyCopy, object_type="disclosure.partycopy", registrar_field="registered_by_id",
    waiting=CopyStatus.REGISTERED, approved=CopyStatus.APPROVED, refused=CopyStatus.REFUSED,
    event_approved=events.event_copy_approved, event_refused=events.event_copy_refused,
    rule="当事人复制须经主管负责人批准（第十七条第二款）")
SUPPLY = DecisionKind(
    model=Supply, object_type="disclosure.supply", registrar_field="requested_by_id",
    waiting=SupplyStatus.REQUESTED, approved=SupplyStatus.APPROVED, refused=SupplyStatus.REFUSED,
    event_approved=events.event_supply_approved, event_refused=events.event_supply_refused,
    rule="复议、诉讼提供须经主管负责人批准（第十七条第三款）")


def is_approver(user) -> bool:
    return user_role(user) in APPROVER_ROLES


def may_decide(user, row, kind: DecisionKind) -> bool:
    """Whether ``user`` may decide ``row`` now (the page shows the buttons; decide() checks)."""
    return (is_approver(user) and getattr(row, kind.registrar_field) != user.pk
            and row.status == kind.waiting)


def decide(*, kind: DecisionKind, approver, pk, approve: bool, note: str = ""):
    """Approve or refuse the request ``pk`` of ``kind``; returns the row as decided."""
    note = (note or "").strip()
    event = kind.event_approved if approve else kind.event_refused
    if not approve and not note:
        raise InvalidInput("不予批准须说明理由", detail={"field": "note"})
    row = kind.model.objects.filter(pk=pk).first()
    if row is None or not is_approver(approver) \
            or getattr(row, kind.registrar_field) == approver.pk:
        record_denied(actor=approver, action=event, target=(kind.object_type, str(pk)),
                      reason=f"{kind.rule}，登记人不得自批")
        raise Forbidden(kind.rule)
    with transaction.atomic():
        row = kind.model.objects.select_for_update().get(pk=pk)
        if row.status != kind.waiting:
            raise Conflict(f"该登记{row.get_status_display()}，不能执行此操作")
        row.status = kind.approved if approve else kind.refused
        row.decided_by, row.decided_at, row.decision_note = approver, timezone.now(), note[:2000]
        row.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        if approve:
            record(actor=approver, action=event, target=row)
        else:
            record(actor=approver, action=event, target=row, reason=note[:500])
    return row
