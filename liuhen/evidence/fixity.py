"""Fixity: re-read stored originals, recompute SHA-256 and SM3, record every check.

One function, :func:`verify_recordings`, serves ``liuhen verify`` and the scheduled job (as
paperless-ngx's sanity checker does). Every check is an event with its outcome, time and tool
version, failures included (FixityCheck + audit entry); a mismatch or a missing object is an
alert: an audit entry with outcome ``failed``, an ERROR log line, and a FixityCheck the legal
affairs office lists (``GET /api/fixity-checks?failed_only=true``). Orphans are reported both
ways: objects with no row (e.g. a crash between object and row; the next ingest of the same
file adopts them) and rows with no object. 第二十六条 (二): an altered or lost original must
not go unnoticed. A tombstone (an original lawfully disposed of, ``evidence.disposal``) is not
checked: its object is meant to be gone, so it is neither missing nor, while its erasure is
still pending, an orphan (those are counted as ``pending_erasure``).

SM3 runs on one core per file, so a pass reads and hashes up to ``PARALLEL_FILES`` originals
side by side (threads: hashlib releases the GIL); the checks are still recorded one at a time,
in recording order, by the calling thread.

Recordings are not the only stored originals: a document's scan (文字记录) lies in the same
content-addressed store and 第二十六条 (二) protects it as much. An app above registers such a
kind with :func:`register_stored_kind` (the records app does, for document scans, in its
``AppConfig.ready``); every pass then re-reads those originals too, records each check with its
``object_kind``, and the orphan scan knows their keys, so a scan is never called an orphan.
"""

from __future__ import annotations

import collections
import logging
import os
import platform
import random
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from liuhen.audit.choices import Outcome
from liuhen.audit.services import record
from liuhen.core.errors import LiuhenError
from liuhen.evidence import events
from liuhen.evidence.choices import FixityObjectKind, FixityOutcome
from liuhen.evidence.digests import Digests, DigestWriter, iter_chunks
from liuhen.evidence.models import FixityCheck, Recording
from liuhen.evidence.storage import ORIGINALS_PREFIX, get_storage

log = logging.getLogger(__name__)

TOOL_VERSION = f"liuhen-fixity/1 hashlib sha256+sm3 / Python {platform.python_version()}"
ORPHAN = "orphan_object"
READ_CHUNK = 4 * 1024 * 1024
PARALLEL_FILES = max(1, min(4, os.cpu_count() or 1))  # originals read and hashed at once


@dataclass(frozen=True)
class StoredKind:
    """A kind of stored original that fixity re-reads: rows carrying ``storage_key``,
    ``sha256``, ``sm3`` and ``size`` of an original in the vault's storage.

    ``rows`` returns the queryset of rows whose original is stored; ``stored_field`` is the
    time field ``--since`` compares with.
    """

    code: str  # a FixityObjectKind value
    label: str
    rows: Callable[[], object]
    stored_field: str
    # Disposed rows (tombstones) whose object's erasure is still pending: neither checked nor
    # called missing, and their keys are not orphans (keeping.disposal, issue 11).
    pending_erasure: Callable[[], object] | None = None


# A tombstone (a lawfully disposed original, evidence.disposal) has no object to re-read.
_RECORDINGS = StoredKind(
    code=FixityObjectKind.RECORDING, label=FixityObjectKind.RECORDING.label,
    rows=lambda: Recording.objects.filter(disposed_at__isnull=True), stored_field="stored_at",
    pending_erasure=lambda: Recording.objects.filter(
        disposed_at__isnull=False, disposal__object_erased_at__isnull=True))
_KINDS: dict[str, StoredKind] = {_RECORDINGS.code: _RECORDINGS}


def register_stored_kind(kind: StoredKind) -> None:
    """Add a kind of stored original to every fixity pass (called by apps above, in ready())."""
    if kind.code not in FixityObjectKind.values or kind.code == FixityObjectKind.ORPHAN:
        raise ValueError(f"unknown fixity object kind {kind.code!r}: add it to FixityObjectKind")
    _KINDS[kind.code] = kind


