"""The audit log is append-only and hash-chained (第二十六条 (二), (三))."""

import uuid

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from liuhen.audit import triggers
from liuhen.audit.models import AuditEntry
from liuhen.audit.services import HASHED_FIELDS, entry_hash, record, verify


@pytest.fixture
def chain(db):
    return [record(actor=None, actor_name="测试", action="test.event", target=("x.y", str(i)),
                   detail={"i": i, "名称": "值", "nested": {"b": 1, "a": [1.5, None]}})
            for i in range(6)]


def test_entries_chain_and_hash_covers_every_field(chain):
    assert [e.seq for e in chain] == [1, 2, 3, 4, 5, 6]
    for prev, entry in zip(chain, chain[1:], strict=False):
        assert entry.prev_hash == prev.hash
    stored = AuditEntry.objects.get(seq=3)
    values = {f: getattr(stored, f) for f in
              ("seq", "uuid", "at", "actor_id", "actor_name", "actor_role", "session", "ip",
               "via", "action", "object_type", "object_id", "object_repr", "outcome", "reason",
               "detail", "prev_hash")}
    assert entry_hash(values) == stored.hash
    values["reason"] = "changed"
    assert entry_hash(values) != stored.hash
    assert verify().ok and verify().checked == 6


def test_database_refuses_update_and_delete(chain):
    for sql in ("UPDATE audit_auditentry SET reason = 'x' WHERE seq = 2",
                "DELETE FROM audit_auditentry WHERE seq = 2"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(seq=1).update(reason="orm update")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(seq=1).delete()
    assert AuditEntry.objects.get(seq=2).reason == ""


def _tamper(sql, params=()):
    triggers.remove(connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    triggers.install(connection)


def test_verify_catches_edited_entry(chain):
    _tamper("UPDATE audit_auditentry SET actor_name = '他人' WHERE seq = 4")
    result = verify()
    assert not result.ok and result.first_bad_seq == 4 and "修改" in result.problem


def test_verify_catches_deleted_entry(chain):
    _tamper("DELETE FROM audit_auditentry WHERE seq = 3")
    result = verify()
    assert not result.ok and result.first_bad_seq == 3


def test_verify_catches_reordered_entries(chain):
    # Swap the sequence numbers of entries 2 and 5 (via a temporary value).
    _tamper("UPDATE audit_auditentry SET seq = -2 WHERE seq = 2")
    _tamper("UPDATE audit_auditentry SET seq = 2 WHERE seq = 5")
    _tamper("UPDATE audit_auditentry SET seq = 5 WHERE seq = -2")
    result = verify()
    assert not result.ok and result.first_bad_seq == 2


def test_verify_command_exit_status(chain, capsys):
    call_command("audit", "verify")
    assert "审计日志完整" in capsys.readouterr().out
    _tamper("UPDATE audit_auditentry SET detail = '{}' WHERE seq = 5")
    with pytest.raises(CommandError) as err:
        call_command("audit", "verify", "--quiet")
    assert err.value.returncode == 1 and "第 5 条" in str(err.value)


def test_verify_catches_first_entry_deleted(chain):
    _tamper("DELETE FROM audit_auditentry WHERE seq = 1")
    result = verify()
    assert not result.ok and result.first_bad_seq == 1 and result.checked == 0


def test_verify_catches_first_entry_deleted_and_renumbered(chain):
    """Deleting #1 and shifting every seq down still breaks the genesis link."""
    _tamper("DELETE FROM audit_auditentry WHERE seq = 1")
    for seq in range(2, 7):
        _tamper("UPDATE audit_auditentry SET seq = %s WHERE seq = %s", [seq - 1, seq])
    result = verify()
    assert not result.ok and result.first_bad_seq == 1 and "前一条哈希" in result.problem


def test_verify_catches_last_entry_edited(chain):
    _tamper("UPDATE audit_auditentry SET outcome = 'denied', reason = '补记' WHERE seq = 6")
    result = verify()
    assert not result.ok and result.first_bad_seq == 6 and result.checked == 5


def test_verify_catches_edited_entry_with_recomputed_own_hash(chain):
    """A forger who recomputes the edited entry's own hash breaks the next entry's link."""
    entry = AuditEntry.objects.get(seq=3)
    values = {f: getattr(entry, f) for f in HASHED_FIELDS}
    values["actor_name"] = "冒名"
    forged_hash = entry_hash(values)
    _tamper("UPDATE audit_auditentry SET actor_name = %s, hash = %s WHERE seq = 3",
            ["冒名", forged_hash])
    result = verify()
    assert not result.ok and result.first_bad_seq == 4 and "前一条哈希" in result.problem


def test_verify_catches_inserted_forged_entry(chain):
    """A well-formed entry slipped in between #3 and #4 (the later ones renumbered)."""
    for seq in range(6, 3, -1):
        _tamper("UPDATE audit_auditentry SET seq = %s WHERE seq = %s", [seq + 1, seq])
    prev = AuditEntry.objects.get(seq=3)
    values = {f: getattr(prev, f) for f in HASHED_FIELDS}
    values.update(seq=4, uuid=uuid.uuid4(), action="case.viewed", actor_name="伪造",
                  prev_hash=prev.hash, detail={})
    values["hash"] = entry_hash(values)
    # A raw INSERT needs no trigger removal: appending is allowed, forging is detected.
    AuditEntry.objects.create(**values)
    result = verify()
    assert not result.ok and result.first_bad_seq == 5 and "前一条哈希" in result.problem


def test_verify_catches_a_forged_entry_appended_at_the_head(chain):
    """Appending is allowed, but only with the chain's real head: a wrong prev_hash is caught."""
    values = {f: getattr(AuditEntry.objects.get(seq=6), f) for f in HASHED_FIELDS}
    values.update(seq=7, uuid=uuid.uuid4(), prev_hash="f" * 64)
    values["hash"] = entry_hash(values)
    AuditEntry.objects.create(**values)
    result = verify()
    assert not result.ok and result.first_bad_seq == 7


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_postgres_refuses_truncate(chain):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE audit_auditentry")
    assert AuditEntry.objects.count() == 6


def test_triggers_exist_after_migrate(db):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = "
                           "'audit_auditentry'::regclass AND NOT tgisinternal")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                           "AND tbl_name = 'audit_auditentry'")
        names = {row[0] for row in cursor.fetchall()}
    expected = {"audit_append_only_refuse_update", "audit_append_only_refuse_delete"}
    if connection.vendor == "postgresql":
        expected.add("audit_append_only_refuse_truncate")
    assert expected == names


