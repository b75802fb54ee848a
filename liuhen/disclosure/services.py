"""Party copies (当事人复制, 第十七条第二款): register, approve or refuse, make, hand over.

A party (or their representative, identity checked) may get a copy of a recording or of a
case document (文书: a PDF or a scanned page) with the approval of the leader in charge
(主管负责人). The copy is a derived file — the recipient, the time and the register number burnt
into every frame, onto the photo or over every PDF page (liuhen.redaction) — stored beside the
original with its own digests; the original is never touched. Each
transition is one function that checks it is allowed and writes its audit entry.
"""

from __future__ import annotations

import re
import tempfile
import uuid
from dataclasses import asdict
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from liuhen.access.choices import UseAction
from liuhen.access.querysets import unit_allowed
from liuhen.access.services import get_for
from liuhen.access.use import Use, check_use
from liuhen.audit.services import record, record_denied
from liuhen.cases.validators import mask_number
from liuhen.core.errors import Conflict, InvalidInput, NotFound
from liuhen.disclosure import copies, events, marks
from liuhen.disclosure.choices import Confidentiality, CopyStatus, IdentityCheck
from liuhen.disclosure.decisions import PARTY_COPY, decide, is_approver
from liuhen.disclosure.models import PartyCopy
from liuhen.evidence.choices import RecordingKind
from liuhen.evidence.models import Recording
from liuhen.evidence.storage import derived_key, get_storage
from liuhen.records.models import Document
from liuhen.redaction import (
    ManualBox,
    MediaError,
    MuteRange,
    PlanError,
    RedactionPlan,
    Suppression,
    detect_faces,
    detect_image_faces,
    redact_image,
    redact_video,
    watermark_lines,
)
from liuhen.redaction import (
    preview_redaction as redaction_preview,
)

PARTY_PURPOSE = "当事人复制（第十七条第二款）"


def _in_scope(user, record) -> bool:
    if isinstance(record, Document):
        return Document.objects.restrict(user, "document.view").filter(pk=record.pk).exists()
    return Recording.objects.restrict(user, "recording.view").filter(pk=record.pk).exists()


def record_unit(record):
    """The unit that owns a recording, or a document's case's unit."""
    return record.case.unit if isinstance(record, Document) else record.unit


def record_mark(record) -> str:
    """The confidentiality mark that governs a copy of ``record`` (a document follows its
    case's, 第十七条第四款)."""
    return marks.effective_mark(record.case if isinstance(record, Document) else record)


def _registrar_side(user, record) -> bool:
    """Who registers a party's request and then makes, hands over and downloads the copy: one
    who sees the record and holds ``disclosure.register`` for its unit (第十七条第二款; the
    leader in charge decides, decisions.decide, and is not on this side)."""
    return _in_scope(user, record) and unit_allowed(user, "disclosure.register",
                                                    record_unit(record))


def get_copy(user, copy_id, *, event: str = events.event_copies_viewed,
             queryset=None) -> PartyCopy:
    """The party copy ``copy_id`` if ``user`` may see it (``disclosure.view``); else NotFound,
    the refusal audited under ``event`` (pages and the API ask here)."""
    return get_for(user, "disclosure.view",
                   queryset if queryset is not None
                   else PartyCopy.objects.select_related("recording"),
                   copy_id, denied_event=event)


