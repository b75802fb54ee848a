"""A bound case file (卷宗, 第十二条) is immutable at the database, and `liuhen verify` re-reads
every case-file PDF: the database refuses to delete any version or change a bound one (its
档号, pages, PDF digests and storage key), a correction is a new version, and a flipped byte in
a stored case-file PDF is caught (issue 11)."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from liuhen.audit.models import AuditEntry
from liuhen.evidence.models import FixityCheck
from liuhen.evidence.tests.test_fixity import _flip_byte
from liuhen.keeping import casefile
from liuhen.keeping.models import CaseFile

pytestmark = pytest.mark.django_db


def _refused(sql: str, params=()) -> None:
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def _bound(people, case):
    officer, keeper = people["officer_a"].user, people["keeper_a"].user
    return casefile.bind(actor=keeper, case_file=casefile.assemble(actor=officer, case=case))


FROZEN_CHANGES = [
    ("sha256", "0" * 64),
    ("sm3", "0" * 64),
    ("storage_key", "casefiles/00/other.pdf"),
    ("size", 1),
    ("archive_number", "J001-2000-Y-9999"),
    ("page_count", 1),
    ("contents", "[]"),
    ("checked_at", None),
    ("is_bound", False),
]


def test_the_database_refuses_to_change_a_bound_case_file(people, filed_case):
    bound = _bound(people, filed_case)  # one file for every column: rendering is slow
    for column, value in FROZEN_CHANGES:
        _refused(f"UPDATE keeping_casefile SET {column} = %s WHERE id = %s", [value, bound.pk])
    again = CaseFile.objects.get(pk=bound.pk)
    assert (again.sha256, again.storage_key, again.archive_number, again.is_bound) == (
        bound.sha256, bound.storage_key, bound.archive_number, True)
    # The refusals are the triggers', not the model's: the same statement passes without them.
    from liuhen.keeping import triggers

    triggers.remove(connection)
    try:
        with connection.cursor() as cursor:
            cursor.execute("UPDATE keeping_casefile SET size = %s WHERE id = %s", [1, bound.pk])
        assert CaseFile.objects.get(pk=bound.pk).size == 1
    finally:
        triggers.install(connection)


def test_the_database_refuses_to_delete_any_version(people, filed_case):
    officer = people["officer_a"].user
    bound = _bound(people, filed_case)
    draft = casefile.assemble(actor=officer, case=filed_case, reason="补入送达回证")
    for row in (bound, draft):
        _refused("DELETE FROM keeping_casefile WHERE id = %s", [row.pk])
    with pytest.raises(DatabaseError), transaction.atomic():
        CaseFile.objects.filter(pk=bound.pk).delete()
    assert CaseFile.objects.filter(case=filed_case).count() == 2


def test_a_draft_cannot_be_moved_or_rewritten_but_is_bound_once(people, filed_case):
    officer, other = people["officer_a"].user, people["officer_a2"].user
    draft = casefile.assemble(actor=officer, case=filed_case)
    _refused("UPDATE keeping_casefile SET version = %s WHERE id = %s", [9, draft.pk])
    _refused("UPDATE keeping_casefile SET assembled_by_id = %s WHERE id = %s",
             [other.pk, draft.pk])
    bound = casefile.bind(actor=people["keeper_a"].user, case_file=draft)  # allowed, once
    assert bound.is_bound and bound.archive_number


def test_is_current_only_goes_from_true_to_false_when_a_correction_is_bound(
    people, filed_case
):
    officer, keeper = people["officer_a"].user, people["keeper_a"].user
    first = _bound(people, filed_case)
    second = casefile.bind(actor=keeper, case_file=casefile.assemble(
        actor=officer, case=filed_case, reason="补入遗漏的送达回证"))
    first.refresh_from_db()
    assert not first.is_current and second.is_current
    _refused("UPDATE keeping_casefile SET is_current = %s WHERE id = %s", [True, first.pk])


def test_verify_rereads_case_file_pdfs_and_catches_a_flipped_byte(
    people, filed_case, vault, capsys
):
    bound = _bound(people, filed_case)
    call_command("verify", "--all")  # exits 0: no SystemExit
    out = capsys.readouterr().out
    assert "卷宗 1" in out and "孤立对象 0" in out
    check = FixityCheck.objects.get(object_kind="case_file", object_id=bound.pk)
    assert check.outcome == "ok" and check.found_sm3 == bound.sm3

    _flip_byte(vault.path(bound.storage_key), offset=300)
    with pytest.raises(SystemExit) as exit_:
        call_command("verify", "--all")
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert "不一致" in err and "卷宗" in err
    failed = FixityCheck.objects.filter(object_kind="case_file", object_id=bound.pk).latest("id")
    assert failed.outcome == "mismatch" and failed.found_sha256 != bound.sha256
    alert = AuditEntry.objects.get(action="fixity.failed")
    assert (alert.object_type, alert.object_id, alert.outcome) == (
        "keeping.casefile", str(bound.pk), "failed")
