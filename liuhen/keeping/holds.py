"""Legal holds: while a review, lawsuit, complaint or investigation lasts, the records it
concerns are not disposed of (第十四条, 第十七条: records are the bureau's evidence in review
and litigation). A hold on a case covers the case's records and every recording actively
linked to it; a hold on a recording covers that recording. Released only with a reason.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from liuhen.access.querysets import unit_allowed
from liuhen.audit.services import record, record_denied
from liuhen.core.errors import Conflict, Forbidden, InvalidInput
from liuhen.evidence.models import CaseLink
from liuhen.keeping import events
from liuhen.keeping.choices import HoldKind
from liuhen.keeping.models import LegalHold


def active_holds():
    return LegalHold.objects.filter(released_at__isnull=True)


def holds_on_recording(recording) -> list[LegalHold]:
    """Active holds that stop ``recording``'s disposal: its own, and its cases' holds."""
    case_ids = recording.active_case_ids()
    if recording.case_id:
        case_ids.append(recording.case_id)
    return list(active_holds().filter(Q(recording=recording) | Q(case_id__in=case_ids)))


def held_recording_ids(recording_ids) -> set[int]:
    """Of ``recording_ids``, those an active hold covers (directly or through a case link)."""
    ids = list(recording_ids)
    held = set(active_holds().filter(recording_id__in=ids).values_list("recording_id",
                                                                        flat=True))
    held_cases = active_holds().filter(case__isnull=False).values_list("case_id", flat=True)
    held |= set(CaseLink.objects.filter(recording_id__in=ids, ended_at__isnull=True,
                                        case_id__in=held_cases)
                .values_list("recording_id", flat=True))
    return held


def place_hold(*, actor, kind: str, reason: str, reference: str = "", case=None,
               recording=None) -> LegalHold:
    """Hold a case or a recording (exactly one): audited; refused without a reason."""
    target = case if case is not None else recording
    if (case is None) == (recording is None):
        raise InvalidInput("请选择一个案件或一条音像记录")
    if kind not in HoldKind.values:
        raise InvalidInput("请选择冻结事由（行政复议、行政诉讼、投诉信访、调查）")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("请填写冻结理由")
    if not unit_allowed(actor, "hold.manage", target.unit):
        record_denied(actor=actor, action=events.event_hold_refused, target=target,
                      reason="无权冻结该记录")
        raise Forbidden()
    if recording is not None and recording.disposed_at:
        raise Conflict("该音像记录已依法销毁，无需冻结")
    with transaction.atomic():
        hold = LegalHold.objects.create(kind=kind, unit=target.unit, case=case,
                                        recording=recording, reason=reason[:2000],
                                        reference=(reference or "").strip()[:120],
                                        placed_by=actor)
        record(actor=actor, action=events.event_hold_placed, target=target, reason=reason,
               detail={"hold": hold.pk, "kind": kind, "reference": hold.reference})
    return hold


def release_hold(*, actor, hold: LegalHold, reason: str) -> LegalHold:
    """Release a hold with a reason (the proceeding ended); audited, the hold row stays."""
    reason = (reason or "").strip()
    if not unit_allowed(actor, "hold.manage", hold.unit):
        record_denied(actor=actor, action=events.event_hold_refused, target=hold,
                      reason="无权解除冻结")
        raise Forbidden()
    if not reason:
        raise InvalidInput("解除冻结须写明理由")
    with transaction.atomic():
        locked = LegalHold.objects.select_for_update().get(pk=hold.pk)
        if locked.released_at is not None:
            raise Conflict("该冻结已解除")
        locked.released_at, locked.released_by = timezone.now(), actor
        locked.release_reason = reason[:2000]
        locked.save(update_fields=["released_at", "released_by", "release_reason"])
        record(actor=actor, action=events.event_hold_released,
               target=locked.case or locked.recording, reason=reason,
               detail={"hold": locked.pk, "kind": locked.kind})
    return locked
