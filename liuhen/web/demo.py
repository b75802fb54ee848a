"""Demo records for `liuhen demo`: documents and approvals with realistic gaps, and a few
complete cases archived (called once at the end of the demo build)."""

from __future__ import annotations

import random
from datetime import timedelta

from django.utils import timezone

from liuhen.access.choices import Role
from liuhen.cases import services as case_services
from liuhen.cases.choices import CaseKind, Stage
from liuhen.cases.models import Case
from liuhen.core.errors import LiuhenError
from liuhen.org.models import Officer
from liuhen.records import services as rs
from liuhen.records.choices import ApprovalAction, DocumentType, SignatureStatus
from liuhen.rules import engine
from liuhen.rules import services as rules_services


def _head(case: Case):
    unit = case.unit
    while unit is not None:
        head = Officer.objects.filter(unit=unit, role=Role.UNIT_HEAD).first()
        if head:
            return head.user
        unit = unit.parent
    return None


def _approver(case: Case, action: str):
    """Who the law lets approve ``action`` (approvals.toml): the case's unit head where a unit
    head may, else a bureau leader (行政机关负责人) or the legal office (法制审核)."""
    roles = rs.approval_authority()[action]
    if Role.UNIT_HEAD in roles:
        return _head(case)
    for role in (Role.BUREAU_LEADER, Role.LEGAL_OFFICE):
        if role in roles:
            officer = Officer.objects.filter(role=role).order_by("pk").first()
            return officer.user if officer else None
    return None


# Written records in the order the law has them (issue 13 item 3): the notices before the
# decision, the decision on its day, service and what follows after it. Days after the opening.
_NOTICES = {DocumentType.VIOLATION_NOTICE, DocumentType.HEARING_NOTICE, DocumentType.HEARING_RECORD,
            DocumentType.STATEMENT_RECORD, DocumentType.LEGAL_REVIEW,
            DocumentType.COLLECTIVE_DISCUSSION}
_DECISIONS = {DocumentType.PENALTY_DECISION, DocumentType.ENFORCEMENT_DECISION}
_AFTER = {DocumentType.SERVICE_RECEIPT, DocumentType.REMINDER_NOTICE,
          DocumentType.ENFORCEMENT_APPLICATION, DocumentType.ENFORCEMENT_RESULT,
          DocumentType.PUBLIC_NOTICE, DocumentType.CLOSING_APPROVAL}


def _document_date(case: Case, doc_type: str):
    """A believable date for a demo document: never before the opening, never after today,
    the decision on the decision date, notices before it and service after it."""
    today = timezone.localdate()
    decided = case.decided_on or min(case.opened_on + timedelta(days=20), today)
    if doc_type in _DECISIONS:
        day = decided
    elif doc_type in _NOTICES:
        day = max(case.opened_on, decided - timedelta(days=5))
    elif doc_type in _AFTER:
        day = decided + timedelta(days=2)
    else:
        day = case.opened_on
    return min(max(day, case.opened_on), today)


def _fill(case: Case, rng: random.Random, *, keep: float) -> None:
    """Add what the case's missing rules need, each item with probability ``keep``."""
    actor = case.officers.first().user
    result = rules_services.evaluate_case(case)
    by_id = engine.rules_by_id()
    for code in result["missing"]:
        for need in by_id[code].needs:
            if rng.random() > keep:
                continue
            if "document" in need:
                extra = {}
                if need.get("extra_key") == "bill_number" or need["document"] == "fee_receipt":
                    extra = {
                        "bill_number": f"冀非税{rng.randint(1000000, 9999999)}",
                        "amount": f"{rng.randint(1, 50) * 100}.00",
                    }
                elif need["document"] == "collective_discussion":
                    # 行政处罚法第五十七条第二款: a meeting with its participants and conclusion.
                    extra = {"participants": ["孙局长", "李副局长", "王副局长"],
                             "conclusion": "同意承办机构意见"}
                rs.add_document(
                    actor=actor,
                    case=case,
                    doc_type=need["document"],
                    number=f"{case.number}（{DocumentType(need['document']).label}）",
                    date=_document_date(case, need["document"]),
                    signature=SignatureStatus.SIGNED,
                    extra=extra,
                    note="演示数据（未附扫描件）",
                )
            elif "approval" in need and _approver(case, need["approval"]) is not None:
                try:
                    approval = rs.request_approval(
                        actor=actor, case=case, action=need["approval"], reason="演示数据"
                    )
                    rs.decide_approval(actor=_approver(case, need["approval"]),
                                       approval=approval, approve=True, opinion="同意")
                except LiuhenError:
                    # e.g. a decision before its 法制审核 (第五十八条): left pending, a gap.
                    continue


def add_records(*, rng: random.Random) -> None:
    """Documents and approvals for every demo case; three complete cases archived."""
    archived = 0
    for case in Case.objects.select_related("unit").order_by("id"):
        complete = case.stage == Stage.CASE_FILE and case.kind in (CaseKind.FEE, CaseKind.LEVY)
        _fill(case, rng, keep=1.0 if complete else 0.8)
        if complete and archived < 3:
            case.refresh_from_db()
            if not rules_services.evaluate_case(case)["missing"]:
                keeper = _head(case)
                case_services.archive_case(actor=keeper, case=case, note="演示：记录完整，归档")
                archived += 1
        elif case.stage == Stage.CASE_FILE and case.kind == CaseKind.PENALTY and archived < 4:
            # A penalty case whose missing recordings were explained and the waiver approved.
            _fill(case, rng, keep=1.0)
            head, actor = _head(case), case.officers.first().user
            for code in rules_services.evaluate_case(case)["missing"]:
                waiver = rs.request_approval(
                    actor=actor,
                    case=case,
                    action=ApprovalAction.WAIVER,
                    requirement_code=code,
                    reason="演示：执法记录仪当日故障已报修，现场由两名见证人签字确认",
                )
                rs.decide_approval(
                    actor=head, approval=waiver, approve=True, opinion="同意，设备维修记录已核实"
                )
            case_services.archive_case(actor=head, case=case, note="演示：缺项已说明，归档")
            archived += 1
