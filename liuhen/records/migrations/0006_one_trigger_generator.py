"""The immutability triggers of written records come from the one generator of
``core/triggers.py`` (issue 16 item 20): an upgraded database drops the triggers and function of
migrations 0002 and 0005 by their old names and gets the generated ones, as a new database has them.
Reversed, it leaves the generated triggers in place (they protect exactly as the old ones did);
the reverses of 0005 and 0002 remove them, functions and all."""

from django.db import migrations


def forward(apps, schema_editor):
    from liuhen.core.triggers import replace_legacy
    from liuhen.records import triggers

    document, parties = "cases_document", "cases_document_parties"
    permits = "records_documentdisposal"
    replace_legacy(
        schema_editor.connection, *triggers.ALL,
        sqlite_triggers=("document_frozen", "document_no_delete", "document_parties_frozen",
                         "document_parties_no_delete", "document_tombstone_guard",
                         "document_disposal_no_delete", "document_disposal_frozen"),
        postgresql_triggers=((document, "document_immutable"), (document, "document_no_truncate"),
                             (parties, "document_parties_immutable"),
                             (parties, "document_parties_no_truncate"),
                             (document, "document_tombstone_guard"),
                             (permits, "document_disposal_permanent"),
                             (permits, "document_disposal_no_truncate")),
        postgresql_functions=("liuhen_document_immutable", "liuhen_document_tombstone",
                              "liuhen_document_disposal_permanent"))


class Migration(migrations.Migration):

    dependencies = [("records", "0005_document_tombstones")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop, elidable=False)]
