import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Issue 15: Device now belongs to the devices app (same table, same foreign key)."""

    dependencies = [
        ("evidence", "0004_list_case_party_indexes"),
        ("devices", "0001_initial"),
    ]

    operations = [
        # Only Django's idea of which app holds the model changes; the table, its rows and
        # the triggers on it stay exactly as they are (the model keeps its db_table).
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.AlterField(
                    model_name='recording',
                    name='device',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='recordings', to='devices.device', verbose_name='设备'),
                ),
                migrations.DeleteModel(
                    name='Device',
                ),
            ],
        ),
    ]