def register_party_copy(*, actor, recording: Recording | None = None,
                        document: Document | None = None, recipient_name: str,
                        recipient_number: str = "", identity_check: str, reason: str,
                        party=None) -> PartyCopy:
    """Register a party's request (who, identity checked how, which recording or document,
    why)."""
    if (recording is None) == (document is None):
        raise InvalidInput("请选择一件音像记录或一件文字记录", detail={"field": "recording"})
    record_ = recording or document
    if not _registrar_side(actor, record_):
        record_denied(actor=actor, action=events.event_copy_registered, target=record_,
                      reason="无权登记该记录的复制申请")
        raise NotFound()
    recipient_name = (recipient_name or "").strip()
    reason = (reason or "").strip()
    if not recipient_name:
        raise InvalidInput("请填写申请人姓名或名称", detail={"field": "recipient_name"})
    if identity_check not in IdentityCheck.values:
        raise InvalidInput("请选择身份核验方式", detail={"field": "identity_check"})
    if not reason:
        raise InvalidInput("请填写申请理由", detail={"field": "reason"})
    if record_.disposed_at is not None:
        raise Conflict("该记录的原件已依法销毁，不能复制")
    if document is not None:
        copies.source_of(document)  # a PDF or a scan: what can carry the watermark
    if record_mark(record_) == Confidentiality.STATE_SECRET:
        record_denied(actor=actor, action=events.event_copy_registered, target=record_,
                      reason=marks.STATE_SECRET_NOTICE)
        raise Conflict(marks.STATE_SECRET_NOTICE)
    with transaction.atomic():
        copy = PartyCopy.objects.create(
            number=f"tmp-{uuid.uuid4().hex[:20]}", recording=recording, document=document,
            unit=record_unit(record_), party=party,
            recipient_name=recipient_name[:100],
            recipient_number=mask_number(recipient_number.strip())[:40] if recipient_number
            else "", identity_check=identity_check, reason=reason[:2000], registered_by=actor)
        copy.number = f"复制〔{timezone.localdate().year}〕{copy.pk}号"
        copy.save(update_fields=["number"])
        record(actor=actor, action=events.event_copy_registered, target=copy,
               detail={"recording" if recording else "document": record_.pk,
                       "identity_check": identity_check})
    return copy


def _locked(copy_id, status: str) -> PartyCopy:
    copy = PartyCopy.objects.select_for_update().get(pk=copy_id)
    if copy.status != status:
        raise Conflict(f"该登记{copy.get_status_display()}，不能执行此操作")
    return copy


def approve_party_copy(*, approver, copy_id, note: str = "") -> PartyCopy:
    """The leader in charge approves (第十七条第二款; decisions.decide holds the rule)."""
    return decide(kind=PARTY_COPY, approver=approver, pk=copy_id, approve=True, note=note)


def refuse_party_copy(*, approver, copy_id, reason: str) -> PartyCopy:
    """The leader in charge refuses, with the reason (decisions.decide)."""
    return decide(kind=PARTY_COPY, approver=approver, pk=copy_id, approve=False, note=reason)


def make_party_copy(*, actor, copy_id) -> PartyCopy:
    """Make the approved copy: the watermarked derived file, stored with its digests."""
    copy = PartyCopy.objects.select_related("recording", "document__case__unit").filter(
        pk=copy_id).first()
    if copy is None or not _registrar_side(actor, copy.record):
        record_denied(actor=actor, action=events.event_copy_made,
                      target=("disclosure.partycopy", str(copy_id)), reason="无权制作该副本")
        raise NotFound()
    if copy.status != CopyStatus.APPROVED:
        raise Conflict("只有经批准的登记才能制作副本（第十七条第二款）")
    refusal = mark_refusal(copy)
    if refusal:
        record_denied(actor=actor, action=events.event_copy_made, target=copy, reason=refusal)
        raise Conflict(refusal)
    made_at = timezone.now()
    mark = watermark_lines(viewer_name=copy.recipient_name,
                           viewer_number=copy.recipient_number or "—", at=made_at,
                           grant_number=copy.number, purpose=PARTY_PURPOSE)
    storage = get_storage()
    with tempfile.TemporaryDirectory(prefix="liuhen-party-copy-") as folder:
        if copy.document_id:
            # A document: its PDF pages (or the scan) marked as an internal copy is.
            derived = copies.derive(copies.source_of(copy.document), Path(folder), "copy", mark)
        else:
            derived = _derive_recording(copy, Path(folder), mark)
        staged = storage.stage(derived.path, digests=derived.digests)
        try:
            key = derived_key(copy.record.sha256, f"party-copy-{copy.pk}{derived.path.suffix}")
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
                       "size": derived.digests.size, "source_sha256": copy.record.sha256,
                       "redacted": has_redaction(copy.redaction_plan)})
    return copy


