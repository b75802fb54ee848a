from django.db import migrations, models
from django.db.models import F


def name_existing_checks(apps, schema_editor):
    """Checks made before issue 8 were of recordings, or of orphans (no recording)."""
    FixityCheck = apps.get_model("evidence", "FixityCheck")
    FixityCheck.objects.filter(recording__isnull=True).update(object_kind="orphan")
    FixityCheck.objects.filter(recording__isnull=False).update(object_id=F("recording_id"))


class Migration(migrations.Migration):
    """Issue 8: a fixity check names the kind of original it re-read (document scans too)."""

    dependencies = [
        ('evidence', '0006_upload_hasher'),
    ]

    operations = [
        migrations.AddField(
            model_name='fixitycheck',
            name='object_id',
            field=models.PositiveBigIntegerField(blank=True, null=True, verbose_name='对象编号'),
        ),
        migrations.AddField(
            model_name='fixitycheck',
            name='object_kind',
            field=models.CharField(choices=[('recording', '音像记录'), ('document', '文字记录扫描件'), ('orphan', '孤立对象')], db_index=True, default='recording', max_length=16, verbose_name='对象类型'),
        ),
        migrations.RunPython(name_existing_checks, migrations.RunPython.noop),
    ]
