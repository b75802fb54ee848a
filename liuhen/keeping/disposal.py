"""Lawful disposal of recordings whose retention ended (第十四条): the monthly list, the
destruction register (销毁清册) and its approvals, and the execution through the vault's one
deleting path (``evidence.disposal.dispose_original``, which leaves a tombstone).

Steps, one function each, every one audited: :func:`candidates` (past the disposal date and
not held), :func:`propose` (the records keeper), :func:`approve` (the unit head and the legal
affairs office, two people; either may :func:`reject`), :func:`execute` (each item checked
again: a hold placed or a case linked since the proposal keeps the item).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from liuhen.access.choices import Role
from liuhen.access.querysets import unit_allowed, user_role, user_unit
from liuhen.access.services import require
from liuhen.audit.services import record, record_denied
from liuhen.core.errors import Conflict, Forbidden, InvalidInput, LiuhenError
from liuhen.evidence import disposal as originals
from liuhen.evidence.models import Recording
from liuhen.keeping import events, holds, services
from liuhen.keeping.choices import DisposalItemOutcome, DisposalStatus
from liuhen.keeping.models import DisposalItem, DisposalList
from liuhen.keeping.retention import Period, Retention, load_table

OPEN_STATUSES = (DisposalStatus.PROPOSED, DisposalStatus.APPROVED)


@dataclass(frozen=True)
class Candidate:
    recording: Recording
    retention: Retention


def _latest_capture(periods, as_of: date) -> datetime | None:
    """Recordings captured after this cannot be past their date by ``as_of``: the rows that
    apply to every recording (the patrol minimum) count from capture and the longest wins.
    A few days' margin covers month ends (31 August + 6 months is 28 February)."""
    rows = [periods[r.id] for r in load_table().group("recording") if r.applies == "every"]
    if any(p.permanent for p in rows):
        return None
    months = max((p.months for p in rows), default=0)
    cutoff = Period(months=-months).end(as_of) + timedelta(days=3)
    return timezone.make_aware(datetime.combine(cutoff, time.max))


def candidates(*, user, as_of: date | None = None) -> list[Candidate]:
    """The monthly list: recordings in ``user``'s scope whose disposal date has come by
    ``as_of`` (today), not held, not disposed, not already on an open register."""
    as_of = as_of or timezone.localdate()
    periods = services.periods_in_force()
    latest = _latest_capture(periods, as_of)
    if latest is None:
        return []
    rows = (Recording.objects.restrict(user, "disposal.propose")
            .filter(disposed_at__isnull=True, captured_start__lte=latest)
            .exclude(pk__in=DisposalItem.objects.filter(
                register__status__in=OPEN_STATUSES).values("recording_id"))
            .select_related("unit", "case").order_by("captured_start", "id"))
    found = []
    for rec in rows:
        ret = services.recording_retention(rec, periods=periods)
        if ret.disposal_date is not None and ret.disposal_date <= as_of:
            found.append(Candidate(rec, ret))
    held = holds.held_recording_ids(c.recording.pk for c in found)
    return [c for c in found if c.recording.pk not in held]


def _refuse(actor, target, message: str, exc_class=InvalidInput):
    record_denied(actor=actor, action=events.event_disposal_refused, target=target,
                  reason=message)
    raise exc_class(message)


def _next_number(as_of: date) -> str:
    prefix = f"XH-{as_of:%Y%m}-"
    taken = DisposalList.objects.filter(number__startswith=prefix).count()
    return f"{prefix}{taken + 1:03d}"


def propose(*, actor, recording_ids, note: str = "", as_of: date | None = None) -> DisposalList:
    """The records keeper puts recordings of the monthly list on a new register."""
    require(actor, "disposal.propose", event=events.event_disposal_refused)
    as_of = as_of or timezone.localdate()
    wanted = {int(pk) for pk in recording_ids}
    if not wanted:
        raise InvalidInput("请选择要提出销毁的音像记录")
    listed = {c.recording.pk: c for c in candidates(user=actor, as_of=as_of)}
    if wanted - set(listed):
        _refuse(actor, None, "所选记录不在本月可销毁清单中（保存期限未满、已冻结或已提出）："
                + "、".join(str(pk) for pk in sorted(wanted - set(listed))))
    with transaction.atomic():
        register = DisposalList.objects.create(
            number=_next_number(as_of), unit=user_unit(actor), as_of=as_of,
            note=(note or "").strip()[:2000], proposed_by=actor)
        for pk in sorted(wanted):
            DisposalItem.objects.create(register=register, recording_id=pk,
                                        retention=listed[pk].retention.as_dict())
        record(actor=actor, action=events.event_disposal_proposed, target=register,
               detail={"number": register.number, "recordings": sorted(wanted)})
    return register


def _locked(register: DisposalList) -> DisposalList:
    return DisposalList.objects.select_for_update().get(pk=register.pk)


