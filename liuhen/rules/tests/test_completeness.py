"""Completeness through the real services: triggers from the case's own facts, records from
the vault, the archive gate with and without an approved waiver (第五条, 第十条, 第十二条),
approval authority (第五条第四款, 第十九条) and document versions (第二十六条 (二))."""

from __future__ import annotations

import pytest

from liuhen.audit.models import AuditEntry
from liuhen.cases import services as case_services
from liuhen.cases.choices import CaseKind, Stage
from liuhen.cases.models import Case
from liuhen.core.errors import Conflict, Forbidden, InvalidInput
from liuhen.records import services as rs
from liuhen.records.models import Document
from liuhen.rules import services as rules_services
from liuhen.rules.models import CaseCompleteness
from liuhen.rules.tests.helpers import (
    add_recording,
    approve,
    doc,
    penalty_case,
    statuses,
    walk,
    write_pdf,
)

pytestmark = pytest.mark.usefixtures("vault")


def complete_penalty_case(people, tmp_path):
    """A penalty case at 案卷制作 with every requirement of an ordinary case met."""
    actor = people["officer_a"].user
    case = penalty_case(people)
    doc(case, people, "filing_approval", file_path=write_pdf(tmp_path, "f.pdf", "f"))
    case = walk(case, Stage.CASE_FILE, actor)
    for doc_type in (
        "inquiry_record",
        "officer_info",
        "violation_notice",
        "statement_record",
        "penalty_decision",
        "service_receipt",
        "closing_approval",
    ):
        doc(case, people, doc_type)
    for action in ("filing", "investigation_end", "penalty_decision", "closing"):
        approve(case, people, action)
    add_recording(case, actor, tmp_path, "recording_notice", "party_signed")
    return case


def test_snapshot_is_stored_on_create_and_refreshed_on_each_record(people, tmp_path):
    case = penalty_case(people)
    assert statuses(case)["penalty.initiation_text"] == "missing"
    doc(case, people, "filing_approval", file_path=write_pdf(tmp_path))
    snap = CaseCompleteness.objects.get(case=case)
    assert statuses(case)["penalty.initiation_text"] == "met"
    assert snap.missing == [] and snap.ratio == 1.0
    item = next(i for i in snap.items if i["id"] == "penalty.initiation_text")
    assert item["records"][0][0] == "document"  # [type, id, label]


def test_第五条_随机抽查_trigger_appears_when_the_fact_is_recorded(people, tmp_path):
    actor = people["officer_a"].user
    case = walk(penalty_case(people), Stage.INVESTIGATION, actor)
    assert statuses(case)["penalty.av_random_inspection"] == "not_applicable"
    case_services.update_case_facts(actor=actor, case=case, is_random_inspection=True)
    assert statuses(case)["penalty.av_random_inspection"] == "missing"
    add_recording(case, actor, tmp_path)
    assert statuses(case)["penalty.av_random_inspection"] == "met"


def test_第五条_留置送达_requires_recording_through_services(people, tmp_path):
    actor = people["officer_a"].user
    case = walk(penalty_case(people), Stage.SERVICE, actor)
    decision = doc(case, people, "penalty_decision")
    assert statuses(case)["penalty.av_service_left"] == "not_applicable"
    with pytest.raises(InvalidInput, match="见证人"):
        rs.record_service(
            actor=actor,
            case=case,
            document=decision,
            method="left_at_premises",
            recipient="某公司",
            signature="refused",
        )
    rs.record_service(
        actor=actor,
        case=case,
        document=decision,
        method="left_at_premises",
        recipient="某公司",
        signature="refused",
        witnesses="王五（社区）",
    )
    result = statuses(case)
    assert result["penalty.av_service_left"] == "missing"
    assert result["penalty.av_signature_refused"] == "missing"
    add_recording(case, actor, tmp_path, "service_left", "signature_refused")
    result = statuses(case)
    assert result["penalty.av_service_left"] == "met"
    assert result["penalty.av_signature_refused"] == "met"


