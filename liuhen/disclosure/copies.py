"""Internal copies under a grant (复制, 第十六条): a watermarked derived file, never the original.

第十六条: records are copied only with the unit head's approval, so a copy always rests on a
grant (``access.use.check_use`` with ``copy``; no by-right row allows it). What the holder gets
is a new file with their name and credential number, the time and the grant number burnt into
every video frame (PyAV), onto the photo (Pillow) or over every PDF page (``watermark_pdf``),
in the CJK font the bureau's PDFs use (liuhen.redaction). The copy is stored beside the original
with its own SHA-256 and SM3 and registered (``UseCopy``) with the original's digests and the
grant; the original is only read. Video or audio longer than a few seconds is derived by a job
(the page says 正在生成 until it is made); short clips, photos and PDFs within the request.

The same derivation serves exports (``disclosure.exports``): each exported file is one of these
copies.
"""

from __future__ import annotations

import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from liuhen.access.choices import UseAction
from liuhen.access.services import get_for
from liuhen.access.use import check_use, limit_for, target_of
from liuhen.audit.services import record, record_denied
from liuhen.core.errors import Conflict, Forbidden, InvalidInput, LiuhenError, NotFound
from liuhen.disclosure import events
from liuhen.disclosure.choices import MadeStatus
from liuhen.disclosure.models import UseCopy
from liuhen.evidence.choices import RecordingKind
from liuhen.evidence.models import Recording
from liuhen.evidence.storage import derived_key, get_storage
from liuhen.records.models import Document
from liuhen.redaction import (
    DerivedFile,
    MediaError,
    Watermark,
    watermark_image,
    watermark_lines,
    watermark_pdf,
    watermark_video,
)

# What is made in the request, the rest by a job. Burning the mark into video is a re-encode:
# measured 2026-12-05 at load 6-9 on the shared 2-core machine, 4 s of 1080p took 3.8 s of CPU
# (9.4 s wall) and 4 s of 720p 1.7 s, while a 12 MP photo took 0.5 s and a 20-page PDF 0.9 s.
# So video and audio longer than a few seconds (or of unknown length) go to a job; photos and
# PDFs up to the byte limit stay inline.
INLINE_MAX_MEDIA_SECONDS = 5
INLINE_MAX_BYTES = 16 << 20

PHOTO_TYPES = {"image/jpeg": ".jpg", "image/png": ".png"}
COPY_PURPOSE = "内部复制（第十六条）"


@dataclass(frozen=True)
class Source:
    """What a copy is made from: the record, where its stored bytes are, their digests, and
    how it is marked (``video`` for video and audio, ``photo``, ``pdf``)."""

    obj: object
    key: str
    version: str
    name: str
    sha256: str
    sm3: str
    size: int
    way: str
    suffix: str
    seconds: float = 0.0  # of video or audio to re-encode (inf: not known)


def source_of(obj) -> Source:
    """The source of a copy of ``obj`` (a recording or a document), or Conflict when it cannot
    carry a watermark or its file is gone (第十四条: disposed of)."""
    if obj.disposed_at is not None:
        raise Conflict("该记录的原件已依法销毁（第十四条），不能复制或导出")
    if isinstance(obj, Recording):
        if obj.kind == RecordingKind.PHOTO:
            suffix = PHOTO_TYPES.get(obj.media_type, Path(obj.original_name).suffix.lower())
            way = "photo"
        else:
            way, suffix = "video", ".mp4"
        seconds = 0.0 if way == "photo" else (
            float(obj.duration_seconds) if obj.duration_seconds is not None else float("inf"))
        return Source(obj, obj.storage_key, obj.storage_version, obj.original_name, obj.sha256,
                      obj.sm3, obj.size or 0, way, suffix, seconds)
    if not obj.storage_key:
        raise Conflict("该文字记录没有附件，无可复制的文件")
    name = obj.original_name or f"document-{obj.pk}"
    if obj.media_type == "application/pdf" or name.lower().endswith(".pdf"):
        way, suffix = "pdf", ".pdf"
    elif obj.media_type in PHOTO_TYPES:
        way, suffix = "photo", PHOTO_TYPES[obj.media_type]
    else:
        raise Conflict("只有 PDF 或图片格式的文字记录能加盖水印后复制；该文件格式不能加水印，"
                       "请联系专门人员转为 PDF 后再申请")
    return Source(obj, obj.storage_key, "", name, obj.sha256, obj.sm3, obj.size or 0, way,
                  suffix)


