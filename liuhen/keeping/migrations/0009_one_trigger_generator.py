"""The immutability triggers of case files come from the one generator of
``core/triggers.py`` (issue 16 item 20): an upgraded database drops the triggers and function of
migrations 0006 and 0008 by their old names and gets the generated ones, as a new database has them.
Reversed, it leaves the generated triggers in place (they protect exactly as the old ones did);
the reverses of 0008 and 0006 remove them, functions and all."""

from django.db import migrations


def forward(apps, schema_editor):
    from liuhen.core.triggers import replace_legacy
    from liuhen.keeping import triggers

    casefile, permits = "keeping_casefile", "keeping_casefiledisposal"
    replace_legacy(
        schema_editor.connection, *triggers.ALL,
        sqlite_triggers=("casefile_frozen", "casefile_no_delete", "casefile_tombstone_guard",
                         "casefile_disposal_no_delete", "casefile_disposal_frozen"),
        postgresql_triggers=((casefile, "casefile_immutable"), (casefile, "casefile_no_truncate"),
                             (casefile, "casefile_tombstone_guard"),
                             (permits, "casefile_disposal_permanent"),
                             (permits, "casefile_disposal_no_truncate")),
        postgresql_functions=("liuhen_casefile_immutable", "liuhen_casefile_tombstone",
                              "liuhen_casefile_disposal_permanent"))


class Migration(migrations.Migration):

    dependencies = [("keeping", "0008_record_tombstones")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop, elidable=False)]
