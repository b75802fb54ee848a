"""Run by ``test_migrations_keep_triggers.py`` in a process of its own, on the migrated
database its environment names: records is migrated back to 0004 (which also unapplies keeping
0008 and 0009, the migrations that added the tombstone columns), and on that schema an UPDATE
of a written record and of a case-file version is tried; then everything migrates forward and
the same is tried again. Prints ``REPORT {json}``: for each step and table, the database's
error, or ``null`` when the UPDATE went through."""

from __future__ import annotations

import datetime as dt
import json
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liuhen.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import DatabaseError, connection, models, transaction  # noqa: E402
from django.db.migrations.executor import MigrationExecutor  # noqa: E402

BACK = ("records", "0004_stages_in_the_law_order")
# (app, model, column changed by the UPDATE): what its triggers freeze on a draft or any row.
TABLES = (("records", "Document", "number"), ("keeping", "CaseFile", "version"))


class _RolledBack(Exception):
    pass


def _value(field):
    """A value the column accepts (a foreign key names a row that does not exist: it is
    checked at commit, and nothing here commits)."""
    if isinstance(field, models.ForeignKey):
        return 1
    if isinstance(field, models.BooleanField):
        return False
    if isinstance(field, models.DateTimeField):
        return dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    if isinstance(field, models.DateField):
        return dt.date(2026, 1, 2)
    if isinstance(field, models.JSONField):
        return {}
    if isinstance(field, models.IntegerField | models.BigIntegerField | models.DecimalField):
        return 1
    if field.choices:
        return field.choices[0][0]
    return "x"


def _try_update(state_apps, app: str, model_name: str, column: str) -> str | None:
    """Insert one row as the schema of ``state_apps`` has it, change ``column``, roll back."""
    model = state_apps.get_model(app, model_name)
    row = {
        f.attname: _value(f)
        for f in model._meta.concrete_fields
        if not f.primary_key and not f.null
    }
    refused = None
    try:
        with transaction.atomic():
            created = model.objects.create(**row)
            try:
                with transaction.atomic():
                    model.objects.filter(pk=created.pk).update(
                        **{column: _value(model._meta.get_field(column)) * 2}
                    )
            except DatabaseError as exc:
                refused = str(exc)
            raise _RolledBack
    except _RolledBack:
        pass
    return refused


def _tries(step: str, report: dict) -> None:
    executor = MigrationExecutor(connection)
    state = executor.loader.project_state(list(executor.loader.applied_migrations))
    report[step] = {
        f"{app}.{name}": _try_update(state.apps, app, name, column) for app, name, column in TABLES
    }


def main() -> None:
    report: dict = {"vendor": connection.vendor}
    _tries("forward", report)
    call_command("migrate", *BACK, verbosity=0)
    report["applied_after_back"] = sorted(
        f"{app}.{name}"
        for app, name in MigrationExecutor(connection).loader.applied_migrations
        if app in ("records", "keeping")
    )
    _tries("back", report)
    call_command("migrate", verbosity=0)
    _tries("forward_again", report)
    print("REPORT " + json.dumps(report, ensure_ascii=False))


if __name__ == "__main__":
    main()
