"""Approval authority as the law gives it (issue 8 item 4): approvals.toml names 行政机关负责人
(bureau_leader) where the law does — 劳动保障监察条例第十七条 (extension), 行政处罚法第五十六条
(先行登记保存), 第五十七条 (decision) —, 法制审核 by the legal office (第五十八条), and 集体讨论 as a
recorded meeting (第五十七条第二款). A wrong role is refused with the article."""

from __future__ import annotations

import pytest
from django.utils import timezone

from liuhen.cases import services as case_services
from liuhen.core.errors import Conflict, Forbidden, InvalidInput
from liuhen.records import services as rs
from liuhen.records.choices import ApprovalAction, ApprovalDecision, DocumentType
from liuhen.rules.tests.helpers import penalty_case, statuses

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("action", "roles", "article"),
    [
        ("investigation_extension", ("bureau_leader",), "《劳动保障监察条例》第十七条"),
        ("evidence_preservation", ("bureau_leader",), "行政处罚法》第五十六条"),
        ("penalty_decision", ("bureau_leader",), "行政处罚法》第五十七条"),
        ("legal_review", ("legal_office",), "行政处罚法》第五十八条"),
        ("seizure_extension", ("bureau_leader",), "行政强制法》第二十五条"),
        ("enforcement", ("bureau_leader",), "行政强制法》第三十七条、第五十五条"),
        ("filing", ("unit_head",), "第十九条"),
        ("waiver", ("unit_head",), "第十条"),
    ],
)
def test_each_row_names_its_roles_and_article(action, roles, article):
    authority = rs.authorities()[action]
    assert authority.roles == roles
    assert article in authority.article and authority.basis


def test_every_action_has_a_row_with_an_article():
    rows = rs.authorities()
    assert set(rows) == set(ApprovalAction.values)
    assert all("第" in r.article and "条" in r.article for r in rows.values())


def ask(case, people, action):
    return rs.request_approval(actor=people["officer_a"].user, case=case, action=action)


@pytest.mark.parametrize(
    ("action", "article"),
    [
        (ApprovalAction.INVESTIGATION_EXTENSION, "《劳动保障监察条例》第十七条"),
        (ApprovalAction.EVIDENCE_PRESERVATION, "第五十六条"),
        (ApprovalAction.PENALTY_DECISION, "第五十七条"),
        (ApprovalAction.LEGAL_REVIEW, "第五十八条"),
    ],
)
def test_a_unit_head_is_refused_with_the_article(people, action, article):
    case = penalty_case(people)
    approval = ask(case, people, action)
    with pytest.raises(Forbidden) as refused:
        rs.decide_approval(actor=people["head_a"].user, approval=approval, approve=True)
    assert article in refused.value.message and "无权审批" in refused.value.message
    approval.refresh_from_db()
    assert approval.decision == ApprovalDecision.PENDING


def test_the_bureau_leader_approves_the_extension(people):
    case = penalty_case(people)
    approval = ask(case, people, ApprovalAction.INVESTIGATION_EXTENSION)
    done = rs.decide_approval(actor=people["leader"].user, approval=approval, approve=True)
    assert done.decision == ApprovalDecision.APPROVED and done.approver_role == "bureau_leader"


def discussion(case, people, participants, conclusion="给予罚款处罚", day=None):
    return rs.add_document(
        actor=people["officer_a"].user,
        case=case,
        doc_type=DocumentType.COLLECTIVE_DISCUSSION,
        date=day or timezone.localdate(),
        extra={"participants": participants, "conclusion": conclusion},
    )


def test_complex_case_needs_collective_discussion_and_legal_review(people):
    """第五十七条第二款: a complex or major case is decided by the leaders together (a meeting of
    at least three with its date and conclusion); 第五十八条: not without 法制审核."""
    actor = people["officer_a"].user
    case = penalty_case(people)
    case_services.update_case_facts(actor=actor, case=case, is_complex_or_major=True)
    decision = ask(case, people, ApprovalAction.PENALTY_DECISION)
    with pytest.raises(Conflict, match="第五十七条第二款"):
        rs.decide_approval(actor=people["leader"].user, approval=decision, approve=True)

    with pytest.raises(InvalidInput, match="至少3人"):
        discussion(case, people, ["孙局长", "李副局长"])
    with pytest.raises(InvalidInput, match="结论"):
        discussion(case, people, ["孙局长", "李副局长", "王副局长"], conclusion=" ")
    with pytest.raises(InvalidInput, match="日期"):
        rs.add_document(actor=actor, case=case, doc_type=DocumentType.COLLECTIVE_DISCUSSION,
                        extra={"participants": ["甲", "乙", "丙"], "conclusion": "罚款"})
    # Held the day the case opened (a record before it would be refused, issue 13 item 3).
    discussion(case, people, ["孙局长", "李副局长", "王副局长"], day=case.opened_on)

    with pytest.raises(Conflict, match="第五十八条"):
        rs.decide_approval(actor=people["leader"].user, approval=decision, approve=True)
    review = ask(case, people, ApprovalAction.LEGAL_REVIEW)
    with pytest.raises(Forbidden, match="第五十八条"):
        rs.decide_approval(actor=people["leader"].user, approval=review, approve=True)
    rs.decide_approval(actor=people["legal"].user, approval=review, approve=True, opinion="合法")
    done = rs.decide_approval(actor=people["leader"].user, approval=decision, approve=True)
    assert done.decision == ApprovalDecision.APPROVED
    items = statuses(case)
    assert items["penalty.legal_review"] == "met"
    assert items["penalty.collective_discussion"] == "met"


def test_a_plain_case_is_decided_without_them(people):
    case = penalty_case(people)
    decision = ask(case, people, ApprovalAction.PENALTY_DECISION)
    rs.decide_approval(actor=people["leader"].user, approval=decision, approve=True)
    items = statuses(case)
    assert items["penalty.legal_review"] == "not_applicable"
    assert items["penalty.collective_discussion"] == "not_applicable"


def test_records_page_shows_the_refusal_with_its_article(client, people):
    case = penalty_case(people)
    approval = ask(case, people, ApprovalAction.PENALTY_DECISION)
    client.force_login(people["head_a"].user)
    response = client.post(
        f"/cases/{case.pk}/records/approvals/{approval.pk}/decision/",
        {"decision": "approve", "opinion": "同意"},
        follow=True,
    )
    page = response.content.decode()
    assert "行政处罚法》第五十七条" in page and "主管负责人" in page


def test_records_page_records_a_collective_discussion(client, people):
    case = penalty_case(people)
    client.force_login(people["officer_a"].user)
    response = client.post(
        f"/cases/{case.pk}/records/documents/",
        {
            "doc_type": "collective_discussion",
            "date": timezone.localdate().isoformat(),
            "signature": "signed",
            "participants": "孙局长、李副局长，王副局长",
            "conclusion": "责令改正并处罚款",
        },
        follow=True,
    )
    assert response.status_code == 200
    doc = case.documents.get(doc_type="collective_discussion")
    assert doc.extra["participants"] == ["孙局长", "李副局长", "王副局长"]
    assert doc.extra["conclusion"] == "责令改正并处罚款"
