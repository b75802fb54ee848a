"""Exports under a grant (拷贝/导出, 第十六条): the granted records as one signed package.

第十六条: 执法案卷、声像资料 may be copied out (拷贝) only with the unit head's approval; the grant
says 拷贝/导出. Its holder chooses what to take — the whole case, or chosen recordings and
documents of it, or the one record the grant names — and gets a package built by the one shared
builder (``liuhen.packaging.PackageBuilder``, the same as supplies and archive packages): a
signed manifest (Ed25519 and SM2) and the offline verifier inside, every file a watermarked
derived copy (``disclosure.copies.derive``: holder, number, time, grant), never the original.

Refused, and audited naming the actor and the record, without an export grant, after it
expired or was revoked, or where a 国家秘密 mark forbids any export (第十七条第四款). What left
is registered (``Export``: each file with its original's and its own digests, the manifest's
and the ZIP's digests, the key fingerprints) and the package is kept read-only under
``settings.EXPORT_DIR`` exactly as handed out.
"""

from __future__ import annotations

import os
import stat
import tempfile
import uuid
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from liuhen.access.choices import UseAction
from liuhen.access.models import Grant
from liuhen.access.querysets import CASE_TYPE
from liuhen.access.use import check_use
from liuhen.audit.services import record, record_denied
from liuhen.cases.models import Case
from liuhen.core.errors import Conflict, Forbidden, InvalidInput, LiuhenError, NotFound
from liuhen.disclosure import events
from liuhen.disclosure.choices import MadeStatus
from liuhen.disclosure.copies import (
    derive,
    grant_refusal,
    grant_state,
    holder_watermark,
    made_inline,
    record_failure,
    source_of,
)
from liuhen.disclosure.models import Export
from liuhen.disclosure.supply import _case_records, _readonly, _zip
from liuhen.evidence.digests import digest_file
from liuhen.evidence.models import Recording
from liuhen.packaging import PackageBuilder, PackagingError
from liuhen.packaging.keys import bureau_keys
from liuhen.records.models import Document
from liuhen.redaction import MediaError, Watermark

EXPORT_PURPOSE = "拷贝/导出（第十六条）"


def own_grant(actor, grant_id) -> Grant:
    """The actor's own grant ``grant_id``, or NotFound (audited): a grant is its holder's."""
    grant = (Grant.objects.select_related("request", "request__unit")
             .filter(pk=grant_id, user=actor).first()) if str(grant_id).isdigit() else None
    if grant is None:
        record_denied(actor=actor, action=events.event_export_made,
                      target=("access.grant", str(grant_id)[:64]),
                      reason="授权不存在或不属于本人（第十六条）", detail={"use": UseAction.EXPORT})
        raise NotFound("授权不存在")
    return grant


def _ids(values) -> set[int]:
    try:
        return {int(v) for v in values or []}
    except (TypeError, ValueError):
        raise InvalidInput("记录编号无效", detail={"field": "records"}) from None


def granted_records(grant: Grant) -> tuple[Case | None, list[Document], list[Recording]]:
    """What an export under ``grant`` may take: a case grant its current documents and linked
    recordings (not disposed of), a record grant that record."""
    if grant.target_type == CASE_TYPE:
        case = Case.objects.select_related("unit").get(pk=int(grant.target_id))
        documents, recordings = _case_records(case)
        return case, documents, recordings
    if grant.target_type == "evidence.recording":
        return None, [], list(Recording.objects.filter(pk=int(grant.target_id),
                                                       disposed_at__isnull=True))
    if grant.target_type == "records.document":
        return None, list(Document.objects.filter(pk=int(grant.target_id)).exclude(
            storage_key="")), []
    return None, [], []


def choose(grant: Grant, recording_ids=None, document_ids=None):
    """The records of the grant that are asked for (all when none is named), and those left
    out because their format cannot carry a watermark (only when none was named)."""
    case, documents, recordings = granted_records(grant)
    want_docs, want_recs = _ids(document_ids), _ids(recording_ids)
    chosen = bool(want_docs or want_recs)
    if chosen:
        unknown = (want_docs - {d.pk for d in documents}) | (want_recs - {r.pk for r in recordings})
        if unknown:
            raise InvalidInput("所选记录不在该授权范围内或已销毁", detail={"field": "records"})
        documents = [d for d in documents if d.pk in want_docs]
        recordings = [r for r in recordings if r.pk in want_recs]
    skipped = []
    for doc in list(documents):
        try:
            source_of(doc)
        except Conflict:
            if chosen:
                raise InvalidInput(f"文字记录 {doc} 的文件格式不能加水印，请勿选择",
                                   detail={"field": "records"}) from None
            documents.remove(doc)
            skipped.append(f"{doc.get_doc_type_display()} {doc.original_name}".strip())
    if not documents and not recordings:
        raise InvalidInput("该授权范围内没有可导出的记录", detail={"field": "records"})
    return case, documents, recordings, skipped


