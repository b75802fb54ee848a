"""Receiving an upload's bytes (PATCH): the body read into a ring of buffers while the file
write, SM3 and SHA-256 run on lanes of their own; the offset advances only after an fsync;
the finished file goes to the one ingest service."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import itertools
import logging
import os
from pathlib import Path

from django.http import HttpResponse
from django.utils.dateparse import parse_datetime
from django.utils.http import http_date

from liuhen.audit.services import record_denied
from liuhen.cases.models import Case, Party, Patrol
from liuhen.core.errors import InvalidInput, LiuhenError, StorageUnavailable
from liuhen.devices.models import Device
from liuhen.evidence import events, services
from liuhen.evidence import uploads as upload_files
from liuhen.evidence.digests import CHUNK, BufferPool, Digests, DigestWriter, Lane, parse_sha256
from liuhen.evidence.models import UploadSession
from liuhen.evidence.storage import StorageFull, StreamedFile
from liuhen.evidence.tus.protocol import (
    OFFSET_TYPE,
    _body_stream,
    _error,
    _expired,
    _int_header,
    _parse_checksum,
    _response,
    _result_headers,
    stored_headers,
)
from liuhen.evidence.uploads import hashing
from liuhen.org.models import Officer

log = logging.getLogger(__name__)


# The body is received into a ring of reused buffers: what the lanes hold is allocated once per
# request, so the worker's memory stays flat however large the file (bench_tus_upload.py).
BODY_CHUNK = 2 * 1024 * 1024  # one buffer: one hand-off to each lane


BODY_BUFFERS = 4


# Rings are reused between PATCHes (a fresh one cost a page fault per 4 KiB on every request).
_RINGS = BufferPool(BODY_CHUNK * BODY_BUFFERS)


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


def _patch(request, user, upload: UploadSession, *, creation: bool = False) -> HttpResponse:
    if upload.completed_at is not None:
        return _finished(upload)
    full = upload.offset == upload.length
    if request.META.get("CONTENT_TYPE", "").split(";")[0].strip() != OFFSET_TYPE and not full:
        return _response(
            415, {"code": "content_type", "message": f"Content-Type 应为 {OFFSET_TYPE}"}
        )
    if _expired(upload):
        return _response(410, {"code": "expired", "message": "上传已过期，请重新上传"})
    claimed = 0 if creation else _int_header(request, "Upload-Offset")
    if claimed is None:
        raise InvalidInput("缺少 Upload-Offset")
    checksum = _parse_checksum(request)
    try:
        with upload_files.locked(upload) as fh:
            upload.refresh_from_db()
            if upload.completed_at is not None:
                return _finished(upload)
            if claimed != upload.offset:
                return _response(
                    409,
                    {"code": "offset_mismatch", "message": f"Upload-Offset 应为 {upload.offset}"},
                    Upload_Offset=upload.offset,
                )
            path = upload_files.partial_path(upload.pk)
            if upload.offset == upload.length:  # an empty PATCH at the end: finish (again)
                return _finish(user, upload, path, hashing.final(upload, path))
            return _append(request, user, upload, fh, path, checksum)
    except upload_files.UploadBusy as exc:
        return _error(exc)


def _finished(upload: UploadSession) -> HttpResponse:
    return _response(
        403,
        {"code": "upload_finished", "message": "该上传已完成，音像记录已存储，不能再写入"},
        **_result_headers(upload),
    )


def _append(request, user, upload, fh, path, checksum) -> HttpResponse:
    """Receive one PATCH body at the durable offset; finish when it was the last one.

    The body is hashed as it arrives when this process is the upload's hasher; otherwise
    only written, and the hasher follows the file (``uploads/hashing.py``)."""
    with hashing.inline(upload, path) as state:
        before = state.writer.copy() if state is not None else None
        try:
            new_offset, status = _receive(
                request, fh, path, upload, state.writer if state else None, checksum
            )
        except BaseException:
            # The running digests may have taken bytes that were not kept (a full disk):
            # the next PATCH must start from the digests of what is on disk.
            if state is not None:
                state.writer = before
            raise
        if status is not None:
            if state is not None:
                state.writer = before
            return _refused(user, upload, status)
        # The bytes are on disk (fsynced) before the offset says so.
        UploadSession.objects.filter(pk=upload.pk).update(offset=new_offset)
        upload.offset = new_offset
        if state is not None:
            state.offset = new_offset
        services._crash_point("tus_after_offset")
        if new_offset < upload.length:
            return _response(
                204,
                Upload_Offset=new_offset,
                Upload_Expires=http_date(upload.expires_at.timestamp()),
            )
        digests = hashing.publish(upload.pk, state) if state is not None else None
    return _finish(user, upload, path, digests or hashing.final(upload, path))


def _refused(user, upload, status: int) -> HttpResponse:
    """A chunk refused whole (460: its checksum; 413: past Upload-Length); nothing kept."""
    if status == 460:
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
    return _response(
        413,
        {"code": "too_large", "message": "发送的数据超过了声明的 Upload-Length"},
        Upload_Offset=upload.offset,
    )


def finish_full(upload: UploadSession) -> HttpResponse | None:
    """Store an upload whose every byte arrived but which was never stored (the server died
    between the last offset and the ingest's commit): called by HEAD and by the recovery
    sweep, so a client is never told "done" for bytes that are not in the vault.

    Returns the answer of the finish, or None when there was nothing to finish; raises
    :class:`~liuhen.evidence.uploads.UploadBusy` when a request holds the upload now.
    """
    with upload_files.locked(upload):
        upload.refresh_from_db()
        if upload.completed_at is not None or upload.offset != upload.length:
            return None
        path = upload_files.partial_path(upload.pk)
        return _finish(upload.user, upload, path, hashing.final(upload, path))


def _fill(stream, buffer: memoryview) -> int:
    """Read from ``stream`` into ``buffer`` until it is full or the body ends."""
    filled = 0
    readinto = getattr(stream, "readinto", None)
    if readinto is not None:  # the socket itself (protocol._SocketBody): no copy of ours
        while filled < len(buffer):
            count = readinto(buffer[filled:])
            if not count:
                break
            filled += count
        return filled
    while filled < len(buffer):
        data = stream.read(min(CHUNK, len(buffer) - filled))
        if not data:
            break
        buffer[filled : filled + len(data)] = data
        filled += len(data)
    return filled


# One function on purpose: the ring of body buffers, the lanes and the partial-chunk
# bookkeeping below share their state per iteration, and this loop is what the tus benchmark
# measures (bench/bench_tus_upload.py, 311 MiB/s); split, its state would travel in objects.
def _receive(
    request,
    fh,
    path: Path,
    upload: UploadSession,
    writer: DigestWriter | None,
    checksum: bytes | None,
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
    # A chunk from byte 0 on a fresh running digest (creation-with-upload, a first PATCH; for
    # a one-chunk body-camera file, the whole file) has the file's SHA-256 as its checksum: the
    # running SHA-256 answers it, with no third hash of the same bytes (issue 9 item 2). A
    # refused chunk rolls the running digests back either way (``_append``).
    from_start = checksum is not None and writer is not None and writer.size == start == 0
    chunk_hash = hashlib.sha256() if checksum is not None and not from_start else None
    chunk_lane = Lane(chunk_hash.update) if chunk_hash is not None else None
    # Written with O_DIRECT also when the hasher reads these bytes back (the digests are not
    # here): it reads them with O_DIRECT too (``hashing._catch_up``), so the bytes never pass
    # through the page cache. Kept cached, the write's copy into the cache and the read's copy
    # out of it were a fifth of the server's CPU on a 2-worker upload (issue 9 item 1).
    out = StreamedFile(fh, offset=start, direct_path=path)
    digest_lanes = writer.lanes if writer is not None else ()
    lanes = (*out.lanes, *digest_lanes, *((chunk_lane,) if chunk_lane else ()))
    first = [lane.submitted for lane in lanes]
    # Mapped, not malloc'ed (page-aligned for O_DIRECT; no fragmenting of the thread's malloc
    # arena), and taken from a small pool: at most two idle rings stay mapped.
    ring_memory = _RINGS.take()
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
            if writer is not None:
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
        if checksum is not None:
            fh.truncate(start)
            return start, 460
    except BaseException:
        out.abandon()
        raise
    finally:
        out.close()
        if writer is not None:
            writer.wait()  # nothing may still read the ring once this returns
        if chunk_lane is not None:
            chunk_lane.join()
        chunk = buffer = ring = whole = None
        _RINGS.give(ring_memory)  # every lane is joined: nothing reads it any more
    if checksum is not None and checksum != (
        writer.sha256_so_far() if from_start else chunk_hash.digest()
    ):
        fh.truncate(start)
        return start, 460
    out.finish()
    return start + received, None


def _finish(user, upload: UploadSession, path: Path, digests: Digests) -> HttpResponse:
    """The last byte arrived: ingest through the one service, expose the digests."""
    meta = upload.metadata
    found = _lookup(user, meta)
    try:
        result = services.ingest_recording(
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
            upload=upload,
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
    services._crash_point("tus_after_ingest")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)  # the vault holds its own link (or copy) now
    hashing.forget(upload.pk)
    # The answer names what the ingest returned: the row it committed (or the one these bytes
    # were stored as before), read again neither through the upload nor by id.
    return _response(204, Upload_Offset=upload.offset,
                     **stored_headers(result.recording, duplicate=result.duplicate))
