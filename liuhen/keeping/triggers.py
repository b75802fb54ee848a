"""Database triggers that keep a bound case file (卷宗) immutable (第十二条: checked, bound and
archived by the records keeper; from then on a correction is a new version with a reason),
made by the one generator of ``core/triggers.py``.

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

from liuhen.core.triggers import changed, immutable_table_sql, install_all, remove_all
from liuhen.evidence.triggers import record_tombstone_protections

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
_MESSAGE = "bound case files are immutable (第十二条): {op} refused; make a corrected version"


def _refused(vendor: str) -> str:
    """The condition under which an UPDATE is refused."""
    return (
        f"(OLD.is_bound AND ({changed(BOUND_FROZEN, vendor)}))"
        f" OR ({changed(DRAFT_FROZEN, vendor)})"
        " OR (NEW.is_current AND NOT OLD.is_current)"
    )


CASEFILES = immutable_table_sql(TABLE, "casefile", message=_MESSAGE, refused_update=_refused)
install = CASEFILES.install
remove = CASEFILES.remove

# -- tombstones (migration 0008, issue 11): only keeping.disposal, with a CaseFileDisposal -----
TOMBSTONE, DISPOSALS = record_tombstone_protections(
    name="casefile", table=TABLE, permit_table="keeping_casefiledisposal")
ALL = (CASEFILES, TOMBSTONE, DISPOSALS)


def install_tombstone(connection) -> None:
    """The triggers above again (SQLite drops them when a migration rebuilds the table) and
    the tombstone guard."""
    install_all(connection, *ALL)


def remove_tombstone(connection) -> None:
    remove_all(connection, TOMBSTONE, DISPOSALS)
