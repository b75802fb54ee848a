import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

OLD_APP, NEW_APP = "org", "access"
MODELS = ('apitoken',)


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
    """Issue 15: ApiToken moves from org to access; its table stays org_apitoken."""

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("contenttypes", "0002_remove_content_type_name"),
        ("org", "0001_initial"),
    ]

    operations = [
        # Only Django's idea of which app holds the model changes; the table, its rows and
        # the triggers on it stay exactly as they are (the model keeps its db_table).
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='ApiToken',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=100, verbose_name='用途')),
                        ('prefix', models.CharField(max_length=12, unique=True)),
                        ('token_hash', models.CharField(max_length=64)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='创建时间')),
                        ('expires_at', models.DateTimeField(blank=True, null=True, verbose_name='过期时间')),
                        ('last_used_at', models.DateTimeField(blank=True, null=True, verbose_name='最近使用')),
                        ('revoked_at', models.DateTimeField(blank=True, null=True, verbose_name='吊销时间')),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='api_tokens', to=settings.AUTH_USER_MODEL, verbose_name='用户')),
                    ],
                    options={
                        'verbose_name': 'API 令牌',
                        'verbose_name_plural': 'API 令牌',
                        'db_table': 'org_apitoken',
                        'ordering': ['-created_at'],
                    },
                ),
            ],
        ),
        migrations.RunPython(move_content_types, restore_content_types),
    ]
