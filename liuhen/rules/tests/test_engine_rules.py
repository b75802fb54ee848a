"""One test per rule of the data files, named after its article: missing, then met.

Pure engine tests (no database): the facts a case would have are built directly, so each test
shows exactly which record meets which requirement. ``test_every_rule_has_a_test`` keeps the
data files and these tests in step.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from liuhen.rules import engine
from liuhen.rules.engine import ApprovalFact, CaseFacts, DocFact, RecordingFact, ServiceFact

_ids = iter(range(1, 10_000))


def facts(kind="penalty", stage="archiving", **kw) -> CaseFacts:
    flags = {k: kw.pop(k) for k in list(kw) if k.startswith(("is_", "hearing"))}
    return CaseFacts(case_id=1, kind=kind, stage=stage, flags=flags, qualified_officers=2, **kw)


def d(doc_type, signature="signed", **extra):
    return DocFact(
        id=next(_ids),
        doc_type=doc_type,
        signature=signature,
        extra_keys=frozenset(extra),
        label=doc_type,
    )


def a(action, decision="approved", code="", approver="张三"):
    return ApprovalFact(
        id=next(_ids),
        action=action,
        decision=decision,
        requirement_code=code,
        approver=approver,
        reason="现场无法录像，已由两名见证人签字确认",
        opinion="同意",
    )


def s(method="direct", signature="signed"):
    return ServiceFact(id=next(_ids), method=method, signature=signature)


def r(*labels, kind="video"):
    return RecordingFact(id=next(_ids), kind=kind, labels=frozenset(labels), label="rec.mp4")


def status(f: CaseFacts, rule_id: str) -> str:
    return next(i["status"] for i in engine.evaluate(f)["items"] if i["id"] == rule_id)


def assert_rule(rule_id, missing: CaseFacts, met: CaseFacts):
    assert status(missing, rule_id) == "missing"
    assert status(met, rule_id) == "met"


# --- 第五条 行政处罚 ---------------------------------------------------------------------


def test_第五条第二款_程序启动_requires_filing_text():
    assert_rule(
        "penalty.initiation_text",
        facts(stage="initiation"),
        facts(stage="initiation", documents=[d("filing_approval")]),
    )


def test_第五条第四款_立案_requires_approved_filing():
    assert_rule(
        "penalty.filing_approved",
        facts(approvals=[a("filing", "rejected")]),
        facts(approvals=[a("filing")]),
    )


def test_行政处罚法第四十二条_requires_two_qualified_officers():
    one = facts()
    one.qualified_officers = 1
    assert_rule("penalty.two_officers", one, facts())


def test_第五条第三款_调查取证_requires_inquiry_record():
    assert_rule(
        "penalty.inquiry_record",
        facts(stage="investigation"),
        facts(stage="investigation", documents=[d("inquiry_record")]),
    )


def test_第五条第三款_调查取证_requires_officer_info():
    assert_rule(
        "penalty.officer_info",
        facts(stage="investigation"),
        facts(stage="investigation", documents=[d("officer_info")]),
    )


def test_第五条第三款_现场检查_requires_site_record_when_random_or_disputed():
    assert status(facts(), "penalty.site_record") == "not_applicable"
    assert_rule(
        "penalty.site_record",
        facts(is_disputed=True),
        facts(is_disputed=True, documents=[d("site_record")]),
    )
    assert status(facts(is_random_inspection=True), "penalty.site_record") == "missing"


def test_第五条第三款_随机抽查_requires_recording():
    assert status(facts(), "penalty.av_random_inspection") == "not_applicable"
    assert_rule(
        "penalty.av_random_inspection",
        facts(is_random_inspection=True),
        facts(is_random_inspection=True, recordings=[r()]),
    )


def test_第五条第三款_易引发争议_requires_recording():
    assert status(facts(), "penalty.av_disputed") == "not_applicable"
    assert_rule(
        "penalty.av_disputed", facts(is_disputed=True), facts(is_disputed=True, recordings=[r()])
    )


def test_第五条第三款_重大突发事件_requires_recording():
    assert status(facts(), "penalty.av_major_incident") == "not_applicable"
    assert_rule(
        "penalty.av_major_incident",
        facts(is_major_incident=True),
        facts(is_major_incident=True, recordings=[r(kind="audio")]),
    )


def test_第五条第三款_拒绝签字_requires_recording_of_refusal():
    """Triggered by a document or a service with a refused signature."""
    assert status(facts(), "penalty.av_signature_refused") == "not_applicable"
    refused_doc = [d("inquiry_record", signature="refused")]
    assert_rule(
        "penalty.av_signature_refused",
        facts(documents=refused_doc),
        facts(documents=refused_doc, recordings=[r("signature_refused")]),
    )
    # A recording without the mark does not show the refusal.
    assert (
        status(
            facts(services=[s(signature="refused")], recordings=[r()]),
            "penalty.av_signature_refused",
        )
        == "missing"
    )


def test_第二十条_penalty_requires_recording_notice_mark():
    assert_rule(
        "penalty.recording_notice",
        facts(recordings=[r()]),
        facts(recordings=[r("recording_notice")]),
    )


def test_第五条第四款_调查终结_requires_approval():
    assert_rule(
        "penalty.investigation_end_approved",
        facts(stage="decision"),
        facts(stage="decision", approvals=[a("investigation_end")]),
    )


def test_第五条第四款_处罚前告知_requires_violation_notice():
    assert_rule(
        "penalty.violation_notice",
        facts(stage="decision"),
        facts(stage="decision", documents=[d("violation_notice")]),
    )


def test_第五条第四款_陈述申辩_requires_statement_record():
    assert_rule(
        "penalty.statement_record",
        facts(stage="decision"),
        facts(stage="decision", documents=[d("statement_record")]),
    )


def test_第五条第四款_陈述申辩签收_requires_recording_of_signing():
    assert_rule(
        "penalty.av_statement_signing",
        facts(stage="decision", recordings=[r()]),
        facts(stage="decision", recordings=[r("party_signed")]),
    )


def test_第五条第四款_处罚决定_requires_approval():
    assert_rule(
        "penalty.decision_approved",
        facts(stage="decision", approvals=[a("penalty_decision", "pending")]),
        facts(stage="decision", approvals=[a("penalty_decision")]),
    )


def test_第五条第四款_requires_penalty_decision_document():
    assert_rule(
        "penalty.decision_document",
        facts(stage="decision"),
        facts(stage="decision", documents=[d("penalty_decision")]),
    )


def test_行政处罚法第六十四条_听证_requires_hearing_notice_and_record():
    assert status(facts(), "penalty.hearing_notice") == "not_applicable"
    assert status(facts(), "penalty.hearing_record") == "not_applicable"
    assert_rule(
        "penalty.hearing_notice",
        facts(hearing_requested=True),
        facts(hearing_requested=True, documents=[d("hearing_notice")]),
    )
    assert_rule(
        "penalty.hearing_record",
        facts(hearing_requested=True),
        facts(hearing_requested=True, documents=[d("hearing_record")]),
    )


def test_行政处罚法第六十二条_decision_out_of_order_needs_the_party_waiver():
    """A decision recorded before the party's statement/hearing window closed (the deadlines app
    stores the flag on the case) is missing until the party's written waiver is on record;
    without the flag the rule does not apply."""
    flagged = {"procedure_flagged": True}
    for kind, rule_id in (
        ("penalty", "penalty.procedure_order"),
        ("coercion", "coercion.procedure_order"),
    ):
        assert status(facts(kind), rule_id) == "not_applicable"
        assert_rule(
            rule_id,
            CaseFacts(case_id=1, kind=kind, stage="archiving", flags=flagged),
            CaseFacts(
                case_id=1,
                kind=kind,
                stage="archiving",
                flags=flagged,
                documents=[d("statement_record", statement_waived="书面放弃")],
            ),
        )
        assert status(
            CaseFacts(case_id=1, kind=kind, stage="archiving", flags=flagged,
                      documents=[d("statement_record")]),
            rule_id,
        ) == "missing"


def test_行政处罚法第五十七条_第五十八条_collective_discussion_and_legal_review():
    assert status(facts(), "penalty.legal_review") == "not_applicable"
    assert status(facts(), "penalty.collective_discussion") == "not_applicable"
    for trigger in ({"hearing_requested": True}, {"is_complex_or_major": True}):
        assert_rule(
            "penalty.legal_review",
            facts(**trigger),
            facts(**trigger, approvals=[a("legal_review")]),
        )
    assert_rule(
        "penalty.collective_discussion",
        facts(is_complex_or_major=True, documents=[d("collective_discussion")]),
        facts(is_complex_or_major=True,
              documents=[d("collective_discussion", conclusion="罚款", participants="x")]),
    )


def test_第五条第三款_impractical_writing_and_other_cases_need_recordings():
    for flag, rule_id in (
        ("written_record_impractical", "penalty.av_written_record_impractical"),
        ("av_other", "penalty.av_other"),
    ):
        assert status(facts(), rule_id) == "not_applicable"
        on = {flag: True}
        assert_rule(
            rule_id,
            CaseFacts(case_id=1, kind="penalty", stage="archiving", flags=on),
            CaseFacts(case_id=1, kind="penalty", stage="archiving", flags=on,
                      recordings=[r()]),
        )


def test_第五条第四款_enforcement_needs_reminder_application_and_result():
    """Once enforcement begins (an enforcement approval or any of its documents), the 催告书,
    the 强制执行申请书 and the result are recorded in writing."""
    for rule_id in ("penalty.reminder_notice", "penalty.enforcement_application",
                    "penalty.enforcement_result"):
        assert status(facts(), rule_id) == "not_applicable"
    started = [a("enforcement")]
    assert_rule("penalty.reminder_notice", facts(approvals=started),
                facts(approvals=started, documents=[d("reminder_notice")]))
    assert_rule("penalty.enforcement_application", facts(documents=[d("reminder_notice")]),
                facts(documents=[d("reminder_notice"), d("enforcement_application")]))
    assert_rule("penalty.enforcement_result", facts(documents=[d("enforcement_application")]),
                facts(documents=[d("enforcement_application"), d("enforcement_result")]))
    assert status(facts(stage="decision", approvals=started), "penalty.enforcement_result") == (
        "not_applicable")


def test_第五条第四款_送达_requires_service_receipt():
    assert_rule(
        "penalty.service_receipt",
        facts(stage="service"),
        facts(stage="service", documents=[d("service_receipt")]),
    )


def test_第五条_留置送达_requires_recording():
    assert status(facts(services=[s("direct")]), "penalty.av_service_left") == "not_applicable"
    left = [s("left_at_premises", "refused")]
    assert_rule(
        "penalty.av_service_left",
        facts(services=left, recordings=[r()]),
        facts(services=left, recordings=[r("service_left")]),
    )


def test_第五条_公告送达_requires_recording_and_notice():
    assert status(facts(), "penalty.av_public_notice") == "not_applicable"
    public = [s("public_notice", "not_present")]
    assert_rule(
        "penalty.av_public_notice",
        facts(services=public),
        facts(services=public, recordings=[r("service_public_notice")]),
    )
    assert_rule(
        "penalty.public_notice_text",
        facts(services=public),
        facts(services=public, documents=[d("public_notice", "not_present")]),
    )


def test_第十九条_结案_requires_closing_approval():
    assert_rule(
        "penalty.closing_approved",
        facts(stage="case_file"),
        facts(stage="case_file", approvals=[a("closing")]),
    )


def test_第十条_文书完备_requires_closing_document():
    assert_rule(
        "penalty.closing_document",
        facts(stage="case_file"),
        facts(stage="case_file", documents=[d("closing_approval")]),
    )


def test_第十条_内部审批完整_no_pending_approval():
    assert_rule(
        "penalty.approvals_complete",
        facts(stage="case_file", approvals=[a("closing", "pending")]),
        facts(stage="case_file", approvals=[a("closing", "rejected")]),
    )


# --- 第六条 行政强制 ---------------------------------------------------------------------


def c(**kw):
    return facts(kind="coercion", **kw)


def test_行政强制法第十八条_coercion_requires_two_officers():
    one = c()
    one.qualified_officers = 0
    assert_rule("coercion.two_officers", one, c())


@pytest.mark.parametrize(
    "rule_id, doc_type",
    [
        ("coercion.reminder_notice", "reminder_notice"),
        ("coercion.statement_record", "statement_record"),
        ("coercion.enforcement_decision", "enforcement_decision"),
        ("coercion.service_receipt", "service_receipt"),
    ],
)
def test_第六条第二款_coercion_text_documents(rule_id, doc_type):
    assert_rule(rule_id, c(), c(documents=[d(doc_type)]))


def test_第六条第二款_公告_when_served_by_public_notice():
    assert status(c(), "coercion.public_notice") == "not_applicable"
    public = [s("public_notice", "not_present")]
    assert_rule(
        "coercion.public_notice",
        c(services=public),
        c(services=public, documents=[d("public_notice")]),
    )


def test_第六条第二款_强制执行_requires_approval():
    assert_rule("coercion.enforcement_approved", c(), c(approvals=[a("enforcement")]))


@pytest.mark.parametrize(
    "item, rule_id, label",
    [
        ("（一）", "coercion.av_credentials", "credentials_shown"),
        ("（二）", "coercion.av_party_identity", "party_identity_checked"),
        ("（三）", "coercion.av_documents_read", "documents_read"),
        ("（四）", "coercion.av_statement_heard", "statement_heard"),
        ("（五）", "coercion.av_party_signed", "party_signed"),
    ],
)
def test_第六条第三款_coercion_recordings_show_items_1_to_5(item, rule_id, label):
    others = [m for m in engine.MARK_LABELS if m != label]
    assert_rule(rule_id, c(recordings=[r(*others)]), c(recordings=[r(label)]))


def test_第二十条_coercion_requires_recording_notice_mark():
    assert_rule("coercion.recording_notice", c(), c(recordings=[r("recording_notice")]))


def test_第十九条_coercion_closing_approval_and_第十条_settled():
    assert_rule("coercion.closing_approved", c(), c(approvals=[a("closing")]))
    assert_rule(
        "coercion.approvals_complete",
        c(approvals=[a("enforcement", "pending")]),
        c(approvals=[a("enforcement")]),
    )


# --- 第七条 行政征收, 第九条 行政收费, 第八条 行政检查 ----------------------------------------


def test_第七条_levy_requires_declaration_and_platform_record():
    assert_rule(
        "levy.declaration",
        facts(kind="levy"),
        facts(kind="levy", documents=[d("levy_declaration")]),
    )
    assert_rule(
        "levy.platform_record",
        facts(kind="levy"),
        facts(kind="levy", documents=[d("levy_platform_record", "not_present")]),
    )
    assert_rule(
        "levy.approvals_complete",
        facts(kind="levy", approvals=[a("closing", "pending")]),
        facts(kind="levy"),
    )


def test_第九条_fee_requires_signed_receipt_and_bill_number():
    unsigned = [d("fee_receipt", "pending", bill_number="1")]
    assert_rule(
        "fee.signed_receipt",
        facts(kind="fee", documents=unsigned),
        facts(kind="fee", documents=[d("fee_receipt", "signed")]),
    )
    assert_rule(
        "fee.bill_entered",
        facts(kind="fee", documents=[d("fee_receipt")]),
        facts(kind="fee", documents=unsigned),
    )
    assert_rule(
        "fee.approvals_complete",
        facts(kind="fee", approvals=[a("closing", "pending")]),
        facts(kind="fee"),
    )


def test_第八条_inspection_requires_inspection_record():
    assert_rule(
        "inspection.record",
        facts(kind="inspection"),
        facts(kind="inspection", documents=[d("inspection_record")]),
    )
    assert_rule(
        "inspection.approvals_complete",
        facts(kind="inspection", approvals=[a("closing", "pending")]),
        facts(kind="inspection"),
    )


@pytest.mark.parametrize(
    "item, rule_id, label",
    [
        ("（一）", "inspection.av_vehicle", "vehicle_used"),
        ("（二）", "inspection.av_officer_conduct", "officer_conduct"),
        ("（三）", "inspection.av_inspected_party", "inspected_party"),
        ("（四）", "inspection.av_premises_goods", "premises_goods"),
        ("（五）", "inspection.av_conduct", "inspection_conduct"),
    ],
)
def test_第八条_inspection_recordings_show_items_1_to_5(item, rule_id, label):
    others = [m for m in engine.MARK_LABELS if m != label]
    assert_rule(
        rule_id,
        facts(kind="inspection", recordings=[r(*others)]),
        facts(kind="inspection", recordings=[r(label)]),
    )


# --- stage, waiver and figure -----------------------------------------------------------


def test_rule_before_its_stage_is_not_applicable_unless_met():
    early = facts(stage="initiation")
    assert status(early, "penalty.decision_document") == "not_applicable"
    assert (
        status(
            facts(stage="initiation", documents=[d("penalty_decision")]),
            "penalty.decision_document",
        )
        == "met"
    )


def test_第十条_approved_waiver_turns_missing_into_waived():
    waiver = a("waiver", code="penalty.av_statement_signing")
    result = engine.evaluate(facts(approvals=[waiver]))
    item = next(i for i in result["items"] if i["id"] == "penalty.av_statement_signing")
    assert item["status"] == "waived" and item["approver"] == "张三"
    pending = a("waiver", "pending", code="penalty.av_statement_signing")
    assert status(facts(approvals=[pending]), "penalty.av_statement_signing") == "missing"


def test_completeness_figure_counts_met_and_waived_over_applicable():
    result = engine.evaluate(facts(stage="initiation"))
    counts = result["counts"]
    assert result["applicable"] == counts["met"] + counts["missing"] + counts["waived"]
    assert result["ratio"] == pytest.approx(
        (counts["met"] + counts["waived"]) / result["applicable"]
    )
    assert result["missing"] == ["penalty.initiation_text"]


def test_every_rule_has_a_test():
    source = Path(__file__).read_text(encoding="utf-8")
    untested = [rule_id for rule_id in engine.rules_by_id() if f'"{rule_id}"' not in source]
    assert untested == []
