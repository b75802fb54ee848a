"""Database triggers that keep stored originals immutable (第二十六条 (二)).

The database itself refuses to delete a recording row or to change what identifies the
original (digests, size, storage key, name, capture time, who stored it and when). Only the
derived-media status and the audited links to case, patrol and party may change.

Disposal (第十四条) is the one exception, and it is not a DELETE: a recording becomes a
tombstone (``disposed_at``, ``disposal_register``) only when its ``evidence_recordingdisposal``
row exists with the same register number and the approvals of two different people (unit head
and legal affairs office); a tombstone never changes again and is never deleted. The disposal
row itself cannot be deleted, and only the erasure of the object may be added to it, once.
(``install`` is the first version, as migration 0002 installed it; ``install_tombstone``
adds the guard, from migration 0008 on.)
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


# -- tombstones (migration 0008) -----------------------------------------------------------
DISPOSAL_TABLE = "evidence_recordingdisposal"
DISPOSAL_FROZEN = (
    "recording_id", "register_number", "proposed_by_id", "proposed_at",
    "unit_head_approved_by_id", "unit_head_approved_at", "legal_approved_by_id",
    "legal_approved_at", "retention", "executed_by_id", "executed_at",
)
_PERMIT = (f"SELECT 1 FROM {DISPOSAL_TABLE} d WHERE d.recording_id = NEW.id"
           " AND d.register_number = NEW.disposal_register AND NEW.disposal_register <> ''"
           " AND d.unit_head_approved_by_id <> d.legal_approved_by_id")
_disposal_changed_sqlite = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in DISPOSAL_FROZEN)
_disposal_changed_pg = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in DISPOSAL_FROZEN)

_SQLITE_TOMBSTONE = [
    f"""CREATE TRIGGER IF NOT EXISTS recording_tombstone_guard BEFORE UPDATE ON {TABLE}
        WHEN OLD.disposed_at IS NOT NULL
          OR (NEW.disposal_register IS NOT OLD.disposal_register AND NEW.disposed_at IS NULL)
          OR (NEW.disposed_at IS NOT NULL AND NOT EXISTS ({_PERMIT}))
        BEGIN SELECT RAISE(ABORT, 'recording tombstone: UPDATE refused outside the disposal path'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS recording_disposal_no_delete BEFORE DELETE ON {DISPOSAL_TABLE}
        BEGIN SELECT RAISE(ABORT, 'recording disposals are permanent: DELETE refused'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS recording_disposal_frozen BEFORE UPDATE ON {DISPOSAL_TABLE}
        WHEN OLD.object_erased_at IS NOT NULL OR {_disposal_changed_sqlite}
        BEGIN SELECT RAISE(ABORT, 'recording disposals are permanent: UPDATE refused'); END""",
]
_SQLITE_TOMBSTONE_REMOVE = [
    "DROP TRIGGER IF EXISTS recording_tombstone_guard",
    "DROP TRIGGER IF EXISTS recording_disposal_no_delete",
    "DROP TRIGGER IF EXISTS recording_disposal_frozen",
]

_PG_TOMBSTONE = [
    f"""CREATE OR REPLACE FUNCTION liuhen_recording_immutable() RETURNS trigger AS $$
       BEGIN
         IF TG_OP = 'UPDATE' THEN
           IF {_changed_pg} THEN
             RAISE EXCEPTION 'recording originals are immutable: UPDATE refused'
               USING ERRCODE = 'insufficient_privilege';
           END IF;
           IF OLD.disposed_at IS NOT NULL
              OR (NEW.disposal_register IS DISTINCT FROM OLD.disposal_register
                  AND NEW.disposed_at IS NULL)
              OR (NEW.disposed_at IS NOT NULL AND NOT EXISTS ({_PERMIT})) THEN
             RAISE EXCEPTION 'recording tombstone: UPDATE refused outside the disposal path'
               USING ERRCODE = 'insufficient_privilege';
           END IF;
           RETURN NEW;
         END IF;
         RAISE EXCEPTION 'recording originals are immutable: % refused', TG_OP
           USING ERRCODE = 'insufficient_privilege';
       END; $$ LANGUAGE plpgsql""",
    f"""CREATE OR REPLACE FUNCTION liuhen_recording_disposal_permanent() RETURNS trigger AS $$
       BEGIN
         IF TG_OP = 'UPDATE' AND OLD.object_erased_at IS NULL
            AND NOT ({_disposal_changed_pg}) THEN
           RETURN NEW;
         END IF;
         RAISE EXCEPTION 'recording disposals are permanent: % refused', TG_OP
           USING ERRCODE = 'insufficient_privilege';
       END; $$ LANGUAGE plpgsql""",
    f"DROP TRIGGER IF EXISTS recording_disposal_permanent ON {DISPOSAL_TABLE}",
    f"""CREATE TRIGGER recording_disposal_permanent BEFORE UPDATE OR DELETE ON {DISPOSAL_TABLE}
        FOR EACH ROW EXECUTE FUNCTION liuhen_recording_disposal_permanent()""",
    f"DROP TRIGGER IF EXISTS recording_disposal_no_truncate ON {DISPOSAL_TABLE}",
    f"""CREATE TRIGGER recording_disposal_no_truncate BEFORE TRUNCATE ON {DISPOSAL_TABLE}
        FOR EACH STATEMENT EXECUTE FUNCTION liuhen_recording_disposal_permanent()""",
]
_PG_TOMBSTONE_REMOVE = [
    f"DROP TRIGGER IF EXISTS recording_disposal_permanent ON {DISPOSAL_TABLE}",
    f"DROP TRIGGER IF EXISTS recording_disposal_no_truncate ON {DISPOSAL_TABLE}",
    *_PG_INSTALL[:1],  # the function as 0002 made it (no tombstone guard)
]


def install_tombstone(connection) -> None:
    """The first version's triggers (again: SQLite drops them when a migration rebuilds the
    table) and the tombstone guard."""
    install(connection)
    sql = _PG_TOMBSTONE if connection.vendor == "postgresql" else _SQLITE_TOMBSTONE
    with connection.cursor() as cursor:
        for statement in sql:
            cursor.execute(statement)


def remove_tombstone(connection) -> None:
    sql = _PG_TOMBSTONE_REMOVE if connection.vendor == "postgresql" else _SQLITE_TOMBSTONE_REMOVE
    with connection.cursor() as cursor:
        for statement in sql:
            cursor.execute(statement)


# -- the pinned object version (migration 0010, issue 14 item 5) ---------------------------
# ``storage_version`` is set at ingest, or once later for an original stored before versions
# were pinned ("" → a version); afterwards nothing may change it: re-pointing a recording at
# another version of its key would serve bytes that were never ingested (第二十六条 (二)).
_SQLITE_VERSION_PIN = [
    f"""CREATE TRIGGER IF NOT EXISTS recording_version_pinned BEFORE UPDATE ON {TABLE}
        WHEN OLD.storage_version <> '' AND NEW.storage_version IS NOT OLD.storage_version
        BEGIN SELECT RAISE(ABORT, 'recording object version is pinned: UPDATE refused'); END""",
]
_SQLITE_VERSION_PIN_REMOVE = ["DROP TRIGGER IF EXISTS recording_version_pinned"]
_PG_VERSION_PIN = [
    """CREATE OR REPLACE FUNCTION liuhen_recording_version_pinned() RETURNS trigger AS $$
       BEGIN
         IF OLD.storage_version <> '' AND NEW.storage_version IS DISTINCT FROM OLD.storage_version
         THEN
           RAISE EXCEPTION 'recording object version is pinned: UPDATE refused'
             USING ERRCODE = 'insufficient_privilege';
         END IF;
         RETURN NEW;
       END; $$ LANGUAGE plpgsql""",
    f"DROP TRIGGER IF EXISTS recording_version_pinned ON {TABLE}",
    f"""CREATE TRIGGER recording_version_pinned BEFORE UPDATE ON {TABLE}
        FOR EACH ROW EXECUTE FUNCTION liuhen_recording_version_pinned()""",
]
_PG_VERSION_PIN_REMOVE = [f"DROP TRIGGER IF EXISTS recording_version_pinned ON {TABLE}"]


def install_version_pin(connection) -> None:
    """All the recording triggers so far (again: SQLite drops them when a migration rebuilds
    the table, as adding ``storage_version`` does) and the version pin. A later migration that
    rebuilds ``evidence_recording`` calls this again."""
    install_tombstone(connection)
    sql = _PG_VERSION_PIN if connection.vendor == "postgresql" else _SQLITE_VERSION_PIN
    with connection.cursor() as cursor:
        for statement in sql:
            cursor.execute(statement)


def remove_version_pin(connection) -> None:
    sql = (_PG_VERSION_PIN_REMOVE if connection.vendor == "postgresql"
           else _SQLITE_VERSION_PIN_REMOVE)
    with connection.cursor() as cursor:
        for statement in sql:
            cursor.execute(statement)


# -- tombstones of other stored records (keeping.disposal, issue 11) ------------------------
# A written record's scan (records.DocumentDisposal) and a case file's PDF
# (keeping.CaseFileDisposal) are disposed of the way a recording is: the row becomes a
# tombstone (``disposed_at``, ``disposal_register``) only when its permit row exists with the
# same register number and the approvals of two different people; a tombstone never changes
# again; a permit is never deleted, and only the erasure of its object may be added, once.
PERMIT_FROZEN = (
    "register_number", "proposed_by_id", "proposed_at", "unit_head_approved_by_id",
    "unit_head_approved_at", "legal_approved_by_id", "legal_approved_at", "retention",
    "storage_key", "sha256", "sm3", "size", "executed_by_id", "executed_at",
)


def tombstone_sql(vendor: str, *, name: str, table: str, permit_table: str,
                  fk: str) -> tuple[list[str], list[str]]:
    """(install, remove) statements guarding ``table``'s tombstones by ``permit_table``
    (whose ``fk`` column names the disposed row)."""
    permit = (f"SELECT 1 FROM {permit_table} d WHERE d.{fk} = NEW.id"
              " AND d.register_number = NEW.disposal_register AND NEW.disposal_register <> ''"
              " AND d.unit_head_approved_by_id <> d.legal_approved_by_id")
    frozen = (*PERMIT_FROZEN, fk)
    message = f"{name} tombstone: UPDATE refused outside the disposal path"
    permanent = f"{name} disposals are permanent"
    if vendor != "postgresql":
        changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in frozen)
        install = [
            f"""CREATE TRIGGER IF NOT EXISTS {name}_tombstone_guard BEFORE UPDATE ON {table}
                WHEN OLD.disposed_at IS NOT NULL
                  OR (NEW.disposal_register IS NOT OLD.disposal_register
                      AND NEW.disposed_at IS NULL)
                  OR (NEW.disposed_at IS NOT NULL AND NOT EXISTS ({permit}))
                BEGIN SELECT RAISE(ABORT, '{message}'); END""",
            f"""CREATE TRIGGER IF NOT EXISTS {name}_disposal_no_delete BEFORE DELETE
                ON {permit_table}
                BEGIN SELECT RAISE(ABORT, '{permanent}: DELETE refused'); END""",
            f"""CREATE TRIGGER IF NOT EXISTS {name}_disposal_frozen BEFORE UPDATE
                ON {permit_table} WHEN OLD.object_erased_at IS NOT NULL OR {changed}
                BEGIN SELECT RAISE(ABORT, '{permanent}: UPDATE refused'); END""",
        ]
        remove = [f"DROP TRIGGER IF EXISTS {name}_{t}"
                  for t in ("tombstone_guard", "disposal_no_delete", "disposal_frozen")]
        return install, remove
    changed = " OR ".join(f"NEW.{c}::text IS DISTINCT FROM OLD.{c}::text" for c in frozen)
    install = [
        f"""CREATE OR REPLACE FUNCTION liuhen_{name}_tombstone() RETURNS trigger AS $$
           BEGIN
             IF OLD.disposed_at IS NOT NULL
                OR (NEW.disposal_register IS DISTINCT FROM OLD.disposal_register
                    AND NEW.disposed_at IS NULL)
                OR (NEW.disposed_at IS NOT NULL AND NOT EXISTS ({permit})) THEN
               RAISE EXCEPTION '{message}' USING ERRCODE = 'insufficient_privilege';
             END IF;
             RETURN NEW;
           END; $$ LANGUAGE plpgsql""",
        f"DROP TRIGGER IF EXISTS {name}_tombstone_guard ON {table}",
        f"""CREATE TRIGGER {name}_tombstone_guard BEFORE UPDATE ON {table}
            FOR EACH ROW EXECUTE FUNCTION liuhen_{name}_tombstone()""",
        f"""CREATE OR REPLACE FUNCTION liuhen_{name}_disposal_permanent() RETURNS trigger AS $$
           BEGIN
             IF TG_OP = 'UPDATE' AND OLD.object_erased_at IS NULL AND NOT ({changed}) THEN
               RETURN NEW;
             END IF;
             RAISE EXCEPTION '{permanent}: % refused', TG_OP
               USING ERRCODE = 'insufficient_privilege';
           END; $$ LANGUAGE plpgsql""",
        f"DROP TRIGGER IF EXISTS {name}_disposal_permanent ON {permit_table}",
        f"""CREATE TRIGGER {name}_disposal_permanent BEFORE UPDATE OR DELETE ON {permit_table}
            FOR EACH ROW EXECUTE FUNCTION liuhen_{name}_disposal_permanent()""",
        f"DROP TRIGGER IF EXISTS {name}_disposal_no_truncate ON {permit_table}",
        f"""CREATE TRIGGER {name}_disposal_no_truncate BEFORE TRUNCATE ON {permit_table}
            FOR EACH STATEMENT EXECUTE FUNCTION liuhen_{name}_disposal_permanent()""",
    ]
    remove = [
        f"DROP TRIGGER IF EXISTS {name}_tombstone_guard ON {table}",
        f"DROP TRIGGER IF EXISTS {name}_disposal_permanent ON {permit_table}",
        f"DROP TRIGGER IF EXISTS {name}_disposal_no_truncate ON {permit_table}",
        f"DROP FUNCTION IF EXISTS liuhen_{name}_tombstone()",
        f"DROP FUNCTION IF EXISTS liuhen_{name}_disposal_permanent()",
    ]
    return install, remove


def run(connection, statements) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
