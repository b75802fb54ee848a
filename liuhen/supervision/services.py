"""Handling violations of 第二十六条: detection (the detectors' findings become violations,
once each), manual entry of (六), and the legal affairs office's steps as a state machine:
open → confirmed → measure taken → closed, or open → dismissed. Each step checks it is allowed,
writes its ``ViolationStep`` and its audit entry in one transaction."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone

from liuhen.access.permissions import BUREAU, scope_for
from liuhen.access.querysets import allows, user_role
from liuhen.audit.services import record, record_denied
from liuhen.core.errors import Forbidden, IllegalTransition, InvalidInput
from liuhen.supervision import detectors, events
from liuhen.supervision.choices import Measure, ViolationItem, ViolationStatus
from liuhen.supervision.models import Violation, ViolationStep

V = ViolationStatus

ALLOWED: dict[str, frozenset[str]] = {
    V.OPEN: frozenset({V.CONFIRMED, V.DISMISSED}),
    V.CONFIRMED: frozenset({V.MEASURE_TAKEN}),
    V.MEASURE_TAKEN: frozenset({V.CLOSED}),
    V.CLOSED: frozenset(),
    V.DISMISSED: frozenset(),
}


def require_handle(actor, event: str, target=None) -> None:
    """Only the legal affairs office handles violations (第三条, 第二十六条)."""
    if not allows(actor, "violation.handle"):
        record_denied(actor=actor, action=event, target=target,
                      reason="角色无权处理违规事项")
        raise Forbidden("只有法制机构可以处理违规事项")


def detect_violations(*, actor=None, now=None) -> dict:
    """Run every detector; a finding not seen before becomes an open violation, an open one
    seen again gets the latest evidence; one already judged is left as it was."""
    now = now or timezone.now()
    findings = detectors.run_all(now)
    by_print = {f.fingerprint: f for f in findings}
    existing = {v.fingerprint: v for v in Violation.objects.filter(fingerprint__in=by_print)}
    created, refreshed = [], 0
    with transaction.atomic():
        for fingerprint, finding in by_print.items():
            known = existing.get(fingerprint)
            if known is None:
                created.append(Violation(
                    item=finding.item, detector=finding.detector, fingerprint=fingerprint,
                    title=finding.title[:200], unit_id=finding.unit_id,
                    officer_id=finding.officer_id, subject_type=finding.subject_type,
                    subject_id=finding.subject_id[:64], evidence=finding.evidence,
                    detected_at=now))
            elif known.status == V.OPEN and known.evidence != finding.evidence:
                Violation.objects.filter(pk=known.pk).update(evidence=finding.evidence,
                                                             title=finding.title[:200])
                refreshed += 1
        # Two runs at once (the scheduler's job and the page's button) may both see a finding
        # as new: the unique fingerprint keeps one row, the other insert is skipped.
        Violation.objects.bulk_create(created, batch_size=500, ignore_conflicts=True)
        new = list(Violation.objects.filter(
            fingerprint__in=[v.fingerprint for v in created], steps__isnull=True))
        ViolationStep.objects.bulk_create(
            [ViolationStep(violation=v, to_status=V.OPEN, at=now, note="系统检测")
             for v in new], batch_size=500)
        summary = {"findings": len(by_print), "created": len(new), "refreshed": refreshed}
        record(actor=actor, action=events.event_violations_detected,
               actor_name="system" if actor is None else None, detail=summary)
    return summary


def report_violation(*, actor, unit, description: str, officer=None,
                     item: int = ViolationItem.OTHER) -> Violation:
    """第二十六条 (六) and any item seen by a person: entered by the legal affairs office."""
    require_handle(actor, events.event_violation_reported)
    description = (description or "").strip()
    if not description:
        raise InvalidInput("请填写违规情况")
    if item not in ViolationItem.values:
        raise InvalidInput("第二十六条项目不正确")
    if unit is None:
        raise InvalidInput("请选择单位")
    if officer is not None and officer.unit_id != unit.pk:
        raise InvalidInput("人员不属于该单位")
    now = timezone.now()
    with transaction.atomic():
        violation = Violation.objects.create(
            item=item, detector="manual", title=description[:200], unit=unit, officer=officer,
            fingerprint=f"manual:{unit.pk}:{now.timestamp()}:{actor.pk}",
            evidence={"description": description}, reported_by=actor, detected_at=now)
        ViolationStep.objects.create(violation=violation, to_status=V.OPEN, actor=actor,
                                     note="人工登记")
        record(actor=actor, action=events.event_violation_reported, target=violation,
               detail={"item": item, "unit": unit.pk,
                       "officer": officer.pk if officer else None})
    return violation


def _move(violation: Violation, to: str, *, actor, event: str, note: str,
          fields: dict | None = None) -> Violation:
    locked = Violation.objects.select_for_update().get(pk=violation.pk)
    if to not in ALLOWED[locked.status]:
        raise IllegalTransition(
            f"该事项当前为“{locked.get_status_display()}”，不能变为“{V(to).label}”")
    ViolationStep.objects.create(violation=locked, from_status=locked.status, to_status=to,
                                 actor=actor, note=note)
    record(actor=actor, action=event, target=locked, reason=note,
           detail={"from": locked.status, "to": to,
                   **{k: str(v) for k, v in (fields or {}).items()}})
    for name, value in {"status": to, **(fields or {})}.items():
        setattr(locked, name, value)
    locked.save()
    return locked


def _reason(text: str, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidInput(f"请填写{what}")
    return text


def confirm(*, actor, violation: Violation, reason: str) -> Violation:
    """待核查 → 已确认: the office finds the violation real, and says why."""
    require_handle(actor, events.event_violation_confirmed, violation)
    reason = _reason(reason, "确认理由")
    with transaction.atomic():
        return _move(violation, V.CONFIRMED, actor=actor, event=events.event_violation_confirmed,
                     note=reason, fields={"decision_reason": reason})


def dismiss(*, actor, violation: Violation, reason: str) -> Violation:
    """待核查 → 已排除: not a violation (e.g. a recording of a lawful operation), with why."""
    require_handle(actor, events.event_violation_dismissed, violation)
    reason = _reason(reason, "排除理由")
    with transaction.atomic():
        return _move(violation, V.DISMISSED, actor=actor,
                     event=events.event_violation_dismissed, note=reason,
                     fields={"decision_reason": reason, "closed_at": timezone.now()})


def take_measure(*, actor, violation: Violation, measure: str, note: str = "",
                 deadline: date | None = None) -> Violation:
    """已确认 → 已处理待办结: 批评教育, 限期整改 (with a deadline after today) or 移送处分."""
    require_handle(actor, events.event_violation_measure_taken, violation)
    if measure not in Measure.values:
        raise InvalidInput("请选择处理措施")
    if measure == Measure.RECTIFICATION:
        if deadline is None:
            raise InvalidInput("限期整改须写明整改期限")
        if deadline <= timezone.localdate():
            raise InvalidInput("整改期限应晚于今天")
    else:
        deadline = None
    with transaction.atomic():
        return _move(violation, V.MEASURE_TAKEN, actor=actor,
                     event=events.event_violation_measure_taken,
                     note=f"{Measure(measure).label}{'：' + note.strip() if note.strip() else ''}",
                     fields={"measure": measure, "measure_deadline": deadline,
                             "measure_note": note.strip()})


def close(*, actor, violation: Violation, note: str) -> Violation:
    """已处理待办结 → 已办结: the measure is done (the rectification made, the referral sent)."""
    require_handle(actor, events.event_violation_closed, violation)
    note = _reason(note, "办结说明")
    with transaction.atomic():
        return _move(violation, V.CLOSED, actor=actor, event=events.event_violation_closed,
                     note=note, fields={"closing_note": note, "closed_at": timezone.now()})


def visible_violations(user):
    """Violations ``user`` may see: the legal affairs office and leaders all of them; a unit
    head his units' judged ones; an officer his own judged ones (第二十六条: units and officers
    see their own, once the office has confirmed them)."""
    qs = Violation.objects.restrict(user, "violation.view")
    if scope_for(user_role(user), "violation.view") == BUREAU:
        return qs
    qs = qs.exclude(status__in=[V.OPEN, V.DISMISSED])
    officer = getattr(user, "officer", None)
    if officer is not None and officer.role == "officer":
        qs = qs.filter(officer=officer)
    return qs
