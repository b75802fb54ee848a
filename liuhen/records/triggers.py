"""Database triggers that keep written records as immutable as recordings (第二十六条 (二):
no 文字记录 may be altered or deleted, any more than an original recording), made by the one
generator of ``core/triggers.py``.

The database itself refuses to delete a document row or a party link of it, and to change
anything a document says or carries (type, number, date, its scan's digests, size and storage
key, who added it and when, …). A new version supersedes an old one (``replaces``): the only
change allowed on a row is ``is_current`` going from true to false, once.
"""

from __future__ import annotations

from liuhen.core.triggers import changed, immutable_table_sql, install_all, remove_all
from liuhen.evidence.triggers import record_tombstone_protections

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
_MESSAGE = "written records are immutable (第二十六条): {op} refused; add a new version instead"

DOCUMENTS = immutable_table_sql(
    TABLE, "document", message=_MESSAGE,
    refused_update=lambda vendor: (
        f"{changed(FROZEN, vendor)} OR (NEW.is_current AND NOT OLD.is_current)"))
DOCUMENT_PARTIES = immutable_table_sql(PARTIES, "document_parties", message=_MESSAGE)

# -- tombstones (migration 0005, issue 11): only keeping.disposal, with a DocumentDisposal -----
TOMBSTONE, DISPOSALS = record_tombstone_protections(
    name="document", table=TABLE, permit_table="records_documentdisposal")
ALL = (DOCUMENTS, DOCUMENT_PARTIES, TOMBSTONE, DISPOSALS)


def install(connection) -> None:
    install_all(connection, DOCUMENTS, DOCUMENT_PARTIES)


def remove(connection) -> None:
    remove_all(connection, DOCUMENTS, DOCUMENT_PARTIES)


def install_tombstone(connection) -> None:
    """The triggers above again (SQLite drops them when a migration rebuilds the table, as
    adding ``disposal_register`` does) and the tombstone guard."""
    install_all(connection, *ALL)


def remove_tombstone(connection) -> None:
    remove_all(connection, TOMBSTONE, DISPOSALS)
