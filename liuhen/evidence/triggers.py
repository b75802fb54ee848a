"""Database triggers that keep stored originals immutable (第二十六条 (二)).

The database itself refuses to delete a recording row or to change what identifies the
original (digests, size, storage key, name, capture time, who stored it and when). Only the
derived-media status and the audited links to case, patrol and party may change.
"""

from __future__ import annotations

TABLE = "evidence_recording"
FROZEN = (
    "kind",
    "original_name",
    "size",
    "sha256",
    "sm3",
    "storage_key",
    "uploaded_by_id",
    "channel",
    "stored_at",
    "captured_start",
    "capture_time_source",
    "deadline_at",
    "late_seconds",
    "is_late",
    "device_id",
    "officer_id",
)

_changed_sqlite = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in FROZEN)
_changed_pg = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in FROZEN)

_SQLITE_INSTALL = [
    f"""CREATE TRIGGER IF NOT EXISTS recording_original_frozen BEFORE UPDATE ON {TABLE}
        WHEN {_changed_sqlite}
        BEGIN SELECT RAISE(ABORT, 'recording originals are immutable: UPDATE refused'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS recording_no_delete BEFORE DELETE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, 'recording originals are immutable: DELETE refused'); END""",
]
_SQLITE_REMOVE = [
    "DROP TRIGGER IF EXISTS recording_original_frozen",
    "DROP TRIGGER IF EXISTS recording_no_delete",
]

_PG_INSTALL = [
    f"""CREATE OR REPLACE FUNCTION liuhen_recording_immutable() RETURNS trigger AS $$
       BEGIN
         IF TG_OP = 'UPDATE' THEN
           IF {_changed_pg} THEN
             RAISE EXCEPTION 'recording originals are immutable: UPDATE refused'
               USING ERRCODE = 'insufficient_privilege';
           END IF;
           RETURN NEW;
         END IF;
         RAISE EXCEPTION 'recording originals are immutable: % refused', TG_OP
           USING ERRCODE = 'insufficient_privilege';
       END; $$ LANGUAGE plpgsql""",
    f"DROP TRIGGER IF EXISTS recording_immutable ON {TABLE}",
    f"""CREATE TRIGGER recording_immutable BEFORE UPDATE OR DELETE ON {TABLE}
        FOR EACH ROW EXECUTE FUNCTION liuhen_recording_immutable()""",
    f"DROP TRIGGER IF EXISTS recording_no_truncate ON {TABLE}",
    f"""CREATE TRIGGER recording_no_truncate BEFORE TRUNCATE ON {TABLE}
        FOR EACH STATEMENT EXECUTE FUNCTION liuhen_recording_immutable()""",
]
_PG_REMOVE = [
    f"DROP TRIGGER IF EXISTS recording_immutable ON {TABLE}",
    f"DROP TRIGGER IF EXISTS recording_no_truncate ON {TABLE}",
]


def install(connection) -> None:
    sql = _PG_INSTALL if connection.vendor == "postgresql" else _SQLITE_INSTALL
    with connection.cursor() as cursor:
        for statement in sql:
            cursor.execute(statement)


def remove(connection) -> None:
    sql = _PG_REMOVE if connection.vendor == "postgresql" else _SQLITE_REMOVE
    with connection.cursor() as cursor:
        for statement in sql:
            cursor.execute(statement)
