"""How record() appends: statements per entry, stale heads, rolled-back entries (第二十六条 (二)).

On PostgreSQL an append is one call of ``liuhen_audit_append()`` (migration 0003) built on the
head this process last saw; when another writer moved the head, the call inserts nothing and
returns the real head, and record() builds the entry again on it.
"""

from __future__ import annotations

import uuid

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from liuhen.audit import services
from liuhen.audit.models import GENESIS_HASH, AuditEntry
from liuhen.audit.services import HASHED_FIELDS, entry_hash, record, verify

postgresql_only = pytest.mark.skipif("connection.vendor != 'postgresql'")


def _append(i=0):
    return record(actor=None, actor_name="测试", action="test.append", target=("x.y", str(i)))


def _written_elsewhere():
    """An entry chained correctly on the head by another writer (a raw INSERT, as another
    process's append looks from here)."""
    head = AuditEntry.objects.order_by("-seq").first()
    values = {f: getattr(head, f) for f in HASHED_FIELDS}
    values.update(seq=head.seq + 1, uuid=uuid.uuid4(), prev_hash=head.hash, action="other.wrote")
    values["hash"] = entry_hash(values)
    return AuditEntry.objects.create(**values)


def test_append_statements_and_no_savepoint(db):
    """One statement on PostgreSQL (lock, head and INSERT inside the function), the head read
    and the INSERT on SQLite; no savepoint of its own inside the caller's transaction."""
    _append()
    # The test already runs inside a transaction: the caller's, as a service's would be.
    with CaptureQueriesContext(connection) as queries:
        entry = _append(1)
    sqls = [q["sql"] for q in queries.captured_queries]
    if connection.vendor == "postgresql":
        assert len(sqls) == 1 and "liuhen_audit_append" in sqls[0], sqls
    else:
        assert len(sqls) == 2 and sqls[1].startswith("INSERT"), sqls
    assert not any("SAVEPOINT" in sql.upper() for sql in sqls)
    assert entry.seq == 2 and entry.pk == AuditEntry.objects.get(seq=2).pk
    assert not entry._state.adding and entry.prev_hash == AuditEntry.objects.get(seq=1).hash


def test_append_follows_a_head_written_by_another_writer(db):
    _append()
    other = _written_elsewhere()
    with CaptureQueriesContext(connection) as queries:
        entry = _append(1)
    assert entry.seq == other.seq + 1 and entry.prev_hash == other.hash
    if connection.vendor == "postgresql":
        # The first call answered with the real head; the second, still holding the lock,
        # inserted on it.
        assert len(queries.captured_queries) == 2
    stored = AuditEntry.objects.get(seq=entry.seq)
    assert (stored.hash, stored.at, stored.uuid) == (entry.hash, entry.at, entry.uuid)
    assert verify().ok and verify().checked == 3


def test_a_rolled_back_entry_leaves_no_gap(db):
    _append()
    with pytest.raises(RuntimeError), transaction.atomic():
        _append(1)  # the change it described failed: the entry goes with it
        raise RuntimeError
    entry = _append(2)
    assert entry.seq == 2 and list(AuditEntry.objects.values_list("seq", flat=True)) == [2, 1]
    assert verify().ok


@postgresql_only
def test_postgres_a_wrong_guess_never_writes_a_wrong_entry(db):
    _append()
    head = AuditEntry.objects.get(seq=1)
    for guess in [(0, GENESIS_HASH), (1, "f" * 64), (7, head.hash)]:
        services._head_guess = guess
        entry = _append()
        assert entry.prev_hash == AuditEntry.objects.get(seq=entry.seq - 1).hash
    assert AuditEntry.objects.count() == 4 and verify().ok


@postgresql_only
def test_postgres_function_refuses_a_snapshot_older_than_the_lock(db):
    """Under REPEATABLE READ the head read after the lock could be stale: refused outright."""
    import psycopg

    settings = connection.settings_dict
    with psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
    ) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        values = services._chained(
            {f: "" for f in HASHED_FIELDS if f not in ("seq", "uuid", "at", "prev_hash")}
            | {"actor_id": None, "detail": {}},
            0,
            GENESIS_HASH,
        )
        params = [
            str(values["uuid"]) if f.name == "uuid" else values[f.name]
            for f in services._INSERT_FIELDS
        ]
        params[HASHED_FIELDS.index("detail")] = "{}"
        with pytest.raises(psycopg.errors.RaiseException, match="READ COMMITTED"):
            conn.execute(services._APPEND_SQL, params)
        conn.rollback()



def _outside_a_transaction(monkeypatch):
    """From here on, record() is called as a page view calls it: with no transaction of the
    caller's, and failing the test if it opens one of its own. (The test itself still runs in
    one, rolled back at its end: the audit log refuses the TRUNCATE that would clean up after
    a transactional test.)"""

    def no_transaction(*args, **kwargs):
        raise AssertionError("record() opened a transaction of its own")

    monkeypatch.setattr(connections["default"], "in_atomic_block", False)
    monkeypatch.setattr(services.transaction, "atomic", no_transaction)


@postgresql_only
def test_postgres_an_entry_outside_a_transaction_is_one_statement(db, monkeypatch):
    """An audited read or refusal, with no transaction of the caller's around it: one call,
    which PostgreSQL commits on its own, without BEGIN and COMMIT round trips around it
    (issue 9 item 3: every case and recording page view writes one)."""
    _append()
    _outside_a_transaction(monkeypatch)
    with CaptureQueriesContext(connection) as queries:
        entry = _append(1)
    sqls = [q["sql"] for q in queries.captured_queries]
    assert len(sqls) == 1 and "liuhen_audit_append" in sqls[0], sqls
    monkeypatch.undo()
    assert entry.seq == 2 and AuditEntry.objects.get(seq=2).hash == entry.hash
    assert verify().ok


@postgresql_only
def test_postgres_outside_a_transaction_a_stale_head_is_retried(db, monkeypatch):
    """Outside a transaction each call holds the chain's lock only for itself: a stale guess
    is retried on the head it returned, and another writer's entry is chained, never forked."""
    _append()
    other = _written_elsewhere()
    _outside_a_transaction(monkeypatch)
    entries = []
    for guess in [(0, GENESIS_HASH), (1, "f" * 64)]:
        services._head_guess = guess
        entries.append(_append())
    monkeypatch.undo()
    assert [e.seq for e in entries] == [other.seq + 1, other.seq + 2]
    for entry in entries:
        assert entry.prev_hash == AuditEntry.objects.get(seq=entry.seq - 1).hash
    assert verify().ok and verify().checked == 4
