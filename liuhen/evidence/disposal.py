"""The one lawful path that deletes an original: disposal after its retention ended (第十四条).

第二十六条 (二) forbids deleting or altering an original, and the database refuses it
(``triggers.py``). When the retention period has passed, no legal hold stands, the records
keeper proposed the disposal and both the unit head and the legal affairs office approved it
(the keeping app checks all that and owns the register), :func:`dispose_original` turns the
recording into a tombstone — the row stays with its digests, dates, approvals and the register
number — and only after that commits is the object erased from storage
(:func:`erase_object`; on S3 only once its Object Lock retention has passed, never bypassed).
A failed erasure is recorded and retried (:func:`erase_pending`); ``liuhen verify`` treats the
key of a tombstone neither as an orphan nor as missing. Every step is audited.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from liuhen.access.choices import Role
from liuhen.access.querysets import unit_allowed, user_role
from liuhen.audit.choices import Outcome
from liuhen.audit.services import record, record_denied
from liuhen.core.errors import Conflict, InvalidInput, LiuhenError
from liuhen.evidence import events
from liuhen.evidence.models import Recording, RecordingDisposal
from liuhen.evidence.storage import get_storage

log = logging.getLogger(__name__)


class ObjectLocked(Conflict):
    code = "object_locked"
    message = "存储的对象锁定（Object Lock）保留期未满，暂不能销毁"


@dataclass(frozen=True)
class Approval:
    """One sign-off on a disposal: who, when, and their opinion."""

    user: object
    at: datetime
    opinion: str = ""


def locked_until(recording: Recording, *, storage=None):
    """Until when the storage itself keeps the object (S3 Object Lock), or None."""
    storage = storage or get_storage()
    return storage.retained_until(recording.storage_key)


def _refuse(actor, recording, reason: str, exc: LiuhenError) -> None:
    record_denied(actor=actor, action=events.event_recording_disposal_refused, target=recording,
                  reason=reason)
    raise exc


def _check_approvals(actor, recording, unit_head: Approval, legal: Approval) -> None:
    """Two different people: a unit head over the recording's unit, and the legal office."""
    if unit_head is None or legal is None:
        _refuse(actor, recording, "缺少单位负责人或法制机构的批准",
                InvalidInput("销毁须经单位负责人和法制机构双方批准"))
    if unit_head.user.pk == legal.user.pk:
        _refuse(actor, recording, "两项批准为同一人",
                InvalidInput("单位负责人与法制机构的批准须由不同人员作出"))
    if (user_role(unit_head.user) != Role.UNIT_HEAD
            or not unit_allowed(unit_head.user, "recording.view", recording.unit)):
        _refuse(actor, recording, "批准人不是该单位的负责人",
                InvalidInput("批准人不是该记录所属单位的负责人"))
    if user_role(legal.user) != Role.LEGAL_OFFICE:
        _refuse(actor, recording, "批准人不是法制机构人员",
                InvalidInput("第二项批准须由法制机构作出"))


def dispose_original(
    *,
    actor,
    recording: Recording,
    register_number: str,
    proposed_by,
    proposed_at: datetime,
    unit_head: Approval,
    legal: Approval,
    retention: dict,
    storage=None,
) -> RecordingDisposal:
    """Make ``recording`` a tombstone and erase its object once that commits.

    Refused (audited) when it is one already, when the approvals are missing, by one person
    or by the wrong roles, or while the storage's Object Lock still keeps the object
    (``ObjectLocked``: the keeping app leaves the item waiting and retries later).
    """
    storage = storage or get_storage()
    register_number = (register_number or "").strip()
    if not register_number:
        raise InvalidInput("缺少销毁清册编号")
    _check_approvals(actor, recording, unit_head, legal)
    until = locked_until(recording, storage=storage)
    now = timezone.now()
    if until is not None and until > now:
        _refuse(actor, recording, f"对象锁定保留至 {until.isoformat()}",
                ObjectLocked(detail={"retained_until": until.isoformat()}))
    with transaction.atomic():
        locked = Recording.objects.select_for_update().get(pk=recording.pk)
        if locked.disposed_at is not None:
            raise Conflict(f"该音像记录已于 {timezone.localtime(locked.disposed_at):%Y-%m-%d} 销毁")
        permit = RecordingDisposal.objects.create(
            recording=locked, register_number=register_number[:60], proposed_by=proposed_by,
            proposed_at=proposed_at, unit_head_approved_by=unit_head.user,
            unit_head_approved_at=unit_head.at, legal_approved_by=legal.user,
            legal_approved_at=legal.at, retention=retention, executed_by=actor,
            executed_at=now)
        locked.disposed_at, locked.disposal_register = now, permit.register_number
        locked.save(update_fields=["disposed_at", "disposal_register"])
        record(actor=actor, action=events.event_recording_disposed, target=locked,
               reason=f"依销毁清册 {permit.register_number} 销毁（第十四条保存期限届满）",
               detail={"register_number": permit.register_number, "disposal": permit.pk,
                       "sha256": locked.sha256, "sm3": locked.sm3, "size": locked.size,
                       "storage_key": locked.storage_key,
                       "captured_start": locked.captured_start.isoformat(),
                       "retention": retention,
                       "approvals": {
                           "unit_head": [unit_head.user.pk, unit_head.at.isoformat(),
                                         unit_head.opinion],
                           "legal_office": [legal.user.pk, legal.at.isoformat(),
                                            legal.opinion]}})
        events.recording_changed.publish(recording=locked, actor=actor)
        transaction.on_commit(lambda: erase_object(permit.pk, actor=actor, storage=storage))
    return permit


def erase_object(disposal_id: int, *, actor=None, storage=None) -> bool:
    """Erase the object of a committed tombstone (and its derived files); record the outcome.

    Idempotent: an object already erased is not touched again. A failure is audited as
    failed and logged; :func:`erase_pending` tries again later."""
    storage = storage or get_storage()
    permit = (RecordingDisposal.objects.select_related("recording")
              .filter(pk=disposal_id, recording__disposed_at__isnull=False).first())
    if permit is None or permit.object_erased_at is not None:
        return permit is not None
    key = permit.recording.storage_key
    try:
        detail = storage.erase_original(key, permit=permit)
    except (OSError, LiuhenError) as exc:
        with transaction.atomic():
            record(actor=actor, action=events.event_recording_object_erased,
                   target=permit.recording, outcome=Outcome.FAILED,
                   reason=f"原件删除失败，将重试：{exc}"[:500],
                   detail={"disposal": permit.pk, "key": key})
        log.error("DISPOSAL: erasing %s of recording %s failed: %s", key,
                  permit.recording_id, exc)
        return False
    with transaction.atomic():
        # Once: a run that met the same permit at the same time (two retries) records nothing.
        if RecordingDisposal.objects.filter(pk=permit.pk, object_erased_at__isnull=True).update(
                object_erased_at=timezone.now(), erase_detail={"storage": storage.name, **detail}):
            record(actor=actor, action=events.event_recording_object_erased,
                   target=permit.recording,
                   detail={"disposal": permit.pk, "key": key, "storage": storage.name, **detail})
    return True


def erase_pending(*, actor=None, storage=None) -> int:
    """Retry the erasure of every tombstone whose object is still stored; how many succeeded."""
    done = 0
    for pk in (RecordingDisposal.objects.filter(object_erased_at__isnull=True)
               .order_by("pk").values_list("pk", flat=True)):
        done += erase_object(pk, actor=actor, storage=storage)
    return done
