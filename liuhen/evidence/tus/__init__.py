"""A tus 1.0 server under /api/uploads/ (resumable uploads of recordings, 第十三条).

Core protocol plus the creation, creation-with-upload, checksum (sha256), termination and
expiration extensions; ``X-HTTP-Method-Override``; API-token (``Authorization: Bearer``) or
session auth. Plain Django views, not django-ninja: the body is a raw byte stream of up to
LIUHEN_UPLOAD_MAX_BYTES (64 GiB), read from the WSGI input into a small ring of reused buffers
and never held in memory (``request.body`` is never touched). While the request thread reads,
the file write, SM3 and SHA-256 each run on a lane of their own (``digests.Lane``), so an
upload goes about as fast as SM3 alone.

Durability: received bytes go to ``UPLOAD_DIR/tus/<id>.part``, pushed to disk as they are
written (``storage.StreamedFile``); the offset in the database is advanced only after they are
fsynced, so after a server crash a client's HEAD gets an offset that is really on disk (bytes
past it are truncated on the next PATCH). SHA-256 and SM3 are kept running in the worker
process while bytes arrive; after a restart (or when a PATCH lands on another worker process)
they are rebuilt by reading the partial file once from its start.
When the last byte arrives the same ``ingest_recording`` service as every other channel
stores the file (hard-linked into the vault, not copied, when on the same filesystem) and the
response carries ``Liuhen-Recording-Id``, ``Liuhen-Sha256`` and ``Liuhen-Sm3`` so that the
client can compare digests (and ``Liuhen-Duplicate``, ``Liuhen-Flags``, ``Liuhen-Captured-At``,
``Liuhen-Capture-Time-Source`` for the ingest station's receipt, issue 9 item 2);
``GET /api/uploads/<id>/result`` returns them as JSON.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse
from django.utils import timezone
from django.utils.http import http_date
from django.views.decorators.csrf import csrf_exempt

from liuhen.access.querysets import allows
from liuhen.audit.services import record, record_denied
from liuhen.core.errors import InvalidInput, LiuhenError, NotFound
from liuhen.evidence import events, services
from liuhen.evidence import uploads as upload_files
from liuhen.evidence.choices import IngestChannel
from liuhen.evidence.digests import parse_sha256
from liuhen.evidence.models import UploadSession
from liuhen.evidence.storage import StorageFull
from liuhen.evidence.tus.protocol import (
    OFFSET_TYPE,
    _authenticate,
    _error,
    _expired,
    _int_header,
    _method,
    _options,
    _parse_metadata,
    _precheck,
    _response,
    _result_headers,
)
from liuhen.evidence.tus.receive import (
    _lookup,
    _patch,
    finish_full,
)

log = logging.getLogger(__name__)


def _channel(metadata: dict) -> str:
    channel = metadata.get("channel", "")
    return channel if channel in (IngestChannel.WEB, IngestChannel.STATION) else IngestChannel.TUS


def _get_upload(user, upload_id) -> UploadSession:
    upload = UploadSession.objects.filter(pk=upload_id, user=user).first()
    if upload is None:
        raise NotFound("上传不存在或无权访问")
    return upload


@csrf_exempt
def uploads(request):
    """``/api/uploads/``: OPTIONS (capabilities) and POST (creation[-with-upload])."""
    method = _method(request)
    if method == "OPTIONS":
        return _options()
    if method != "POST":
        return _response(
            405,
            {"code": "method_not_allowed", "message": "不支持的请求方法"},
            Allow="OPTIONS, POST",
        )
    user, refusal = _precheck(request, method)
    if refusal:
        return refusal
    try:
        return _create(request, user)
    except LiuhenError as exc:
        return _error(exc)


@csrf_exempt
def upload(request, upload_id):
    """``/api/uploads/<id>``: HEAD, PATCH, DELETE, OPTIONS."""
    method = _method(request)
    if method == "OPTIONS":
        return _options()
    user, refusal = _precheck(request, method)
    if refusal:
        return refusal
    try:
        if method == "HEAD":
            return _head(user, upload_id)
        if method == "PATCH":
            upload = _get_upload(user, upload_id)
            return _patch(request, user, upload)
        if method == "DELETE":
            return _terminate(user, upload_id)
        if method == "GET":
            return result(request, upload_id)
    except LiuhenError as exc:
        return _error(exc)
    return _response(
        405,
        {"code": "method_not_allowed", "message": "不支持的请求方法"},
        Allow="OPTIONS, HEAD, PATCH, DELETE",
    )


def _new_session(user, *, length: int, metadata: dict, filename: str) -> UploadSession:
    """The upload's row (audited) and its empty partial file, when the disk can hold it."""
    free = shutil.disk_usage(upload_files.upload_dir()).free
    if length > free:
        record_denied(
            actor=user,
            action=events.event_upload_refused,
            reason="存储空间不足",
            detail={"length": length, "free": free},
        )
        # The free bytes go to the audit entry, not to the client: how full the server's disk
        # is tells an outsider nothing it needs (issue 16 item 14).
        raise StorageFull(detail={"length": length})
    now = timezone.now()
    sha = parse_sha256(metadata.get("sha256", "")) or ""
    with transaction.atomic():
        upload = UploadSession.objects.create(
            user=user,
            channel=_channel(metadata),
            length=length,
            offset=0,
            metadata=metadata,
            declared_sha256=sha,
            created_at=now,
            expires_at=now + timedelta(hours=settings.UPLOAD_EXPIRY_HOURS),
        )
        record(
            actor=user,
            action=events.event_upload_created,
            target=upload,
            detail={"length": length, "filename": filename, "metadata": metadata},
        )
    upload_files.partial_path(upload.pk).touch()
    return upload


