"""Access requests and grants (调阅申请与授权, 第十六条): one function per transition.

A request names one record (a case covers its recordings and documents), the uses wanted
(view, copy, export), the work reason and the period. It goes to the head of the unit that
owns the record (for a record of another unit, that unit's head); the head approves — perhaps
narrowing the uses or the period — or refuses with a reason. The requester is never the
approver. Approval makes a time-boxed ``Grant``; it can be revoked; expiry is compared at
every use (``access.use``). Each transition is audited inside its transaction.
"""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta

from django.apps import apps
from django.db import transaction
from django.utils import timezone

from liuhen.access.choices import RequestStatus, Role, UseAction
from liuhen.access.models import AccessRequest, Grant
from liuhen.access.querysets import scope_for, sub_unit_ids, user_role, user_unit
from liuhen.audit.services import record, record_denied
from liuhen.core.errors import Conflict, Forbidden, InvalidInput, NotFound

event_request_created = "access.request_created"
event_request_approved = "access.request_approved"
event_request_refused = "access.request_refused"
event_request_withdrawn = "access.request_withdrawn"
event_grant_revoked = "access.grant_revoked"

# The records one may ask for, with the viewing action whose role scope shows them.
REQUESTABLE = {
    "cases.case": "case.view",
    "evidence.recording": "recording.view",
    "records.document": "document.view",
}
# The longest period one request may cover; the regulation sets none, so a grant stays tied
# to the work it was given for and is asked again when that work goes on.
MAX_DAYS = 90


