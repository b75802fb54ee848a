"""The ingest service: digests, duplicates, capture time, lateness, flags (第十一条, 第十三条,
第十八条, 第二十六条)."""

from __future__ import annotations

import errno
import hashlib
import os
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from liuhen.audit.models import AuditEntry
from liuhen.core.errors import Forbidden, InvalidInput, StorageUnavailable, UnqualifiedOfficer
from liuhen.evidence.choices import CaptureTimeSource, RecordingFlag
from liuhen.evidence.classify import deadline_for
from liuhen.evidence.models import Recording, RecordingSubmission
from liuhen.evidence.services import (
    ChecksumMismatch,
    TooLarge,
    ingest_recording,
)
from liuhen.evidence.storage import LocalStorage, original_key


def _hashes(path):
    data = path.read_bytes()
    return hashlib.sha256(data).hexdigest(), hashlib.new("sm3", data).hexdigest()


def _vault_files(vault):
    return [p for p in vault.root.rglob("*") if p.is_file()]


def test_digests_match_hashlib_and_object_is_stored_read_only(people, make_media, vault):
    """第二十六条 (二): the stored original is byte-identical, its digests are SHA-256 and SM3."""
    path = make_media("h264")
    sha256, sm3 = _hashes(path)
    result = ingest_recording(
        source_path=path, original_name=path.name, actor=people["officer_a"].user, channel="web"
    )
    rec = result.recording
    assert not result.duplicate
    assert (rec.sha256, rec.sm3, rec.size) == (sha256, sm3, path.stat().st_size)
    assert rec.storage_key == original_key(sha256)
    stored = vault.path(rec.storage_key)
    assert stored.read_bytes() == path.read_bytes()
    assert stored.stat().st_mode & 0o222 == 0
    assert (rec.kind, rec.container, rec.video_codec, rec.audio_codec) == (
        "video",
        "mp4",
        "h264",
        "aac",
    )
    assert rec.width == 320 and rec.duration_seconds == pytest.approx(1, abs=0.2)
    assert rec.officer == people["officer_a"] and rec.unit == people["officer_a"].unit
    assert rec.readable and not rec.is_flagged and not rec.is_late
    assert rec.capture_time_source == CaptureTimeSource.METADATA
    entry = AuditEntry.objects.get(action="recording.stored")
    assert entry.object_id == str(rec.pk) and entry.detail["sm3"] == sm3
    assert not list((vault.root / ".incoming").iterdir())
    assert path.exists()  # the source is never removed by the service


def test_wrong_declared_checksum_stores_nothing(people, make_media, vault):
    path = make_media("h264")
    with pytest.raises(ChecksumMismatch) as err:
        ingest_recording(
            source_path=path,
            original_name=path.name,
            channel="web",
            actor=people["officer_a"].user,
            declared_sha256="0" * 64,
        )
    assert "SHA-256" in err.value.message
    assert not Recording.objects.exists()
    assert _vault_files(vault) == []
    assert AuditEntry.objects.filter(action="recording.refused", outcome="denied").exists()


def test_right_declared_checksum_in_base64_is_accepted(people, make_media):
    import base64

    path = make_media("h264")
    declared = base64.b64encode(hashlib.sha256(path.read_bytes()).digest()).decode()
    result = ingest_recording(
        source_path=path,
        original_name=path.name,
        channel="tus",
        actor=people["officer_a"].user,
        declared_sha256=declared,
    )
    assert result.recording.pk


def test_duplicate_is_linked_not_stored_twice(people, make_media, vault):
    """Same SHA-256 again: one object, one row, two submissions, an audit entry."""
    path = make_media("h264")
    first = ingest_recording(
        source_path=path, original_name="a.mp4", channel="web", actor=people["officer_a"].user
    )
    second = ingest_recording(
        source_path=path, original_name="copy.mp4", channel="station", actor=people["keeper_a"].user
    )
    assert second.duplicate and second.recording == first.recording
    assert Recording.objects.count() == 1
    subs = list(
        RecordingSubmission.objects.order_by("id").values_list(
            "original_name", "was_duplicate", "channel"
        )
    )
    assert subs == [("a.mp4", False, "web"), ("copy.mp4", True, "station")]
    assert len([p for p in _vault_files(vault) if "sha256" in str(p)]) == 1
    entry = AuditEntry.objects.get(action="recording.duplicate_submitted")
    assert entry.actor_id == people["keeper_a"].user.pk