def _refuse(actor, grant: Grant, reason: str) -> None:
    """Refuse an export under ``grant``, audited naming the actor and the granted record."""
    record_denied(actor=actor, action=events.event_record_exported,
                  target=(grant.target_type, grant.target_id, grant.request.target_label),
                  reason=reason[:500], detail={"use": UseAction.EXPORT, "grant": grant.number})
    raise Forbidden(reason, code="grant_required")


def request_export(*, actor, grant_id, recording_ids=None, document_ids=None) -> Export:
    """Ask for an export of the granted records (all, or those named) under ``grant_id``."""
    grant = own_grant(actor, grant_id)
    if UseAction.EXPORT not in grant.actions:
        _refuse(actor, grant, f"授权 {grant.number} 未批准拷贝/导出（第十六条），请另行申请")
    refusal = grant_state(grant)
    if refusal:
        _refuse(actor, grant, refusal)
    case, documents, recordings, skipped = choose(grant, recording_ids, document_ids)
    # Each record once more through the access layer: its own marks (国家秘密, 第十七条第四款)
    # and the grant's reach, refused and audited per record.
    for obj in [*documents, *recordings]:
        check_use(actor, obj, UseAction.EXPORT, event=events.event_record_exported)
    now = timezone.now()
    mark = holder_watermark(actor, grant.number, at=now, purpose=EXPORT_PURPOSE)
    with transaction.atomic():
        export = Export.objects.create(
            number=f"tmp-{uuid.uuid4().hex[:20]}", user=actor, grant=grant, case=case,
            requested_at=now, watermark=mark.text[:300],
            items=[{"skipped": s} for s in skipped])
        export.number = f"导出〔{timezone.localdate().year}〕{export.pk}号"
        export.save(update_fields=["number"])
        export.documents.set(documents)
        export.recordings.set(recordings)
    # Built in the request only when quick (copies.made_inline); else a job (正在生成).
    if not made_inline([source_of(obj) for obj in [*documents, *recordings]]):
        build_export_job.enqueue(export.pk)
        return export
    return build_export(export.pk)


def _entries(export: Export) -> list[tuple[str, object]]:
    """Package path and record of every file, documents first in their order, then recordings."""
    out = []
    for n, doc in enumerate(export.documents.order_by("date", "pk"), 1):
        suffix = source_of(doc).suffix
        out.append((f"文字记录/{n:03d}-{doc.get_doc_type_display()}{suffix}", doc))
    for rec in export.recordings.order_by("captured_start", "pk"):
        stem = Path(rec.original_name).stem or "recording"
        out.append((f"音像资料/{rec.pk:06d}-{stem}{source_of(rec).suffix}", rec))
    return out


def _metadata(export: Export, grant: Grant) -> dict:
    return {"导出编号": export.number, "授权编号": grant.number, "导出人": str(export.user),
            "批准人": str(grant.granted_by), "授权至": timezone.localtime(grant.valid_until)
            .isoformat(timespec="minutes"), "案件编号": export.case.number if export.case else "",
            "水印": export.watermark,
            "说明": "每个文件均为加盖水印的复制件，不是原件；原件的固定值见各文件的 source_sha256、source_sm3",
            "依据": "《人力资源社会保障行政执法全过程记录制度》第十六条"}


def _package(export: Export, grant: Grant, mark: Watermark, now) -> tuple[object, list[dict]]:
    """Derive every file into a work folder and build the signed package from the copies."""
    items = [i for i in export.items if "skipped" in i]
    package_id = f"EXPORT-{export.pk:06d}-{timezone.localtime(now):%Y%m%d%H%M%S}"
    title = f"{export.number} 拷贝/导出（{grant.number}）"
    organization = grant.request.unit.name
    keys = bureau_keys()  # the one loader (liuhen.packaging.keys): Ed25519 and SM2
    with tempfile.TemporaryDirectory(prefix="liuhen-export-") as folder, PackageBuilder(
            Path(settings.EXPORT_DIR) / package_id, title=title, organization=organization,
            external_id=package_id, signer=keys.ed25519, sm2_signer=keys.sm2,
            created_at=timezone.localtime(now), metadata=_metadata(export, grant)) as builder:
        for n, (path, obj) in enumerate(_entries(export)):
            source = source_of(obj)
            derived = derive(source, Path(folder), f"item-{n}", mark)
            meta = {"kind": obj._meta.model_name, "record": f"{obj._meta.label_lower}:{obj.pk}",
                    "source_name": source.name, "source_sha256": source.sha256,
                    "source_sm3": source.sm3, "watermark": list(mark.lines),
                    "derivation": derived.description["kind"]}
            builder.add_file(path, derived.path, expected=derived.digests, metadata=meta)
            derived.path.unlink()
            items.append({"path": path, "record": meta["record"], "source_name": source.name,
                          "source_sha256": source.sha256, "source_sm3": source.sm3,
                          "sha256": derived.sha256, "sm3": derived.sm3,
                          "size": derived.digests.size})
        result = builder.finish()
    return result, items


