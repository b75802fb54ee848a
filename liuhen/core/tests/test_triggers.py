"""The one trigger generator (issue 16 item 20) on the suite's database: what it refuses, with
which message, that a NULL condition refuses (fail closed), and that ``remove`` leaves nothing,
the PostgreSQL function included."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from liuhen.core.triggers import changed, immutable_table_sql

TABLE = "core_trigger_probe"
PROBE = immutable_table_sql(
    TABLE, "core_trigger_probe", message="probe rows are kept (第二十六条): {op} refused",
    # refused when "frozen" changes, or when "gate" says so (NULL: undecided).
    refused_update=lambda vendor: f"{changed(['frozen'], vendor)} OR NEW.gate",
    refused_delete="OLD.gate")


def _objects() -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"
                           " AND tbl_name = %s", [TABLE])
            return {row[0] for row in cursor.fetchall()}
        cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass"
                       " AND NOT tgisinternal", [TABLE])
        names = {row[0] for row in cursor.fetchall()}
        cursor.execute("SELECT proname FROM pg_proc WHERE proname = 'liuhen_core_trigger_probe'")
        return names | {row[0] for row in cursor.fetchall()}


def _refused(sql: str, params=()) -> str | None:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    except DatabaseError as error:
        return str(error)
    return None


@pytest.fixture
def probe(db):
    boolean = "BOOLEAN" if connection.vendor == "postgresql" else "INTEGER"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {TABLE} (id INTEGER PRIMARY KEY, frozen VARCHAR(10),"
                       f" free VARCHAR(10), gate {boolean})")
        cursor.execute(f"INSERT INTO {TABLE} VALUES (1, 'a', 'x', %s), (2, 'b', 'y', NULL),"
                       f" (3, 'c', 'z', %s)", [False, True])
    PROBE.install(connection)
    yield


def test_installs_the_same_names_on_both_databases(probe):
    expected = {"core_trigger_probe_refuse_update", "core_trigger_probe_refuse_delete"}
    if connection.vendor == "postgresql":
        expected |= {"core_trigger_probe_refuse_truncate", "liuhen_core_trigger_probe"}
    assert _objects() == expected


def test_refuses_what_the_conditions_say_with_the_message(probe):
    assert _refused(f"UPDATE {TABLE} SET free = 'ok' WHERE id = 1") is None
    message = _refused(f"UPDATE {TABLE} SET frozen = 'changed' WHERE id = 1")
    assert "probe rows are kept (第二十六条): UPDATE refused" in message
    assert "UPDATE refused" in _refused(f"UPDATE {TABLE} SET free = 'no' WHERE id = 3")
    assert "DELETE refused" in _refused(f"DELETE FROM {TABLE} WHERE id = 3")
    assert _refused(f"DELETE FROM {TABLE} WHERE id = 1") is None  # the permit holds


def test_a_null_condition_refuses(probe):
    """Row 2's gate is NULL: neither allowed nor refused by the condition, so refused."""
    assert "UPDATE refused" in _refused(f"UPDATE {TABLE} SET free = 'no' WHERE id = 2")
    assert "DELETE refused" in _refused(f"DELETE FROM {TABLE} WHERE id = 2")


@pytest.mark.skipif("connection.vendor != 'postgresql'")  # SQLite has no TRUNCATE
def test_truncate_is_refused_on_postgresql(probe):
    assert "TRUNCATE refused" in _refused(f"TRUNCATE {TABLE}")


def test_install_is_idempotent_and_remove_leaves_nothing(probe):
    PROBE.install(connection)
    PROBE.remove(connection)
    assert _objects() == set()
    assert _refused(f"UPDATE {TABLE} SET frozen = 'free now' WHERE id = 2") is None
    PROBE.remove(connection)  # removing twice is harmless


def test_a_message_must_name_the_operation():
    with pytest.raises(ValueError):
        immutable_table_sql(TABLE, "x", message="refused")