def test_第五条_公告送达_requires_recording_and_notice(people, tmp_path):
    actor = people["officer_a"].user
    case = walk(penalty_case(people), Stage.SERVICE, actor)
    decision = doc(case, people, "penalty_decision")
    rs.record_service(
        actor=actor,
        case=case,
        document=decision,
        method="public_notice",
        recipient="下落不明的当事人",
        signature="not_present",
    )
    assert statuses(case)["penalty.av_public_notice"] == "missing"
    assert statuses(case)["penalty.public_notice_text"] == "missing"
    doc(case, people, "public_notice", signature="not_present")
    add_recording(case, actor, tmp_path, "service_public_notice")
    assert statuses(case)["penalty.av_public_notice"] == "met"
    assert statuses(case)["penalty.public_notice_text"] == "met"


def test_第十条_archive_gate_refuses_incomplete_case_with_articles(people, tmp_path):
    actor = people["officer_a"].user
    case = walk(penalty_case(people), Stage.CASE_FILE, actor)
    with pytest.raises(Conflict) as err:
        case_services.archive_case(actor=people["keeper_a"].user, case=case)
    assert err.value.code == "case_incomplete"
    assert "第五条第三款" in err.value.message and "询问笔录" in err.value.message
    assert any(m["id"] == "penalty.inquiry_record" for m in err.value.detail["missing"])
    case.refresh_from_db()
    assert case.stage == Stage.CASE_FILE and case.archived_at is None
    assert AuditEntry.objects.filter(action="case.archive_refused", outcome="denied").exists()


def test_第十条_complete_case_is_archived(people, tmp_path):
    case = complete_penalty_case(people, tmp_path)
    assert CaseCompleteness.objects.get(case=case).missing == []
    case = case_services.archive_case(actor=people["keeper_a"].user, case=case)
    assert case.stage == Stage.ARCHIVING and case.archived_at


def test_第十条_approved_waiver_lets_the_case_be_archived(people, tmp_path):
    actor = people["officer_a"].user
    case = complete_penalty_case(people, tmp_path)
    case_services.update_case_facts(actor=actor, case=case, is_disputed=True)
    with pytest.raises(Conflict, match="现场笔录"):
        case_services.archive_case(actor=people["keeper_a"].user, case=case)
    with pytest.raises(InvalidInput, match="理由"):
        rs.request_approval(
            actor=actor,
            case=case,
            action="waiver",
            requirement_code="penalty.site_record",
            reason="无",
        )
    waiver = rs.request_approval(
        actor=actor,
        case=case,
        action="waiver",
        requirement_code="penalty.site_record",
        reason="当事人阻挠，现场无法制作笔录；全程录像已关联本案，两名见证人签字",
    )
    # A pending waiver does not open the gate.
    with pytest.raises(Conflict):
        case_services.archive_case(actor=people["keeper_a"].user, case=case)
    rs.decide_approval(
        actor=people["head_a"].user,
        approval=waiver,
        approve=True,
        opinion="同意，以现场录像代替现场笔录",
    )
    item = next(
        i for i in CaseCompleteness.objects.get(case=case).items if i["id"] == "penalty.site_record"
    )
    assert item["status"] == "waived" and item["approver"] == people["head_a"].name
    case = case_services.archive_case(actor=people["keeper_a"].user, case=case)
    assert case.stage == Stage.ARCHIVING
    entry = AuditEntry.objects.filter(action="approval.decided").latest("seq")
    assert entry.actor_id == people["head_a"].user_id
    assert entry.detail["requirement"] == "penalty.site_record"


