from django.db import migrations


def install(apps, schema_editor):
    from liuhen.keeping import triggers

    triggers.install(schema_editor.connection)


def remove(apps, schema_editor):
    from liuhen.keeping import triggers

    triggers.remove(schema_editor.connection)


class Migration(migrations.Migration):
    """第十二条, issue 11: the database refuses to delete a case-file version or change a bound
    one (its 档号, pages, PDF digests and storage key); a correction is a new version."""

    dependencies = [("keeping", "0005_archive_package")]
    operations = [migrations.RunPython(install, remove)]