@pytest.mark.parametrize("kind", ["truncated", "garbage"])
def test_unreadable_media_is_stored_and_flagged(people, make_media, kind):
    """Corrupt media is evidence too: stored with digests, flagged, never refused."""
    path = make_media(kind)
    rec = ingest_recording(
        source_path=path, original_name=path.name, channel="web", actor=people["officer_a"].user
    ).recording
    assert not rec.readable and rec.read_error
    assert RecordingFlag.UNREADABLE in rec.flags and rec.is_flagged
    assert rec.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert rec.kind == "video"  # from the file name when the bytes say nothing


def test_capture_time_sources(people, make_media):
    """第十八条: metadata, EXIF, file name, uploader, upload time — and which one was used."""
    actor = people["officer_a"].user
    shot = timezone.now().replace(microsecond=0) - timedelta(hours=3)
    jpeg = make_media("jpeg", captured=shot)
    rec = ingest_recording(
        source_path=jpeg, original_name=jpeg.name, channel="web", actor=actor
    ).recording
    assert (rec.capture_time_source, rec.kind) == (CaptureTimeSource.EXIF, "photo")
    assert rec.captured_start == shot

    wav = make_media("wav")  # no creation time in the file; the camera's name has one
    local = (shot + timedelta(hours=8)).strftime("%Y%m%d%H%M%S")
    rec = ingest_recording(
        source_path=wav, original_name=f"DSJ001_{local}_0001.WAV", channel="web", actor=actor
    ).recording
    assert rec.capture_time_source == CaptureTimeSource.FILENAME
    assert rec.captured_start == shot

    wav2 = make_media("wav")
    rec = ingest_recording(
        source_path=wav2,
        original_name="录音.wav",
        channel="web",
        actor=actor,
        captured_at=shot - timedelta(minutes=5),
    ).recording
    assert rec.capture_time_source == CaptureTimeSource.UPLOADER
    assert rec.captured_start == shot - timedelta(minutes=5)

    wav3 = make_media("wav")
    rec = ingest_recording(
        source_path=wav3, original_name="x.wav", channel="web", actor=actor
    ).recording
    assert rec.capture_time_source == CaptureTimeSource.UPLOAD_TIME
    # 第十三条 could not be checked: flagged for a records keeper, not counted as on time.
    assert rec.flags == [RecordingFlag.TIME_UNKNOWN] and rec.is_flagged
    assert "拍摄时间不明" in rec.flag_labels


def test_deadline_is_24_hours_after_the_capture_day_in_shanghai(settings):
    """第十三条: 23:30 Beijing time on 1 May → deadline 3 May 00:00 Beijing time."""
    captured = datetime(2026, 5, 1, 15, 30, tzinfo=UTC)  # 23:30 in Shanghai
    assert deadline_for(captured) == datetime(2026, 5, 2, 16, 0, tzinfo=UTC)
    settings.UPLOAD_DEADLINE_HOURS = 48
    assert deadline_for(captured) == datetime(2026, 5, 3, 16, 0, tzinfo=UTC)


def test_late_upload_is_flagged_with_how_late(people, make_media):
    """第十三条: a recording from three days ago is late by about a day and a half."""
    captured = timezone.now() - timedelta(days=3)
    path = make_media("h264", captured=captured)
    rec = ingest_recording(
        source_path=path, original_name=path.name, channel="web", actor=people["officer_a"].user
    ).recording
    assert rec.is_late and RecordingFlag.LATE in rec.flags
    expected = (rec.stored_at - deadline_for(rec.captured_start)).total_seconds()
    assert rec.late_seconds == int(expected) and rec.late_seconds > 24 * 3600


def test_on_time_upload_is_not_late(people, make_media):
    path = make_media("h264", captured=timezone.now() - timedelta(minutes=10))
    rec = ingest_recording(
        source_path=path, original_name=path.name, channel="web", actor=people["officer_a"].user
    ).recording
    assert not rec.is_late and rec.late_seconds == 0 and rec.deadline_at > rec.stored_at


