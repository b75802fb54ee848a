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
client can compare digests; ``GET /api/uploads/<id>/result`` returns them as JSON.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import errno
import fcntl
import hashlib
import itertools
import logging
import mmap
import os
import shutil
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import http_date
from django.views.decorators.csrf import csrf_exempt

from liuhen.access.querysets import allows
from liuhen.access.services import authenticate_token
from liuhen.audit import context as audit_context
from liuhen.audit.services import record, record_denied
from liuhen.cases.models import Case, Party, Patrol
from liuhen.core.errors import InvalidInput, LiuhenError, NotFound, StorageUnavailable
from liuhen.devices.models import Device
from liuhen.evidence import events, services
from liuhen.evidence import uploads as upload_files
from liuhen.evidence.choices import IngestChannel
from liuhen.evidence.digests import CHUNK, Digests, DigestWriter, Lane, parse_sha256
from liuhen.evidence.models import UploadSession
from liuhen.evidence.storage import StorageFull, StreamedFile
from liuhen.org.models import Officer

log = logging.getLogger(__name__)

TUS_VERSION = "1.0.0"
EXTENSIONS = "creation,creation-with-upload,checksum,termination,expiration"
OFFSET_TYPE = "application/offset+octet-stream"
# The body is received into a ring of reused buffers: what the lanes hold is allocated once per
# request, so the worker's memory stays flat however large the file (bench_tus_upload.py).
BODY_CHUNK = 2 * 1024 * 1024  # one buffer: one hand-off to each lane
BODY_BUFFERS = 4


class TusError(LiuhenError):
    pass


# -- helpers -------------------------------------------------------------------------------
def _response(status: int = 204, body: dict | None = None, **headers) -> HttpResponse:
    if body is not None:
        response = JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})
    else:
        response = HttpResponse(status=status)
    response["Tus-Resumable"] = TUS_VERSION
    response["Cache-Control"] = "no-store"
    for name, value in headers.items():
        response[name.replace("_", "-")] = str(value)
    return response


def _error(exc: LiuhenError, status: int | None = None) -> HttpResponse:
    return _response(status or exc.status, exc.as_dict())