def stored_kinds() -> tuple[StoredKind, ...]:
    """Recordings first, then the registered kinds in registration order."""
    return tuple(_KINDS.values())


@dataclass
class FixityReport:
    """What one run found; ``failed`` is True when anything needs a person's attention."""

    checked: int = 0
    ok: int = 0
    bytes_read: int = 0
    problems: list[dict] = field(default_factory=list)  # mismatch / missing / error
    orphans: list[str] = field(default_factory=list)  # objects with no row
    pending_erasure: list[str] = field(default_factory=list)  # tombstones' objects not yet erased
    temp_files_removed: int = 0
    seconds: float = 0.0
    by_kind: dict[str, int] = field(default_factory=dict)  # originals checked per object kind

    @property
    def failed(self) -> bool:
        return bool(self.problems or self.orphans)

    def summary(self) -> str:
        kinds = "、".join(
            f"{FixityObjectKind(code).label} {n}" for code, n in self.by_kind.items()
        )
        return (
            f"已校验 {self.checked} 个原件（{kinds or '无'}）：一致 {self.ok}，"
            f"异常 {len(self.problems)}，"
            f"孤立对象 {len(self.orphans)}"
            + (f"，待删除的已销毁原件 {len(self.pending_erasure)}" if self.pending_erasure else "")
            + f"；读取 {self.bytes_read / 1e6:.1f} MB，"
            f"用时 {self.seconds:.1f} 秒"
        )


def _select(scope: str, since: datetime | None, sample: int | None) -> dict | None:
    """The rows to check per kind: ``None`` for every row of every kind, else
    ``{kind code: [pk, …]}``. A sample is drawn from all kinds together."""
    if scope == "since":
        if since is None:
            raise ValueError("scope 'since' needs a date")
        return {
            kind.code: list(
                kind.rows().filter(**{f"{kind.stored_field}__gte": since})
                .order_by("pk").values_list("pk", flat=True)
            )
            for kind in stored_kinds()
        }
    if scope == "sample":
        pool = [(kind.code, pk) for kind in stored_kinds()
                for pk in kind.rows().order_by("pk").values_list("pk", flat=True)]
        chosen: dict[str, list[int]] = {kind.code: [] for kind in stored_kinds()}
        for code, pk in random.sample(pool, min(sample or 0, len(pool))):
            chosen[code].append(pk)
        return {code: sorted(pks) for code, pks in chosen.items()}
    return None  # all


def _rows(kind: StoredKind, selection: dict | None):
    """The rows of ``kind`` to check, in primary-key order, read a chunk at a time."""
    qs = kind.rows().order_by("pk")
    if selection is None:
        return qs.iterator(chunk_size=500)
    ids = selection.get(kind.code, [])
    return (row for i in range(0, len(ids), 500) for row in qs.filter(pk__in=ids[i:i + 500]))


def _other_versions(storage, key: str, pinned: str) -> list[str]:
    """Versions on ``key`` besides the pinned one (S3 only): someone put new bytes on an
    original's key. Object Lock keeps the pinned version, Liuhen never serves the new one;
    fixity reports it as a tamper attempt (第二十六条 (二), issue 14 item 5)."""
    return [f"{v['VersionId']} ({v['Size']} B, {v['LastModified'].isoformat()})"
            for v in storage.versions_of(key) if v["VersionId"] != pinned][:20]


def _read_object(storage, recording: Recording) -> tuple[str, Digests | None, dict]:
    """Re-read one original (streaming) and compare; no database access, so that several
    run at once on threads (hashlib releases the GIL)."""
    writer = DigestWriter()
    outcome, detail = FixityOutcome.OK, {"size": recording.size, "storage": storage.name}
    version = getattr(recording, "storage_version", "")  # documents keep no version
    if version:
        detail["version"] = version
    try:
        with storage.open(recording.storage_key, version) as fh:
            for chunk in iter_chunks(fh, READ_CHUNK):
                writer.update(chunk)
        found = writer.digests()
        detail["found_size"] = found.size
        if (found.sha256, found.sm3, found.size) != (
            recording.sha256,
            recording.sm3,
            recording.size,
        ):
            outcome = FixityOutcome.MISMATCH
        elif version and (others := _other_versions(storage, recording.storage_key, version)):
            outcome, detail["other_versions"] = FixityOutcome.NEW_VERSION, others
    except FileNotFoundError:
        outcome, found = FixityOutcome.MISSING, None
    except (OSError, LiuhenError) as exc:
        outcome, found = FixityOutcome.ERROR, None
        detail["error"] = f"{type(exc).__name__}: {exc}"[:500]
    return outcome, found, detail