@pytest.mark.parametrize(
    ("status", "other_unit", "flags"),
    [
        ("faulty", False, ["device_faulty"]),
        ("retired", False, ["device_retired"]),
        ("in_service", True, ["device_other_unit"]),
    ],
)
def test_device_problems_are_accepted_but_flagged(
    people, bureau, make_device, make_media, status, other_unit, flags
):
    """第十八条: a recording from a faulty, retired or other unit's device is still stored.
    (The device is issued to the recording's officer: an unissued one is flagged too.)"""
    unit = bureau["team_b"] if other_unit else bureau["team_a"]
    device = make_device(unit, status=status, officer=people["officer_a"])
    path = make_media("h264")
    rec = ingest_recording(
        source_path=path,
        original_name=path.name,
        channel="station",
        actor=people["officer_a"].user,
        device=device,
        officer=people["officer_a"],
    ).recording
    assert rec.flags == flags and rec.device == device


def test_device_officer_becomes_the_subject(people, bureau, make_device, make_media):
    device = make_device(bureau["team_a"], officer=people["officer_a2"])
    path = make_media("h264")
    rec = ingest_recording(
        source_path=path,
        original_name=path.name,
        channel="station",
        actor=people["keeper_a"].user,
        device=device,
    ).recording
    assert rec.officer == people["officer_a2"] and rec.unit == bureau["team_a"]


def test_unqualified_officer_is_refused_as_subject(people, make_media, vault):
    """第十一条: only formal staff with a valid qualification may be the recording's subject."""
    officer = people["officer_a2"]
    officer.qualification_valid_to = timezone.localdate() - timedelta(days=400)
    officer.qualification_valid_from = timezone.localdate() - timedelta(days=800)
    officer.save()
    path = make_media("h264")
    with pytest.raises(UnqualifiedOfficer) as err:
        ingest_recording(
            source_path=path,
            original_name=path.name,
            channel="web",
            actor=people["keeper_a"].user,
            officer=officer,
        )
    assert "第十一条" in err.value.message
    assert not Recording.objects.exists()
    assert [p for p in _vault_files(vault)] == []


def test_upload_for_another_unit_is_refused_and_audited(people, bureau, make_device, make_media):
    device = make_device(bureau["team_b"], officer=people["officer_b"])
    path = make_media("h264")
    with pytest.raises(Forbidden):
        ingest_recording(
            source_path=path,
            original_name=path.name,
            channel="web",
            actor=people["officer_a"].user,
            device=device,
        )
    assert AuditEntry.objects.filter(action="recording.refused", outcome="denied").exists()
    assert not Recording.objects.exists()


def test_case_link_at_ingest_takes_the_case_unit(people, bureau, make_media):
    from liuhen.cases.tests.factories import make_case

    case = make_case(
        actor=people["officer_a"].user,
        unit=bureau["team_a"],
        officers=[people["officer_a"], people["officer_a2"]],
    )
    path = make_media("h264")
    rec = ingest_recording(
        source_path=path,
        original_name=path.name,
        channel="web",
        actor=people["officer_a"].user,
        case=case,
    ).recording
    assert rec.case == case and rec.unit == case.unit


def test_too_large_is_refused_before_reading(people, make_media, settings, vault):
    path = make_media("h264")
    settings.UPLOAD_MAX_BYTES = path.stat().st_size - 1
    with pytest.raises(TooLarge) as err:
        ingest_recording(
            source_path=path, original_name=path.name, channel="web", actor=people["officer_a"].user
        )
    assert err.value.status == 413
    assert _vault_files(vault) == [] and not Recording.objects.exists()


