"""Database triggers that make the audit table append-only, on SQLite and PostgreSQL."""

from __future__ import annotations

TABLE = "audit_auditentry"

_SQLITE_INSTALL = [
    f"""CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, 'audit log is append-only: UPDATE refused'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, 'audit log is append-only: DELETE refused'); END""",
]
_SQLITE_REMOVE = ["DROP TRIGGER IF EXISTS audit_no_update", "DROP TRIGGER IF EXISTS audit_no_delete"]

_PG_INSTALL = [
    """CREATE OR REPLACE FUNCTION liuhen_audit_append_only() RETURNS trigger AS $$
       BEGIN
         RAISE EXCEPTION 'audit log is append-only: % refused', TG_OP
           USING ERRCODE = 'insufficient_privilege';
       END; $$ LANGUAGE plpgsql""",
    f"DROP TRIGGER IF EXISTS audit_no_update_delete ON {TABLE}",
    f"""CREATE TRIGGER audit_no_update_delete BEFORE UPDATE OR DELETE ON {TABLE}
        FOR EACH ROW EXECUTE FUNCTION liuhen_audit_append_only()""",
    f"DROP TRIGGER IF EXISTS audit_no_truncate ON {TABLE}",
    f"""CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON {TABLE}
        FOR EACH STATEMENT EXECUTE FUNCTION liuhen_audit_append_only()""",
]
_PG_REMOVE = [
    f"DROP TRIGGER IF EXISTS audit_no_update_delete ON {TABLE}",
    f"DROP TRIGGER IF EXISTS audit_no_truncate ON {TABLE}",
]


def install_sql(vendor: str) -> list[str]:
    return _PG_INSTALL if vendor == "postgresql" else _SQLITE_INSTALL


def remove_sql(vendor: str) -> list[str]:
    return _PG_REMOVE if vendor == "postgresql" else _SQLITE_REMOVE


def install(connection) -> None:
    with connection.cursor() as cursor:
        for sql in install_sql(connection.vendor):
            cursor.execute(sql)


def remove(connection) -> None:
    """Only the tests call this, to prove that the hash chain alone still catches tampering."""
    with connection.cursor() as cursor:
        for sql in remove_sql(connection.vendor):
            cursor.execute(sql)