def _record_check(
    item, outcome: str, found: Digests | None, detail: dict, *, actor,
    kind: StoredKind = _RECORDINGS,
) -> FixityCheck:
    """The check as an event: a FixityCheck row and its audit entry, failures included.
    ``item`` is a recording, or a row of another registered kind (a document scan)."""
    is_recording = kind.code == FixityObjectKind.RECORDING
    with transaction.atomic():
        check = FixityCheck.objects.create(
            recording=item if is_recording else None,
            object_kind=kind.code,
            object_id=item.pk,
            storage_key=item.storage_key,
            outcome=outcome,
            expected_sha256=item.sha256,
            expected_sm3=item.sm3,
            found_sha256=found.sha256 if found else "",
            found_sm3=found.sm3 if found else "",
            tool_version=TOOL_VERSION,
            detail=detail,
        )
        ok = outcome == FixityOutcome.OK
        record(
            actor=actor,
            action=events.event_fixity_checked if ok else events.event_fixity_failed,
            target=item,
            outcome=Outcome.SUCCEEDED if ok else Outcome.FAILED,
            reason="" if ok else f"{kind.label}固定值校验{check.get_outcome_display()}",
            detail={
                "check": check.pk,
                "kind": kind.code,
                "outcome": str(outcome),
                "key": item.storage_key,
                "expected_sha256": item.sha256,
                "found_sha256": check.found_sha256,
                "expected_sm3": item.sm3,
                "found_sm3": check.found_sm3,
            },
        )
    if outcome != FixityOutcome.OK:
        log.error("FIXITY ALERT: %s %s (%s) %s", kind.code, item.pk, item.storage_key, outcome)
    return check


def check_recording(recording: Recording, *, storage=None, actor=None) -> FixityCheck:
    """Re-read one original (streaming) and record the outcome."""
    storage = storage or get_storage()
    outcome, found, detail = _read_object(storage, recording)
    return _record_check(recording, outcome, found, detail, actor=actor)


def _read_in_order(storage, recordings: Iterable[Recording]):
    """``(recording, (outcome, found, detail))`` in the given order, while up to
    ``PARALLEL_FILES`` originals are read and hashed at once.

    One SM3 runs on one core (it cannot be split within a file), so reading files side by
    side is what lets a fixity pass use every core. The rows are written by the caller's
    thread, in order, as the audit chain needs."""
    window: collections.deque = collections.deque()
    with ThreadPoolExecutor(PARALLEL_FILES, thread_name_prefix="liuhen-fixity") as pool:
        try:
            for recording in recordings:
                window.append((recording, pool.submit(_read_object, storage, recording)))
                if len(window) > PARALLEL_FILES:
                    done, future = window.popleft()
                    yield done, future.result()
            while window:
                done, future = window.popleft()
                yield done, future.result()
        finally:
            for _recording, future in window:
                future.cancel()


def _pending_erasure_keys() -> list[str]:
    """Keys of every kind's tombstones whose object is still to be erased."""
    return [key for kind in stored_kinds() if kind.pending_erasure is not None
            for key in kind.pending_erasure().exclude(storage_key="")
            .values_list("storage_key", flat=True).iterator(chunk_size=5000)]