def test_disk_full_mid_write_leaves_nothing(people, make_media, vault, monkeypatch):
    """ENOSPC halfway through the copy: a clear error, no object, no row, no temp file."""
    path = make_media("h264", seconds=2)
    calls = []

    def full(self, fh, chunk):
        calls.append(len(chunk))
        fh.write(chunk[: len(chunk) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(LocalStorage, "_write", full)
    with pytest.raises(StorageUnavailable) as err:
        ingest_recording(
            source_path=path, original_name=path.name, channel="web", actor=people["officer_a"].user
        )
    assert calls and err.value.code == "storage_full" and "存储空间不足" in err.value.message
    assert _vault_files(vault) == [] and not Recording.objects.exists()


def test_bad_declared_checksum_format(people, make_media):
    path = make_media("h264")
    with pytest.raises(InvalidInput):
        ingest_recording(
            source_path=path,
            original_name=path.name,
            channel="web",
            actor=people["officer_a"].user,
            declared_sha256="abc",
        )


STATE = """
import io, json
from django.core.management import call_command
from liuhen.evidence.models import Recording
from liuhen.evidence.storage import get_storage
s = get_storage()
rows = {r.storage_key: r.sha256 for r in Recording.objects.all()}
objects = sorted(s.iter_keys())
incoming = s.root / ".incoming"
temp = sorted(p.name for p in incoming.glob("*")) if incoming.exists() else []
err, code = io.StringIO(), 0
try:
    call_command("verify", stdout=io.StringIO(), stderr=err)
except SystemExit as exc:
    code = exc.code
print(json.dumps({"rows": rows, "objects": objects, "temp": temp, "verify": code,
                  "verify_err": err.getvalue()}))
"""


def _state(server) -> dict:
    """Rows, objects and temporary files of a server's vault, and `liuhen verify`'s verdict."""
    import json

    return json.loads(server.manage("shell", "-c", STATE).stdout.strip().splitlines()[-1])


def _orphans(state) -> set:
    """No visible recording without its object; returns the objects without a row."""
    missing = set(state["rows"]) - set(state["objects"])
    assert not missing, f"rows without object: {missing}"
    return set(state["objects"]) - set(state["rows"])


def test_killed_ingest_leaves_whole_records_or_reported_orphans(
    server_process, tmp_path, make_media
):
    """`liuhen ingest` SIGKILLed at each step of the ingest (a test hook), then at a random
    moment: afterwards every row has its object, an object without a row is reported by
    `liuhen verify` (exit 1), and a re-run adopts it (第二十六条: nothing half-stored)."""
    import random
    import shutil
    import signal
    import subprocess
    import sys
    import time

    from liuhen.evidence.tests.conftest import vault_server_user

    server = server_process()
    username, _token = vault_server_user(server)
    dump = tmp_path / "dump"

    def ingest(folder, **env):
        server.env.update(env)
        try:
            return server.manage(
                "ingest",
                str(folder),
                "--device",
                "DSJ001",
                "--user",
                username,
                "--receipt-dir",
                str(tmp_path / "r"),
                check=False,
            )
        finally:
            for name in env:
                del server.env[name]

    expected_orphans = 0
    for point in ("after_stage", "after_object", "before_row_commit", "before_group_commit"):
        folder = dump / point
        folder.mkdir(parents=True)
        shutil.move(make_media("h264"), folder / "DSJ001_20261127080000_0001.MP4")
        crashed = ingest(folder, LIUHEN_TEST_CRASH_AT=point)
        assert crashed.returncode == -9, crashed.stderr
        state = _state(server)
        orphans = _orphans(state)
        assert state["rows"] == {}
        if point == "after_stage":
            assert orphans == set() and len(state["temp"]) == 1  # invisible; cleaned later
            assert state["verify"] == 0
        else:
            expected_orphans += 1
            assert len(orphans) == expected_orphans and state["verify"] == 1
            assert all(key in state["verify_err"] for key in orphans)

    folder = dump / "random"
    folder.mkdir()
    for i in range(6):
        shutil.move(make_media("h264", seconds=2), folder / f"clip{i}.mp4")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "liuhen",
            "ingest",
            str(folder),
            "--device",
            "DSJ001",
            "--user",
            username,
            "--receipt-dir",
            str(tmp_path / "r"),
        ],
        env=server.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(random.Random(os.getpid()).uniform(1.5, 3.5))
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    _orphans(_state(server))

    assert ingest(dump).returncode == 0  # the re-run stores everything, adopting orphans
    state = _state(server)
    assert _orphans(state) == set() and len(state["rows"]) == 10 and state["verify"] == 0
