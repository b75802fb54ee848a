"""JSON API of internal copies and exports under a grant (复制、拷贝/导出, 第十六条): ask for a
watermarked copy of one record, export the granted records as a signed package, read what was
made, download it. Thin over disclosure.copies and disclosure.exports (the pages call the same
functions; every rule and audit entry is there)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Literal

from django.http import FileResponse
from ninja import Field, Router, Schema, Status

from liuhen.disclosure import copies, events, exports
from liuhen.evidence.storage import get_storage

router = Router(tags=["复制与拷贝/导出（第十六条）"])


class UseCopyIn(Schema):
    target_type: Literal["evidence.recording", "records.document"]
    target_id: int = Field(ge=1, le=2**63 - 1)


class MadeOut(Schema):
    """What a copy and an export share: the grant it rests on, its state and its watermark."""

    id: int
    number: str
    grant_id: int
    grant_number: str
    status: str
    watermark: str
    requested_at: datetime
    made_at: datetime | None
    failure: str

    @staticmethod
    def resolve_grant_number(obj) -> str:
        return obj.grant.number


class UseCopyOut(MadeOut):
    recording_id: int | None
    document_id: int | None
    source_sha256: str
    source_sm3: str
    copy_sha256: str
    copy_sm3: str
    copy_size: int | None


class ExportIn(Schema):
    grant_id: int = Field(ge=1, le=2**63 - 1)
    recording_ids: list[int] = Field(default_factory=list, max_length=1000)
    document_ids: list[int] = Field(default_factory=list, max_length=1000)


class ExportOut(MadeOut):
    case_id: int | None
    items: list[dict]
    package_id: str
    manifest_sha256: str
    manifest_sm3: str
    zip_sha256: str
    zip_sm3: str
    zip_size: int | None
    key_fingerprint: str
    sm2_key_fingerprint: str


@router.post("/use/copies", response={201: UseCopyOut, 202: UseCopyOut},
             summary="制作加水印的复制件（须有复制授权；大文件后台生成）")
def create_copy(request, payload: UseCopyIn):
    copy = copies.request_copy(actor=request.user, target_type=payload.target_type,
                               target_id=payload.target_id)
    return Status(202 if copy.status == "pending" else 201, copy)


@router.get("/use/copies", response=list[UseCopyOut], summary="我的复制件")
def my_copies(request):
    return list(copies.copies_of(request.user)[:500])


@router.get("/use/copies/{copy_id}", response=UseCopyOut, summary="一件复制件（状态与摘要）")
def copy_detail(request, copy_id: int):
    return copies.own_copy(request.user, copy_id, event=events.event_record_copied)


@router.get("/use/copies/{copy_id}/download", summary="下载复制件（已加水印，非原件）",
            openapi_extra={"responses": {200: {
                "description": "加水印的复制件（视频、照片或 PDF）",
                "content": {"application/octet-stream": {}}}}})
def copy_download(request, copy_id: int):
    copy = copies.copy_for_download(actor=request.user, copy_id=copy_id, request=request)
    stem = Path(copy.record.original_name or "record").stem
    return FileResponse(get_storage().open(copy.copy_key), as_attachment=True,
                        filename=f"{stem}-{copy.number}{Path(copy.copy_key).suffix}",
                        headers={"Cache-Control": "no-store"})


@router.post("/use/exports", response={201: ExportOut, 202: ExportOut},
             summary="拷贝/导出（须有导出授权；签名导出包，文件均加水印）")
def create_export(request, payload: ExportIn):
    export = exports.request_export(actor=request.user, grant_id=payload.grant_id,
                                    recording_ids=payload.recording_ids,
                                    document_ids=payload.document_ids)
    return Status(202 if export.status == "pending" else 201, export)


@router.get("/use/exports", response=list[ExportOut], summary="我的拷贝/导出")
def my_exports(request):
    return list(exports.exports_of(request.user)[:500])


@router.get("/use/exports/{export_id}", response=ExportOut, summary="一次拷贝/导出（状态与摘要）")
def export_detail(request, export_id: int):
    return exports.own_export(request.user, export_id, event=events.event_export_made)


@router.get("/use/exports/{export_id}/package", summary="下载导出包（ZIP，含离线核验程序）",
            openapi_extra={"responses": {200: {
                "description": "导出包 ZIP：与登记的 SHA-256、SM3 相同的字节",
                "content": {"application/zip": {}}}}})
def export_package(request, export_id: int):
    path = exports.package_for_download(actor=request.user, export_id=export_id,
                                        request=request)
    return FileResponse(open(path, "rb"), as_attachment=True, filename=path.name,
                        headers={"Cache-Control": "no-store"})
