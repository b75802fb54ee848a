"""Party copies of case documents (第十七条第二款): a copy names a recording or a document, and
the owning unit the register is scoped by (filled from the recording for existing rows)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def fill_units(apps, schema_editor):
    PartyCopy = apps.get_model("disclosure", "PartyCopy")
    Recording = apps.get_model("evidence", "Recording")
    PartyCopy.objects.filter(unit__isnull=True, recording__isnull=False).update(
        unit_id=models.Subquery(Recording.objects.filter(pk=models.OuterRef("recording_id"))
                                .values("unit_id")[:1]))


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0009_chinese_field_names'),
        ('disclosure', '0006_use_copies_and_exports'),
        ('evidence', '0013_chinese_field_names'),
        ('org', '0003_chinese_field_names'),
        ('records', '0007_digests_in_chinese'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='partycopy',
            name='document',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='party_copies', to='records.document', verbose_name='文字记录'),
        ),
        migrations.AddField(
            model_name='partycopy',
            name='unit',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='org.unit', verbose_name='记录所属单位'),
        ),
        migrations.AlterField(
            model_name='partycopy',
            name='recording',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='party_copies', to='evidence.recording', verbose_name='音像记录'),
        ),
        migrations.AddConstraint(
            model_name='partycopy',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('document__isnull', True), ('recording__isnull', False)), models.Q(('document__isnull', False), ('recording__isnull', True)), _connector='OR'), name='disclosure_partycopy_one_record'),
        ),
        # Last: on PostgreSQL no ALTER TABLE may follow the UPDATE in the same transaction.
        migrations.RunPython(fill_units, migrations.RunPython.noop),
    ]
