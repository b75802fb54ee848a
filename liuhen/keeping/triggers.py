"""Database triggers that keep a bound case file (卷宗) immutable (第十二条: checked, bound and
archived by the records keeper; from then on a correction is a new version with a reason).

The database itself refuses:

* to delete any case-file row, draft or bound (every version is kept, 第十二条);
* to change anything of a bound version: its 档号, pages, 卷内目录, the PDF's storage key,
  SHA-256, SM3 and size, who assembled and who checked it and when; the one change allowed is
  ``is_current`` going from true to false, once, when a bound correction supersedes it;
* to unbind a version, or to change what identifies a draft (its case, version, the version it
  corrects and why, who assembled it and when).

Binding a draft (``casefile.bind``) sets the 档号, the checker and the final PDF in one UPDATE
while ``is_bound`` goes from false to true: allowed, once.
"""

from __future__ import annotations

from liuhen.evidence.triggers import run, tombstone_sql

TABLE = "keeping_casefile"
BOUND_FROZEN = (
    "case_id",
    "version",
    "replaces_id",
    "correction_reason",
    "is_bound",
    "archive_number",
    "archive_year",
    "archive_period",
    "archive_seq",
    "retention_label",
    "page_count",
    "contents",
    "storage_key",
    "sha256",
    "sm3",
    "size",
    "assembled_by_id",
    "assembled_at",
    "checked_by_id",
    "checked_at",
)
DRAFT_FROZEN = (
    "case_id",
    "version",
    "replaces_id",
    "correction_reason",
    "assembled_by_id",
    "assembled_at",
)
_MESSAGE = "bound case files are immutable (第十二条): {} refused; make a corrected version"


def _changed(columns, vendor: str) -> str:
    if vendor == "postgresql":
        return " OR ".join(f"NEW.{c}::text IS DISTINCT FROM OLD.{c}::text" for c in columns)
    return " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in columns)


def _refused(vendor: str) -> str:
    """The condition under which an UPDATE is refused."""
    true, false = ("TRUE", "FALSE") if vendor == "postgresql" else ("1", "0")
    return (
        f"(OLD.is_bound = {true} AND ({_changed(BOUND_FROZEN, vendor)}))"
        f" OR ({_changed(DRAFT_FROZEN, vendor)})"
        f" OR (NEW.is_current = {true} AND OLD.is_current = {false})"
    )


_SQLITE_INSTALL = [
    f"""CREATE TRIGGER IF NOT EXISTS casefile_frozen BEFORE UPDATE ON {TABLE}
        WHEN {_refused("sqlite")}
        BEGIN SELECT RAISE(ABORT, '{_MESSAGE.format("UPDATE")}'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS casefile_no_delete BEFORE DELETE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, '{_MESSAGE.format("DELETE")}'); END""",
]
_SQLITE_REMOVE = [
    "DROP TRIGGER IF EXISTS casefile_frozen",
    "DROP TRIGGER IF EXISTS casefile_no_delete",
]

_PG_INSTALL = [
    f"""CREATE OR REPLACE FUNCTION liuhen_casefile_immutable() RETURNS trigger AS $$
       BEGIN
         IF TG_OP = 'UPDATE' THEN
           IF {_refused("postgresql")} THEN
             RAISE EXCEPTION '{_MESSAGE.format("UPDATE")}'
               USING ERRCODE = 'insufficient_privilege';
           END IF;
           RETURN NEW;
         END IF;
         RAISE EXCEPTION 'bound case files are immutable (第十二条): % refused', TG_OP
           USING ERRCODE = 'insufficient_privilege';
       END; $$ LANGUAGE plpgsql""",
    f"DROP TRIGGER IF EXISTS casefile_immutable ON {TABLE}",
    f"""CREATE TRIGGER casefile_immutable BEFORE UPDATE OR DELETE ON {TABLE}
        FOR EACH ROW EXECUTE FUNCTION liuhen_casefile_immutable()""",
    f"DROP TRIGGER IF EXISTS casefile_no_truncate ON {TABLE}",
    f"""CREATE TRIGGER casefile_no_truncate BEFORE TRUNCATE ON {TABLE}
        FOR EACH STATEMENT EXECUTE FUNCTION liuhen_casefile_immutable()""",
]
_PG_REMOVE = [
    f"DROP TRIGGER IF EXISTS casefile_immutable ON {TABLE}",
    f"DROP TRIGGER IF EXISTS casefile_no_truncate ON {TABLE}",
    "DROP FUNCTION IF EXISTS liuhen_casefile_immutable()",
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


# -- tombstones (migration 0008, issue 11): only keeping.disposal, with a CaseFileDisposal -----
def _tombstone(vendor: str):
    return tombstone_sql(vendor, name="casefile", table=TABLE,
                         permit_table="keeping_casefiledisposal", fk="tombstone_id")


def install_tombstone(connection) -> None:
    """The triggers above again (SQLite drops them when a migration rebuilds the table) and
    the tombstone guard."""
    install(connection)
    run(connection, _tombstone(connection.vendor)[0])


def remove_tombstone(connection) -> None:
    run(connection, _tombstone(connection.vendor)[1])
