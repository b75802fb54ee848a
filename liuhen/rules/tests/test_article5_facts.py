"""第五条第三款 facts on real cases: “当场不利于制作劳动保障监察文书及书面记录的” and
“其他需要音像记录的情况” (with its reason) make a recording mandatory; 第五条第四款: once
enforcement begins, the 催告书, 强制执行申请书 and the result are asked for."""

from __future__ import annotations

import pytest

from liuhen.cases import services as case_services
from liuhen.cases.choices import Stage
from liuhen.records.choices import ApprovalAction, DocumentType
from liuhen.rules.tests.helpers import approve, doc, penalty_case, statuses, walk

pytestmark = pytest.mark.django_db


def test_impractical_writing_and_other_reason_ask_for_recordings(client, people):
    actor = people["officer_a"].user
    case = walk(penalty_case(people), Stage.INVESTIGATION, actor)
    items = statuses(case)
    assert items["penalty.av_written_record_impractical"] == "not_applicable"
    assert items["penalty.av_other"] == "not_applicable"
    case_services.update_case_facts(
        actor=actor, case=case, written_record_impractical=True,
        av_other_reason="当事人情绪激动，现场围观人员较多",
    )
    items = statuses(case)
    assert items["penalty.av_written_record_impractical"] == "missing"
    assert items["penalty.av_other"] == "missing"
    client.force_login(actor)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "当场不利于制作书面记录" in page and "当事人情绪激动，现场围观人员较多" in page


def test_enforcement_asks_for_reminder_application_and_result(people):
    case = penalty_case(people)
    assert statuses(case)["penalty.reminder_notice"] == "not_applicable"
    approve(case, people, ApprovalAction.ENFORCEMENT)
    items = statuses(case)
    assert items["penalty.reminder_notice"] in ("missing", "not_applicable")
    doc(case, people, DocumentType.REMINDER_NOTICE)
    doc(case, people, DocumentType.ENFORCEMENT_APPLICATION)
    doc(case, people, DocumentType.ENFORCEMENT_RESULT)
    items = statuses(case)
    assert items["penalty.reminder_notice"] == "met"
    assert items["penalty.enforcement_application"] == "met"
    assert items["penalty.enforcement_result"] == "met"