def approve(*, actor, register: DisposalList, opinion: str = "") -> DisposalList:
    """One of the two approvals: the unit head over every item's unit, or the legal office.
    Both given: the register is approved."""
    role = user_role(actor)
    if role not in (Role.UNIT_HEAD, Role.LEGAL_OFFICE):
        _refuse(actor, register, "销毁须由单位负责人和法制机构批准", Forbidden)
    with transaction.atomic():
        register = _locked(register)
        if register.status != DisposalStatus.PROPOSED:
            _refuse(actor, register, f"清册{register.get_status_display()}，不能再批准", Conflict)
        if actor.pk == register.proposed_by_id:
            _refuse(actor, register, "提出人不能批准自己提出的销毁")
        now = timezone.now()
        if role == Role.UNIT_HEAD:
            units = {i.recording.unit for i in register.items.select_related("recording__unit")}
            if not all(unit_allowed(actor, "disposal.approve", u) for u in units):
                _refuse(actor, register, "清册中有不属于本单位的记录，单位负责人无权批准", Forbidden)
            register.head_by, register.head_at, register.head_opinion = actor, now, opinion
        else:
            register.legal_by, register.legal_at, register.legal_opinion = actor, now, opinion
        if register.head_by_id and register.legal_by_id:
            register.status = DisposalStatus.APPROVED
        register.save()
        record(actor=actor, action=events.event_disposal_approved, target=register,
               reason=opinion, detail={"number": register.number, "as": role})
    return register


def reject(*, actor, register: DisposalList, opinion: str) -> DisposalList:
    """The unit head or the legal office refuses the register (with an opinion)."""
    if user_role(actor) not in (Role.UNIT_HEAD, Role.LEGAL_OFFICE):
        _refuse(actor, register, "无权审批销毁", Forbidden)
    opinion = (opinion or "").strip()
    if not opinion:
        raise InvalidInput("不予批准须写明意见")
    with transaction.atomic():
        register = _locked(register)
        if register.status != DisposalStatus.PROPOSED:
            _refuse(actor, register, f"清册{register.get_status_display()}，不能再审批", Conflict)
        register.status = DisposalStatus.REJECTED
        register.rejected_by, register.rejected_at = actor, timezone.now()
        if user_role(actor) == Role.UNIT_HEAD:
            register.head_opinion = opinion
        else:
            register.legal_opinion = opinion
        register.save()
        record(actor=actor, action=events.event_disposal_rejected, target=register,
               reason=opinion, detail={"number": register.number})
    return register


def _still_disposable(item: DisposalItem) -> tuple[Retention | None, str]:
    rec = item.recording
    if rec.disposed_at:
        return None, "已销毁"
    if on_hold := holds.holds_on_recording(rec):
        return None, f"已冻结：{on_hold[0].get_kind_display()} {on_hold[0].reference}".strip()
    ret = services.recording_retention(rec)
    if ret.disposal_date is None or ret.disposal_date > timezone.localdate():
        return None, f"保存期限已变化：{ret.period_label}，{ret.disposal_label}"
    return ret, ""


def execute(*, actor, register: DisposalList) -> DisposalList:
    """Destroy each item of an approved register (both approvals, 第十四条) through the vault's
    tombstone path; an item held or no longer due since the proposal is skipped; one whose
    storage lock has not passed waits (run again later)."""
    require(actor, "disposal.execute", event=events.event_disposal_refused)
    register = DisposalList.objects.get(pk=register.pk)
    if not (register.head_by_id and register.legal_by_id):
        _refuse(actor, register, "销毁须经单位负责人和法制机构双方批准，清册尚缺批准")
    if register.status != DisposalStatus.APPROVED:
        _refuse(actor, register, f"清册{register.get_status_display()}，不能执行", Conflict)
    head = originals.Approval(register.head_by, register.head_at, register.head_opinion)
    legal = originals.Approval(register.legal_by, register.legal_at, register.legal_opinion)
    items = register.items.select_related("recording").filter(
        outcome__in=(DisposalItemOutcome.PENDING, DisposalItemOutcome.WAITING))
    for item in items:
        ret, why = _still_disposable(item)
        if ret is None:
            outcome, note = DisposalItemOutcome.SKIPPED, why
        else:
            try:
                originals.dispose_original(
                    actor=actor, recording=item.recording, register_number=register.number,
                    proposed_by=register.proposed_by, proposed_at=register.proposed_at,
                    unit_head=head, legal=legal, retention=ret.as_dict())
                outcome, note = DisposalItemOutcome.DISPOSED, ""
            except originals.ObjectLocked as exc:
                outcome, note = DisposalItemOutcome.WAITING, exc.message
            except LiuhenError as exc:
                outcome, note = DisposalItemOutcome.SKIPPED, exc.message
        DisposalItem.objects.filter(pk=item.pk).update(outcome=outcome, outcome_note=note[:500])
    with transaction.atomic():
        register = _locked(register)
        waiting = register.items.filter(outcome=DisposalItemOutcome.WAITING).count()
        if not waiting:
            register.status = DisposalStatus.EXECUTED
            register.executed_by, register.executed_at = actor, timezone.now()
            register.save()
        tally = {o: register.items.filter(outcome=o).count() for o in DisposalItemOutcome.values}
        record(actor=actor, action=events.event_disposal_executed, target=register,
               outcome="succeeded", detail={"number": register.number, "tally": tally})
    return register
