"""Run by ``test_legacy_database.py`` in a process of its own, on the database its environment
names (``LIUHEN_DATA_DIR`` holding a copy of the SQLite fixture, or ``LIUHEN_DATABASE_URL``
naming a PostgreSQL database loaded from the PostgreSQL fixture; both made by the code of
17f8c74 itself):

1. ``liuhen migrate``, exactly as an upgrade runs it;
2. print, as JSON, what the test checks: rows per moved model, content types, links;

``--before FILE`` keeps what the old release had applied and its schema in FILE first; a later
run with ``--back FILE`` migrates back to it (every migration since undone, the PL/pgSQL audit
function's included) and reports whether the schema is the old release's again: tables,
columns, indexes, constraints, triggers and functions (issue 16 item 20).
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liuhen.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.migrations.executor import MigrationExecutor  # noqa: E402
from django.db.migrations.recorder import MigrationRecorder  # noqa: E402

from liuhen.web.tests.migration_roundtrip import fingerprint  # noqa: E402


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


def old_release_targets(applied: set[tuple[str, str]]) -> list[tuple[str, str | None]]:
    """Each app's last migration the old release had applied (zero for an app it lacked)."""
    executor = MigrationExecutor(connection)
    targets = []
    for app in sorted({app for app, _ in executor.loader.graph.nodes}):
        names = sorted(name for label, name in applied if label == app)
        targets.append((app, names[-1] if names else None))
    return targets


def back_to_the_old_release(kept: dict) -> dict:
    applied = {tuple(pair) for pair in kept["applied"]}
    before = kept["schema"]
    MigrationExecutor(connection).migrate(old_release_targets(applied))
    after = json.loads(json.dumps(fingerprint()))  # rows as lists, as kept
    return {"same_schema": after == before,
            "diff": {key: [row for row in after[key] if row not in before[key]]
                     + [["missing", *row] for row in before[key] if row not in after[key]]
                     for key in before if after[key] != before[key]}}


if __name__ == "__main__":
    if sys.argv[1:2] == ["--back"]:
        with open(sys.argv[2], encoding="utf-8") as kept:
            print("REPORT " + json.dumps(back_to_the_old_release(json.load(kept)),
                                         ensure_ascii=False))
        sys.exit(0)
    if sys.argv[1:2] == ["--before"]:
        with open(sys.argv[2], "w", encoding="utf-8") as kept:
            json.dump({"applied": sorted(MigrationRecorder(connection).applied_migrations()),
                       "schema": fingerprint()}, kept, ensure_ascii=False)
    call_command("migrate", verbosity=0)
    print("REPORT " + json.dumps(report(), ensure_ascii=False))
