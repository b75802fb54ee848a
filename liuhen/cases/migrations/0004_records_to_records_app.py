from django.db import migrations


class Migration(migrations.Migration):
    """Issue 15: documents, approvals and service now belong to the records app (same tables)."""

    dependencies = [
        ("cases", "0003_case_list_indexes"),
        ("records", "0001_initial"),
    ]

    operations = [
        # Only Django's idea of which app holds the model changes; the table, its rows and
        # the triggers on it stay exactly as they are (the model keeps its db_table).
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.RemoveField(
                    model_name='document',
                    name='case',
                ),
                migrations.RemoveField(
                    model_name='document',
                    name='created_by',
                ),
                migrations.RemoveField(
                    model_name='document',
                    name='parties',
                ),
                migrations.RemoveField(
                    model_name='document',
                    name='replaces',
                ),
                migrations.RemoveField(
                    model_name='service',
                    name='document',
                ),
                migrations.RemoveField(
                    model_name='service',
                    name='case',
                ),
                migrations.RemoveField(
                    model_name='service',
                    name='created_by',
                ),
                migrations.DeleteModel(
                    name='Approval',
                ),
                migrations.DeleteModel(
                    name='Document',
                ),
                migrations.DeleteModel(
                    name='Service',
                ),
            ],
        ),
    ]
