"""Identifying and classifying an original before it is stored: when it was captured (the
media's metadata, the body camera's file name, the uploader: 第十八条), its 第十三条 deadline,
what kind of recording it is, and the device flags a records keeper must look at."""

from __future__ import annotations

import mimetypes
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from liuhen.core.errors import InvalidInput
from liuhen.devices import queries as device_queries
from liuhen.devices.models import Device
from liuhen.evidence import filenames, media
from liuhen.evidence.choices import CaptureTimeSource, RecordingFlag, RecordingKind

# Capture times outside this window are camera clocks never set (1970, 1904) or set wrong.
_EARLIEST_CAPTURE = datetime(2000, 1, 1, tzinfo=UTC)


def local_zone():
    return timezone.get_default_timezone()


def deadline_for(captured_start: datetime) -> datetime:
    """第十三条: stored within 24 hours (LIUHEN_UPLOAD_DEADLINE_HOURS) after the end of the
    capture day, the day read in the bureau's time zone (Asia/Shanghai)."""
    zone = local_zone()
    day = captured_start.astimezone(zone).date()
    end_of_day = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    return end_of_day + timedelta(hours=settings.UPLOAD_DEADLINE_HOURS)


def plausible(at: datetime | None, now: datetime) -> bool:
    return at is not None and _EARLIEST_CAPTURE <= at <= now + timedelta(days=1)


def filename_patterns() -> tuple[str, ...]:
    """The naming schemes tried in order (第十八条): the administrator's own
    (LIUHEN_FILENAME_PATTERNS, then LIUHEN_FILENAME_PATTERNS_FILE), then the built-in ones of
    evidence/data/filename_patterns.toml. The administrator extends, never loses, the list."""
    extra_file = settings.FILENAME_PATTERNS_FILE
    from_file = (
        tuple(p.regex for p in filenames.read_patterns(Path(extra_file))) if extra_file else ()
    )
    return tuple(settings.FILENAME_PATTERNS) + from_file + media.DEFAULT_FILENAME_PATTERNS


def capture_time(
    info: media.MediaInfo, original_name: str, captured_at: datetime | None, now: datetime
) -> tuple[datetime, str]:
    """The capture start and where it came from: the media's own metadata (EXIF for photos),
    else the body camera's file name, else the uploader, else the upload time (第十八条)."""
    if plausible(info.creation_time, now):
        source = CaptureTimeSource.EXIF if info.kind == "photo" else CaptureTimeSource.METADATA
        return info.creation_time, source
    from_name, _device = media.capture_time_from_filename(original_name, filename_patterns())
    if plausible(from_name, now):
        return from_name, CaptureTimeSource.FILENAME
    if captured_at is not None:
        if timezone.is_naive(captured_at):
            captured_at = timezone.make_aware(captured_at, local_zone())
        if not plausible(captured_at, now):
            raise InvalidInput("填写的拍摄时间不合理（早于2000年或晚于当前时间）")
        return captured_at, CaptureTimeSource.UPLOADER
    return now, CaptureTimeSource.UPLOAD_TIME


def recording_kind(info: media.MediaInfo, original_name: str) -> str:
    if info.kind in RecordingKind.values:
        return info.kind
    guessed = mimetypes.guess_type(original_name)[0] or ""
    for prefix, kind in (
        ("video/", RecordingKind.VIDEO),
        ("audio/", RecordingKind.AUDIO),
        ("image/", RecordingKind.PHOTO),
    ):
        if guessed.startswith(prefix):
            return kind
    return RecordingKind.OTHER


def media_type(info: media.MediaInfo, original_name: str) -> str:
    if info.media_type != "application/octet-stream":
        return info.media_type
    return mimetypes.guess_type(original_name)[0] or info.media_type


# 第十八条: why a device needs a second look (devices.queries) → the recording's flag.
_DEVICE_REASON_FLAGS = {
    device_queries.REASON_FAULTY: RecordingFlag.DEVICE_FAULTY,
    device_queries.REASON_UNDER_REPAIR: RecordingFlag.DEVICE_UNDER_REPAIR,
    device_queries.REASON_RETIRED: RecordingFlag.DEVICE_RETIRED,
    device_queries.REASON_UNASSIGNED: RecordingFlag.DEVICE_UNASSIGNED,
    device_queries.REASON_HELD_BY_OTHER: RecordingFlag.DEVICE_HELD_BY_OTHER,
}


def device_flags(device: Device | None, unit, *, at: datetime | None = None,
                 officer=None, memo: device_queries.DeviceMemo | None = None) -> list[str]:
    """第十八条: a recording from a device that was faulty, under repair or retired when it
    was captured, held by nobody or by another officer then (第二十一条, 第二十二条), or of
    another unit, is evidence all the same: accepted, and flagged for the records keeper.
    ``memo``: the device's answers kept for the caller's transaction (a group of files)."""
    if device is None:
        return []
    reasons = device_queries.capture_reasons(device, at or timezone.now(), officer, memo=memo)
    flags = [_DEVICE_REASON_FLAGS[r] for r in reasons]
    if device.unit_id != unit.pk:
        flags.append(RecordingFlag.DEVICE_OTHER_UNIT)
    return flags


def officer_flags(officer, unit) -> list[str]:
    """An officer of another unit named as the recording's subject (issue 16 item 10):
    accepted and flagged, as a device of another unit is, not refused.

    Why not refuse: joint operations (联合执法) and officers lent between units are ordinary,
    and a recording refused at the end of an upload goes back to the camera, where 第十三条
    forbids keeping it and 第二十六条(四) forbids losing it. The uploader must still be allowed
    to store for the recording's unit (``resolve_context``) and the officer must be qualified
    (第十一条); the flag puts the attribution before the records keeper and the legal affairs
    office, and the audit entry names who made it. An officer of a sub-unit of the recording's
    unit (a case of the detachment worked by one of its teams) is not "another unit".
    """
    if officer is None or officer.unit_id == unit.pk:
        return []
    if officer.unit.path.startswith(unit.path):
        return []
    return [RecordingFlag.OFFICER_OTHER_UNIT]
