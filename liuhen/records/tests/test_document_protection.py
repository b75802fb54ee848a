"""Written records under the same protection as recordings (第二十六条 (二), issue 8 item 6):
the database refuses to change or delete a document or its scan's digests, a new version
supersedes the old one, and `liuhen verify` re-reads document scans as their own kind — never
as orphans — and catches a flipped byte in one."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from liuhen.audit.models import AuditEntry
from liuhen.evidence.fixity import verify_recordings
from liuhen.evidence.models import FixityCheck
from liuhen.evidence.tests.conftest import make_media, stored_recording, vault  # noqa: F401
from liuhen.evidence.tests.test_fixity import _flip_byte
from liuhen.records import services as rs
from liuhen.records.models import Document
from liuhen.rules.tests.helpers import penalty_case


@pytest.fixture
def scan(people, make_media):  # noqa: F811
    """Factory: a document of a case with a real scan (a JPEG made by PyAV/Pillow)."""

    def make(case=None, doc_type="inquiry_record", **kwargs):
        case = case or penalty_case(people)
        path = make_media("jpeg")
        return rs.add_document(actor=people["officer_a"].user, case=case, doc_type=doc_type,
                               file_path=path, original_name="询问笔录扫描件.jpg",
                               number="冀人社监询〔2026〕1号", **kwargs)

    return make


def _refused(sql: str, params=()) -> None:
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


CHANGES = [
    ("sha256", "'" + "0" * 64 + "'"),
    ("sm3", "'" + "0" * 64 + "'"),
    ("size", "1"),
    ("storage_key", "'sha256/00/00/elsewhere'"),
    ("original_name", "'edited.jpg'"),
    ("doc_type", "'other'"),
    ("number", "'伪造文号'"),
    ("date", "'2020-01-01'"),
    ("signature", "'refused'"),
    ("note", "'改过'"),
    ("version", "7"),
]


@pytest.mark.parametrize(("column", "value"), CHANGES, ids=[c for c, _ in CHANGES])
def test_database_refuses_changes_to_a_document(scan, vault, column, value):  # noqa: F811
    doc = scan()
    before = Document.objects.filter(pk=doc.pk).values().get()
    _refused(f"UPDATE cases_document SET {column} = {value} WHERE id = %s", [doc.pk])
    assert Document.objects.filter(pk=doc.pk).values().get() == before


def test_database_refuses_deleting_a_document_or_its_party_links(scan, vault, people):  # noqa: F811
    case = penalty_case(people)
    doc = scan(case, parties=list(case.parties.all()))
    _refused("DELETE FROM cases_document WHERE id = %s", [doc.pk])
    _refused("DELETE FROM cases_document_parties WHERE document_id = %s", [doc.pk])
    _refused("UPDATE cases_document_parties SET party_id = party_id WHERE document_id = %s",
             [doc.pk])
    if connection.vendor == "postgresql":
        _refused("TRUNCATE cases_document CASCADE")
    assert Document.objects.filter(pk=doc.pk).exists() and doc.parties.count() == 1


def test_a_new_version_supersedes_and_the_old_row_never_comes_back(scan, vault):  # noqa: F811
    old = scan()
    new = scan(old.case, replaces=old)
    old.refresh_from_db()
    assert (old.is_current, new.is_current, new.version, new.replaces_id) == (
        False, True, 2, old.pk)
    assert old.sha256 != new.sha256  # both scans kept, each with its own digests
    # is_current only ever goes from true to false: the old version cannot be made current.
    _refused("UPDATE cases_document SET is_current = %s WHERE id = %s", [True, old.pk])
    with pytest.raises(Exception, match="不是现行版本"):
        scan(old.case, replaces=old)


def test_verify_checks_recordings_and_scans_as_two_kinds_with_no_orphans(
        scan, stored_recording, vault, capsys):  # noqa: F811
    recording = stored_recording()
    docs = [scan(), scan()]
    call_command("verify", "--all")  # exits 0: no SystemExit
    out = capsys.readouterr().out
    assert "音像记录 1" in out and "文字记录扫描件 2" in out and "孤立对象 0" in out
    checks = FixityCheck.objects.order_by("id")
    assert [(c.object_kind, c.object_id, c.outcome) for c in checks] == [
        ("recording", recording.pk, "ok"), *[("document", d.pk, "ok") for d in docs]]
    assert not FixityCheck.objects.filter(object_kind="orphan").exists()
    entries = AuditEntry.objects.filter(action="fixity.checked", object_type="records.document")
    assert sorted(int(e.object_id) for e in entries) == [d.pk for d in docs]


def test_a_flipped_byte_in_a_scan_is_caught(scan, stored_recording, vault, capsys):  # noqa: F811
    stored_recording()
    good, bad = scan(), scan()
    _flip_byte(vault.path(bad.storage_key), offset=200)
    with pytest.raises(SystemExit) as exit_:
        call_command("verify")
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert "不一致" in err and "文字记录扫描件" in err and bad.sha256 in err
    check = FixityCheck.objects.get(object_kind="document", object_id=bad.pk)
    assert check.outcome == "mismatch" and check.found_sha256 != bad.sha256
    assert FixityCheck.objects.get(object_kind="document", object_id=good.pk).outcome == "ok"
    alert = AuditEntry.objects.get(action="fixity.failed")
    assert (alert.object_type, alert.object_id, alert.outcome) == (
        "records.document", str(bad.pk), "failed")


def test_since_and_sample_include_scans(scan, stored_recording, vault):  # noqa: F811
    stored_recording()
    scan()
    tomorrow = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    assert verify_recordings(scope="since", since=tomorrow).checked == 0
    report = verify_recordings(scope="sample", sample=10)
    # Kinds with nothing stored (case-file PDFs here, keeping app) are listed with 0.
    assert {k: n for k, n in report.by_kind.items() if n} == {"recording": 1, "document": 1}
