"""The audit log is append-only and hash-chained (第二十六条 (二), (三))."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from liuhen.audit import triggers
from liuhen.audit.models import AuditEntry
from liuhen.audit.services import entry_hash, record, verify


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
