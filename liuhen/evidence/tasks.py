"""Background jobs of the evidence vault: derived media (proxy, poster, thumbnails).

For the vault core (services.py): a *new* recording's derivation is queued in the recording's
own transaction when the queue is the database (``queue_in_database``: the job's row commits
with the recording), else after it commits (``transaction.on_commit``). Duplicates need no
call (their recording was derived when first stored). After the commit ``enqueue_derivation``
never raises: a queue that is down must not fail an ingest whose original is already safely
stored; the recording then stays ``pending`` and ``liuhen derive --pending`` (or the owed-work
round) catches up.

Derived files are *derivatives*: stored beside the original under ``derived/<sha256>/``,
recorded as :class:`~liuhen.evidence.models.Derivative` rows with their own SHA-256 and the
tool version, and they never replace or touch the original (第二十六条 (二)). A browser-playable
proxy (H.264/AAC MP4, faststart) is made only when the original is not playable as is (HEVC,
MJPEG/AVI, WAV, AMR, HEIC...), so that a reviewer can watch every recording in the page (第二十二条:
recordings are used for review and supervision).
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import tempfile
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django_tasks import task

from liuhen.audit.choices import Outcome
from liuhen.audit.services import record
from liuhen.evidence import events, media
from liuhen.evidence.choices import DerivationStatus, DerivativeKind
from liuhen.evidence.models import Derivative, Recording
from liuhen.evidence.storage import StorageFull, derived_key, get_storage
from liuhen.evidence.uploads import clean_expired_uploads

log = logging.getLogger(__name__)

THUMBNAIL_COUNT = 6
# Work folders of a derivation: ``liuhen-derive-<pid>-…`` in the system's temporary folder, so
# that the owed-work round (liuhen.web.jobs) can remove those whose process was killed.
DERIVE_TEMP_PREFIX = "liuhen-derive-"
_HASH_CHUNK = 1024 * 1024
DATABASE_QUEUE = "django_tasks_db.DatabaseBackend"


def queue_in_database() -> bool:
    """Whether jobs are rows of this database (LIUHEN_TASKS=db): queued inside the caller's
    transaction, they commit or roll back with it."""
    return settings.TASKS["default"]["BACKEND"] == DATABASE_QUEUE


def enqueue_derivation(recording_id: int, *, raise_errors: bool = False) -> bool:
    """Queue :func:`derive_media` for a recording; False (logged) if the queue is unreachable.
    ``raise_errors``: the caller's transaction holds the job (see ``queue_in_database``), and a
    job that cannot be written must undo that transaction, not be logged and forgotten."""
    try:
        derive_media.enqueue(recording_id)
    except Exception:  # noqa: BLE001 - the original is stored; derivation can be redone later
        if raise_errors:
            raise
        log.exception("could not enqueue derivation of recording %s", recording_id)
        return False
    return True


@task()
def clean_expired_uploads_task() -> int:
    """Job (hourly, from `liuhen scheduler`): drop unfinished tus uploads past Upload-Expires.

    Only partial uploads go: a finished upload is a recording, which nothing here deletes."""
    return clean_expired_uploads()


@task()
def derive_media(recording_id: int) -> str:
    """Job: make the derivatives of one recording; returns the resulting derivation status.

    Never raises for a bad recording: a failure is recorded (status ``failed`` and an audit
    entry ``recording.derivation_failed`` with the error) so that the worker goes on with the
    next job and a records keeper sees the problem on the recording's page.
    """
    return derive_recording(recording_id=recording_id)


def derive_recording(*, recording_id: int, force: bool = False) -> str:
    """Make the missing derivatives of a recording and set its ``derivation_status``.

    Idempotent: derivatives that already exist are kept (``force`` retries failed and done
    recordings as well, e.g. after a tool upgrade; existing files are still not replaced).
    """
    recording = Recording.objects.filter(pk=recording_id).first()
    if recording is None:
        log.warning("derivation: recording %s does not exist", recording_id)
        return "missing"
    if recording.derivation_status != DerivationStatus.PENDING and not force:
        return recording.derivation_status
    read: dict = {}
    try:
        made = _derive(recording, read)
    except Exception as exc:  # noqa: BLE001 - recorded below, visible on the page and audit log
        log.exception("derivation of recording %s failed", recording_id)
        with transaction.atomic():
            Recording.objects.filter(pk=recording.pk).update(
                derivation_status=DerivationStatus.FAILED
            )
            record(
                actor=None,
                action=events.event_recording_derivation_failed,
                target=recording,
                outcome=Outcome.FAILED,
                reason=f"{type(exc).__name__}: {exc}"[:500],
                detail={"tool_version": media.TOOL_VERSION},
            )
        return DerivationStatus.FAILED
    # Run a second time (a re-queued job, two workers), nothing new is made: still ``done``.
    has_any = made or recording.derivatives.exists()
    status = DerivationStatus.DONE if has_any else DerivationStatus.NOT_NEEDED
    with transaction.atomic():
        Recording.objects.filter(pk=recording.pk).update(derivation_status=status)
        record(
            actor=None,
            action=events.event_recording_derived,
            target=recording,
            detail={"status": str(status), "tool_version": media.TOOL_VERSION, "derivatives": made,
                    **read},
        )
    return status


def _derive(recording: Recording, read: dict | None = None) -> list[dict]:
    """Produce and store what is missing; return a description of each new derivative.

    The original is read where it is stored, its pinned version (issue 14 item 5): on S3 by
    ranged GETs, with no local copy (issue 14 item 6, ``S3Source``); ``read`` gets how many
    bytes and requests that took (``{"source_read": ...}``, kept in the audit entry)."""
    storage = get_storage()
    existing = set(recording.derivatives.values_list("kind", flat=True))
    made: list[dict] = []
    with tempfile.TemporaryDirectory(prefix=f"{DERIVE_TEMP_PREFIX}{os.getpid()}-") as tmp:
        work = Path(tmp)
        with storage.media_source(recording.storage_key, recording.storage_version) as src:
            try:
                return _derive_from(storage, recording, src, work, existing, made)
            except (OSError, media.MediaError) as exc:
                if _no_space(exc):
                    raise DerivativeSpaceTooSmall(
                        f"派生文件的临时目录 {work.parent} 空间不足（海报、缩略图和转码副本在此"
                        "生成后再存入证据库）。请扩大该磁盘或把 TMPDIR 设到更大的磁盘后重新派生"
                        "（liuhen derive --failed）",
                        detail={"folder": str(work.parent)},
                    ) from exc
                raise
            finally:
                if read is not None and hasattr(src, "fetched"):
                    read["source_read"] = {"size": src.size, "fetched": src.fetched,
                                           "requests": src.requests}


class DerivativeSpaceTooSmall(StorageFull):
    """The worker's temporary folder filled up while a derivative was being made."""

    code = "derivative_space"


