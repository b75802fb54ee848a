"""Run by ``test_legacy_database.py`` in a process of its own, on the database its environment
names (``LIUHEN_DATA_DIR`` holding a copy of the fixture for SQLite, or ``LIUHEN_DATABASE_URL``
naming an empty PostgreSQL database):

1. PostgreSQL only: build the schema of commit 17f8c74 with the MigrationExecutor (every app's
   migrations up to what that commit had) and copy every row of the SQLite fixture into it
   through the historical models of that state, ids, audit chain and all;
2. ``liuhen migrate``, exactly as an upgrade runs it;
3. print, as JSON, what the test checks: rows per moved model, content types, links.
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liuhen.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.core.management.color import no_style  # noqa: E402
from django.db import connection, connections, transaction  # noqa: E402
from django.db.migrations.executor import MigrationExecutor  # noqa: E402

# What the migration graph looked like at 17f8c74 (each of our apps' last migration then).
OLD_LEAVES = {
    "audit": "0003_append_function",
    "org": "0001_initial",
    "cases": "0003_case_list_indexes",
    "evidence": "0004_list_case_party_indexes",
    "rules": "0003_completeness",
}


def is_new_app(label: str) -> bool:
    """Every Liuhen app not in OLD_LEAVES came after 17f8c74 (access, records, deadlines,
    devices, web, keeping, supervision, disclosure, …): an app added later is new without
    being listed here. Third-party apps (Django's, axes, otp, tasks) existed then."""
    from django.apps import apps

    return label not in OLD_LEAVES and apps.get_app_config(label).name.startswith("liuhen.")


def old_targets(executor) -> list[tuple[str, str]]:
    targets = [(app, name) for app, name in OLD_LEAVES.items()]
    for app, name in executor.loader.graph.leaf_nodes():
        if app not in OLD_LEAVES and not is_new_app(app):
            targets.append((app, name))
    return targets


def copy_fixture_into_postgresql(fixture: str) -> None:
    executor = MigrationExecutor(connection)
    targets = old_targets(executor)
    executor.migrate(targets)
    old_apps = executor.loader.project_state(targets).apps
    legacy = dict(connections.settings["default"])
    legacy.update(ENGINE="django.db.backends.sqlite3", NAME=fixture, OPTIONS={})
    connections.settings["legacy"] = legacy
    models = [m for m in old_apps.get_models(include_auto_created=True)
              if m._meta.managed and not m._meta.proxy]
    with transaction.atomic():  # foreign keys are checked at COMMIT (deferred)
        # Data migrations already seeded some tables (the holiday calendar): the fixture's
        # rows replace them. The audit table is still empty (and refuses DELETE anyway).
        for model in models:
            if model._meta.db_table != "audit_auditentry":
                model._base_manager.all()._raw_delete(connection.alias)
        for model in models:
            rows = list(model._base_manager.using("legacy").order_by("pk"))
            model._base_manager.bulk_create(rows, batch_size=500)
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), models):
                cursor.execute(sql)
    connections["legacy"].close()


def report() -> dict:
    from django.contrib.contenttypes.models import ContentType

    from liuhen.access.models import ApiToken
    from liuhen.audit.queries import entries_about
    from liuhen.cases.models import Case, StageLog
    from liuhen.deadlines.models import CaseDeadlineEntry, Holiday, HolidayYear
    from liuhen.devices.models import Device
    from liuhen.evidence.models import CaseLink, Recording
    from liuhen.records.models import Approval, Document, Service

    moved = {"cases_document": Document, "cases_approval": Approval, "cases_service": Service,
             "evidence_device": Device, "org_apitoken": ApiToken,
             "rules_holidayyear": HolidayYear, "rules_holiday": Holiday,
             "rules_casedeadlineentry": CaseDeadlineEntry,
             "cases_document_parties": Document.parties.through}
    device = Device.objects.get(number="DSJ-LEGACY-1")
    recording = Recording.objects.select_related("device").get(device=device)
    return {
        "counts": {table: model.objects.count() for table, model in moved.items()},
        "content_types": sorted(f"{ct.app_label}.{ct.model}" for ct in ContentType.objects.all()),
        "recording_device": recording.device.number,
        "document_parties": Document.objects.filter(parties__isnull=False).count(),
        "device_history": sorted(entries_about(device).values_list("object_type", flat=True)),
        # evidence 0008: each recording's case became its primary link (第十四条 links).
        "recordings_with_case": sorted(Recording.objects.filter(case__isnull=False)
                                       .values_list("pk", "case_id")),
        "primary_links": sorted(CaseLink.objects.filter(is_primary=True, ended_at__isnull=True)
                                .values_list("recording_id", "case_id")),
        "originals_frozen": _originals_frozen(recording),
        # cases 0008: each case on the law's step its records put it at (issue 8 item 2).
        "case_stages": {str(pk): stage for pk, stage in Case.objects.values_list("pk", "stage")},
        "upgrade_logs": sorted(StageLog.objects.filter(actor_name="系统升级")
                               .values_list("case_id", "from_stage", "to_stage")),
        "old_logs": StageLog.objects.exclude(actor_name="系统升级").count(),
        **_protections(),
    }


def _protections() -> dict:
    """The immutability triggers the upgraded database has, and what ``core/triggers.py``
    generates (issue 16 item 20: the triggers of before the one generator are replaced by
    their generated form, old names gone)."""
    import re

    from liuhen.audit import triggers as audit
    from liuhen.evidence import triggers as evidence
    from liuhen.keeping import triggers as keeping
    from liuhen.records import triggers as records
    from liuhen.supervision import tallies

    generated = [statement for protection in (audit.APPEND_ONLY, *evidence.ALL, *records.ALL,
                                              *keeping.ALL, tallies.TALLIES)
                 for statement in protection.install_sql(connection.vendor)
                 if statement.startswith("CREATE")]
    expected_functions = sorted({m.group(1) for s in generated
                                 if (m := re.match(r"CREATE OR REPLACE FUNCTION (\w+)", s))})
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
            triggers = dict(cursor.fetchall())
            functions = []
            expected = {re.match(r"CREATE TRIGGER (\w+)", s).group(1): s
                        for s in generated}
        else:
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
            triggers = {row[0]: "" for row in cursor.fetchall()}
            cursor.execute("SELECT proname FROM pg_proc p JOIN pg_namespace n "
                           "ON n.oid = p.pronamespace WHERE n.nspname = 'public'")
            functions = sorted(row[0] for row in cursor.fetchall())
            expected = {m.group(1): "" for s in generated
                        if (m := re.match(r"CREATE TRIGGER (\w+)", s))}
    return {"triggers": triggers, "expected_triggers": expected,
            "functions": functions, "expected_functions": expected_functions}


def _originals_frozen(recording) -> bool:
    """The immutability triggers survived the migrations (SQLite rebuilds tables)."""
    from django.db import DatabaseError

    from liuhen.evidence.models import Recording

    try:
        with transaction.atomic():
            Recording.objects.filter(pk=recording.pk).update(sha256="0" * 64)
    except DatabaseError:
        return True
    return False


if __name__ == "__main__":
    if connection.vendor == "postgresql":
        copy_fixture_into_postgresql(sys.argv[1])
    call_command("migrate", verbosity=0)
    print("REPORT " + json.dumps(report(), ensure_ascii=False))
