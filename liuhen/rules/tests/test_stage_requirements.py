"""Requirements follow the law's steps (issue 8 item 2): the 告知书 is due from 事先告知
(行政处罚法第四十四条、第六十二条), the 结案审批 from 结案, and in a coercion case the 催告书 and
the 陈述申辩笔录 from 催告、陈述申辩 (行政强制法第三十五条、第三十六条)."""

from __future__ import annotations

import pytest

from liuhen.cases.choices import CaseKind, Stage
from liuhen.rules.tests.helpers import penalty_case, statuses, walk

pytestmark = pytest.mark.django_db


def test_the_notice_is_due_from_the_notice_step(people):
    actor = people["officer_a"].user
    case = walk(penalty_case(people), Stage.INVESTIGATION, actor)
    assert statuses(case)["penalty.violation_notice"] == "not_applicable"
    case = walk(case, Stage.NOTICE, actor)
    assert statuses(case)["penalty.violation_notice"] == "missing"
    assert statuses(case)["penalty.closing_approved"] == "not_applicable"


def test_coercion_reminder_and_statement_from_their_step(people):
    actor = people["officer_a"].user
    case = walk(penalty_case(people, kind=CaseKind.COERCION), Stage.INVESTIGATION, actor)
    assert statuses(case)["coercion.reminder_notice"] == "not_applicable"
    case = walk(case, Stage.REMINDER, actor)
    found = statuses(case)
    assert found["coercion.reminder_notice"] == found["coercion.statement_record"] == "missing"
