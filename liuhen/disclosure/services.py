"""Party copies (当事人复制, 第十七条第二款): register, approve or refuse, make, hand over.

A party (or their representative, identity checked) may get a copy of a recording with the
approval of the leader in charge (主管负责人). The copy is a derived file — the recipient, the
time and the register number burnt into every frame or onto the photo (liuhen.redaction) —
stored beside the original with its own digests; the original is never touched. Each
transition is one function that checks it is allowed and writes its audit entry.
"""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from liuhen.access.choices import Role
from liuhen.access.querysets import user_role
from liuhen.audit.services import record, record_denied
from liuhen.cases.validators import mask_number
from liuhen.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from liuhen.disclosure import events
from liuhen.disclosure.choices import CopyStatus, IdentityCheck
from liuhen.disclosure.models import PartyCopy
from liuhen.evidence.choices import RecordingKind
from liuhen.evidence.models import Recording
from liuhen.evidence.storage import derived_key, get_storage
from liuhen.redaction import watermark_image, watermark_lines, watermark_video

# 第十七条第二款: 经主管负责人（或主要负责人）批准.
APPROVER_ROLES = frozenset({Role.BUREAU_LEADER})


def _in_scope(user, recording: Recording) -> bool:
    return Recording.objects.restrict(user, "recording.view").filter(pk=recording.pk).exists()


def register_party_copy(*, actor, recording: Recording, recipient_name: str,
                        recipient_number: str = "", identity_check: str, reason: str,
                        party=None) -> PartyCopy:
    """Register a party's request (who, identity checked how, which recording, why)."""
    if not _in_scope(actor, recording):
        record_denied(actor=actor, action=events.event_copy_registered, target=recording,
                      reason="无权登记该音像记录的复制申请")
        raise NotFound()
    recipient_name = (recipient_name or "").strip()
    reason = (reason or "").strip()
    if not recipient_name:
        raise InvalidInput("请填写申请人姓名或名称", detail={"field": "recipient_name"})
    if identity_check not in IdentityCheck.values:
        raise InvalidInput("请选择身份核验方式", detail={"field": "identity_check"})
    if not reason:
        raise InvalidInput("请填写申请理由", detail={"field": "reason"})
    if recording.disposed_at is not None:
        raise Conflict("该音像记录的原件已依法销毁，不能复制")
    with transaction.atomic():
        copy = PartyCopy.objects.create(
            number=f"tmp-{uuid.uuid4().hex[:20]}", recording=recording, party=party,
            recipient_name=recipient_name[:100],
            recipient_number=mask_number(recipient_number.strip())[:40] if recipient_number
            else "", identity_check=identity_check, reason=reason[:2000], registered_by=actor)
        copy.number = f"复制〔{timezone.localdate().year}〕{copy.pk}号"
        copy.save(update_fields=["number"])
        record(actor=actor, action=events.event_copy_registered, target=copy,
               detail={"recording": recording.pk, "identity_check": identity_check})
    return copy


def _check_approver(approver, copy_id, event: str) -> PartyCopy:
    copy = PartyCopy.objects.select_related("recording").filter(pk=copy_id).first()
    if copy is None or user_role(approver) not in APPROVER_ROLES \
            or copy.registered_by_id == approver.pk:
        record_denied(actor=approver, action=event, target=("disclosure.partycopy", str(copy_id)),
                      reason="当事人复制须经主管负责人批准（第十七条第二款），登记人不得自批")
        raise Forbidden("当事人复制须经主管负责人批准（第十七条第二款）")
    return copy


def _locked(copy_id, status: str) -> PartyCopy:
    copy = PartyCopy.objects.select_for_update().get(pk=copy_id)
    if copy.status != status:
        raise Conflict(f"该登记{copy.get_status_display()}，不能执行此操作")
    return copy


def approve_party_copy(*, approver, copy_id, note: str = "") -> PartyCopy:
    _check_approver(approver, copy_id, events.event_copy_approved)
    with transaction.atomic():
        copy = _locked(copy_id, CopyStatus.REGISTERED)
        copy.status, copy.decided_by, copy.decided_at = CopyStatus.APPROVED, approver, timezone.now()
        copy.decision_note = (note or "").strip()[:2000]
        copy.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        record(actor=approver, action=events.event_copy_approved, target=copy)
    return copy


