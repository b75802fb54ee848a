"""Seed the editable calendar from the shipped holidays.toml (2025–2027); since issue 15 the
calendar, its data file and this seeding code live in the deadlines app."""

from django.db import migrations


def seed(apps, schema_editor):
    from liuhen.deadlines.holidays import seed_from_toml

    seed_from_toml(apps.get_model("rules", "HolidayYear"), apps.get_model("rules", "Holiday"))


class Migration(migrations.Migration):
    dependencies = [("rules", "0001_calendar_deadlines")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
