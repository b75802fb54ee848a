"""Run by ``test_migrations_reverse.py`` in a process of its own, on the migrated database its
environment names (SQLite under ``LIUHEN_DATA_DIR`` or ``LIUHEN_DATABASE_URL``): every
Liuhen app is migrated to zero (Django unapplies its dependents first) and its tables are
checked gone; then everything migrates forward again and the schema is compared with the one
before. Prints ``REPORT {json}``."""

from __future__ import annotations

import json
import os
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liuhen.settings")

import django  # noqa: E402

django.setup()

from django.apps import apps  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.migrations.loader import MigrationLoader  # noqa: E402


def fingerprint() -> dict:
    """Tables, columns, indexes, constraints, triggers and functions, as the database has them."""
    with connection.cursor() as cursor:
        def rows(sql):
            cursor.execute(sql)
            return [list(row) for row in cursor.fetchall()]

        if connection.vendor == "sqlite":
            return {"objects": rows(
                "SELECT type, name, tbl_name, sql FROM sqlite_master "
                "WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name")}
        return {
            "columns": rows(
                "SELECT table_name, column_name, data_type, is_nullable, "
                "coalesce(column_default, '') FROM information_schema.columns "
                "WHERE table_schema = 'public' ORDER BY 1, 2"),
            "indexes": rows("SELECT indexname, indexdef FROM pg_indexes "
                            "WHERE schemaname = 'public' ORDER BY 1"),
            "constraints": rows(
                "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) "
                "FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
                "WHERE n.nspname = 'public' ORDER BY 1, 2"),
            "triggers": rows("SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid) "
                             "FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1, 2"),
            "functions": rows(
                "SELECT p.proname, md5(p.prosrc) FROM pg_proc p "
                "JOIN pg_namespace n ON n.oid = p.pronamespace "
                "WHERE n.nspname = 'public' ORDER BY 1, 2"),
        }


def liuhen_apps() -> list[str]:
    loader = MigrationLoader(connection)
    return sorted(config.label for config in apps.get_app_configs()
                  if config.name.startswith("liuhen.") and config.label in loader.migrated_apps)


def main() -> None:
    """All apps to zero, one after another (each also unapplies what depends on it), each
    checked at its zero; then one forward migration, compared with the schema before."""
    before = fingerprint()
    report = {"apps": {}, "vendor": connection.vendor}
    started = time.monotonic()
    for label in sys.argv[1:] or liuhen_apps():
        call_command("migrate", label, "zero", verbosity=0)
        tables = set(connection.introspection.table_names())
        report["apps"][label] = sorted(
            model._meta.db_table for model in apps.get_app_config(label).get_models()
            if model._meta.managed and model._meta.db_table in tables)
    report["at_zero"] = fingerprint()
    report["tables_at_zero"] = sorted(connection.introspection.table_names())
    call_command("migrate", verbosity=0)
    after = fingerprint()
    report["same_schema_after"] = after == before
    report["schema_changed_at_zero"] = report["at_zero"] != before
    report["diff"] = {key: [row for row in after[key] if row not in before[key]]
                      + [["missing", *row] for row in before[key] if row not in after[key]]
                      for key in before if after[key] != before[key]}
    report["seconds"] = round(time.monotonic() - started, 1)
    print("REPORT " + json.dumps(report, ensure_ascii=False))


if __name__ == "__main__":
    main()