def made_inline(sources) -> bool:
    """Whether copies of ``sources`` are quick enough to make within the request."""
    return (sum(s.size for s in sources) <= INLINE_MAX_BYTES
            and sum(s.seconds for s in sources) <= INLINE_MAX_MEDIA_SECONDS)


def holder_watermark(user, grant_number: str, *, at, purpose: str) -> Watermark:
    """Who holds the copy (name and credential number), when, under which grant (第十六条)."""
    officer = getattr(user, "officer", None)
    name = (officer.name if officer else "") or user.get_username()
    number = (officer.credential_number if officer else "") or user.get_username()
    return watermark_lines(viewer_name=name, viewer_number=number, at=timezone.localtime(at),
                           grant_number=grant_number, purpose=purpose)


def derive(source: Source, folder: Path, stem: str, watermark: Watermark) -> DerivedFile:
    """Fetch the original into ``folder`` and write the watermarked copy beside it. The bytes
    read must be the recorded ones (their SHA-256), or nothing is made."""
    original = folder / f"{stem}-original{Path(source.name).suffix or '.bin'}"
    with get_storage().open(source.key, source.version) as reader, open(original, "wb") as out:
        for chunk in iter(lambda: reader.read(1 << 20), b""):
            out.write(chunk)
    target = folder / f"{stem}{source.suffix}"
    if source.way == "pdf":
        derived = watermark_pdf(source=original, target=target, watermark=watermark)
    elif source.way == "photo":
        derived = watermark_image(source=original, target=target, watermark=watermark)
    else:
        derived = watermark_video(source=original, target=target, watermark=watermark)
    if source.sha256 and derived.description["source"]["sha256"] != source.sha256:
        raise Conflict("原件的 SHA-256 与入库时记录的不一致，已停止复制；请专门人员核验固定值")
    original.unlink()
    return derived


MODELS = {"evidence.recording": (Recording, "recording.view"),
          "records.document": (Document, "document.view")}


def find_record(user, target_type: str, target_id, *, event: str):
    """The recording or document ``user`` may see, or NotFound (the refusal audited)."""
    if target_type not in MODELS:
        raise InvalidInput("只能复制音像记录或文字记录", detail={"field": "target_type"})
    model, action = MODELS[target_type]
    return get_for(user, action, model.objects.all(), target_id, denied_event=event)


def request_copy(*, actor, target_type: str, target_id) -> UseCopy:
    """Ask for a watermarked copy of one record under the actor's copy grant (第十六条).

    Refused and audited (naming the actor and the record) without a copy grant in force —
    never granted, expired, revoked — or where a 国家秘密 mark forbids copies (第十七条第四款).
    The copy is made now, or by a job for a large video or audio file."""
    obj = find_record(actor, target_type, target_id, event=events.event_record_copied)
    if isinstance(obj, Recording) and not Recording.objects.restrict(
            actor, "recording.download").filter(pk=obj.pk).exists():
        record_denied(actor=actor, action=events.event_record_copied, target=obj,
                      reason="角色无下载权限", detail={"use": UseAction.COPY})
        raise Forbidden("您的角色不能复制音像记录")
    use = check_use(actor, obj, UseAction.COPY, event=events.event_record_copied)
    source = source_of(obj)
    now = timezone.now()
    mark = holder_watermark(actor, use.grant.number, at=now, purpose=COPY_PURPOSE)
    with transaction.atomic():
        copy = UseCopy.objects.create(
            number=f"tmp-{uuid.uuid4().hex[:20]}", user=actor, grant=use.grant,
            recording=obj if isinstance(obj, Recording) else None,
            document=obj if isinstance(obj, Document) else None, requested_at=now,
            watermark=mark.text[:300], source_sha256=source.sha256,
            source_sm3=source.sm3)
        copy.number = f"复制件〔{timezone.localdate().year}〕{copy.pk}号"
        copy.save(update_fields=["number"])
    if not made_inline([source]):
        make_copy_job.enqueue(copy.pk)
        return copy
    return make_copy(copy.pk)


def record_failure(row, *, action: str, target, reason: str, detail: dict) -> None:
    """A copy or export that could not be made: the row says why, the audit log too."""
    row.status, row.failure = MadeStatus.FAILED, reason[:2000]
    row.save(update_fields=["status", "failure"])
    record(actor=row.user, action=action, target=target, outcome="failed",
           reason=reason[:500], detail=detail)