def test_第五条第四款_approval_authority_is_checked(people):
    """Role must hold the authority, the case must be in scope, no self-approval."""
    case = penalty_case(people)
    filing = rs.request_approval(actor=people["officer_a"].user, case=case, action="filing")
    for who, message in (("officer_a2", "角色无权"), ("legal", "角色无权"), ("leader", "角色无权")):
        with pytest.raises(Forbidden, match=message):
            rs.decide_approval(actor=people[who].user, approval=filing, approve=True)
    other_team = people["head_a"].__class__.objects.create(
        user=people["officer_b"].user.__class__.objects.create(username="head_b"),
        name="二大队长",
        unit=people["officer_b"].unit,
        role="unit_head",
    )
    with pytest.raises(Forbidden, match="审批范围"):
        rs.decide_approval(actor=other_team.user, approval=filing, approve=True)
    own = rs.request_approval(actor=people["head_a"].user, case=case, action="closing")
    with pytest.raises(Forbidden, match="本人"):
        rs.decide_approval(actor=people["head_a"].user, approval=own, approve=True)
    assert AuditEntry.objects.filter(action="approval.refused", outcome="denied").count() == 5
    # 行政处罚法第五十七条: the decision is the 行政机关负责人's (局领导), not a unit head's.
    decision = rs.request_approval(
        actor=people["officer_a"].user, case=case, action="penalty_decision"
    )
    approved = rs.decide_approval(
        actor=people["leader"].user, approval=decision, approve=True, opinion="同意"
    )
    assert approved.decision == "approved" and approved.approver_role == "bureau_leader"
    with pytest.raises(Forbidden, match="第五十七条"):
        rs.decide_approval(actor=people["head_detachment"].user, approval=decision, approve=False)
    with pytest.raises(Conflict, match="已审批"):
        rs.decide_approval(actor=people["leader"].user, approval=decision, approve=False)


def test_rejected_approval_does_not_meet_the_requirement(people):
    case = walk(penalty_case(people), Stage.INVESTIGATION, people["officer_a"].user)
    filing = rs.request_approval(actor=people["officer_a"].user, case=case, action="filing")
    assert statuses(case)["penalty.filing_approved"] == "missing"
    rs.decide_approval(
        actor=people["head_a"].user, approval=filing, approve=False, opinion="证据不足"
    )
    assert statuses(case)["penalty.filing_approved"] == "missing"


def test_document_stored_with_both_digests_and_replaced_version_kept(people, tmp_path):
    import hashlib

    from liuhen.evidence.storage import get_storage

    case = penalty_case(people)
    path = write_pdf(tmp_path, "询问笔录.pdf", "v1")
    first = doc(case, people, "inquiry_record", file_path=path, number="询〔2026〕1号")
    data = path.read_bytes()
    assert first.sha256 == hashlib.sha256(data).hexdigest()
    assert first.sm3 == hashlib.new("sm3", data).hexdigest()
    with get_storage().open(first.storage_key) as fh:
        assert fh.read() == data
    second = doc(
        case, people, "inquiry_record", file_path=write_pdf(tmp_path, "b.pdf", "v2"), replaces=first
    )
    first.refresh_from_db()
    assert (first.is_current, second.is_current, second.version) == (False, True, 2)
    assert second.replaces_id == first.pk
    with pytest.raises(Conflict, match="现行版本"):
        doc(case, people, "inquiry_record", replaces=first)
    assert Document.objects.filter(case=case).count() == 2


def test_document_refused_outside_scope_and_bad_file(people, tmp_path):
    case = penalty_case(people)
    with pytest.raises(Forbidden):
        rs.add_document(actor=people["officer_b"].user, case=case, doc_type="inquiry_record")
    assert AuditEntry.objects.filter(action="document.refused", outcome="denied").exists()
    bad = tmp_path / "x.exe"
    bad.write_bytes(b"MZ")
    with pytest.raises(InvalidInput, match="仅接受"):
        doc(case, people, "inquiry_record", file_path=bad)
    with pytest.raises(InvalidInput, match="未知文书类型"):
        doc(case, people, "nonsense")


SNAPSHOT_COLUMNS = ("ratio", "met", "missing_count", "waived", "not_applicable", "applicable",
                    "items", "missing")


def varied_cases(people, tmp_path):
    """Cases of every kind that between them have met, missing, waived and not-applicable
    requirements, triggered ones (随机抽查, 易引发争议, 公告送达, 拒绝签字) and untriggered ones."""
    actor = people["officer_a"].user
    complete = complete_penalty_case(people, tmp_path)
    triggered = walk(penalty_case(people, is_random_inspection=True), Stage.SERVICE, actor)
    case_services.update_case_facts(actor=actor, case=triggered, is_disputed=True)
    doc(triggered, people, "inquiry_record", signature="refused")
    add_recording(triggered, actor, tmp_path, "signature_refused", "recording_notice")
    approve(triggered, people, "waiver", requirement_code="penalty.site_record",
            reason="当事人阻挠，现场无法制作笔录；全程录像已关联本案")
    rs.request_approval(actor=actor, case=triggered, action="penalty_decision")  # pending
    coercion = walk(penalty_case(people, kind=CaseKind.COERCION), Stage.SERVICE, actor)
    rs.record_service(actor=actor, case=coercion, document=doc(coercion, people,
                      "enforcement_decision"), method="public_notice", recipient="下落不明的当事人",
                      signature="not_present")
    fee = penalty_case(people, kind=CaseKind.FEE)
    doc(fee, people, "fee_receipt", extra={"bill_number": "No.0001"})
    inspection = penalty_case(people, kind=CaseKind.INSPECTION)
    add_recording(inspection, actor, tmp_path, "credentials_shown", "premises_goods")
    levy = penalty_case(people, kind=CaseKind.LEVY)
    return [complete, triggered, coercion, fee, inspection, levy, penalty_case(people)]