def _derive_recording(copy: PartyCopy, folder: Path, mark):
    """The recording's copy: the plan's boxes blurred and ranges muted, the mark burnt in."""
    recording = copy.recording
    source = folder / f"original{Path(recording.original_name).suffix or '.bin'}"
    with get_storage().open(recording.storage_key,
                            recording.storage_version) as reader, open(source, "wb") as out:
        for chunk in iter(lambda: reader.read(1 << 20), b""):
            out.write(chunk)
    photo = recording.kind == RecordingKind.PHOTO
    plan = build_plan(copy.redaction_plan, source, photo=photo)
    if photo:
        return redact_image(source=source, target=folder / f"copy{source.suffix}", plan=plan,
                            watermark=mark)
    return redact_video(source=source, target=folder / "copy.mp4", plan=plan, watermark=mark)


def hand_over_party_copy(*, actor, copy_id) -> PartyCopy:
    """Record that the made copy was handed to the recipient (when, by whom)."""
    copy = PartyCopy.objects.select_related("recording", "document__case__unit").filter(
        pk=copy_id).first()
    if copy is None or not _registrar_side(actor, copy.record):
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


def visible_copies(user):
    """Party copies in the user's scope (``disclosure.view``)."""
    return PartyCopy.objects.restrict(user, "disclosure.view")


# --- redaction plan (第十七条第四款) -----------------------------------------------------------
#
# The plan an officer writes for a copy, one item per line, kept as JSON with the request:
#   自动人脸                         blur every face the detector finds
#   不遮挡 F2 [起 止] [理由]            take automatic track F2 off (the preview names the tracks),
#                                    wholly or from start to end: a false detection
#   不遮挡区域 起 止 x y 宽 高 [理由]     take off every automatic box centred in the region from
#                                    start to end (a poster on the wall, whatever its track id)
#   遮挡 起 止 x y 宽 高 [说明]         a box (pixels of the upright picture) from start to end
#   静音 起 止 [理由]                  silence the audio from start to end (seconds)
# The original is never touched: the plan is applied to the derived copy only.
PLAN_SYNTAX = ("应为“自动人脸”“不遮挡 F编号 [起 止] 理由”“不遮挡区域 起 止 x y 宽 高 理由”"
               "“遮挡 起 止 x y 宽 高 说明”或“静音 起 止 理由”")


