"""SpotCheck.draw_method: checks opened before it were drawn by method 1 (every id read) and
keep it, so that their redraw still compares; new checks default to method 2 (第二十三条)."""

from django.db import migrations, models

CHOICES = [(1, '方法一：逐条读取编号计算标识'), (2, '方法二：按编号分段汇总计算标识')]


class Migration(migrations.Migration):

    dependencies = [
        ('supervision', '0004_training'),
    ]

    operations = [
        migrations.AddField(
            model_name='spotcheck',
            name='draw_method',
            field=models.PositiveSmallIntegerField(choices=CHOICES, default=1,
                                                   verbose_name='抽取方法'),
        ),
        migrations.AlterField(
            model_name='spotcheck',
            name='draw_method',
            field=models.PositiveSmallIntegerField(choices=CHOICES, default=2,
                                                   verbose_name='抽取方法'),
        ),
    ]
