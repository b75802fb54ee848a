from django.db import migrations


def install(apps, schema_editor):
    from liuhen.evidence import triggers

    triggers.install(schema_editor.connection)


def remove(apps, schema_editor):
    from liuhen.evidence import triggers

    triggers.remove(schema_editor.connection)


class Migration(migrations.Migration):
    """第二十六条 (二): the database refuses to delete a recording or change its original."""

    dependencies = [("evidence", "0001_initial")]
    operations = [migrations.RunPython(install, remove)]
