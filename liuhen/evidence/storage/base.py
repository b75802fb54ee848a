"""Keys, errors and the staged copy shared by both storage backends."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from liuhen.core.errors import LiuhenError, StorageUnavailable
from liuhen.evidence.digests import Digests

log = logging.getLogger(__name__)

ORIGINALS_PREFIX = "sha256/"
DERIVED_PREFIX = "derived/"
ANCHORS_PREFIX = "audit-anchors/"  # the audit chain's anchors (issue 14 item 3)
INCOMING_DIR = ".incoming"
STREAM_CHUNK = 4 * 1024 * 1024  # reads feeding the lanes: fewer hand-offs per GiB


class StorageFull(StorageUnavailable):
    code = "storage_full"
    status = 507
    message = "存储空间不足，未保存任何内容，请联系管理员扩容后重试"


def original_key(sha256: str) -> str:
    return f"{ORIGINALS_PREFIX}{sha256[:2]}/{sha256[2:4]}/{sha256}"


def derived_key(sha256: str, name: str) -> str:
    """Key of a derived file, e.g. ``derived_key(sha, "proxy.mp4")``."""
    return f"{DERIVED_PREFIX}{sha256}/{name}"


def _os_error(exc: OSError) -> LiuhenError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return StorageFull(detail={"errno": exc.errno})
    return StorageUnavailable(detail={"errno": exc.errno, "error": exc.strerror or str(exc)})


@dataclass
class Staged:
    """A source brought into the storage's reach, with its digests; ``discard()`` cleans up."""

    path: Path
    digests: Digests
    temporary: bool  # whether ``path`` is ours to remove
    extra: dict = field(default_factory=dict)
    durable: bool = False  # the bytes at ``path`` were fsynced (a copy made by ``stage``)

    def discard(self) -> None:
        if self.temporary:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)
            self.temporary = False




def check_erase_permit(key: str, permit) -> None:
    """Refuse to erase anything but the object of a committed tombstone (evidence.disposal;
    a written record's scan or a case file's PDF through keeping.disposal): ``permit.tombstone``
    is the disposed row, which names ``key`` and the permit's register number."""
    row = getattr(permit, "tombstone", None)
    if (permit is None or getattr(permit, "pk", None) is None or row is None
            or row.disposed_at is None or row.storage_key != key
            or row.disposal_register != permit.register_number):
        raise ValueError("originals are erased only through evidence.disposal, with a permit")


def derived_of_permit(permit) -> str | None:
    """The derived files' prefix of a disposed recording (proxies, thumbnails); a written
    record's scan or a case file's PDF has none."""
    recording = getattr(permit, "recording", None)
    return derived_key(recording.sha256, "") if recording is not None else None
