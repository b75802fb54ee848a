"""Database triggers that make the audit table append-only, on SQLite and PostgreSQL (the one
generator of ``core/triggers.py``: every UPDATE, DELETE and TRUNCATE is refused)."""

from __future__ import annotations

from liuhen.core.triggers import immutable_table_sql

TABLE = "audit_auditentry"
APPEND_ONLY = immutable_table_sql(TABLE, "audit_append_only",
                                  message="audit log is append-only: {op} refused")
install_sql = APPEND_ONLY.install_sql
remove_sql = APPEND_ONLY.remove_sql
install = APPEND_ONLY.install
# Migrations call ``remove`` when reversed; the tests call it to prove that the hash chain
# alone still catches tampering.
remove = APPEND_ONLY.remove
