"""Rows the detectors read, made directly: a detector reads only the rows' fields (capture
time, lateness, links), so recordings here are rows with consistent digests, not ingested media
(the ingest itself is tested with real PyAV media in evidence and devices)."""

from __future__ import annotations

import hashlib
import itertools
from datetime import timedelta

from django.utils import timezone

from liuhen.evidence.models import FixityCheck, Recording

_counter = itertools.count(1)


def make_recording(*, officer, captured, unit=None, late_hours: float = 0, kind="video",
                   **fields):
    n = next(_counter)
    digest = hashlib.sha256(f"recording-{n}".encode()).hexdigest()
    late_seconds = int(late_hours * 3600)
    return Recording.objects.create(
        kind=kind, original_name=f"DSJ_{n}.mp4", size=1000 + n, captured_start=captured,
        capture_time_source="metadata", officer=officer, unit=unit or officer.unit,
        sha256=digest, sm3=hashlib.sha256(digest.encode()).hexdigest(),
        storage_key=f"sha256/{digest[:2]}/{digest}", uploaded_by=officer.user, channel="web",
        deadline_at=captured + timedelta(hours=30),
        stored_at=captured + timedelta(hours=30) + timedelta(seconds=late_seconds),
        late_seconds=late_seconds, is_late=late_seconds > 0,
        flags=["late"] if late_seconds else [], is_flagged=bool(late_seconds), **fields)


def make_fixity(recording, outcome: str):
    return FixityCheck.objects.create(recording=recording, storage_key=recording.storage_key,
                                      outcome=outcome, at=timezone.now(),
                                      tool_version="liuhen-test")