def _orphans(storage, actor) -> list[str]:
    """Objects under ``sha256/`` that no row of any kind (recordings, document scans) names.
    Each is recorded and audited."""
    keys = set(storage.iter_keys(ORIGINALS_PREFIX))
    for kind in stored_kinds():
        for key in kind.rows().values_list("storage_key", flat=True).iterator(chunk_size=5000):
            keys.discard(key)
    # Tombstones too: a disposed original whose erasure is pending is not an orphan (its row
    # says why it is there and what will remove it).
    for key in _pending_erasure_keys():
        keys.discard(key)
    orphans = sorted(keys)
    for key in orphans:
        with transaction.atomic():
            check = FixityCheck.objects.create(
                recording=None,
                object_kind=FixityObjectKind.ORPHAN,
                storage_key=key,
                outcome=FixityOutcome.ERROR,
                tool_version=TOOL_VERSION,
                detail={"problem": ORPHAN, "message": "存储中有对象但没有对应的音像记录或文字记录"},
            )
            record(
                actor=actor,
                action=events.event_fixity_orphan,
                outcome=Outcome.FAILED,
                target=("evidence.object", key[-64:], key),
                reason="孤立对象：存储中有对象但没有对应的音像记录或文字记录",
                detail={"check": check.pk, "key": key},
            )
        log.error("FIXITY ALERT: orphan object %s (no recording row)", key)
    return orphans


def verify_recordings(
    *,
    scope: str = "all",
    since: datetime | None = None,
    sample: int | None = None,
    actor=None,
    orphans: bool = True,
    progress=None,
) -> FixityReport:
    """Check the chosen originals and report orphans; used by the command and the job.

    ``scope``: ``all``, ``since`` (stored since ``since``) or ``sample`` (``sample`` random
    originals, of every registered kind together). Recordings are checked first, then each
    registered kind (document scans). Rows whose object is gone are found by the checks themselves (``missing``);
    with a partial scope the orphan scan still compares every row with every object key.
    """
    started = timezone.now()
    storage = get_storage()
    report = FixityReport()
    selection = _select(scope, since, sample)
    for kind in stored_kinds():
        report.by_kind[kind.code] = 0
        for item, (outcome, found, detail) in _read_in_order(storage, _rows(kind, selection)):
            check = _record_check(item, outcome, found, detail, actor=actor, kind=kind)
            report.checked += 1
            report.by_kind[kind.code] += 1
            report.bytes_read += check.detail.get("found_size", 0)
            if check.outcome == FixityOutcome.OK:
                report.ok += 1
            else:
                report.problems.append(
                    {
                        "kind": kind.code,
                        kind.code: item.pk,
                        "key": check.storage_key,
                        "outcome": check.outcome,
                        "check": check.pk,
                        "detail": check.detail,
                    }
                )
            if progress:
                progress(item, check)
    if orphans:
        report.orphans = _orphans(storage, actor)
        report.pending_erasure = [key for key in _pending_erasure_keys()
                                  if storage.exists(key)]
        report.temp_files_removed = storage.clean_incoming()
    report.seconds = (timezone.now() - started).total_seconds()
    with transaction.atomic():
        record(
            actor=actor,
            action=events.event_fixity_run,
            outcome=Outcome.FAILED if report.failed else Outcome.SUCCEEDED,
            reason=report.summary(),
            detail={
                "scope": scope,
                "since": since.isoformat() if since else None,
                "sample": sample,
                "checked": report.checked,
                "by_kind": report.by_kind,
                "ok": report.ok,
                "problems": len(report.problems),
                "orphans": len(report.orphans),
                "pending_erasure": len(report.pending_erasure),
                "bytes": report.bytes_read,
                "tool_version": TOOL_VERSION,
            },
        )
    return report


@task()
def scheduled_fixity(sample: int | None = None, every_hours: int | None = None) -> dict:
    """Job: verify a random sample (or everything when ``sample`` is None). With
    ``every_hours`` it schedules its own next run, so one ``liuhen verify --schedule``
    keeps fixity checking going on the database task queue."""
    report = verify_recordings(scope="sample" if sample else "all", sample=sample)
    if every_hours and scheduled_fixity.get_backend().supports_defer:
        scheduled_fixity.using(run_after=timezone.now() + timedelta(hours=every_hours)).enqueue(
            sample=sample, every_hours=every_hours
        )
    elif every_hours:
        log.warning(
            "fixity: the task backend cannot defer jobs; schedule `liuhen verify` with cron instead"
        )
    return {
        "checked": report.checked,
        "ok": report.ok,
        "problems": len(report.problems),
        "orphans": len(report.orphans),
        "failed": report.failed,
    }
