"""Unfinished tus uploads: where the partial files are (``LIUHEN_UPLOAD_DIR``, a volume every
node mounts), the one right to write to one (``locked``), the running digests that follow it
(``hashing.py``), and the clean-up of expired ones (LIUHEN_UPLOAD_EXPIRY_HOURS).

Below both the tus server (``tus/``) and the scheduled jobs (``tasks.py``), which use it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from liuhen.audit.services import record
from liuhen.core.errors import Conflict, StorageUnavailable
from liuhen.evidence import events
from liuhen.evidence.models import UploadSession
from liuhen.evidence.uploads import hashing
from liuhen.evidence.uploads.paths import partial_path, upload_dir

__all__ = ["UploadBusy", "clean_expired_uploads", "discard", "hashing", "locked",
           "partial_path", "upload_dir"]

class UploadBusy(Conflict):
    code = "upload_busy"
    message = "该上传正在被另一个请求处理，请稍后重试"


@contextlib.contextmanager
def locked(upload: UploadSession) -> Iterator:
    """Hold the one right to write or finish ``upload``, on any node: yields its partial file,
    open.

    Raises :class:`UploadBusy` at once when another request (or the recovery sweep) holds
    it. Once every byte is there the file is only read (a retry of the storing): it may
    already share its inode with the read-only original in the vault.
    """
    path = partial_path(upload.pk)
    if not path.exists():
        raise StorageUnavailable(
            "上传的临时文件已丢失，请重新上传", detail={"upload": str(upload.pk)}
        )
    with open(path, "r+b" if upload.offset < upload.length else "rb") as fh, _exclusive(upload, fh):
        yield fh


@contextlib.contextmanager
def _exclusive(upload: UploadSession, fh) -> Iterator[None]:
    """PostgreSQL (one or several nodes): a session advisory lock keyed by the upload's id,
    which PostgreSQL releases by itself when the process holding it dies, so a crash never
    leaves an upload locked. SQLite (one node by construction): ``flock`` on the partial
    file, which the kernel releases the same way."""
    if connection.vendor != "postgresql":
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            raise UploadBusy(detail={"upload": str(upload.pk)}) from exc
        yield
        return
    # The two-integer form (64 bits of the UUID) never meets the audit chain's bigint key.
    keys = [int.from_bytes(upload.pk.bytes[i : i + 4], "big", signed=True) for i in (0, 4)]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", keys)
        if not cursor.fetchone()[0]:
            raise UploadBusy(detail={"upload": str(upload.pk)})
    try:
        yield
    finally:
        with contextlib.suppress(DatabaseError), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", keys)


def discard(upload: UploadSession, path: Path) -> None:
    hashing.forget(upload.pk)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def clean_expired_uploads(now: datetime | None = None) -> int:
    """Remove unfinished uploads past their Upload-Expires (and their partial files, on the
    shared upload volume, whichever node wrote them). Each under its lock: one a request is
    writing or storing right now (on any node) is left for the next run."""
    now = now or timezone.now()
    expired = UploadSession.objects.filter(completed_at__isnull=True, expires_at__lte=now)
    count = 0
    for upload in expired:
        path = partial_path(upload.pk)
        try:
            with locked(upload) if path.exists() else contextlib.nullcontext():
                with transaction.atomic():
                    record(
                        actor=None,
                        action=events.event_upload_terminated,
                        target=upload,
                        reason="上传已过期",
                        detail={"offset": upload.offset, "length": upload.length},
                    )
                    UploadSession.objects.filter(pk=upload.pk).delete()
                discard(upload, path)
        except UploadBusy:
            continue
        count += 1
    return count