def _no_space(exc: BaseException | None) -> bool:
    """ENOSPC anywhere in the exception's causes (make_proxy wraps its OSError)."""
    while exc is not None:
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            return True
        exc = exc.__cause__
    return False


def _derive_from(storage, recording, src, work: Path, existing: set, made: list) -> list[dict]:
    """The derivatives of ``recording`` from ``src`` (a path, or an S3 stream source)."""
    info = media.probe(src)
    if not info.readable:
        # Unreadable evidence is kept as is (flagged at ingest); nothing can be derived.
        if not recording.readable:
            return []
        raise media.MediaError(f"original unreadable: {info.error}")
    pictures = info.kind in ("video", "photo")
    if pictures and DerivativeKind.POSTER not in existing:
        poster = work / "poster.jpg"
        media.make_poster(src, poster)
        made.append(_store(storage, recording, DerivativeKind.POSTER, poster, "poster.jpg"))
    if info.kind == "video" and DerivativeKind.THUMBNAIL not in existing:
        for path in media.make_thumbnails(src, work / "thumbs", count=THUMBNAIL_COUNT):
            made.append(
                _store(storage, recording, DerivativeKind.THUMBNAIL, path, path.name)
            )
    needs_proxy = info.kind in ("video", "audio") and not media.is_browser_playable(info)
    if needs_proxy and DerivativeKind.PROXY not in existing:
        proxy = work / "proxy.mp4"
        media.make_proxy(src, proxy)
        made.append(_store(storage, recording, DerivativeKind.PROXY, proxy, "proxy.mp4"))
    return made


def _store(storage, recording: Recording, kind: str, path: Path, name: str) -> dict:
    """Put one derived file in the vault and record it as a Derivative row."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_HASH_CHUNK):
            digest.update(chunk)
    key = derived_key(recording.sha256, name)
    info = media.probe(path)
    storage.put_file(key, path)
    with transaction.atomic():
        derivative, _ = Derivative.objects.get_or_create(
            storage_key=key,
            defaults={
                "recording": recording,
                "kind": kind,
                "size": path.stat().st_size,
                "sha256": digest.hexdigest(),
                "media_type": info.media_type,
                "width": info.width,
                "height": info.height,
                "tool_version": media.TOOL_VERSION,
            },
        )
    return {"kind": str(kind), "key": key, "sha256": derivative.sha256, "size": derivative.size}
