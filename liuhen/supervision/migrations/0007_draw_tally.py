"""The draw's running tallies (第二十三条, ``supervision/tallies.py``): the table, the triggers
on ``evidence_recording`` that keep it, and the tallies of the recordings already stored.
Reversed, the triggers (and on PostgreSQL their function) go before the table."""

from django.db import migrations, models


def forward(apps, schema_editor):
    from liuhen.supervision import tallies

    tallies.install(schema_editor.connection)
    tallies.rebuild(schema_editor.connection)


def backward(apps, schema_editor):
    from liuhen.supervision import tallies

    tallies.remove(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ('supervision', '0006_circular_scheduled_draft'),
        ('evidence', '0012_one_trigger_generator'),
    ]

    operations = [
        migrations.CreateModel(
            name='DrawTally',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField(verbose_name='拍摄日（北京时间）')),
                ('unit_id', models.BigIntegerField(verbose_name='单位')),
                ('kind', models.CharField(max_length=8, verbose_name='类型')),
                ('bucket', models.BigIntegerField(verbose_name='编号分段')),
                ('members', models.BigIntegerField(verbose_name='数量')),
                ('id_sum', models.BigIntegerField(verbose_name='编号之和')),
                ('square_sum', models.BigIntegerField(verbose_name='编号平方模和')),
            ],
            options={
                'verbose_name': '抽样计数',
                'verbose_name_plural': '抽样计数',
                'constraints': [models.UniqueConstraint(fields=('day', 'unit_id', 'kind', 'bucket'), name='drawtally_key')],
            },
        ),
        migrations.RunPython(forward, backward, elidable=False),
    ]
