import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

OLD_APP, NEW_APP = "evidence", "devices"
MODELS = ('device',)


def move_content_types(apps, schema_editor):
    """Content types (and so Django permissions and admin history) follow the models: the
    rows are renamed, not recreated. A fresh database has none yet: nothing to do."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        if not ContentType.objects.filter(app_label=NEW_APP, model=model).exists():
            ContentType.objects.filter(app_label=OLD_APP, model=model).update(app_label=NEW_APP)


def restore_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        if not ContentType.objects.filter(app_label=OLD_APP, model=model).exists():
            ContentType.objects.filter(app_label=NEW_APP, model=model).update(app_label=OLD_APP)


class Migration(migrations.Migration):
    """Issue 15: Device moves from evidence to devices; its table stays evidence_device (the
    recordings' foreign key and the immutability trigger on evidence_recording are untouched)."""

    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("org", "0001_initial"),
        ("evidence", "0004_list_case_party_indexes"),
    ]

    operations = [
        # Only Django's idea of which app holds the model changes; the table, its rows and
        # the triggers on it stay exactly as they are (the model keeps its db_table).
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='Device',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('number', models.CharField(max_length=64, unique=True, verbose_name='设备编号')),
                        ('kind', models.CharField(choices=[('body_camera', '执法记录仪'), ('camera', '照相机'), ('camcorder', '摄像机'), ('audio_recorder', '录音设备'), ('fixed_camera', '视频监控')], default='body_camera', max_length=20, verbose_name='设备类型')),
                        ('status', models.CharField(choices=[('in_service', '在用'), ('faulty', '故障'), ('retired', '报废')], default='in_service', max_length=16, verbose_name='状态')),
                        ('model_name', models.CharField(blank=True, max_length=100, verbose_name='型号')),
                        ('notes', models.TextField(blank=True, verbose_name='备注')),
                        ('registered_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='登记时间')),
                        ('officer', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='devices', to='org.officer', verbose_name='配发人员')),
                        ('unit', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='devices', to='org.unit', verbose_name='所属单位')),
                    ],
                    options={
                        'verbose_name': '执法记录设备',
                        'verbose_name_plural': '执法记录设备',
                        'db_table': 'evidence_device',
                        'ordering': ['number'],
                    },
                ),
            ],
        ),
        migrations.RunPython(move_content_types, restore_content_types),
    ]