def _seconds(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _suppression(parts: list[str]) -> dict:
    """One 不遮挡 / 不遮挡区域 line as the stored suppression (第十七条第四款: an automatic box
    removed by hand is as much part of what the approver approves as one added)."""
    if parts[0] == "不遮挡区域":
        if len(parts) < 7:
            raise PlanError(PLAN_SYNTAX)
        found = Suppression("", parts[1], parts[2], " ".join(parts[7:])[:200], *parts[3:7])
    else:
        if len(parts) < 2:
            raise PlanError(PLAN_SYNTAX)
        if not re.fullmatch(r"F[1-9][0-9]{0,5}", parts[1]):
            raise PlanError(f"检测框编号应为预览中标出的 F1、F2 等，不是“{parts[1][:20]}”")
        timed = len(parts) >= 4 and _seconds(parts[2]) and _seconds(parts[3])
        rest = parts[4:] if timed else parts[2:]
        found = Suppression(parts[1], parts[2] if timed else None, parts[3] if timed else None,
                            " ".join(rest)[:200])
    return {k: v for k, v in asdict(found).items() if v is not None and v != ""} | {
        "reason": found.reason}


def parse_plan(text: str) -> dict:
    """The plan's lines as data, or InvalidInput naming the line that is wrong."""
    plan = {"auto_faces": False, "manual": [], "mutes": [], "suppressions": [],
            "text": (text or "").strip()[:4000]}
    tracks_at = 0  # the first line that names a track, which needs 自动人脸
    for n, raw in enumerate(plan["text"].splitlines(), 1):
        parts = raw.split()
        if not parts:
            continue
        try:
            if parts[0] == "自动人脸":
                plan["auto_faces"] = True
            elif parts[0] in ("不遮挡", "不遮挡区域"):
                plan["suppressions"].append(_suppression(parts))
                if parts[0] == "不遮挡":
                    tracks_at = tracks_at or n
            elif parts[0] == "遮挡" and len(parts) >= 7:
                box = ManualBox(f"M{len(plan['manual']) + 1}", parts[1], parts[2], parts[3],
                                parts[4], parts[5], parts[6], " ".join(parts[7:])[:200])
                plan["manual"].append({"id": box.id, "start": box.start, "end": box.end,
                                       "x": box.x, "y": box.y, "w": box.w, "h": box.h,
                                       "note": box.note})
            elif parts[0] == "静音" and len(parts) >= 3:
                mute = MuteRange(parts[1], parts[2], " ".join(parts[3:])[:200])
                plan["mutes"].append({"start": mute.start, "end": mute.end,
                                      "reason": mute.reason})
            else:
                raise PlanError(PLAN_SYNTAX)
        except (PlanError, ValueError) as exc:
            raise InvalidInput(f"遮挡方案第 {n} 行有误：{exc}", detail={"field": "plan"}) \
                from None
    if tracks_at and not plan["auto_faces"]:
        raise InvalidInput(f"遮挡方案第 {tracks_at} 行有误：不遮挡某个自动检测框，须同时有“自动人脸”",
                           detail={"field": "plan"})
    return plan


def has_redaction(plan: dict) -> bool:
    return bool(plan and (plan.get("auto_faces") or plan.get("manual") or plan.get("mutes")))


def build_plan(plan: dict, source: Path, *, photo: bool) -> RedactionPlan:
    """The stored plan as a ``RedactionPlan`` for ``source`` (faces detected now: the
    detector is deterministic, so the track ids are those the preview showed). A suppression
    naming a track this detection does not find is a Conflict, never a copy made without it."""
    plan = plan or {}
    faces = None
    if plan.get("auto_faces"):
        faces = detect_image_faces(source) if photo else detect_faces(source)
    try:
        return RedactionPlan(
            faces=faces,
            manual=[ManualBox(**box) for box in plan.get("manual", [])],
            suppressions=[Suppression(**item) for item in plan.get("suppressions", [])],
            mutes=[MuteRange(**mute) for mute in plan.get("mutes", [])])
    except PlanError as exc:
        raise Conflict(f"遮挡方案与本次检测结果不符：{exc}；请按预览核对后重新制定") from None


def mark_refusal(copy: PartyCopy) -> str | None:
    """Why a confidentiality mark refuses this copy now (第十七条第四款), or None."""
    level = record_mark(copy.record)
    if level == Confidentiality.STATE_SECRET:
        return marks.STATE_SECRET_NOTICE
    if level != Confidentiality.NONE and copy.document_id:
        # Nothing here hides part of a written record's text; such a document is handled
        # under the secrecy rules by hand, not copied through the system.
        return (f"该文书所属案件标记为{marks.label(level)}，系统不能遮挡文书内容，"
                "请按有关规定处理后另行提供（第十七条第四款）")
    if level != Confidentiality.NONE and not has_redaction(copy.redaction_plan):
        return (f"该记录标记为{marks.label(level)}，须先制定遮挡方案（人脸、区域或静音），"
                "否则不予复制（第十七条第四款）")
    return None


def set_redaction_plan(*, actor, copy_id, text: str) -> PartyCopy:
    """Set the plan before the copy is made; the approver sees it and its preview."""
    copy = PartyCopy.objects.select_related("recording", "document__case__unit").filter(
        pk=copy_id).first()
    if copy is None or not _registrar_side(actor, copy.record):
        record_denied(actor=actor, action=events.event_copy_plan_set,
                      target=("disclosure.partycopy", str(copy_id)), reason="无权制定遮挡方案")
        raise NotFound()
    if copy.document_id:
        raise Conflict("遮挡方案只适用于音像记录；文书的复制件只加盖水印")
    plan = parse_plan(text)
    with transaction.atomic():
        copy = PartyCopy.objects.select_for_update().get(pk=copy_id)
        if copy.status not in (CopyStatus.REGISTERED, CopyStatus.APPROVED):
            raise Conflict("副本已制作或不予批准，不能再修改遮挡方案")
        if copy.status == CopyStatus.APPROVED and plan != copy.redaction_plan:
            # What the leader approved must be what is made: a changed plan goes back to them.
            copy.status, copy.decided_by, copy.decided_at = CopyStatus.REGISTERED, None, None
        copy.redaction_plan = plan
        copy.save(update_fields=["redaction_plan", "status", "decided_by", "decided_at"])
        record(actor=actor, action=events.event_copy_plan_set, target=copy,
               detail={"auto_faces": plan["auto_faces"], "boxes": len(plan["manual"]),
                       "mutes": len(plan["mutes"]), "suppressions": plan["suppressions"]})
    return copy


SUPPRESSION_LINES = ("不遮挡", "不遮挡区域")


def suppress_track(*, actor, copy_id, track: str, reason: str) -> PartyCopy:
    """Take one automatic box off by hand (the page's 不遮挡 button beside a detection): the
    plan gains the line "不遮挡 F… 理由", saved, audited and sent back for approval as any change
    of the plan is (set_redaction_plan)."""
    copy = visible_copies(actor).filter(pk=copy_id).first()
    reason = " ".join((reason or "").split())[:200]
    if not reason:
        raise InvalidInput("请填写取消的理由（如：墙上的海报，非人脸）", detail={"field": "reason"})
    text = (copy.redaction_plan or {}).get("text", "") if copy is not None else ""
    return set_redaction_plan(actor=actor, copy_id=copy_id,
                              text=f"{text}\n不遮挡 {track} {reason}".strip())


def unsuppress(*, actor, copy_id, index: int) -> PartyCopy:
    """Undo the ``index``-th removal (0 first): its line leaves the plan, the box is blurred
    again; saved and audited through set_redaction_plan."""
    copy = visible_copies(actor).filter(pk=copy_id).first()
    lines = ((copy.redaction_plan or {}).get("text", "") if copy is not None else "").splitlines()
    at = [n for n, line in enumerate(lines) if line.split()[:1] and
          line.split()[0] in SUPPRESSION_LINES]
    if not 0 <= index < len(at):
        raise InvalidInput("没有这一项取消", detail={"field": "index"})
    del lines[at[index]]
    return set_redaction_plan(actor=actor, copy_id=copy_id, text="\n".join(lines))


def detected_tracks(*, actor, copy_id) -> list[dict]:
    """The automatic boxes of the plan (its 自动人脸 run on the original now), each with its id,
    time range, first box and whether it is taken off: what the page lists for removal."""
    copy = visible_copies(actor).select_related("recording").filter(pk=copy_id).first()
    if copy is None:
        raise NotFound()
    if copy.recording is None or not (copy.redaction_plan or {}).get("auto_faces"):
        return []  # a document's copy has no plan; no 自动人脸, no automatic boxes
    recording = copy.recording
    with tempfile.TemporaryDirectory(prefix="liuhen-detect-") as folder:
        source = _fetch(recording, Path(folder))
        plan = build_plan(copy.redaction_plan, source,
                          photo=recording.kind == RecordingKind.PHOTO)
    rows = []
    for track in plan.faces.tracks:
        hidden = [s for s in plan.suppressions if s.track == track.id or (
            s.is_region and any(s.hides(track.id, box, t) for t, box in track.samples))]
        rows.append({"id": track.id, "start": round(track.start, 2), "end": round(track.end, 2),
                     "box": "{},{} 大小 {}×{}".format(*track.samples[0][1]),
                     "suppressed": bool(hidden)})
    return rows


def preview_redaction(*, actor, copy_id, at, request=None) -> bytes:
    """One still of the original at ``at`` seconds with the plan's boxes drawn (internal, for
    the approver; never handed over). A still of the original is record content: it needs a
    right to view it (:func:`_preview_right`) and every preview is audited against the
    recording, with the copy's number and the moment shown (第十六条, 第二十六条第三项)."""
    copy = visible_copies(actor).select_related("recording").filter(pk=copy_id).first()
    if copy is None:
        raise NotFound()
    try:
        seconds = max(0.0, min(float(at), 86400.0))
    except (TypeError, ValueError):
        raise InvalidInput("时间应为秒数", detail={"field": "t"}) from None
    recording = copy.recording
    if recording is None:
        raise Conflict("文书的复制件没有遮挡预览")
    right = _preview_right(actor, copy)
    record(actor=actor, action=events.event_copy_previewed, target=recording, request=request,
           detail={**right, "copy": copy.number, "preview_at": round(seconds, 2)})
    photo = recording.kind == RecordingKind.PHOTO
    with tempfile.TemporaryDirectory(prefix="liuhen-preview-") as folder:
        source = _fetch(recording, Path(folder))
        try:
            preview = redaction_preview(source=source, target_dir=Path(folder) / "out",
                                        plan=build_plan(copy.redaction_plan, source, photo=photo),
                                        times=None if photo else [seconds], count=1)
        except MediaError as exc:  # an original the decoder cannot read: say so, not a 500
            raise Conflict("原件无法解码，不能生成预览；请检查原件（固定值校验）") from exc
        if not preview.stills:
            raise Conflict("该记录没有可预览的画面")
        return preview.stills[0].read_bytes()


# Who handles a party's request may see what its plan hides while it waits (第十七条第二款、
# 第四款): the officer who registered it writes the plan, the leader in charge decides it.
_PREVIEW_WHILE = frozenset({CopyStatus.REGISTERED, CopyStatus.APPROVED})


def _preview_right(actor, copy: PartyCopy) -> dict:
    """The right a preview relies on, for its audit entry: handling the request (its registrar,
    or an approver, while it is registered or approved and not yet made), else the right to
    view the recording (a by-right row or a grant, 第十六条; refused and audited without)."""
    if copy.status in _PREVIEW_WHILE and (copy.registered_by_id == actor.pk
                                          or is_approver(actor)):
        return Use(UseAction.VIEW, "party_copy", "第十七条第二款、第四款").detail
    return check_use(actor, copy.recording, UseAction.VIEW,
                     event=events.event_copy_previewed).detail


def _fetch(recording: Recording, folder: Path) -> Path:
    source = folder / f"original{Path(recording.original_name).suffix or '.bin'}"
    with get_storage().open(recording.storage_key) as reader, open(source, "wb") as out:
        for chunk in iter(lambda: reader.read(1 << 20), b""):
            out.write(chunk)
    return source


def copy_for_download(*, actor, copy_id, request=None) -> str:
    """The storage key of the made copy, audited as downloaded; never the original."""
    copy = visible_copies(actor).filter(pk=copy_id).first()
    if copy is None or not copy.copy_key \
            or not unit_allowed(actor, "disclosure.register", copy.unit):
        record_denied(actor=actor, action=events.event_copy_downloaded,
                      target=("disclosure.partycopy", str(copy_id)), reason="无权下载该复制件")
        raise NotFound()
    record(actor=actor, action=events.event_copy_downloaded, target=copy, request=request,
           detail={"sha256": copy.copy_sha256})
    return copy.copy_key
