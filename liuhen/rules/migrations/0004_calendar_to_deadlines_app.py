from django.db import migrations


class Migration(migrations.Migration):
    """Issue 15: the calendar and the stored deadlines now belong to the deadlines app (same tables)."""

    dependencies = [
        ("rules", "0003_completeness"),
        ("deadlines", "0001_initial"),
    ]

    operations = [
        # Only Django's idea of which app holds the model changes; the table, its rows and
        # the triggers on it stay exactly as they are (the model keeps its db_table).
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.RemoveField(
                    model_name='holiday',
                    name='calendar_year',
                ),
                migrations.DeleteModel(
                    name='CaseDeadlineEntry',
                ),
                migrations.DeleteModel(
                    name='Holiday',
                ),
                migrations.DeleteModel(
                    name='HolidayYear',
                ),
            ],
        ),
    ]
