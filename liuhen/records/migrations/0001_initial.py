import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

OLD_APP, NEW_APP = "cases", "records"
MODELS = ('document', 'approval', 'service')


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
    """Issue 15: documents, approvals and service move from cases to records; their tables
    (cases_document, cases_approval, cases_service, cases_document_parties) stay."""

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("contenttypes", "0002_remove_content_type_name"),
        ("cases", "0003_case_list_indexes"),
    ]

    operations = [
        # Only Django's idea of which app holds the model changes; the table, its rows and
        # the triggers on it stay exactly as they are (the model keeps its db_table).
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='Document',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('doc_type', models.CharField(choices=[('filing_approval', '立案审批表'), ('inquiry_record', '询问笔录'), ('site_record', '现场笔录'), ('statement_record', '陈述申辩笔录'), ('violation_notice', '违法行为通知书/行政处罚告知书'), ('hearing_notice', '听证告知书'), ('hearing_record', '听证笔录'), ('legal_review', '法制审核意见'), ('collective_discussion', '集体讨论记录'), ('penalty_decision', '行政处罚决定书'), ('service_receipt', '送达回证'), ('reminder_notice', '催告书'), ('enforcement_decision', '强制执行决定书'), ('enforcement_application', '强制执行申请书'), ('public_notice', '公告'), ('rectification_notice', '责令改正通知书'), ('closing_approval', '结案审批表'), ('officer_info', '执法人员情况'), ('inspection_record', '检查记录'), ('levy_declaration', '缴费申报材料'), ('levy_platform_record', '社保核心平台记录'), ('fee_receipt', '收费票据'), ('other', '其他')], db_index=True, max_length=32, verbose_name='文书类型')),
                        ('number', models.CharField(blank=True, max_length=80, verbose_name='文号')),
                        ('date', models.DateField(blank=True, null=True, verbose_name='文书日期')),
                        ('stage', models.CharField(blank=True, choices=[('initiation', '程序启动'), ('patrol', '日常巡查'), ('investigation', '调查取证'), ('decision', '审查决定'), ('service', '送达执行'), ('hearing', '行政听证'), ('case_file', '案卷制作'), ('archiving', '归档管理')], max_length=16, verbose_name='环节')),
                        ('signature', models.CharField(choices=[('signed', '已签收'), ('refused', '拒签'), ('not_present', '当事人不在场'), ('pending', '待签')], default='pending', max_length=16, verbose_name='签收情况')),
                        ('original_name', models.CharField(blank=True, max_length=255, verbose_name='原始文件名')),
                        ('size', models.BigIntegerField(blank=True, null=True, verbose_name='文件大小')),
                        ('media_type', models.CharField(blank=True, max_length=100, verbose_name='文件类型')),
                        ('sha256', models.CharField(blank=True, max_length=64, verbose_name='SHA-256')),
                        ('sm3', models.CharField(blank=True, max_length=64, verbose_name='SM3')),
                        ('storage_key', models.CharField(blank=True, max_length=300, verbose_name='存储键')),
                        ('version', models.PositiveIntegerField(default=1, verbose_name='版本')),
                        ('is_current', models.BooleanField(db_index=True, default=True, verbose_name='现行版本')),
                        ('generated', models.BooleanField(default=False, verbose_name='系统生成')),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='登记时间')),
                        ('note', models.TextField(blank=True, verbose_name='备注')),
                        ('extra', models.JSONField(blank=True, default=dict, verbose_name='附加信息')),
                        ('case', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='documents', to='cases.case', verbose_name='案件')),
                        ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='登记人')),
                        ('parties', models.ManyToManyField(blank=True, related_name='documents', to='cases.party', verbose_name='当事人')),
                        ('replaces', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='replaced_by', to='records.document', verbose_name='替换的版本')),
                    ],
                    options={
                        'verbose_name': '文字记录',
                        'verbose_name_plural': '文字记录',
                        'db_table': 'cases_document',
                        'ordering': ['case', 'date', 'id'],
                    },
                ),
                migrations.CreateModel(
                    name='Service',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('method', models.CharField(choices=[('direct', '直接送达'), ('left_at_premises', '留置送达'), ('postal', '邮寄送达'), ('public_notice', '公告送达'), ('electronic', '电子送达'), ('entrusted', '委托送达')], max_length=24, verbose_name='送达方式')),
                        ('served_at', models.DateTimeField(verbose_name='送达时间')),
                        ('recipient', models.CharField(max_length=200, verbose_name='受送达人')),
                        ('signature', models.CharField(choices=[('signed', '已签收'), ('refused', '拒签'), ('not_present', '当事人不在场'), ('pending', '待签')], default='signed', max_length=16, verbose_name='签收情况')),
                        ('witnesses', models.CharField(blank=True, max_length=200, verbose_name='见证人')),
                        ('note', models.TextField(blank=True, verbose_name='备注')),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='登记时间')),
                        ('case', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='services', to='cases.case', verbose_name='案件')),
                        ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='登记人')),
                        ('document', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='services', to='records.document', verbose_name='送达文书')),
                    ],
                    options={
                        'verbose_name': '送达记录',
                        'verbose_name_plural': '送达记录',
                        'db_table': 'cases_service',
                        'ordering': ['case', 'served_at', 'id'],
                    },
                ),
                migrations.CreateModel(
                    name='Approval',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('action', models.CharField(choices=[('filing', '立案'), ('investigation_end', '调查终结'), ('investigation_extension', '延长调查期限'), ('penalty_decision', '处罚决定'), ('enforcement', '强制执行'), ('closing', '结案'), ('waiver', '缺项说明（豁免）'), ('evidence_preservation', '证据先行登记保存'), ('seizure_extension', '延长查封扣押')], db_index=True, max_length=32, verbose_name='审批事项')),
                        ('requested_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='申请时间')),
                        ('approver_role', models.CharField(blank=True, max_length=32, verbose_name='审批人角色')),
                        ('decision', models.CharField(choices=[('pending', '待审批'), ('approved', '同意'), ('rejected', '不同意')], db_index=True, default='pending', max_length=16, verbose_name='审批结果')),
                        ('opinion', models.TextField(blank=True, verbose_name='审批意见')),
                        ('decided_at', models.DateTimeField(blank=True, null=True, verbose_name='审批时间')),
                        ('requirement_code', models.CharField(blank=True, max_length=80, verbose_name='豁免的要求')),
                        ('reason', models.TextField(blank=True, verbose_name='申请理由')),
                        ('approver', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='审批人')),
                        ('case', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='approvals', to='cases.case', verbose_name='案件')),
                        ('requested_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='申请人')),
                    ],
                    options={
                        'verbose_name': '内部审批',
                        'verbose_name_plural': '内部审批',
                        'db_table': 'cases_approval',
                        'ordering': ['case', 'requested_at', 'id'],
                        'indexes': [models.Index(fields=['case', 'action', 'decision'], name='cases_appro_case_id_b2d516_idx')],
                    },
                ),
                migrations.AddIndex(
                    model_name='document',
                    index=models.Index(fields=['case', 'doc_type', 'is_current'], name='cases_docum_case_id_cee7fe_idx'),
                ),
            ],
        ),
        migrations.RunPython(move_content_types, restore_content_types),
    ]
