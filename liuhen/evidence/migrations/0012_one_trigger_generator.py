"""The immutability triggers of originals, tombstones, disposals and the pinned version come
from the one generator of ``core/triggers.py`` (issue 16 item 20): an upgraded database drops
the triggers and functions of migrations 0002, 0008 and 0010 by their old names and gets the
generated ones, as a new database has them. Reversed, it leaves the generated triggers in place
(they protect exactly as the old ones did); the reverses of 0010, 0008 and 0002 remove them,
functions and all."""

from django.db import migrations


def forward(apps, schema_editor):
    from liuhen.core.triggers import replace_legacy
    from liuhen.evidence import triggers

    recording, disposal = "evidence_recording", "evidence_recordingdisposal"
    replace_legacy(
        schema_editor.connection, *triggers.ALL,
        sqlite_triggers=("recording_original_frozen", "recording_no_delete",
                         "recording_tombstone_guard", "recording_disposal_no_delete",
                         "recording_disposal_frozen", "recording_version_pinned"),
        postgresql_triggers=((recording, "recording_immutable"),
                             (recording, "recording_no_truncate"),
                             (recording, "recording_version_pinned"),
                             (disposal, "recording_disposal_permanent"),
                             (disposal, "recording_disposal_no_truncate")),
        postgresql_functions=("liuhen_recording_immutable", "liuhen_recording_disposal_permanent",
                              "liuhen_recording_version_pinned"))


class Migration(migrations.Migration):

    dependencies = [("evidence", "0011_fixity_case_file")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop, elidable=False)]
