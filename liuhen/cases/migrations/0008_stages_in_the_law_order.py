"""The law's finer steps become stages (issue 8 item 2): 事先告知, 催告、陈述申辩, 法制审核,
集体讨论, 执行 and 结案 join 第二条's phases, and existing cases move onto the step their records
put them at (:func:`new_stage`). Nothing is deleted: the stage log keeps the path each case took
under the earlier order, and a row “系统升级” records each move this migration made.

Forward (行政处罚法第六十二条、第五十七条; 行政强制法第三十五条至第三十八条):
* 行政处罚 at 审查决定 without a decision on record (no 决定日期, no 行政处罚决定书) → 事先告知
  (行政听证 if it was heard: the decision comes next);
* 行政强制 at 审查决定 without a 强制执行决定书 → 催告、陈述申辩;
* 行政处罚/行政强制 at 送达执行 with enforcement on record (催告书, 强制执行决定书/申请书/结果,
  罚款缴纳 or 申请强制执行 facts) → 执行, otherwise 送达.
Backward: the finer steps go back to the phase they belong to (审查决定, 送达执行).
"""

from django.db import migrations, models
from django.utils import timezone

ENFORCEMENT_DOCS = {"reminder_notice", "enforcement_decision", "enforcement_application",
                    "enforcement_result"}
ENFORCEMENT_FACTS = {"fine_paid", "enforcement_applied"}
BACK = {"notice": "decision", "reminder": "decision", "legal_review": "decision",
        "collective": "decision", "enforcement": "service", "closing": "service"}


def new_stage(*, kind: str, stage: str, doc_types: set, facts: set, decided: bool,
              heard: bool) -> str:
    """The step a case of the earlier order is at, from its kind, stage and records."""
    if stage == "decision" and kind == "penalty" and not decided and "penalty_decision" not in doc_types:
        return "hearing" if heard else "notice"
    if stage == "decision" and kind == "coercion" and "enforcement_decision" not in doc_types:
        return "reminder"
    if stage == "service" and kind in ("penalty", "coercion") and (
            doc_types & ENFORCEMENT_DOCS or facts & ENFORCEMENT_FACTS):
        return "enforcement"
    return stage


def forward(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    StageLog = apps.get_model("cases", "StageLog")
    Document = apps.get_model("records", "Document")
    now = timezone.now()
    for case in Case.objects.filter(kind__in=["penalty", "coercion"],
                                    stage__in=["decision", "service"]).iterator():
        docs = Document.objects.filter(case_id=case.pk, is_current=True)
        doc_types = set(docs.values_list("doc_type", flat=True))
        facts = {(extra or {}).get("deadline_fact") for extra in docs.filter(
            doc_type="other").values_list("extra", flat=True)} - {None}
        heard = StageLog.objects.filter(case_id=case.pk, to_stage="hearing").exists()
        to = new_stage(kind=case.kind, stage=case.stage, doc_types=doc_types, facts=facts,
                       decided=case.decided_on is not None, heard=heard)
        if to == case.stage:
            continue
        Case.objects.filter(pk=case.pk).update(stage=to)
        StageLog.objects.create(
            case_id=case.pk, from_stage=case.stage, to_stage=to, actor_id=case.created_by_id,
            actor_name="系统升级", at=now,
            note="环节按法定步骤细分（迁移 cases.0008）：依案件记录转入该步骤，原环节记录保留")


def backward(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    for new, old in BACK.items():
        Case.objects.filter(stage=new).update(stage=old)


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0007_case_penalty_outcome'),
        ('records', '0004_stages_in_the_law_order'),
    ]

    operations = [
        migrations.AlterField(
            model_name='case',
            name='stage',
            field=models.CharField(choices=[('initiation', '程序启动'), ('patrol', '日常巡查'), ('investigation', '调查取证'), ('notice', '事先告知'), ('reminder', '催告、陈述申辩'), ('hearing', '行政听证'), ('legal_review', '法制审核'), ('collective', '集体讨论'), ('decision', '审查决定'), ('service', '送达'), ('enforcement', '执行'), ('closing', '结案'), ('case_file', '案卷制作'), ('archiving', '归档管理')], db_index=True, default='initiation', max_length=16, verbose_name='环节'),
        ),
        migrations.AlterField(
            model_name='stagelog',
            name='from_stage',
            field=models.CharField(blank=True, choices=[('initiation', '程序启动'), ('patrol', '日常巡查'), ('investigation', '调查取证'), ('notice', '事先告知'), ('reminder', '催告、陈述申辩'), ('hearing', '行政听证'), ('legal_review', '法制审核'), ('collective', '集体讨论'), ('decision', '审查决定'), ('service', '送达'), ('enforcement', '执行'), ('closing', '结案'), ('case_file', '案卷制作'), ('archiving', '归档管理')], max_length=16, verbose_name='原环节'),
        ),
        migrations.AlterField(
            model_name='stagelog',
            name='to_stage',
            field=models.CharField(choices=[('initiation', '程序启动'), ('patrol', '日常巡查'), ('investigation', '调查取证'), ('notice', '事先告知'), ('reminder', '催告、陈述申辩'), ('hearing', '行政听证'), ('legal_review', '法制审核'), ('collective', '集体讨论'), ('decision', '审查决定'), ('service', '送达'), ('enforcement', '执行'), ('closing', '结案'), ('case_file', '案卷制作'), ('archiving', '归档管理')], max_length=16, verbose_name='新环节'),
        ),
        migrations.RunPython(forward, backward),
    ]
