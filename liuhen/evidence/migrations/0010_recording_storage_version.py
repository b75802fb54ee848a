"""The S3 object version pinned on a recording at ingest (issue 14 item 5), set once."""

from django.db import migrations, models


def install(apps, schema_editor):
    from liuhen.evidence import triggers

    triggers.install_version_pin(schema_editor.connection)


def remove(apps, schema_editor):
    from liuhen.evidence import triggers

    triggers.remove_version_pin(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ('evidence', '0009_caselink_secondary_index'),
    ]

    operations = [
        migrations.AddField(
            model_name='recording',
            name='storage_version',
            field=models.CharField(blank=True, default='', max_length=200, verbose_name='对象版本'),
        ),
        migrations.AlterField(
            model_name='fixitycheck',
            name='outcome',
            field=models.CharField(choices=[('ok', '一致'), ('mismatch', '不一致'), ('missing', '缺失'), ('error', '错误'), ('tampered', '存储键上出现新版本（疑似篡改）')], max_length=10, verbose_name='结果'),
        ),
        migrations.RunPython(install, remove),
    ]
