"""The append-only triggers come from the one generator of ``core/triggers.py`` (issue 16
item 20): an upgraded database drops the triggers of migration 0002 by their old names and gets
the generated ones, as a new database has them. Reversed, it leaves the generated triggers in
place (they protect exactly as the old ones did); 0002's reverse removes them, function and
all."""

from django.db import migrations


def forward(apps, schema_editor):
    from liuhen.audit import triggers
    from liuhen.core.triggers import replace_legacy

    replace_legacy(schema_editor.connection, triggers.APPEND_ONLY,
                   sqlite_triggers=("audit_no_update", "audit_no_delete"),
                   postgresql_triggers=(("audit_auditentry", "audit_no_update_delete"),
                                        ("audit_auditentry", "audit_no_truncate")),
                   postgresql_functions=("liuhen_audit_append_only",))


class Migration(migrations.Migration):

    dependencies = [("audit", "0003_append_function")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop, elidable=False)]
