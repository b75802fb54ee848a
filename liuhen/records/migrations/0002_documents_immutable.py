from django.db import migrations


def install(apps, schema_editor):
    from liuhen.records import triggers

    triggers.install(schema_editor.connection)


def remove(apps, schema_editor):
    from liuhen.records import triggers

    triggers.remove(schema_editor.connection)


class Migration(migrations.Migration):
    """第二十六条 (二), issue 8: the database refuses to delete a written record or change what
    it says and carries (its scan's digests and storage key included), as it does for
    recordings; a new version supersedes the old one."""

    dependencies = [("records", "0001_initial")]
    operations = [migrations.RunPython(install, remove)]