def grant_state(grant) -> str | None:
    """Why ``grant`` carries no use now (revoked, expired: 第十六条), or None. Checked again
    when a job makes the copy and when it is downloaded, not only when it was asked for."""
    if grant.revoked_at is not None:
        return f"授权 {grant.number} 已撤销（第十六条）"
    if not grant.is_active_at(timezone.now()):
        return f"授权 {grant.number} 不在有效期内（第十六条）"
    return None


def grant_refusal(user, grant, target, action: str = UseAction.COPY) -> str | None:
    """Why ``grant`` no longer carries ``action`` on ``target`` now (revoked, expired, or a
    confidentiality mark set since, 第十七条第四款), or None."""
    return grant_state(grant) or limit_for(user, target_of(target), action)


def make_copy(copy_id) -> UseCopy:
    """Derive the copy asked for (inline or as the job), store it, register its digests."""
    copy = UseCopy.objects.select_related("grant", "recording", "document", "user").get(
        pk=copy_id)
    if copy.status != MadeStatus.PENDING:
        return copy
    obj = copy.record
    detail = {"copy": copy.number, "grant": copy.grant.number, "use": UseAction.COPY}
    refusal = grant_refusal(copy.user, copy.grant, obj)
    if refusal:
        record_failure(copy, action=events.event_record_copied, target=obj, reason=refusal,
                       detail=detail)
        return copy
    mark = Watermark.from_text(copy.watermark)
    storage = get_storage()
    try:
        source = source_of(obj)
        with tempfile.TemporaryDirectory(prefix="liuhen-use-copy-") as folder:
            derived = derive(source, Path(folder), f"copy-{copy.pk}", mark)
            key = derived_key(source.sha256, f"use-copy-{copy.pk}{source.suffix}")
            staged = storage.stage(derived.path, digests=derived.digests)
            try:
                if not storage.exists(key):
                    storage.commit(staged, key)
            finally:
                staged.discard()
    except (LiuhenError, MediaError, OSError, ValueError) as exc:
        record_failure(copy, action=events.event_record_copied, target=obj,
              reason=f"复制件未生成：{getattr(exc, 'message', exc)}", detail=detail)
        return copy
    with transaction.atomic():
        copy = UseCopy.objects.select_for_update().get(pk=copy_id)
        copy.status, copy.made_at = MadeStatus.MADE, timezone.now()
        copy.copy_key, copy.copy_sha256, copy.copy_sm3 = key, derived.sha256, derived.sm3
        copy.copy_size, copy.copy_description = derived.digests.size, derived.description
        copy.save()
        record(actor=copy.user, action=events.event_record_copied, target=obj,
               detail={**detail, "sha256": derived.sha256, "sm3": derived.sm3,
                       "size": derived.digests.size, "source_sha256": copy.source_sha256})
    return copy


@task()
def make_copy_job(copy_id: int) -> str:
    """Job: derive one large copy (the page shows 正在生成 until then)."""
    return make_copy(copy_id).status


def own_copy(user, copy_id, *, event: str = events.event_copy_file_downloaded) -> UseCopy:
    """A copy the user asked for, or NotFound (audited): a copy is its holder's alone."""
    copy = (UseCopy.objects.select_related("grant", "recording", "document")
            .filter(pk=copy_id, user=user).first()) if str(copy_id).isdigit() else None
    if copy is None:
        record_denied(actor=user, action=event, target=("disclosure.usecopy", str(copy_id)[:64]),
                      reason="复制件不存在或不属于本人")
        raise NotFound("复制件不存在")
    return copy


def copy_for_download(*, actor, copy_id, request=None) -> UseCopy:
    """The made copy for its holder while a copy grant is still in force (refused after expiry
    or revocation, audited), audited with the grant number; never the original."""
    copy = own_copy(actor, copy_id)
    if copy.status != MadeStatus.MADE:
        raise Conflict("复制件正在生成，请稍后再下载" if copy.status == MadeStatus.PENDING
                       else f"复制件未生成：{copy.failure}")
    use = check_use(actor, copy.record, UseAction.COPY,
                    event=events.event_copy_file_downloaded)
    record(actor=actor, action=events.event_copy_file_downloaded, target=copy.record,
           request=request, detail={**use.detail, "copy": copy.number,
                                    "sha256": copy.copy_sha256})
    return copy


def copies_of(user):
    return UseCopy.objects.filter(user=user).select_related("grant", "recording", "document")