def _local_day_end(day) -> datetime:
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def _local_day_start(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def resolve_target(user, target_type: str, target_id) -> tuple[object, str]:
    """The record a request names and the label the requester may see; NotFound otherwise.

    A record of another unit may be asked for (第十六条: it goes to that unit's head), so
    the lookup is not scoped; its label then shows only kind and number."""
    view_action = REQUESTABLE.get(target_type)
    if view_action is None:
        raise InvalidInput("只能申请调阅案件、音像记录或文字记录")
    if scope_for(user_role(user), view_action) is None:
        record_denied(actor=user, action=event_request_created,
                      target=(target_type, str(target_id)[:64]), reason="角色无权调阅")
        raise Forbidden("您的角色不能申请调阅此类记录")
    model = apps.get_model(target_type)
    try:
        obj = model._default_manager.filter(pk=int(target_id)).first()
    except (TypeError, ValueError):
        obj = None
    if obj is None:
        raise NotFound("申请调阅的记录不存在")
    visible = model._default_manager.restrict(user, view_action).filter(pk=obj.pk).exists()
    label = str(obj)[:200] if visible else f"{model._meta.verbose_name} {obj.pk}"
    return obj, label


def _clean_actions(actions) -> list[str]:
    chosen = [a for a in UseAction.values if a in set(actions or [])]
    if not chosen:
        raise InvalidInput("请选择查阅、复制或拷贝/导出中的至少一项", detail={"field": "actions"})
    return chosen


def _clean_period(start, end) -> tuple[datetime, datetime]:
    today = timezone.localdate()
    start = start or today
    if end is None or end < start:
        raise InvalidInput("期限的结束日期不能早于开始日期", detail={"field": "wanted_until"})
    if start < today:
        raise InvalidInput("期限不能从过去的日期开始", detail={"field": "wanted_from"})
    if (end - start).days + 1 > MAX_DAYS:
        raise InvalidInput(f"一次申请的期限最长 {MAX_DAYS} 天", detail={"field": "wanted_until"})
    return _local_day_start(start), _local_day_end(end)


def create_request(*, requester, target_type: str, target_id, actions, reason: str,
                   wanted_from=None, wanted_until=None) -> AccessRequest:
    """Register a request; it waits in the inbox of the owning unit's heads."""
    obj, label = resolve_target(requester, target_type, target_id)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("请填写调阅的工作事由（第十六条：因工作需要）", detail={"field": "reason"})
    chosen = _clean_actions(actions)
    start, end = _clean_period(wanted_from, wanted_until)
    target = obj.use_target()
    with transaction.atomic():
        request = AccessRequest.objects.create(
            number=f"tmp-{uuid.uuid4().hex[:20]}", requester=requester, target_type=target_type,
            target_id=str(obj.pk), target_label=label, unit=target.unit, actions=chosen,
            reason=reason[:2000], wanted_from=start, wanted_until=end,
            status=RequestStatus.PENDING)
        request.number = f"调阅〔{timezone.localdate().year}〕{request.pk}号"
        request.save(update_fields=["number"])
        record(actor=requester, action=event_request_created, target=request,
               detail={"record": f"{target_type}:{obj.pk}", "actions": chosen,
                       "from": start.isoformat(), "until": end.isoformat()})
    return request


def may_decide(user, request: AccessRequest) -> bool:
    """The heads of the owning unit (or a unit above it) decide, never the requester."""
    unit = user_unit(user)
    return (user_role(user) == Role.UNIT_HEAD and unit is not None
            and request.requester_id != user.pk
            and request.unit.path.startswith(unit.path))


def pending_for(user):
    """The requests awaiting ``user``'s decision (the inbox; the 待办 page counts them)."""
    unit = user_unit(user)
    if user_role(user) != Role.UNIT_HEAD or unit is None:
        return AccessRequest.objects.none()
    return (AccessRequest.objects.filter(status=RequestStatus.PENDING,
                                         unit_id__in=sub_unit_ids(unit))
            .exclude(requester=user).select_related("requester", "unit"))


def _locked_pending(request_id) -> AccessRequest:
    """The pending request, locked; call inside a transaction after
    ``_check_decider`` (whose refusal must be audited outside it, so it is not rolled back)."""
    request = (AccessRequest.objects.select_for_update().select_related("unit")
               .get(pk=request_id))
    if request.status != RequestStatus.PENDING:
        raise Conflict(f"该申请已{request.get_status_display()}，不能再审批")
    return request


def _check_decider(user, request_id, event: str) -> None:
    request = AccessRequest.objects.select_related("unit").filter(pk=request_id).first()
    if request is None or not may_decide(user, request):
        record_denied(actor=user, action=event, target=("access.accessrequest", str(request_id)),
                      reason="申请不存在或无权审批（第十六条：由记录所属单位负责人审批，申请人不得自批）")
        raise NotFound("申请不存在或无权审批")


def approve_request(*, approver, request_id, actions=None, valid_until=None,
                    note: str = "") -> Grant:
    """Approve, perhaps narrowed: fewer uses, an earlier end. The grant carries what was
    allowed, never more than was asked."""
    _check_decider(approver, request_id, event_request_approved)
    with transaction.atomic():
        request = _locked_pending(request_id)
        asked = set(request.actions)
        allowed = _clean_actions(actions if actions is not None else request.actions)
        if not set(allowed) <= asked:
            raise InvalidInput("批准的事项不能超出申请的事项", detail={"field": "actions"})
        until = request.wanted_until
        if valid_until is not None:
            until = min(until, _local_day_end(valid_until))
        now = timezone.now()
        if until <= max(now, request.wanted_from):
            raise InvalidInput("授权期限已过，请选择更晚的结束日期", detail={"field": "valid_until"})
        request.status = RequestStatus.APPROVED
        request.decided_by, request.decided_at = approver, now
        request.decision_note = (note or "").strip()[:2000]
        request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        grant = Grant.objects.create(
            number=request.number.replace("调阅", "授权", 1), request=request,
            user=request.requester, target_type=request.target_type,
            target_id=request.target_id, actions=allowed,
            valid_from=request.wanted_from, valid_until=until, granted_by=approver,
            granted_at=now)
        narrowed = set(allowed) != asked or until != request.wanted_until
        record(actor=approver, action=event_request_approved, target=request,
               detail={"grant": grant.number, "actions": allowed, "narrowed": narrowed,
                       "until": until.isoformat(), "requester": request.requester_id})
    return grant


def refuse_request(*, approver, request_id, reason: str) -> AccessRequest:
    """Refuse with a reason the requester sees."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("不予批准须说明理由", detail={"field": "note"})
    _check_decider(approver, request_id, event_request_refused)
    with transaction.atomic():
        request = _locked_pending(request_id)
        request.status = RequestStatus.REFUSED
        request.decided_by, request.decided_at = approver, timezone.now()
        request.decision_note = reason[:2000]
        request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        record(actor=approver, action=event_request_refused, target=request,
               reason=reason[:500])
    return request


def withdraw_request(*, requester, request_id) -> AccessRequest:
    """The requester takes back a request that is still pending."""
    if not AccessRequest.objects.filter(pk=request_id, requester=requester).exists():
        record_denied(actor=requester, action=event_request_withdrawn,
                      target=("access.accessrequest", str(request_id)),
                      reason="申请不存在或不属于本人")
        raise NotFound("申请不存在")
    with transaction.atomic():
        request = AccessRequest.objects.select_for_update().get(pk=request_id)
        if request.status != RequestStatus.PENDING:
            raise Conflict("只能撤回待审批的申请")
        request.status = RequestStatus.WITHDRAWN
        request.save(update_fields=["status"])
        record(actor=requester, action=event_request_withdrawn, target=request)
    return request


def may_revoke(user, grant: Grant) -> bool:
    """The grantee gives a grant back; a head of the owning unit (or above) withdraws it."""
    if grant.user_id == user.pk:
        return True
    unit = user_unit(user)
    return (user_role(user) == Role.UNIT_HEAD and unit is not None
            and grant.request.unit.path.startswith(unit.path))


def revoke_grant(*, actor, grant_id, reason: str = "") -> Grant:
    """End a grant now; later uses are refused (idempotent)."""
    grant = Grant.objects.select_related("request__unit").filter(pk=grant_id).first()
    if grant is None or not may_revoke(actor, grant):
        record_denied(actor=actor, action=event_grant_revoked,
                      target=("access.grant", str(grant_id)), reason="授权不存在或无权撤销")
        raise NotFound("授权不存在或无权撤销")
    with transaction.atomic():
        grant = Grant.objects.select_for_update().get(pk=grant_id)
        if grant.revoked_at is None:
            grant.revoked_at, grant.revoked_by = timezone.now(), actor
            grant.revoke_reason = (reason or "").strip()[:2000]
            grant.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
            record(actor=actor, action=event_grant_revoked, target=grant,
                   reason=grant.revoke_reason[:500])
    return grant


def requests_of(user):
    return AccessRequest.objects.filter(requester=user).select_related("unit", "decided_by")


def grants_of(user):
    return Grant.objects.filter(user=user).select_related("request", "granted_by")
