import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

OLD_APP, NEW_APP = "rules", "deadlines"
MODELS = ('holidayyear', 'holiday', 'casedeadlineentry')


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
    """Issue 15: the holiday calendar and the stored deadlines move from rules to deadlines;
    their tables (rules_holidayyear, rules_holiday, rules_casedeadlineentry) stay."""

    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("cases", "0003_case_list_indexes"),
        ("rules", "0003_completeness"),
    ]

    operations = [
        # Only Django's idea of which app holds the model changes; the table, its rows and
        # the triggers on it stay exactly as they are (the model keeps its db_table).
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='HolidayYear',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('year', models.PositiveSmallIntegerField(unique=True, verbose_name='年度')),
                        ('provisional', models.BooleanField(default=False, help_text='国务院通知尚未发布、按农历推算的年度；据此计算的期限标注“暂定”。通知发布后请核对每一天并取消勾选。', verbose_name='暂定')),
                        ('source', models.CharField(blank=True, help_text='通知名称及文号，如《国务院办公厅关于2026年部分节假日安排的通知》', max_length=300, verbose_name='依据')),
                        ('updated_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='最近修改')),
                    ],
                    options={
                        'verbose_name': '节假日安排（年度）',
                        'verbose_name_plural': '节假日安排（年度）',
                        'db_table': 'rules_holidayyear',
                        'ordering': ['year'],
                    },
                ),
                migrations.CreateModel(
                    name='Holiday',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('date', models.DateField(unique=True, verbose_name='日期')),
                        ('name', models.CharField(max_length=30, verbose_name='节日')),
                        ('kind', models.CharField(choices=[('holiday', '放假'), ('workday', '调休上班')], max_length=10, verbose_name='类型')),
                        ('updated_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='最近修改')),
                        ('calendar_year', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='days', to='deadlines.holidayyear', verbose_name='所属年度')),
                    ],
                    options={
                        'verbose_name': '放假/调休日',
                        'verbose_name_plural': '放假/调休日',
                        'db_table': 'rules_holiday',
                        'ordering': ['date'],
                    },
                ),
                migrations.CreateModel(
                    name='CaseDeadlineEntry',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('code', models.CharField(max_length=40, verbose_name='期限')),
                        ('name', models.CharField(max_length=60, verbose_name='期限名称')),
                        ('citation', models.CharField(max_length=200, verbose_name='法律依据')),
                        ('start', models.DateField(verbose_name='起算日')),
                        ('due', models.DateField(db_index=True, verbose_name='届满日')),
                        ('warn_from', models.DateField(db_index=True, verbose_name='提醒起始日')),
                        ('extended', models.BooleanField(default=False, verbose_name='已延长')),
                        ('provisional', models.BooleanField(default=False, verbose_name='暂定日历')),
                        ('computed_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='计算时间')),
                        ('case', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='deadline_entries', to='cases.case', verbose_name='案件')),
                    ],
                    options={
                        'verbose_name': '案件待办期限',
                        'verbose_name_plural': '案件待办期限',
                        'db_table': 'rules_casedeadlineentry',
                        'ordering': ['due', 'case_id'],
                        'constraints': [models.UniqueConstraint(fields=('case', 'code'), name='case_deadline_entry_unique')],
                    },
                ),
            ],
        ),
        migrations.RunPython(move_content_types, restore_content_types),
    ]
