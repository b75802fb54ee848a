"""Domain rules of the evidence vault: ingest of originals, marks, links and devices.

Browser uploads, the tus server and the ingest station all call :func:`ingest_recording`, so
every original is digested, classified (第十八条), checked against the 24-hour rule (第十三条)
and stored the same way, and never stored twice.
"""

from __future__ import annotations

import logging
import os
import signal
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from liuhen.access.choices import Role
from liuhen.access.querysets import unit_allowed, user_unit
from liuhen.audit.services import record, record_denied
from liuhen.core.errors import Conflict, Forbidden, InvalidInput, LiuhenError, NotFound
from liuhen.core.files import printable_name
from liuhen.devices.models import Device
from liuhen.devices.queries import DeviceMemo
from liuhen.evidence import events, media
from liuhen.evidence.choices import (
    CaptureTimeSource,
    IngestChannel,
    MarkLabel,
    RecordingFlag,
    RecordingKind,
)
from liuhen.evidence.classify import (
    capture_time,
    deadline_for,
    device_flags,
    local_zone,
    media_type,
    officer_flags,
    recording_kind,
)
from liuhen.evidence.digests import Digests, parse_sha256
from liuhen.evidence.links import (  # noqa: F401  (re-exported: the services' public names)
    LINK_LABELS,
    add_case_link,
    create_primary_link,
    end_case_link,
    link_recording,
    recording_changed,
)
from liuhen.evidence.models import (
    CaseLink,
    Mark,
    Recording,
    RecordingSubmission,
    UploadSession,
)
from liuhen.evidence.storage import Staged, get_storage, original_key
from liuhen.evidence.tasks import enqueue_derivation, queue_in_database
from liuhen.org.services import ensure_qualified

log = logging.getLogger(__name__)

class ChecksumMismatch(InvalidInput):
    code = "checksum_mismatch"
    status = 460  # tus checksum extension; the JSON API answers 400 (see api.py)
    message = "文件校验值与声明的 SHA-256 不一致，文件可能在传输中损坏，未保存任何内容"


class TooLarge(LiuhenError):
    code = "too_large"
    status = 413
    message = "文件超过允许的最大大小，未保存任何内容"


@dataclass
class IngestResult:
    recording: Recording
    duplicate: bool
    submission: RecordingSubmission | None


