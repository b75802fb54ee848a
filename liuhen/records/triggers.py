"""Database triggers that keep written records as immutable as recordings (第二十六条 (二):
no 文字记录 may be altered or deleted, any more than an original recording).

The database itself refuses to delete a document row or a party link of it, and to change
anything a document says or carries (type, number, date, its scan's digests, size and storage
key, who added it and when, …). A new version supersedes an old one (``replaces``): the only
change allowed on a row is ``is_current`` going from true to false, once.
"""

from __future__ import annotations

from liuhen.evidence.triggers import run, tombstone_sql

TABLE = "cases_document"  # the table keeps its name from the cases app (issue 15)
PARTIES = "cases_document_parties"
FROZEN = (
    "case_id",
    "doc_type",
    "number",
    "date",
    "stage",
    "signature",
    "original_name",
    "size",
    "media_type",
    "sha256",
    "sm3",
    "storage_key",
    "version",
    "replaces_id",
    "generated",
    "created_by_id",
    "created_at",
    "note",
    "extra",
)

_changed_sqlite = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in FROZEN)
_changed_pg = " OR ".join(f"NEW.{c}::text IS DISTINCT FROM OLD.{c}::text" for c in FROZEN)
_MESSAGE = "written records are immutable (第二十六条): {} refused; add a new version instead"

_SQLITE_INSTALL = [
    f"""CREATE TRIGGER IF NOT EXISTS document_frozen BEFORE UPDATE ON {TABLE}
        WHEN {_changed_sqlite} OR (NEW.is_current AND NOT OLD.is_current)
        BEGIN SELECT RAISE(ABORT, '{_MESSAGE.format("UPDATE")}'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS document_no_delete BEFORE DELETE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, '{_MESSAGE.format("DELETE")}'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS document_parties_frozen BEFORE UPDATE ON {PARTIES}
        BEGIN SELECT RAISE(ABORT, '{_MESSAGE.format("UPDATE")}'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS document_parties_no_delete BEFORE DELETE ON {PARTIES}
        BEGIN SELECT RAISE(ABORT, '{_MESSAGE.format("DELETE")}'); END""",
]
_SQLITE_REMOVE = [
    "DROP TRIGGER IF EXISTS document_frozen",
    "DROP TRIGGER IF EXISTS document_no_delete",
    "DROP TRIGGER IF EXISTS document_parties_frozen",
    "DROP TRIGGER IF EXISTS document_parties_no_delete",
]

_PG_INSTALL = [
    f"""CREATE OR REPLACE FUNCTION liuhen_document_immutable() RETURNS trigger AS $$
       BEGIN
         IF TG_OP = 'UPDATE' AND TG_TABLE_NAME = '{TABLE}' THEN
           IF {_changed_pg} OR (NEW.is_current AND NOT OLD.is_current) THEN
             RAISE EXCEPTION '{_MESSAGE.format("UPDATE")}'
               USING ERRCODE = 'insufficient_privilege';
           END IF;
           RETURN NEW;
         END IF;
         RAISE EXCEPTION 'written records are immutable (第二十六条): % refused', TG_OP
           USING ERRCODE = 'insufficient_privilege';
       END; $$ LANGUAGE plpgsql""",
    *(
        statement
        for table, name in ((TABLE, "document"), (PARTIES, "document_parties"))
        for statement in (
            f"DROP TRIGGER IF EXISTS {name}_immutable ON {table}",
            f"""CREATE TRIGGER {name}_immutable BEFORE UPDATE OR DELETE ON {table}
                FOR EACH ROW EXECUTE FUNCTION liuhen_document_immutable()""",
            f"DROP TRIGGER IF EXISTS {name}_no_truncate ON {table}",
            f"""CREATE TRIGGER {name}_no_truncate BEFORE TRUNCATE ON {table}
                FOR EACH STATEMENT EXECUTE FUNCTION liuhen_document_immutable()""",
        )
    ),
]
_PG_REMOVE = [
    f"DROP TRIGGER IF EXISTS {name}_{suffix} ON {table}"
    for table, name in ((TABLE, "document"), (PARTIES, "document_parties"))
    for suffix in ("immutable", "no_truncate")
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


# -- tombstones (migration 0005, issue 11): only keeping.disposal, with a DocumentDisposal -----
def _tombstone(vendor: str):
    return tombstone_sql(vendor, name="document", table=TABLE,
                         permit_table="records_documentdisposal", fk="tombstone_id")


def install_tombstone(connection) -> None:
    """The triggers above again (SQLite drops them when a migration rebuilds the table, as
    adding ``disposal_register`` does) and the tombstone guard."""
    install(connection)
    run(connection, _tombstone(connection.vendor)[0])


def remove_tombstone(connection) -> None:
    run(connection, _tombstone(connection.vendor)[1])