def test_record_fits_oversized_ids(db):
    """Attacker-chosen identifiers (a garbage token prefix) still leave an entry."""
    entry = record(actor=None, action="auth.token_denied", target=("org.apitoken", "x" * 500),
                   outcome="denied")
    entry.refresh_from_db()
    assert len(entry.object_id) == 64 and verify().ok


def test_detail_with_nul_and_odd_types_hashes_as_stored(db):
    from datetime import date
    from decimal import Decimal

    record(actor=None, action="test.odd", detail={"nul": "a\x00b", "d": date(2026, 1, 2),
                                                   "n": Decimal("1.50"), "set": "x"})
    assert verify().ok


def test_verify_command_output_and_bad_arguments(chain, capsys):
    call_command("audit", "verify", "--quiet")
    out = capsys.readouterr().out
    assert "共 6 条" in out and "条/秒" in out
    assert AuditEntry.objects.count() == 6  # --quiet leaves no entry of its own
    call_command("audit", "verify")
    assert AuditEntry.objects.order_by("-seq").first().action == "audit.verified"
    for args in ([], ["delete"], ["verify", "--bogus"]):
        with pytest.raises(CommandError):
            call_command("audit", *args)


def test_verify_reads_whole_second_times_and_unicode_exactly(chain):
    """The raw verify path formats times and text exactly as the hash was made."""
    from datetime import UTC, datetime

    head = AuditEntry.objects.get(seq=6)
    values = {f: getattr(head, f) for f in HASHED_FIELDS}
    values.update(seq=7, uuid=uuid.uuid4(), at=datetime(2026, 3, 1, 8, 0, 0, tzinfo=UTC),
                  prev_hash=head.hash, actor_name="张\u00a0三 \"引号\" \\ 🚓",
                  detail={"z": 1, "a": [1.0, 2.5, None, True], "中": {"b": "\n"}})
    values["hash"] = entry_hash(values)
    AuditEntry.objects.create(**values)
    result = verify(chunk_size=4)  # chunk boundaries inside the chain
    assert result.ok and result.checked == 7 and result.head_hash == values["hash"]


_PARALLEL = """
from liuhen.audit.services import verify
r = verify(workers={workers}, min_parallel=1)
print("RESULT", r.ok, r.checked, r.first_bad_seq)
"""

_TAMPER = """
from django.db import connection
from liuhen.audit import triggers
triggers.remove(connection)
with connection.cursor() as c:
    c.execute("{sql}")
triggers.install(connection)
"""


def _parallel(server, workers):
    out = server.manage("shell", "-c", _PARALLEL.format(workers=workers)).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT"))
    _, ok, checked, bad = line.split()
    return ok == "True", int(checked), None if bad == "None" else int(bad)


def test_parallel_verify_matches_serial_and_finds_breaks_at_and_between_cuts(server_process):
    """Forked range workers (the million-entry path) see what the serial walk sees (第二十六条)."""
    server = server_process()
    server.manage("shell", "-c", "from liuhen.audit.services import record\n"
                  "for i in range(300): record(actor=None, action='t.e', detail={'i': i})")
    assert _parallel(server, 1) == (True, 300, None)
    assert _parallel(server, 3) == (True, 300, None)
    # Entry 100 is the last of the first range with 3 workers (cuts at 101 and 201).
    server.manage("shell", "-c", _TAMPER.format(sql="DELETE FROM audit_auditentry WHERE seq = 100"))
    assert _parallel(server, 3)[0] is False and _parallel(server, 3)[2] == 100
    assert _parallel(server, 1)[2] == 100
    server.manage("shell", "-c", _TAMPER.format(
        sql="UPDATE audit_auditentry SET reason = 'x' WHERE seq = 250"))
    server.manage("shell", "-c", _TAMPER.format(
        sql="UPDATE audit_auditentry SET reason = 'x' WHERE seq = 40"))
    assert _parallel(server, 3)[2] == 40
