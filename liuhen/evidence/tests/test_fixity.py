"""Fixity (第二十六条 (二)): an edited byte, a lost object and an orphan are all caught,
recorded as events and alerted; `liuhen verify` exits non-zero."""

from __future__ import annotations

import os

import pytest
from django.core.management import call_command

from liuhen.audit.models import AuditEntry
from liuhen.evidence.fixity import verify_recordings
from liuhen.evidence.models import FixityCheck


def _flip_byte(path, offset=100) -> bytes:
    """Flip one bit of a stored original (as bit rot or an editor would); return the old byte."""
    os.chmod(path, 0o644)
    with open(path, "r+b") as fh:
        fh.seek(offset)
        byte = fh.read(1)
        fh.seek(offset)
        fh.write(bytes([byte[0] ^ 0x01]))
    return byte


def test_all_good(stored_recording):
    recs = [stored_recording(), stored_recording("jpeg")]
    report = verify_recordings(scope="all")
    assert (report.checked, report.ok, report.failed) == (2, 2, False)
    checks = FixityCheck.objects.order_by("recording_id")
    assert [c.found_sha256 for c in checks] == [r.sha256 for r in recs]
    assert [c.found_sm3 for c in checks] == [r.sm3 for r in recs]
    assert all(c.tool_version for c in checks)
    assert AuditEntry.objects.filter(action="fixity.checked").count() == 2
    assert AuditEntry.objects.get(action="fixity.run").outcome == "succeeded"


def test_edited_byte_is_caught(stored_recording, vault, capsys):
    good, bad = stored_recording(), stored_recording()
    _flip_byte(vault.path(bad.storage_key))
    with pytest.raises(SystemExit) as exit_:
        call_command("verify", "--all")
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert "不一致" in err and bad.sha256 in err
    check = FixityCheck.objects.get(recording=bad)
    assert check.outcome == "mismatch" and check.found_sha256 != bad.sha256
    assert FixityCheck.objects.get(recording=good).outcome == "ok"
    alert = AuditEntry.objects.get(action="fixity.failed")
    assert alert.outcome == "failed" and alert.object_id == str(bad.pk)
    assert AuditEntry.objects.get(action="fixity.run").outcome == "failed"


def test_missing_object_and_orphan(stored_recording, vault, make_media, capsys):
    gone = stored_recording()
    os.unlink(vault.path(gone.storage_key))
    orphan_key = "sha256/ab/cd/" + "abcd" + "0" * 60
    orphan = vault.path(orphan_key)
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"left by a crash")
    with pytest.raises(SystemExit):
        call_command("verify")
    err = capsys.readouterr().err
    assert "缺失" in err and "孤立对象" in err and orphan_key in err
    assert FixityCheck.objects.get(recording=gone).outcome == "missing"
    assert FixityCheck.objects.get(recording=None).storage_key == orphan_key
    assert AuditEntry.objects.filter(action="fixity.orphan", outcome="failed").count() == 1


def test_since_and_sample(stored_recording, capsys):
    for _ in range(3):
        stored_recording()
    call_command("verify", "--sample", "2")
    assert "已校验 2 个原件" in capsys.readouterr().out
    call_command("verify", "--since", "2000-01-01")
    assert "已校验 3 个原件" in capsys.readouterr().out
    call_command("verify", "--since", "2999-01-01")
    assert "已校验 0 个原件" in capsys.readouterr().out


def test_scheduled_job_uses_the_same_function(stored_recording, vault):
    """The job (immediate backend in tests) runs the same checks as the command."""
    from liuhen.evidence.fixity import scheduled_fixity

    rec = stored_recording()
    _flip_byte(vault.path(rec.storage_key), offset=10)
    result = scheduled_fixity.enqueue(sample=5)
    assert result.return_value == {
        "checked": 1,
        "ok": 0,
        "problems": 1,
        "orphans": 0,
        "failed": True,
    }
    assert FixityCheck.objects.get().outcome == "mismatch"


def test_schedule_without_a_deferring_backend_runs_once(stored_recording, capsys):
    """The immediate backend cannot defer: one run, no endless self-rescheduling."""
    stored_recording()
    call_command("verify", "--schedule", "24")
    assert "已安排" in capsys.readouterr().out
    assert FixityCheck.objects.count() == 1


def test_originals_read_side_by_side_are_recorded_in_order(stored_recording, vault, monkeypatch):
    """Several originals are read and hashed at once; every check is still recorded, with
    its own outcome, in recording order (one audit chain, one writer)."""
    from liuhen.evidence import fixity

    monkeypatch.setattr(fixity, "PARALLEL_FILES", 3)
    recs = [stored_recording() for _ in range(7)]
    _flip_byte(vault.path(recs[2].storage_key))
    os.unlink(vault.path(recs[5].storage_key))
    report = verify_recordings(scope="all", orphans=False)
    assert (report.checked, report.ok) == (7, 5)
    checks = list(FixityCheck.objects.order_by("pk"))
    assert [c.recording_id for c in checks] == [r.pk for r in recs]
    assert [c.outcome for c in checks] == ["ok", "ok", "mismatch", "ok", "ok", "missing", "ok"]
    assert [c.found_sm3 for c in checks if c.outcome == "ok"] == [
        r.sm3 for i, r in enumerate(recs) if i not in (2, 5)
    ]
    audited = AuditEntry.objects.filter(action__in=["fixity.checked", "fixity.failed"])
    assert [e.object_id for e in audited.order_by("pk")] == [str(r.pk) for r in recs]