def _authenticate(request):
    """API token first (machine clients, the ingest station), else the browser session."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header.lower().startswith("bearer "):
        user = authenticate_token(header[7:])
        if user is not None:
            audit_context._current.set(
                audit_context.AuditContext(
                    session="token", ip=request.META.get("REMOTE_ADDR", ""), via="api"
                )
            )
        return user
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    # Session + csrf_exempt: a cross-site page must not drive uploads with the user's cookie.
    # Tus-Resumable is a non-simple header (CORS preflight), and a foreign Origin is refused.
    origin = request.META.get("HTTP_ORIGIN")
    if origin and urlparse(origin).netloc != request.get_host():
        return None
    return user


def _parse_metadata(header: str) -> dict[str, str]:
    """``Upload-Metadata: key base64,key2 base64`` → dict of decoded UTF-8 strings."""
    result = {}
    for pair in (header or "").split(","):
        pair = pair.strip()
        if not pair:
            continue
        key, _, value = pair.partition(" ")
        try:
            result[key] = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"Upload-Metadata 中 {key} 的值不是有效的 Base64 UTF-8") from exc
    return result


def _int_header(request, name: str) -> int | None:
    value = request.META.get("HTTP_" + name.upper().replace("-", "_"))
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        number = -1
    if number < 0:
        raise InvalidInput(f"{name} 应为非负整数")
    return number


def _lookup(user, metadata: dict) -> dict:
    """Resolve the metadata to objects the user may see; a clear error when not."""
    found: dict = {}
    if number := metadata.get("device", "").strip():
        found["device"] = Device.objects.filter(number=number).first()
        if found["device"] is None:
            raise InvalidInput(f"设备 {number} 未登记，请先登记设备（第二十一条）")
    if officer := metadata.get("officer", "").strip():
        query = Officer.objects.filter(credential_number=officer)
        if officer.isdigit():
            query = Officer.objects.filter(pk=int(officer)) | query
        found["officer"] = query.first()
        if found["officer"] is None:
            raise InvalidInput(f"执法人员 {officer} 不存在")
    for name, model, action in (
        ("case", Case, "case.view"),
        ("patrol", Patrol, "patrol.view"),
        ("party", Party, "party.view"),
    ):
        value = metadata.get(name, "").strip()
        if not value:
            continue
        qs = model.objects.restrict(user, action)
        obj = qs.filter(pk=int(value)).first() if value.isdigit() else None
        if obj is None and name == "case":
            obj = qs.filter(number=value).first()
        if obj is None:
            raise InvalidInput(f"{services.LINK_LABELS[name]} {value} 不存在或无权访问")
        found[name] = obj
    if value := metadata.get("captured_at", "").strip():
        moment = parse_datetime(value)
        if moment is None:
            raise InvalidInput("captured_at 应为 ISO 8601 时间")
        found["captured_at"] = moment
    if value := metadata.get("sha256", "").strip():
        if parse_sha256(value) is None:
            raise InvalidInput("sha256 应为64位十六进制或 Base64")
    return found


def _channel(metadata: dict) -> str:
    channel = metadata.get("channel", "")
    return channel if channel in (IngestChannel.WEB, IngestChannel.STATION) else IngestChannel.TUS


def _get_upload(user, upload_id) -> UploadSession:
    upload = UploadSession.objects.filter(pk=upload_id, user=user).first()
    if upload is None:
        raise NotFound("上传不存在或无权访问")
    return upload


def _expired(upload: UploadSession) -> bool:
    return upload.completed_at is None and upload.expires_at <= timezone.now()


# -- views ---------------------------------------------------------------------------------
def _method(request) -> str:
    if request.method == "POST":
        return request.META.get("HTTP_X_HTTP_METHOD_OVERRIDE", "POST").upper()
    return request.method


def _version_ok(request, method: str) -> bool:
    return method == "OPTIONS" or request.META.get("HTTP_TUS_RESUMABLE") == TUS_VERSION


def _options() -> HttpResponse:
    response = _response(
        204,
        Tus_Version=TUS_VERSION,
        Tus_Extension=EXTENSIONS,
        Tus_Checksum_Algorithm="sha256",
        Tus_Max_Size=settings.UPLOAD_MAX_BYTES,
    )
    return response


def _precheck(request, method: str):
    if not _version_ok(request, method):
        return None, _response(
            412, {"code": "tus_version", "message": "仅支持 tus 1.0.0"}, Tus_Version=TUS_VERSION
        )
    user = _authenticate(request)
    if user is None:
        return None, _response(
            401, {"code": "unauthenticated", "message": "请先登录或提供有效的 API 令牌"}
        )
    return user, None


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
    folder = upload_files.upload_dir()
    free = shutil.disk_usage(folder).free
    if length > free:
        record_denied(
            actor=user,
            action=events.event_upload_refused,
            reason="存储空间不足",
            detail={"length": length, "free": free},
        )
        raise StorageFull(detail={"length": length, "free": free})
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
    headers = {"Upload_Offset": upload.offset, "Upload_Length": upload.length}
    if upload.completed_at is None:
        headers["Upload_Expires"] = http_date(upload.expires_at.timestamp())
    else:
        headers.update(_result_headers(upload))
    return _response(200, **headers)


def _result_headers(upload: UploadSession) -> dict:
    rec = upload.recording
    if rec is None:
        return {}
    return {
        "Liuhen_Recording_Id": rec.pk,
        "Liuhen_Sha256": rec.sha256,
        "Liuhen_Sm3": rec.sm3,
        "Liuhen_Duplicate": "1" if upload.duplicate else "0",
    }


def _parse_checksum(request) -> bytes | None:
    header = request.META.get("HTTP_UPLOAD_CHECKSUM")
    if not header:
        return None
    algorithm, _, value = header.strip().partition(" ")
    if algorithm.lower() != "sha256":
        raise InvalidInput("仅支持 sha256 校验（Tus-Checksum-Algorithm）")
    try:
        digest = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput("Upload-Checksum 的值不是有效的 Base64") from exc
    if len(digest) != 32:
        raise InvalidInput("Upload-Checksum 的 sha256 长度不正确")
    return digest


def _body_stream(request):
    """The raw request body as a stream (never ``request.body``)."""
    if request.META.get("CONTENT_LENGTH"):
        return request  # HttpRequest.read(): a LimitedStream over wsgi.input
    return request.META["wsgi.input"]  # chunked transfer: the server de-chunks


def _patch(request, user, upload: UploadSession, *, creation: bool = False) -> HttpResponse:
    if request.META.get("CONTENT_TYPE", "").split(";")[0].strip() != OFFSET_TYPE and not (
        upload.offset == upload.length and upload.completed_at is None
    ):
        return _response(
            415, {"code": "content_type", "message": f"Content-Type 应为 {OFFSET_TYPE}"}
        )
    if _expired(upload):
        return _response(410, {"code": "expired", "message": "上传已过期，请重新上传"})
    if upload.completed_at is not None:
        return _response(
            403,
            {"code": "upload_finished", "message": "该上传已完成，音像记录已存储，不能再写入"},
            **_result_headers(upload),
        )
    claimed = 0 if creation else _int_header(request, "Upload-Offset")
    if claimed is None:
        raise InvalidInput("缺少 Upload-Offset")
    checksum = _parse_checksum(request)
    path = upload_files.partial_path(upload.pk)
    if not path.exists():
        raise StorageUnavailable(
            "上传的临时文件已丢失，请重新上传", detail={"upload": str(upload.pk)}
        )
    # Once every byte is there the file is only read (a retry of the storing): it may
    # already share its inode with the read-only original in the vault.
    with open(path, "r+b" if upload.offset < upload.length else "rb") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return _response(
                409, {"code": "upload_busy", "message": "该上传正在被另一个请求写入，请稍后重试"}
            )
        upload.refresh_from_db()
        if upload.completed_at is not None:
            return _response(
                403,
                {"code": "upload_finished", "message": "该上传已完成"},
                **_result_headers(upload),
            )
        if claimed != upload.offset:
            return _response(
                409,
                {"code": "offset_mismatch", "message": f"Upload-Offset 应为 {upload.offset}"},
                Upload_Offset=upload.offset,
            )
        writer = upload_files.writer_at(upload, path)
        if upload.offset == upload.length:
            return _finish(user, upload, path, writer.digests())
        before = writer.copy()
        try:
            new_offset, status = _receive(request, fh, path, upload, writer, checksum)
        except BaseException:
            # The running digests may have taken bytes that were not kept (a full disk):
            # the next PATCH must start from the digests of what is on disk.
            upload_files.remember(upload.pk, upload.offset, before)
            raise
        if status == 460:
            upload_files.remember(upload.pk, upload.offset, before)
            record_denied(
                actor=user,
                action=events.event_upload_refused,
                target=upload,
                reason="分块校验值不一致，该分块已丢弃",
                detail={"offset": upload.offset},
            )
            return _response(
                460,
                {
                    "code": "checksum_mismatch",
                    "message": "分块校验值不一致（Upload-Checksum），该分块已丢弃，"
                    "请从当前偏移量重新发送",
                },
                Upload_Offset=upload.offset,
            )
        if status == 413:
            upload_files.remember(upload.pk, upload.offset, before)
            return _response(
                413,
                {"code": "too_large", "message": "发送的数据超过了声明的 Upload-Length"},
                Upload_Offset=upload.offset,
            )
        # The bytes are on disk (fsynced) before the offset says so.
        UploadSession.objects.filter(pk=upload.pk).update(offset=new_offset)
        upload.offset = new_offset
        upload_files.remember(upload.pk, new_offset, writer)
        services._crash_point("tus_after_offset")
        if new_offset < upload.length:
            return _response(
                204,
                Upload_Offset=new_offset,
                Upload_Expires=http_date(upload.expires_at.timestamp()),
            )
        return _finish(user, upload, path, writer.digests())


def _fill(stream, buffer: memoryview) -> int:
    """Read from ``stream`` into ``buffer`` until it is full or the body ends."""
    filled = 0
    while filled < len(buffer):
        data = stream.read(min(CHUNK, len(buffer) - filled))
        if not data:
            break
        buffer[filled : filled + len(data)] = data
        filled += len(data)
    return filled


def _receive(
    request, fh, path: Path, upload: UploadSession, writer: DigestWriter, checksum: bytes | None
):
    """Append the body at ``upload.offset``; returns (new offset, status or None).

    The request thread only reads the body, into a ring of ``BODY_BUFFERS`` buffers; the file
    write, SM3, SHA-256 and the chunk's checksum each run on a lane of their own
    (``digests.Lane``), in order, so that the four overlap. A buffer is refilled only once
    every lane is done with it; every lane is joined before this returns or truncates, and
    the bytes are fsynced before the caller may advance the offset. The buffers are
    page-aligned and, after a first one that ends on a block boundary, hold whole blocks, so
    the file lane writes them with O_DIRECT (``StreamedFile``).
    """
    start = upload.offset
    fh.seek(start)
    fh.truncate(start)  # bytes past the durable offset (a crashed request) are dropped
    remaining = upload.length - start
    declared = request.META.get("CONTENT_LENGTH")
    if declared and int(declared) > remaining:
        return start, 413
    chunk_hash = hashlib.sha256() if checksum is not None else None
    chunk_lane = Lane(chunk_hash.update) if chunk_hash is not None else None
    out = StreamedFile(fh, offset=start, direct_path=path)
    lanes = (*out.lanes, *writer.lanes, *((chunk_lane,) if chunk_lane else ()))
    first = [lane.submitted for lane in lanes]
    # Mapped, not malloc'ed: the ring is returned to the system when the request ends instead
    # of staying in (and fragmenting) the thread's malloc arena.
    ring_memory = mmap.mmap(-1, BODY_CHUNK * BODY_BUFFERS)
    whole = memoryview(ring_memory)
    ring = [whole[i * BODY_CHUNK : (i + 1) * BODY_CHUNK] for i in range(BODY_BUFFERS)]
    stream = _body_stream(request)
    received = 0
    try:
        for index in itertools.count():
            if index >= BODY_BUFFERS:  # the buffer's previous chunk is through every lane
                for lane, before in zip(lanes, first, strict=True):
                    lane.wait_done(before + index - BODY_BUFFERS + 1)
            buffer = ring[index % BODY_BUFFERS]
            if index == 0:  # end the first chunk on a block boundary (a resumed upload)
                buffer = buffer[: BODY_CHUNK - start % StreamedFile.DIRECT_ALIGN]
            filled = _fill(stream, buffer)
            if not filled:
                break
            if received + filled > remaining:
                out.abandon()
                fh.truncate(start)
                return start, 413
            chunk = buffer[:filled]
            out.write(chunk)
            writer.update(chunk)
            if chunk_lane is not None:
                chunk_lane.submit(chunk)
            received += filled
        out.wait()
    except OSError as exc:
        out.abandon()
        # A dropped connection keeps what arrived (unless the chunk has a checksum); a full
        # disk keeps nothing of this request.
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            fh.truncate(start)
            raise StorageFull(detail={"upload": str(upload.pk)}) from exc
        if out.failed:  # the disk failed, not the client: keep nothing of this request
            fh.truncate(start)
            raise StorageUnavailable(
                "写入上传的临时文件失败，请稍后重试",
                detail={"upload": str(upload.pk), "errno": exc.errno},
            ) from exc
        log.warning("upload %s: body interrupted after %s bytes: %s", upload.pk, received, exc)
        if chunk_hash is not None:
            fh.truncate(start)
            return start, 460
    except BaseException:
        out.abandon()
        raise
    finally:
        out.close()
        writer.wait()  # nothing may still read the ring once this returns
        if chunk_lane is not None:
            chunk_lane.join()
        chunk = buffer = ring = whole = None
        with contextlib.suppress(BufferError):  # a view still alive: unmapped when it goes
            ring_memory.close()
    if chunk_hash is not None and chunk_hash.digest() != checksum:
        fh.truncate(start)
        return start, 460
    out.finish()
    return start + received, None


def _finish(user, upload: UploadSession, path: Path, digests: Digests) -> HttpResponse:
    """The last byte arrived: ingest through the one service, expose the digests."""
    meta = upload.metadata
    found = _lookup(user, meta)
    try:
        outcome = services.ingest_recording(
            source_path=path,
            original_name=meta.get("filename") or meta.get("name") or "",
            actor=user,
            channel=upload.channel,
            device=found.get("device"),
            officer=found.get("officer"),
            case=found.get("case"),
            patrol=found.get("patrol"),
            party=found.get("party"),
            location=meta.get("location", ""),
            captured_at=found.get("captured_at"),
            declared_sha256=upload.declared_sha256 or None,
            digests=digests,
        )
    except StorageUnavailable as exc:
        # Nothing stored; the complete file stays so that a PATCH with an empty body at the
        # final offset retries the storing.
        UploadSession.objects.filter(pk=upload.pk).update(error=exc.as_dict())
        return _error(exc)
    except LiuhenError as exc:
        # Refused for good (checksum, officer not qualified, ...): nothing is stored.
        upload_files.discard(upload, path)
        UploadSession.objects.filter(pk=upload.pk).update(error=exc.as_dict(), offset=0)
        return _error(exc)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)  # the vault holds its own link (or copy) now
    upload_files.forget(upload.pk)
    UploadSession.objects.filter(pk=upload.pk).update(
        completed_at=timezone.now(),
        recording=outcome.recording,
        duplicate=outcome.duplicate,
        error={},
    )
    upload.refresh_from_db()
    return _response(204, Upload_Offset=upload.offset, **_result_headers(upload))


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