def _create(request, user) -> HttpResponse:
    if not allows(user, "recording.upload"):
        record_denied(actor=user, action=events.event_upload_refused, reason="角色无权上传音像记录")
        return _response(403, {"code": "forbidden", "message": "无权上传音像记录"})
    if request.META.get("HTTP_UPLOAD_DEFER_LENGTH"):
        raise InvalidInput("不支持 Upload-Defer-Length，请在创建时提供 Upload-Length")
    length = _int_header(request, "Upload-Length")
    if length is None:
        raise InvalidInput("缺少 Upload-Length")
    if length > settings.UPLOAD_MAX_BYTES:
        record_denied(
            actor=user,
            action=events.event_upload_refused,
            reason="文件超过最大大小",
            detail={"length": length, "max": settings.UPLOAD_MAX_BYTES},
        )
        raise services.TooLarge(detail={"length": length, "max": settings.UPLOAD_MAX_BYTES})
    metadata = _parse_metadata(request.META.get("HTTP_UPLOAD_METADATA", ""))
    filename = (metadata.get("filename") or metadata.get("name") or "").strip()
    if not filename:
        raise InvalidInput("Upload-Metadata 缺少 filename")
    found = _lookup(user, metadata)
    # Refuse early what the final ingest would refuse anyway (other unit, no unit).
    services.resolve_context(
        actor=user,
        device=found.get("device"),
        officer=found.get("officer"),
        case=found.get("case"),
        patrol=found.get("patrol"),
        party=found.get("party"),
    )
    upload = _new_session(user, length=length, metadata=metadata, filename=filename)
    location = request.build_absolute_uri(f"/api/uploads/{upload.pk}")
    headers = {"Location": location, "Upload_Expires": http_date(upload.expires_at.timestamp())}
    has_body = request.META.get("CONTENT_TYPE", "").split(";")[0].strip() == OFFSET_TYPE and (
        int(request.META.get("CONTENT_LENGTH") or 0) > 0
    )
    if has_body or length == 0:
        response = _patch(request, user, upload, creation=True)
        if response.status_code >= 400 and response.status_code != 460:
            return response
        for name, value in headers.items():
            response[name.replace("_", "-")] = value
        if response.status_code == 204:
            response.status_code = 201
        return response
    return _response(201, Upload_Offset=0, **headers)


def _head(user, upload_id) -> HttpResponse:
    upload = _get_upload(user, upload_id)
    if _expired(upload):
        return _response(410, {"code": "expired", "message": "上传已过期，请重新上传"})
    if upload.offset == upload.length and upload.completed_at is None:
        # Every byte arrived but the server died before storing them: tus clients stop at
        # Upload-Offset == Upload-Length, so the server finishes here, or answers an error,
        # never "done" for bytes that are not stored (issue 16; 第十三条).
        try:
            answer = finish_full(upload)
        except upload_files.UploadBusy:
            return _response(
                409,
                {"code": "upload_busy", "message": "该上传正在存储中，请稍后重试"},
                Retry_After=2,
            )
        if answer is not None and answer.status_code >= 400:
            return answer
        upload.refresh_from_db()
    headers = {"Upload_Offset": upload.offset, "Upload_Length": upload.length}
    if upload.completed_at is None:
        headers["Upload_Expires"] = http_date(upload.expires_at.timestamp())
    else:
        headers.update(_result_headers(upload))
    return _response(200, **headers)


def _terminate(user, upload_id) -> HttpResponse:
    """Termination of an unfinished upload only; a stored recording is never deleted."""
    upload = _get_upload(user, upload_id)
    if upload.completed_at is not None:
        record_denied(
            actor=user,
            action=events.event_recording_modification_refused,
            target=upload,
            reason="已完成的上传不能终止：音像记录原件不可删除（第二十六条）",
        )
        return _response(
            403,
            {
                "code": "original_immutable",
                "message": "该上传已完成，音像记录原件一经存储不得删除（依据第二十六条）",
            },
        )
    path = upload_files.partial_path(upload.pk)
    # Under the upload's lock, on any node (issue 14 item 1): a PATCH or a storing in progress
    # elsewhere is not cut off under its feet; the client is told to retry.
    try:
        with upload_files.locked(upload) if path.exists() else contextlib.nullcontext():
            with transaction.atomic():
                record(
                    actor=user,
                    action=events.event_upload_terminated,
                    target=upload,
                    detail={
                        "offset": upload.offset,
                        "length": upload.length,
                        "filename": upload.metadata.get("filename", ""),
                    },
                )
                UploadSession.objects.filter(pk=upload.pk).delete()
            upload_files.discard(upload, path)
    except upload_files.UploadBusy:
        return _response(
            409,
            {"code": "upload_busy", "message": "该上传正在被另一个请求处理，请稍后重试"},
            Retry_After=2,
        )
    return _response(204)


def result(request, upload_id):
    """``GET /api/uploads/<id>/result``: the stored recording and its digests, as JSON."""
    user = _authenticate(request)
    if user is None:
        return _response(
            401, {"code": "unauthenticated", "message": "请先登录或提供有效的 API 令牌"}
        )
    try:
        upload = _get_upload(user, upload_id)
    except NotFound as exc:
        return _error(exc)
    rec = upload.recording
    body = {
        "upload_id": str(upload.pk),
        "offset": upload.offset,
        "length": upload.length,
        "completed": upload.completed_at is not None,
        "duplicate": upload.duplicate,
        "recording_id": rec.pk if rec else None,
        "sha256": rec.sha256 if rec else None,
        "sm3": rec.sm3 if rec else None,
        "size": rec.size if rec else None,
        "flags": rec.flags if rec else [],
        "error": upload.error or None,
        "expires_at": upload.expires_at.isoformat(),
    }
    return _response(200, body)