def refuse_party_copy(*, approver, copy_id, reason: str) -> PartyCopy:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("不予批准须说明理由", detail={"field": "note"})
    _check_approver(approver, copy_id, events.event_copy_refused)
    with transaction.atomic():
        copy = _locked(copy_id, CopyStatus.REGISTERED)
        copy.status, copy.decided_by, copy.decided_at = CopyStatus.REFUSED, approver, timezone.now()
        copy.decision_note = reason[:2000]
        copy.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        record(actor=approver, action=events.event_copy_refused, target=copy, reason=reason[:500])
    return copy


def make_party_copy(*, actor, copy_id) -> PartyCopy:
    """Make the approved copy: the watermarked derived file, stored with its digests."""
    copy = PartyCopy.objects.select_related("recording").filter(pk=copy_id).first()
    if copy is None or not _in_scope(actor, copy.recording):
        record_denied(actor=actor, action=events.event_copy_made,
                      target=("disclosure.partycopy", str(copy_id)), reason="无权制作该副本")
        raise NotFound()
    if copy.status != CopyStatus.APPROVED:
        raise Conflict("只有经批准的登记才能制作副本（第十七条第二款）")
    recording = copy.recording
    made_at = timezone.now()
    mark = watermark_lines(viewer_name=copy.recipient_name,
                           viewer_number=copy.recipient_number or "—", at=made_at,
                           grant_number=copy.number, purpose="当事人复制（第十七条第二款）")
    storage = get_storage()
    with tempfile.TemporaryDirectory(prefix="liuhen-party-copy-") as folder:
        source = Path(folder) / f"original{Path(recording.original_name).suffix or '.bin'}"
        with storage.open(recording.storage_key) as reader, open(source, "wb") as out:
            for chunk in iter(lambda: reader.read(1 << 20), b""):
                out.write(chunk)
        if recording.kind == RecordingKind.PHOTO:
            target = Path(folder) / f"copy{source.suffix}"
            derived = watermark_image(source=source, target=target, watermark=mark)
        else:
            target = Path(folder) / "copy.mp4"
            derived = watermark_video(source=source, target=target, watermark=mark)
        staged = storage.stage(derived.path, digests=derived.digests)
        try:
            key = derived_key(recording.sha256, f"party-copy-{copy.pk}{target.suffix}")
            if not storage.exists(key):
                storage.commit(staged, key)
        finally:
            staged.discard()
    with transaction.atomic():
        copy = _locked(copy_id, CopyStatus.APPROVED)
        copy.status, copy.made_by, copy.made_at = CopyStatus.MADE, actor, made_at
        copy.copy_key, copy.copy_sha256, copy.copy_sm3 = key, derived.sha256, derived.sm3
        copy.copy_size, copy.copy_description = derived.digests.size, derived.description
        copy.save()
        record(actor=actor, action=events.event_copy_made, target=copy,
               detail={"sha256": derived.sha256, "sm3": derived.sm3,
                       "size": derived.digests.size, "source_sha256": recording.sha256})
    return copy


def hand_over_party_copy(*, actor, copy_id) -> PartyCopy:
    """Record that the made copy was handed to the recipient (when, by whom)."""
    copy = PartyCopy.objects.select_related("recording").filter(pk=copy_id).first()
    if copy is None or not _in_scope(actor, copy.recording):
        record_denied(actor=actor, action=events.event_copy_handed_over,
                      target=("disclosure.partycopy", str(copy_id)), reason="无权交付该副本")
        raise NotFound()
    with transaction.atomic():
        copy = _locked(copy_id, CopyStatus.MADE)
        copy.status, copy.handed_over_at = CopyStatus.HANDED_OVER, timezone.now()
        copy.save(update_fields=["status", "handed_over_at"])
        record(actor=actor, action=events.event_copy_handed_over, target=copy,
               detail={"sha256": copy.copy_sha256})
    return copy
