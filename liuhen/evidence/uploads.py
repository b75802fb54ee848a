"""Unfinished tus uploads on disk: where the partial files are, the running digests a worker
process keeps of them, and their clean-up when they expire (LIUHEN_UPLOAD_EXPIRY_HOURS).

Below both the tus server (``tus.py``) and the scheduled jobs (``tasks.py``), which use it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from liuhen.audit.services import record
from liuhen.core.errors import Conflict, StorageUnavailable
from liuhen.evidence import events
from liuhen.evidence.digests import CHUNK, DigestWriter
from liuhen.evidence.models import UploadSession

# -- running digests, per worker process ---------------------------------------------------
_running: dict[str, tuple[int, DigestWriter]] = {}
_running_lock = threading.Lock()


def writer_at(upload: UploadSession, path: Path) -> DigestWriter:
    """The running digests of the first ``upload.offset`` bytes; rebuilt from the partial
    file when this process does not hold them (after a restart, or another worker)."""
    with _running_lock:
        cached = _running.get(str(upload.pk))
    if cached is not None and cached[0] == upload.offset:
        return cached[1]
    writer = DigestWriter()
    with open(path, "rb") as fh:
        remaining = upload.offset
        while remaining > 0:
            chunk = fh.read(min(CHUNK, remaining))
            if not chunk:
                raise StorageUnavailable(
                    "上传的临时文件不完整，请重新上传", detail={"upload": str(upload.pk)}
                )
            writer.update(chunk)
            remaining -= len(chunk)
    return writer


def remember(upload_id, offset: int, writer: DigestWriter) -> None:
    with _running_lock:
        _running[str(upload_id)] = (offset, writer)


def forget(upload_id) -> None:
    with _running_lock:
        _running.pop(str(upload_id), None)


def upload_dir() -> Path:
    path = Path(settings.UPLOAD_DIR) / "tus"
    path.mkdir(parents=True, exist_ok=True)
    return path


def partial_path(upload_id) -> Path:
    return upload_dir() / f"{upload_id}.part"


class UploadBusy(Conflict):
    code = "upload_busy"
    message = "该上传正在被另一个请求处理，请稍后重试"


@contextlib.contextmanager
def locked(upload: UploadSession) -> Iterator:
    """Hold the one right to write or finish ``upload``: yields its partial file, open.

    Raises :class:`UploadBusy` at once when another request (or the recovery sweep) holds
    it. Once every byte is there the file is only read (a retry of the storing): it may
    already share its inode with the read-only original in the vault.
    """
    path = partial_path(upload.pk)
    if not path.exists():
        raise StorageUnavailable(
            "上传的临时文件已丢失，请重新上传", detail={"upload": str(upload.pk)}
        )
    with open(path, "r+b" if upload.offset < upload.length else "rb") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            raise UploadBusy(detail={"upload": str(upload.pk)}) from exc
        yield fh


def discard(upload: UploadSession, path: Path) -> None:
    forget(upload.pk)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def clean_expired_uploads(now: datetime | None = None) -> int:
    """Remove unfinished uploads past their Upload-Expires (and their partial files)."""
    now = now or timezone.now()
    expired = UploadSession.objects.filter(completed_at__isnull=True, expires_at__lte=now)
    count = 0
    for upload in expired:
        with transaction.atomic():
            record(
                actor=None,
                action=events.event_upload_terminated,
                target=upload,
                reason="上传已过期",
                detail={"offset": upload.offset, "length": upload.length},
            )
            UploadSession.objects.filter(pk=upload.pk).delete()
        discard(upload, partial_path(upload.pk))
        count += 1
    return count
