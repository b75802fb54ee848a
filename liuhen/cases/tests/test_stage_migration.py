"""Migration cases.0008 puts cases of the earlier order on the law's steps (issue 8 item 2):
the mapping as a table, and the migration itself run forward over cases in every old stage
(the legacy database test in web/tests runs it over the database of commit 17f8c74 too)."""

from __future__ import annotations

import importlib

import pytest

MIGRATION = importlib.import_module("liuhen.cases.migrations.0008_stages_in_the_law_order")


@pytest.mark.parametrize(
    ("kind", "stage", "doc_types", "facts", "decided", "heard", "expected"),
    [
        # 行政处罚法第六十二条: not yet decided → still at 事先告知 (or heard: decision next).
        ("penalty", "decision", {"violation_notice"}, set(), False, False, "notice"),
        ("penalty", "decision", set(), set(), False, True, "hearing"),
        ("penalty", "decision", {"penalty_decision"}, set(), False, False, "decision"),
        ("penalty", "decision", set(), set(), True, False, "decision"),
        # 行政强制法第三十五条至第三十七条: no 强制执行决定书 yet → 催告、陈述申辩.
        ("coercion", "decision", {"reminder_notice"}, set(), False, False, "reminder"),
        ("coercion", "decision", {"enforcement_decision"}, set(), False, False, "decision"),
        # 送达执行 split: enforcement on record → 执行, otherwise 送达.
        ("penalty", "service", {"penalty_decision"}, set(), True, False, "service"),
        ("penalty", "service", {"penalty_decision"}, {"fine_paid"}, True, False, "enforcement"),
        ("coercion", "service", {"reminder_notice", "enforcement_decision"}, set(), False, False,
         "enforcement"),
        ("penalty", "service", {"enforcement_application"}, set(), True, False, "enforcement"),
        # Unchanged: other stages and kinds.
        ("levy", "decision", set(), set(), False, False, "decision"),
        ("fee", "decision", set(), set(), False, False, "decision"),
        ("penalty", "hearing", set(), set(), True, True, "hearing"),
        ("penalty", "investigation", set(), set(), False, False, "investigation"),
        ("coercion", "case_file", set(), set(), False, False, "case_file"),
        ("penalty", "archiving", set(), set(), True, False, "archiving"),
    ],
)
def test_new_stage(kind, stage, doc_types, facts, decided, heard, expected):
    assert MIGRATION.new_stage(kind=kind, stage=stage, doc_types=doc_types, facts=facts,
                               decided=decided, heard=heard) == expected


def test_every_new_step_goes_back_to_its_old_phase():
    from liuhen.cases import stages
    from liuhen.cases.choices import Stage

    old = {"initiation", "patrol", "investigation", "decision", "service", "hearing",
           "case_file", "archiving"}
    assert set(MIGRATION.BACK) == set(Stage.values) - old
    for new, back in MIGRATION.BACK.items():
        assert back in old and stages.phase(new) == stages.phase(back) or back == "service"


@pytest.mark.django_db
def test_forward_over_cases_in_the_old_stages(people, bureau):
    """The migration's forward step over real rows: moved cases get the new step and a 系统升级
    row in their timeline; the old rows stay; unmoved cases are untouched."""
    from django.apps import apps

    from liuhen.cases.models import Case, StageLog
    from liuhen.cases.tests.factories import make_case
    from liuhen.records import services as rs
    from liuhen.records.choices import DocumentType

    actor = people["officer_a"].user
    officers = [people["officer_a"], people["officer_a2"]]

    def old_case(kind, stage, *doc_types):
        case = make_case(actor=actor, unit=bureau["team_a"], officers=officers, kind=kind)
        for doc_type in doc_types:
            rs.add_document(actor=actor, case=case, doc_type=doc_type)
        Case.objects.filter(pk=case.pk).update(stage=stage)
        StageLog.objects.create(case=case, from_stage="investigation", to_stage=stage,
                                actor=actor, actor_name="旧流程")
        return case

    undecided = old_case("penalty", "decision", DocumentType.VIOLATION_NOTICE)
    decided = old_case("penalty", "decision", DocumentType.PENALTY_DECISION)
    enforcing = old_case("coercion", "service", DocumentType.REMINDER_NOTICE,
                         DocumentType.ENFORCEMENT_DECISION)
    served = old_case("penalty", "service", DocumentType.PENALTY_DECISION)

    MIGRATION.forward(apps, None)

    def stage(case):
        return Case.objects.get(pk=case.pk).stage

    assert (stage(undecided), stage(decided), stage(enforcing), stage(served)) == (
        "notice", "decision", "enforcement", "service")
    timeline = list(StageLog.objects.filter(case=undecided).values_list(
        "from_stage", "to_stage", "actor_name"))
    assert timeline[-2:] == [("investigation", "decision", "旧流程"),
                             ("decision", "notice", "系统升级")]
    assert not StageLog.objects.filter(case=decided, actor_name="系统升级").exists()

    MIGRATION.backward(apps, None)
    assert (stage(undecided), stage(enforcing)) == ("decision", "service")