def test_bulk_evaluation_stores_the_same_snapshots_as_single_case_evaluation(people, tmp_path):
    """``liuhen completeness``'s bulk path and ``case_changed``'s one-case path agree on every stored
    column of every case (第十条: the same rules whichever way a case is evaluated)."""
    cases = varied_cases(people, tmp_path)
    for case in cases:
        rules_services.refresh_completeness(case=case)
    singles = {c.pk: CaseCompleteness.objects.values(*SNAPSHOT_COLUMNS).get(case=c)
               for c in cases}
    statuses_seen = {i["status"] for s in singles.values() for i in s["items"]}
    assert statuses_seen == {"met", "missing", "waived", "not_applicable"}
    whys = {i.get("why") for s in singles.values() for i in s["items"]}
    assert {"trigger", "stage"} <= whys
    CaseCompleteness.objects.all().delete()
    # Batches of 3: ranges of ids that hold other cases' records, and a short last batch.
    assert rules_services.evaluate_cases(batch=3) == len(cases)
    bulk = {c.pk: CaseCompleteness.objects.values(*SNAPSHOT_COLUMNS).get(case=c) for c in cases}
    assert bulk == singles
    # Running it again over stored snapshots (upsert) changes nothing.
    assert rules_services.evaluate_cases() == len(cases)
    again = {c.pk: CaseCompleteness.objects.values(*SNAPSHOT_COLUMNS).get(case=c) for c in cases}
    assert again == singles


def test_bulk_evaluation_of_a_subset_leaves_other_cases_alone(people, tmp_path):
    cases = varied_cases(people, tmp_path)
    CaseCompleteness.objects.all().delete()
    some = Case.objects.filter(pk__in=[cases[1].pk, cases[3].pk])
    assert rules_services.evaluate_cases(some) == 2
    assert set(CaseCompleteness.objects.values_list("case_id", flat=True)) == {
        cases[1].pk, cases[3].pk}


_PARALLEL_CHECK = """
import json, sys
sys.path.insert(0, "bench")
from bench_rules import populate
from liuhen.cases.models import Case
from liuhen.rules import services
from liuhen.rules.models import CaseCompleteness

def stored():
    return json.dumps(list(CaseCompleteness.objects.order_by("case_id").values_list(
        "case_id", "ratio", "met", "missing_count", "waived", "not_applicable", "applicable",
        "items", "missing")), ensure_ascii=False, sort_keys=True)

populate(90)
for case in Case.objects.all():
    services.refresh_completeness(case=case)
single = stored()
CaseCompleteness.objects.all().delete()
serial = services.evaluate_cases(workers=1, batch=7)
serial_rows = stored()
CaseCompleteness.objects.all().delete()
parallel = services.evaluate_cases(workers=3, min_parallel=1, batch=7)
print("RESULT", serial, parallel, serial_rows == single, stored() == single)
"""


@pytest.mark.slow
def test_forked_workers_and_the_writer_thread_store_what_single_evaluation_stores(
    server_process,
):
    """The 100,000-case path of ``liuhen completeness`` (id range cut across forked processes, each
    writing through a helper thread) needs committed data, so it runs in a server database of
    its own: every case's snapshot equals what ``case_changed``'s one-case path stores."""
    server = server_process()
    out = server.manage("shell", "-c", _PARALLEL_CHECK).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT"))
    assert line.split()[1:] == ["90", "90", "True", "True"]