def build_export(export_id) -> Export:
    """Build the package asked for (inline or as the job), keep it, register what left."""
    export = Export.objects.select_related("grant", "grant__request__unit", "grant__granted_by",
                                           "user", "case").get(pk=export_id)
    if export.status != MadeStatus.PENDING:
        return export
    grant = export.grant
    anchor = export.case or export.recordings.first() or export.documents.first()
    detail = {"export": export.number, "grant": grant.number, "use": UseAction.EXPORT}
    refusal = grant_refusal(export.user, grant, anchor, UseAction.EXPORT)
    if refusal:
        _fail(export, refusal, detail)
        return export
    now = timezone.now()
    try:
        result, items = _package(export, grant, Watermark.from_text(export.watermark),
                                 now)
    except (LiuhenError, PackagingError, MediaError, OSError, ValueError) as exc:
        _fail(export, f"导出包未生成：{getattr(exc, 'message', exc)}", detail)
        return export
    archive = Path(settings.EXPORT_DIR) / f"{result.path.name}.zip"
    _zip(result.path, archive, now)
    digests = digest_file(archive)
    _readonly(result.path)
    os.chmod(archive, stat.S_IRUSR | stat.S_IRGRP)
    with transaction.atomic():
        export = Export.objects.select_for_update().get(pk=export_id)
        export.status, export.made_at, export.items = MadeStatus.MADE, now, items
        export.package_id, export.package_path = result.path.name, str(result.path)
        export.manifest_sha256, export.manifest_sm3 = result.manifest_sha256, result.manifest_sm3
        export.zip_sha256, export.zip_sm3, export.zip_size = (digests.sha256, digests.sm3,
                                                              digests.size)
        export.key_fingerprint = result.key_fingerprint
        export.sm2_key_fingerprint = result.sm2_key_fingerprint
        export.save()
        for item in items:
            if "record" in item:
                kind, pk = item["record"].split(":")
                record(actor=export.user, action=events.event_record_exported,
                       target=(kind, pk, item["source_name"][:200]),
                       detail={**detail, "sha256": item["sha256"], "sm3": item["sm3"],
                               "source_sha256": item["source_sha256"]})
        record(actor=export.user, action=events.event_export_made, target=export,
               detail={**detail, "package": export.package_id,
                       "manifest_sha256": result.manifest_sha256,
                       "zip_sha256": digests.sha256, "zip_sm3": digests.sm3,
                       "files": len(result.files), "key_fingerprint": result.key_fingerprint,
                       "sm2_key_fingerprint": result.sm2_key_fingerprint,
                       "skipped": [i["skipped"] for i in items if "skipped" in i]})
    return export


def _fail(export: Export, reason: str, detail: dict) -> None:
    record_failure(export, action=events.event_export_made, target=export, reason=reason,
                   detail=detail)


@task()
def build_export_job(export_id: int) -> str:
    """Job: build one large export (its page shows 正在生成 until then)."""
    return build_export(export_id).status


def own_export(user, export_id, *, event: str = events.event_export_downloaded) -> Export:
    """An export the user made, or NotFound (audited): an export is its holder's alone."""
    export = (Export.objects.select_related("grant", "case")
              .filter(pk=export_id, user=user).first()) if str(export_id).isdigit() else None
    if export is None:
        record_denied(actor=user, action=event, target=("disclosure.export", str(export_id)[:64]),
                      reason="导出登记不存在或不属于本人")
        raise NotFound("导出登记不存在")
    return export


def kept_zip(export: Export) -> Path:
    return Path(settings.EXPORT_DIR) / f"{export.package_id}.zip"


def package_for_download(*, actor, export_id, request=None) -> Path:
    """The kept ZIP for its holder while the grant is in force (refused after expiry or
    revocation, audited), audited with the grant number and the ZIP's digest."""
    export = own_export(actor, export_id)
    if export.status != MadeStatus.MADE:
        raise Conflict("导出包正在生成，请稍后再下载" if export.status == MadeStatus.PENDING
                       else f"导出包未生成：{export.failure}")
    anchor = export.case or export.recordings.first() or export.documents.first()
    refusal = grant_refusal(actor, export.grant, anchor, UseAction.EXPORT)
    if refusal:
        record_denied(actor=actor, action=events.event_export_downloaded, target=export,
                      reason=refusal[:500], detail={"grant": export.grant.number})
        raise Forbidden(refusal, code="grant_required")
    path = kept_zip(export)
    if not path.is_file():
        raise NotFound("导出包的留存文件不存在")
    record(actor=actor, action=events.event_export_downloaded, target=export, request=request,
           detail={"grant": export.grant.number, "zip_sha256": export.zip_sha256})
    return path


def exports_of(user):
    return Export.objects.filter(user=user).select_related("grant", "case")
