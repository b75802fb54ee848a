from django.db import migrations


class Migration(migrations.Migration):
    """Issue 15: ApiToken now belongs to the access app (same table)."""

    dependencies = [
        ("org", "0001_initial"),
        ("access", "0001_initial"),
    ]

    operations = [
        # Only Django's idea of which app holds the model changes; the table, its rows and
        # the triggers on it stay exactly as they are (the model keeps its db_table).
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.DeleteModel(
                    name='ApiToken',
                ),
            ],
        ),
    ]
