"""Database triggers that keep stored originals immutable (第二十六条 (二)), made by the one
generator of ``core/triggers.py``.

The database itself refuses to delete a recording row or to change what identifies the
original (digests, size, storage key, name, capture time, who stored it and when). Only the
derived-media status and the audited links to case, patrol and party may change.

Disposal (第十四条) is the one exception, and it is not a DELETE: a recording becomes a
tombstone (``disposed_at``, ``disposal_register``) only when its ``evidence_recordingdisposal``
row exists with the same register number and the approvals of two different people (unit head
and legal affairs office); a tombstone never changes again and is never deleted. The disposal
row itself cannot be deleted, and only the erasure of the object may be added to it, once.

Each migration installs what it adds: 0002 the originals (``install``), 0008 the tombstone
guard and the disposals (``install_tombstone``), 0010 the pinned object version
(``install_version_pin``); each also installs what came before, because SQLite drops a
table's triggers when a migration rebuilds the table.
"""

from __future__ import annotations

from liuhen.core.triggers import (
    TriggerSQL,
    changed,
    immutable_table_sql,
    install_all,
    remove_all,
)

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
ORIGINALS = immutable_table_sql(
    TABLE, "recording_original", message="recording originals are immutable: {op} refused",
    refused_update=lambda vendor: changed(FROZEN, vendor))

# -- tombstones (migration 0008) -----------------------------------------------------------
DISPOSAL_TABLE = "evidence_recordingdisposal"
DISPOSAL_FROZEN = (
    "recording_id", "register_number", "proposed_by_id", "proposed_at",
    "unit_head_approved_by_id", "unit_head_approved_at", "legal_approved_by_id",
    "legal_approved_at", "retention", "executed_by_id", "executed_at",
)


def tombstone_protections(*, name: str, table: str, permit_table: str, fk: str,
                          permit_frozen) -> tuple[TriggerSQL, TriggerSQL]:
    """The tombstone guard of ``table`` and the permanence of its permits in ``permit_table``
    (whose ``fk`` column names the disposed row): a row of ``table`` becomes a tombstone
    (``disposed_at``, ``disposal_register``) only when its permit exists with the same
    register number and the approvals of two different people, and never changes again; a
    permit is never deleted, and only the erasure of its object may be added to it, once
    (第十四条). Recordings use it; so can any other stored record disposed of this way."""
    permit = (f"SELECT 1 FROM {permit_table} d WHERE d.{fk} = NEW.id"
              " AND d.register_number = NEW.disposal_register AND NEW.disposal_register <> ''"
              " AND d.unit_head_approved_by_id <> d.legal_approved_by_id")
    guard = immutable_table_sql(
        table, f"{name}_tombstone",
        message=f"{name} tombstone: {{op}} refused outside the disposal path",
        refused_update=lambda vendor: (
            "OLD.disposed_at IS NOT NULL"
            f" OR (({changed(['disposal_register'], vendor)}) AND NEW.disposed_at IS NULL)"
            f" OR (NEW.disposed_at IS NOT NULL AND NOT EXISTS ({permit}))"),
        refused_delete=False)  # the table's own protection refuses every DELETE
    permits = immutable_table_sql(
        permit_table, f"{name}_disposal", message=f"{name} disposals are permanent: {{op}} refused",
        refused_update=lambda vendor: (
            f"OLD.object_erased_at IS NOT NULL OR {changed(permit_frozen, vendor)}"))
    return guard, permits


TOMBSTONE, DISPOSALS = tombstone_protections(name="recording", table=TABLE,
                                             permit_table=DISPOSAL_TABLE, fk="recording_id",
                                             permit_frozen=DISPOSAL_FROZEN)

# -- the pinned object version (migration 0010, issue 14 item 5) ---------------------------
# ``storage_version`` is set at ingest, or once later for an original stored before versions
# were pinned ("" → a version); afterwards nothing may change it: re-pointing a recording at
# another version of its key would serve bytes that were never ingested (第二十六条 (二)).
VERSION_PIN = immutable_table_sql(
    TABLE, "recording_version_pin", message="recording object version is pinned: {op} refused",
    refused_update=lambda vendor: (
        f"OLD.storage_version <> '' AND ({changed(['storage_version'], vendor)})"),
    refused_delete=False)

ALL = (ORIGINALS, TOMBSTONE, DISPOSALS, VERSION_PIN)


def install(connection) -> None:
    install_all(connection, ORIGINALS)


def remove(connection) -> None:
    remove_all(connection, ORIGINALS)


def install_tombstone(connection) -> None:
    install_all(connection, ORIGINALS, TOMBSTONE, DISPOSALS)


def remove_tombstone(connection) -> None:
    remove_all(connection, TOMBSTONE, DISPOSALS)


def install_version_pin(connection) -> None:
    """All the recording triggers so far and the version pin. A later migration that
    rebuilds ``evidence_recording`` calls this (or ``install_all(connection, *ALL)``) again."""
    install_all(connection, *ALL)


def remove_version_pin(connection) -> None:
    remove_all(connection, VERSION_PIN)


# -- tombstones of other stored records (keeping.disposal, issue 11) ------------------------
# A written record's scan (records.DocumentDisposal) and a case file's PDF
# (keeping.CaseFileDisposal) are disposed of the way a recording is (``tombstone_protections``);
# their permits (evidence.models.DisposalPermit) freeze these columns and their ``tombstone``.
PERMIT_FROZEN = (
    "register_number", "proposed_by_id", "proposed_at", "unit_head_approved_by_id",
    "unit_head_approved_at", "legal_approved_by_id", "legal_approved_at", "retention",
    "storage_key", "sha256", "sm3", "size", "executed_by_id", "executed_at", "tombstone_id",
)


def record_tombstone_protections(*, name: str, table: str,
                                 permit_table: str) -> tuple[TriggerSQL, TriggerSQL]:
    return tombstone_protections(name=name, table=table, permit_table=permit_table,
                                 fk="tombstone_id", permit_frozen=PERMIT_FROZEN)