def _crash_point(name: str) -> None:
    """Test seam for the crash-atomicity tests: ``LIUHEN_TEST_CRASH_AT=<name>`` makes the
    process SIGKILL itself here, exactly like a power cut. Unset in production."""
    if os.environ.get("LIUHEN_TEST_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)


def resolve_context(*, actor, device, officer, case, patrol, party):
    """The officer and owning unit of a new recording, refused (audited) when not allowed.

    The tus server calls it when an upload is created, to refuse early what the final ingest
    would refuse after gigabytes were sent."""
    if officer is None and device is not None and device.officer_id:
        officer = device.officer
    actor_officer = getattr(actor, "officer", None)
    if officer is None and actor_officer is not None and actor_officer.role == Role.OFFICER:
        officer = actor_officer
    if case is not None:
        unit = case.unit
    elif patrol is not None:
        unit = patrol.unit
    elif officer is not None:
        unit = officer.unit
    elif device is not None:
        unit = device.unit
    else:
        unit = user_unit(actor)
    if unit is None:
        raise InvalidInput("无法确定音像记录所属执法单位，请指定设备、执法人员或案件")
    if party is not None and case is not None and not case.parties.filter(pk=party.pk).exists():
        raise InvalidInput("该当事人不属于所选案件")
    if patrol is not None and case is not None and case.patrol_id not in (None, patrol.pk):
        raise InvalidInput("该巡查与所选案件不一致")
    if not unit_allowed(actor, "recording.upload", unit):
        record_denied(
            actor=actor,
            action=events.event_recording_refused,
            target=("org.unit", str(unit.pk), str(unit)),
            reason="无权为该单位上传音像记录",
        )
        raise Forbidden("无权为该单位上传音像记录")
    return officer, unit


def _refuse(actor, reason: str, detail: dict) -> None:
    record_denied(
        actor=actor,
        action=events.event_recording_refused,
        target=("evidence.recording", detail.get("sha256", "")[:64]),
        reason=reason,
        detail=detail,
    )


@dataclass(frozen=True)
class Identified:
    """What the file says about itself: media facts and when it was captured (第十八条)."""

    info: media.MediaInfo
    start: datetime
    source: str  # CaptureTimeSource


@dataclass(frozen=True)
class Classified:
    """How the original is filed: its 第十三条 deadline, how late it came, its flags."""

    deadline: datetime
    late_seconds: int
    flags: list


@dataclass
class Prepared:
    """A file staged (copied into the vault's reach while SHA-256 and SM3 were computed) and
    its staged copy probed: the part of an ingest that needs no database (see
    :func:`prepare_original`). Handed to :func:`ingest_recording`, which discards it."""

    staged: Staged
    info: media.MediaInfo

    def discard(self) -> None:
        self.staged.discard()


def prepare_original(source_path) -> Prepared:
    """Stage ``source_path`` and probe the staged copy, touching no database: the ingest
    station runs this for the next files on a pool thread while the main thread registers
    the current one (issue 9 item 2), so the copy, both digests and the probe of one file
    overlap with the rows, audit entry and commit of another. The copy is what is hashed and
    probed, so the digests and media facts are those of the bytes stored, read once."""
    staged = get_storage().stage(Path(source_path))
    try:
        return Prepared(staged, media.probe(staged.path))
    except BaseException:
        staged.discard()
        raise


def ingest_recording(
    *,
    source_path,
    original_name: str,
    actor,
    channel: str,
    device: Device | None = None,
    officer=None,
    case=None,
    patrol=None,
    party=None,
    location: str = "",
    captured_at: datetime | None = None,
    declared_sha256: str | None = None,
    digests: Digests | None = None,
    upload: UploadSession | None = None,
    link_duplicate: bool = True,
    prepared: Prepared | None = None,
    group: IngestGroup | None = None,
) -> IngestResult:
    """Store one original, or link a duplicate (same SHA-256) to the one already stored.

    The object is written first (atomically), then the row, its submission and the audit entry
    in one transaction: a crash in between leaves an orphan object, which ``liuhen verify``
    reports and a retry of the same file adopts. ``digests`` are passed by the tus server,
    which computed them while the bytes arrived; otherwise they are computed while the file is
    copied into storage. Unreadable media is stored and flagged, never refused.

    The steps: receive (what was sent, by whom, for which unit), digest, identify, classify,
    store (the object), register (the row, in one transaction with its audit entry), derive
    (queued after commit).

    ``upload`` (a tus upload) is marked finished in the same transaction as its recording or
    duplicate submission: after a crash either both exist or neither, so a retried finish
    never adds a second submission row for the same upload (issue 16).

    ``link_duplicate=False`` (the ingest station emptying a camera again) reports bytes that
    are stored already without a new submission (``IngestResult.submission`` is None).

    ``prepared`` (the ingest station, issue 9 item 2) is the file already staged and probed
    by :func:`prepare_original`, on another thread while this one registered the previous
    file; it is used, then discarded, whatever happens (refusals included), exactly as a
    staging made here would be.

    ``group`` is given by :func:`ingest_group` only: the caller's transaction holds several
    files, which share its device answers and sync their object directories once.
    """
    staged = prepared.staged if prepared is not None else None
    try:
        source, original_name, declared = _receive(source_path, original_name, channel,
                                                   declared_sha256)
        officer, unit = resolve_context(
            actor=actor, device=device, officer=officer, case=case, patrol=patrol, party=party
        )
        _check_size(actor, source, original_name)
        storage = get_storage()
        if staged is None:
            # A tus upload's bytes were fsynced PATCH by PATCH before each offset was recorded,
            # and only a complete upload is ingested: its object needs no second sync (issue 9
            # item 2: on this disk every fsync is a cache flush, about 3-4 ms).
            staged = storage.stage(source, digests=digests, durable=upload is not None)
        _crash_point("after_stage")
        found = _digest(staged, declared, actor=actor, original_name=original_name)
        existing = Recording.objects.filter(sha256=found.sha256).first()
        if existing is not None and not link_duplicate:
            return IngestResult(existing, True, None)
        if existing is not None:
            return _link_duplicate(
                existing, actor=actor, channel=channel, original_name=original_name,
                upload=upload, case=case,
            )
        now = timezone.now()
        identified = _identify(staged.path, original_name, captured_at, now,
                               officer=officer, actor=actor,
                               info=prepared.info if prepared is not None else None)
        classified = _classify(identified, now, device=device, officer=officer, unit=unit,
                               memo=group.devices if group is not None else None)
        key, version = _store(storage, staged, found,
                              sync_later=group.directories if group is not None else None)
        try:
            recording, submission = _register(
                found, key, identified, classified, now, storage=storage, version=version,
                actor=actor,
                channel=channel, original_name=original_name, device=device,
                officer=officer, unit=unit, patrol=patrol, case=case, party=party,
                location=location, upload=upload)
        except IntegrityError:
            # Another ingest of the same bytes won the race: ours is a duplicate.
            existing = Recording.objects.filter(sha256=found.sha256).first()
            if existing is None:
                raise
            return _link_duplicate(
                existing, actor=actor, channel=channel, original_name=original_name,
                upload=upload, case=case,
            )
        log.info("stored %s as recording %s (%s)", original_name, recording.pk, found.sha256)
        return IngestResult(recording, False, submission)
    finally:
        if staged is not None:
            staged.discard()


@dataclass
class IngestGroup:
    """What the files of one :func:`ingest_group` share: the device's answers (status and
    holder at each capture moment, kept for the group's transaction) and the directories their
    objects were renamed into, synced once before the group commits."""

    devices: DeviceMemo = field(default_factory=DeviceMemo)
    directories: set = field(default_factory=set)


class _GroupAborted(DatabaseError):
    """A file's failure left the group's transaction unusable (marked for rollback)."""


# A group holds the database's write lock (SQLite) while it registers: at most this many files.
GROUP_MAX = 32


def ingest_group(calls: list[dict]) -> list[IngestResult | Exception]:
    """Ingest several originals in one transaction: group commit (the ingest station, issue 9
    item 2). ``calls`` holds the keyword arguments of :func:`ingest_recording`, one dict per
    file; the answer is, in the same order, each file's :class:`IngestResult` or the exception
    that refused or failed it.

    One commit for the group instead of one per file, and on a local folder one journal commit
    for the objects' directory entries instead of one per file, without weakening what a single
    ingest guarantees: each original is whole or absent, with its own submission and its own
    audit entry in the transaction that writes its row (第二十六条); a file refused or failing
    alone rolls back its own savepoint and the others go on (a refusal's audit entry stays);
    every object and the directory entry that names it are durable before the commit, so a
    visible row always names durable bytes; a crash leaves none of the group's rows, only
    objects a retry adopts, as after a single ingest. A database error (or a failure that left
    the transaction unusable) abandons the group: each of its files then runs again alone, in
    its own transaction, copied and hashed again from its source.
    """
    group = IngestGroup()
    results: list[IngestResult | Exception] = []
    try:
        with transaction.atomic():
            for kwargs in calls:
                try:
                    results.append(ingest_recording(**kwargs, group=group))
                except DatabaseError:
                    raise
                except Exception as exc:  # noqa: BLE001 - refused or failed alone: the others go on
                    if transaction.get_rollback():
                        raise _GroupAborted(str(exc)) from exc
                    results.append(exc)
            get_storage().sync_directories(group.directories)
            _crash_point("before_group_commit")
    except DatabaseError:
        log.warning("ingest group of %s files abandoned; each file alone", len(calls),
                    exc_info=True)
        results = [_ingest_alone(kwargs) for kwargs in calls]
    finally:
        for kwargs in calls:  # what an interruption left unused (each is discarded once)
            if kwargs.get("prepared") is not None:
                kwargs["prepared"].discard()
    return results


def _ingest_alone(kwargs: dict) -> IngestResult | Exception:
    """One file of an abandoned group, in its own transaction, staged again from its source."""
    if kwargs.get("prepared") is not None:
        kwargs["prepared"].discard()
    try:
        return ingest_recording(**{**kwargs, "prepared": None})
    except Exception as exc:  # noqa: BLE001 - the caller reports it for this file
        return exc


def _receive(source_path, original_name: str, channel: str, declared_sha256: str | None):
    """What was sent: the file, its name as the device gave it, the channel, the digest the
    sender declared (refused when malformed)."""
    source = Path(source_path)
    # Control characters (CR/LF, ...) are made visible, never stored as such (issue 16 item 12);
    # the name as sent is kept in the audit entry.
    sent = (original_name or source.name).replace("\\", "/").rsplit("/", 1)[-1][:255]
    original_name = printable_name(sent)
    if sent != original_name:
        log.warning("file name with control characters stored as %r (sent as %r)",
                    original_name, sent)
    if channel not in IngestChannel.values:
        raise InvalidInput(f"未知的上传方式：{channel}")
    declared = None
    if declared_sha256:
        declared = parse_sha256(declared_sha256)
        if declared is None:
            raise InvalidInput("声明的 SHA-256 格式不正确（应为64位十六进制或 Base64）")
    return source, original_name, declared


def _check_size(actor, source: Path, original_name: str) -> None:
    try:
        size = source.stat().st_size
    except OSError as exc:
        raise InvalidInput("找不到要上传的文件") from exc
    if size > settings.UPLOAD_MAX_BYTES:
        _refuse(actor, "文件超过允许的最大大小", {"size": size, "name": original_name})
        raise TooLarge(detail={"size": size, "max": settings.UPLOAD_MAX_BYTES})


def _digest(staged, declared: str | None, *, actor, original_name: str) -> Digests:
    """The staged copy's digests (SHA-256 and SM3, computed while it was copied or received),
    refused (audited) when they differ from what the sender declared."""
    found = staged.digests
    if declared and declared != found.sha256:
        _refuse(
            actor,
            "校验值不一致",
            {"declared_sha256": declared, "sha256": found.sha256, "name": original_name},
        )
        raise ChecksumMismatch(detail={"declared_sha256": declared, "sha256": found.sha256})
    return found


def _identify(path: Path, original_name: str, captured_at, now, *, officer, actor,
              info: media.MediaInfo | None = None) -> Identified:
    """Media facts (``info`` when the staged copy was probed already) and the capture time;
    the officer must be qualified on that day (第十一条)."""
    if info is None:
        info = media.probe(path)
    start, source_kind = capture_time(info, original_name, captured_at, now)
    if officer is not None:
        ensure_qualified(
            [officer],
            on=start.astimezone(local_zone()).date(),
            actor=actor,
            purpose="作为音像记录的执法人员",
        )
    return Identified(info, start, source_kind)


def _classify(identified: Identified, now, *, device, officer, unit,
              memo: DeviceMemo | None = None) -> Classified:
    """The 第十三条 deadline and lateness, and the flags a records keeper must look at."""
    flags = device_flags(device, unit, at=identified.start, officer=officer,
                         memo=memo) + officer_flags(officer, unit)
    if not identified.info.readable:
        flags.insert(0, RecordingFlag.UNREADABLE)
    deadline = deadline_for(identified.start)
    late_seconds = max(0, int((now - deadline).total_seconds()))
    if late_seconds:
        flags.append(RecordingFlag.LATE)
    if identified.source == CaptureTimeSource.UPLOAD_TIME:
        # Neither the file, its name nor the uploader said when it was recorded, so the
        # 第十三条 24-hour check could not be made: a records keeper must look at it.
        flags.append(RecordingFlag.TIME_UNKNOWN)
    return Classified(deadline, late_seconds, flags)


def _store(storage, staged, found: Digests, *, sync_later: set | None = None) -> tuple[str, str]:
    """Write the object under its content address (never over another one); return the key
    and the object version to pin (S3 VersionId, issue 14 item 5; "" for a folder).
    ``sync_later`` (a group): the directories to sync before the group's commit."""
    key = original_key(found.sha256)
    version = storage.commit(staged, key, sync_later=sync_later) or ""
    _crash_point("after_object")
    return key, version


def _recording_fields(found: Digests, key: str, identified: Identified,
                      classified: Classified, original_name: str) -> dict:
    """The columns of a new Recording that describe the original itself."""
    info, start = identified.info, identified.start
    return {
        "kind": recording_kind(info, original_name),
        "original_name": original_name,
        "size": found.size,
        "media_type": media_type(info, original_name)[:100],
        "container": (info.container or "")[:50],
        "video_codec": (info.video_codec or "")[:50],
        "audio_codec": (info.audio_codec or "")[:50],
        "duration_seconds": info.duration_seconds,
        "width": info.width,
        "height": info.height,
        "media_info": info.as_dict(),
        "captured_start": start,
        "captured_end": (start + timedelta(seconds=info.duration_seconds)
                         if info.duration_seconds else None),
        "capture_time_source": identified.source,
        "sha256": found.sha256,
        "sm3": found.sm3,
        "storage_key": key,
        "deadline_at": classified.deadline,
        "late_seconds": classified.late_seconds,
        "is_late": bool(classified.late_seconds),
        "readable": info.readable,
        "read_error": (info.error or "")[:2000],
        "flags": [str(f) for f in classified.flags],
        "is_flagged": bool(classified.flags),
    }


def _register(found: Digests, key: str, identified: Identified, classified: Classified, now,
              *, storage, actor, channel: str, original_name: str, device, officer, unit,
              patrol, case, party, location: str, upload=None, version: str = ""):
    """The row, its first submission and the audit entry, in one transaction; the derivation
    is queued once it commits, and the case's completeness and deadlines recompute."""
    with transaction.atomic():
        recording = Recording.objects.create(
            **_recording_fields(found, key, identified, classified, original_name),
            device=device, officer=officer, unit=unit, patrol=patrol, case=case,
            party=party, location=(location or "")[:200], uploaded_by=actor,
            channel=channel, stored_at=now, storage_version=version,
        )
        submission = RecordingSubmission.objects.create(
            recording=recording, submitted_by=actor, channel=channel,
            original_name=original_name, at=now, was_duplicate=False,
        )
        if case is not None:
            create_primary_link(recording=recording, case=case, actor=actor,
                                reason="上传时指定案件")
        record(
            actor=actor,
            action=events.event_recording_stored,
            target=recording,
            detail={
                "sha256": found.sha256,
                "sm3": found.sm3,
                "size": found.size,
                "storage": storage.name,
                "key": key,
                **({"version": version} if version else {}),
                "channel": channel,
                "capture_time_source": identified.source,
                "flags": recording.flags,
                "late_seconds": classified.late_seconds,
            },
        )
        _complete_upload(upload, recording, duplicate=False)
        _queue_derivation(recording.pk)
        _crash_point("before_row_commit")
        # A recording stored with its case may meet a requirement (rules, 第十条); its
        # retention is computed (keeping, 第十四条). Its only link is the one made above.
        recording_changed(recording, actor, case_ids=[case.pk] if case is not None else [])
    return recording, submission


def _queue_derivation(recording_id: int) -> None:
    """Queue the new recording's derivation (posters, proxy: 第二十二条 review needs them).

    With the queue in the database (LIUHEN_TASKS=db, the default) the job's row is written in
    the recording's own transaction: one commit per file instead of two (issue 9 item 2), and
    a recording is never committed without its job, nor a job without its recording. Any
    other queue (Redis) gets the job once the recording is committed, so that its worker
    never looks for a row not yet visible; should that fail, the owed-work round queues it."""
    if queue_in_database():
        enqueue_derivation(recording_id, raise_errors=True)
    else:
        transaction.on_commit(lambda: enqueue_derivation(recording_id))


def _complete_upload(upload, recording: Recording, *, duplicate: bool) -> None:
    """Mark the tus upload finished, inside the caller's transaction (see ingest_recording)."""
    if upload is None:
        return
    UploadSession.objects.filter(pk=upload.pk).update(
        completed_at=timezone.now(), recording=recording, duplicate=duplicate, error={}
    )


def _link_duplicate(
    recording: Recording, *, actor, channel: str, original_name: str, upload=None, case=None
) -> IngestResult:
    """Same bytes again: nothing is stored twice; the submission is linked and audited.

    Sent for another case (one visit concerning two employers), the recording is linked to
    that case too: the sender may upload for its unit (checked by ``resolve_context``). A
    disposed original (a tombstone) is never re-stored or re-linked."""
    if recording.disposed_at is not None:
        _refuse(actor, "该文件的原件已依法销毁，不得再次提交",
                {"sha256": recording.sha256, "name": original_name,
                 "disposal_register": recording.disposal_register})
        raise Conflict("该文件的原件已依法销毁（销毁清册 "
                       f"{recording.disposal_register}），不得再次提交")
    with transaction.atomic():
        submission = RecordingSubmission.objects.create(
            recording=recording,
            submitted_by=actor,
            channel=channel,
            original_name=original_name,
            was_duplicate=True,
        )
        record(
            actor=actor,
            action=events.event_recording_duplicate_submitted,
            target=recording,
            detail={
                "sha256": recording.sha256,
                "original_name": original_name,
                "channel": channel,
                "submission": submission.pk,
            },
        )
        if case is not None and not CaseLink.objects.filter(
                recording=recording, case=case, ended_at__isnull=True).exists():
            recording = Recording.objects.select_for_update().get(pk=recording.pk)
            link = CaseLink.objects.create(
                recording=recording, case=case, is_primary=recording.case_id is None,
                linked_by=actor, reason="再次提交同一文件时指定了该案件")
            if link.is_primary:
                recording.case, recording.unit = case, case.unit
                recording.save(update_fields=["case", "unit"])
            record(actor=actor, action=events.event_recording_case_linked, target=recording,
                   reason=link.reason, detail={"link": link.pk, "case": case.pk,
                                               "case_number": case.number,
                                               "primary": link.is_primary,
                                               "submission": submission.pk})
            recording_changed(recording, actor)
        _complete_upload(upload, recording, duplicate=True)
        _crash_point("before_duplicate_commit")
    return IngestResult(recording, True, submission)


def add_mark(
    *, actor, recording: Recording, offset_seconds: float, label: str, note: str = ""
) -> Mark:
    """Mark a point of a recording with one of the regulation's items (第六条, 第八条)."""
    if not unit_allowed(actor, "recording.mark", recording.unit):
        record_denied(
            actor=actor,
            action=events.event_recording_marked,
            target=recording,
            reason="无权标注该音像记录",
        )
        raise NotFound()
    if label not in MarkLabel.values:
        raise InvalidInput("标注类型不在规定的项目中")
    try:
        offset = float(offset_seconds)
    except (TypeError, ValueError) as exc:
        raise InvalidInput("时间点应为秒数") from exc
    if offset != offset or offset < 0:  # NaN or negative
        raise InvalidInput("时间点不能为负数")
    if recording.duration_seconds is not None and offset > recording.duration_seconds + 1:
        raise InvalidInput(f"时间点超过了记录时长（{recording.duration_seconds:.1f}秒）")
    if recording.kind == RecordingKind.PHOTO and offset:
        raise InvalidInput("照片的标注时间点只能为0")
    note = (note or "").strip()
    if label == MarkLabel.OTHER and not note:
        raise InvalidInput("标注为“其他”时请填写说明")
    with transaction.atomic():
        mark = Mark.objects.create(
            recording=recording,
            offset_seconds=offset,
            label=label,
            note=note[:500],
            created_by=actor,
        )
        record(
            actor=actor,
            action=events.event_recording_marked,
            target=recording,
            detail={"mark": mark.pk, "label": label, "offset_seconds": offset, "note": note},
        )
        # A mark may meet a requirement (第六条, 第八条, 第二十条) of any linked case.
        recording_changed(recording, actor)
    return mark
