from django.db import migrations


def install(apps, schema_editor):
    from liuhen.audit import triggers

    triggers.install(schema_editor.connection)


def remove(apps, schema_editor):
    from liuhen.audit import triggers

    triggers.remove(schema_editor.connection)


class Migration(migrations.Migration):
    """第二十六条 (二): the database itself refuses UPDATE and DELETE on the audit log."""

    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(install, remove)]
