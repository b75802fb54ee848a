"""Retention per record (第十二条, 第十四条), computed from the facts, never typed by hand.

``case_file_retention(case)``, ``recording_retention(recording)`` and
``document_retention(document)`` read the record's facts now, so a change of the case's facts
(a decision, a hearing, a new link of a recording to a case, archiving) is reflected the next
time the period is read: there is no stored copy to go stale. The bureau changes a default
period with ``change_period`` (a reason is required, the change is audited and kept).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from liuhen.access.services import require
from liuhen.audit.services import record, record_denied
from liuhen.cases.choices import CaseSource
from liuhen.core.errors import InvalidInput
from liuhen.keeping import events, longterm
from liuhen.keeping.models import RetentionChange
from liuhen.keeping.retention import (
    Basis,
    CaseFacts,
    Period,
    Retention,
    RetentionDataError,
    Row,
    basis_for,
    case_file_rows,
    case_file_start,
    load_table,
    longest,
)
from liuhen.records.choices import DocumentType
from liuhen.records.models import current_documents

# Documents whose presence means a decision was made (the case file's "outcome").
DECISION_DOCUMENTS = (DocumentType.PENALTY_DECISION, DocumentType.ENFORCEMENT_DECISION)


def periods_in_force() -> dict[str, Period]:
    """Each row's period: the table's default, or the bureau's latest audited change."""
    table = load_table()
    periods = {row.id: row.period for row in table.rows}
    seen = set()
    for change in RetentionChange.objects.order_by("-changed_at", "-id").only(
            "row_id", "period"):
        if change.row_id in periods and change.row_id not in seen:
            seen.add(change.row_id)
            periods[change.row_id] = Period.parse(change.period)
    return periods


def case_facts(case) -> CaseFacts:
    """What selects a case file's row: kind, whether decided, conditions, year filed."""
    decided = bool(case.decided_on) or any(
        doc.doc_type in DECISION_DOCUMENTS for doc in current_documents(case))
    conditions = {name for name in ("hearing_requested", "is_major_incident", "is_disputed")
                  if getattr(case, name)}
    if case.source in (CaseSource.COMPLAINT, CaseSource.REPORT) or case.complaint_received_on:
        conditions.add("complaint")
    if case.archived_at:
        filed_year = timezone.localtime(case.archived_at).year
    elif case.closed_on:
        filed_year = case.closed_on.year
    else:
        filed_year = None
    return CaseFacts(kind=case.kind, decided=decided, conditions=frozenset(conditions),
                     filed_year=filed_year)


def case_file_retention(case, *, periods: dict | None = None) -> Retention:
    """The case file's (卷宗) period by kind and outcome, from 1 January after filing."""
    periods = periods or periods_in_force()
    facts = case_facts(case)
    start = case_file_start(facts)
    rows = case_file_rows(load_table(), facts)
    return longest([basis_for(row, periods[row.id], start) for row in rows])


def _via_case(row: Row, period: Period, case, periods: dict) -> Basis:
    """A row whose period is "as the case file" (第十四条第二款) or counts from its filing."""
    file = case_file_retention(case, periods=periods)
    note = f"案件 {case.number}"
    if period.case_file:
        won = file.winner
        return Basis(row.id, row.title, row.source, won.period, won.start, won.until,
                     pending=won.pending, note=f"{note}（案卷：{won.title}）")
    return basis_for(row, period, file.winner.start, note=note)


def recording_retention(recording, *, periods: dict | None = None) -> Retention:
    """A recording's period: at least the patrol minimum from its capture (第十四条第一款),
    and as long as the file of every case it is active evidence in (第十四条第二款)."""
    periods = periods or periods_in_force()
    table = load_table()
    captured = timezone.localtime(recording.captured_start).date()
    bases = [basis_for(row, periods[row.id], captured)
             for row in table.group("recording") if row.applies == "every"]
    for link in recording.active_links():
        for row in table.group("recording"):
            if row.applies == "case_kind" and link.case.kind in row.kinds:
                bases.append(_via_case(row, periods[row.id], link.case, periods))
    if marks := longterm.marks_on_recording(recording):  # 第十五条
        note = "；".join(m.get_reason_display()[:4] + (m.case.number if m.case_id else "")
                        for m in marks)
        bases += [basis_for(row, periods[row.id], captured, note=note)
                  for row in table.group("recording") if row.applies == "long_term"]
    return longest(bases)


def document_retention(document, *, periods: dict | None = None) -> Retention:
    """A written record is kept with its case file (第十二条)."""
    periods = periods or periods_in_force()
    rows = load_table().group("document")
    return longest([_via_case(row, periods[row.id], document.case, periods) for row in rows])


def change_period(*, actor, row_id: str, period: str, reason: str) -> RetentionChange:
    """Change one default period of the table, with a reason; audited, never silent.

    Refused: a row the table marks unchangeable (第十四条第二款: evidence as long as its case
    file), a period shorter than the statutory minimum (第十四条第一款: 6 months), no reason.
    """
    require(actor, "retention.change", event=events.event_retention_change_refused)
    table = load_table()
    row = table.by_id.get(row_id)
    reason = (reason or "").strip()

    def refuse(message: str):
        record_denied(actor=actor, action=events.event_retention_change_refused,
                      reason=f"{row_id}: {message}")
        raise InvalidInput(message)

    if row is None:
        refuse("保存期限表中没有该条目")
    if not row.changeable:
        refuse(f"“{row.title}”的期限由法规确定，不能修改（{row.source}）")
    if not reason:
        refuse("修改保存期限须写明理由")
    try:
        new = Period.parse(period)
    except RetentionDataError as exc:
        refuse(str(exc))
    if new.case_file and row.group == "case_file":
        refuse("案卷的期限须写明年限或永久")
    if row.minimum and new.shorter_than(row.minimum):
        refuse(f"不得短于法定最低期限 {row.minimum.label}（{row.source}）")
    current = periods_in_force()[row.id]
    with transaction.atomic():
        change = RetentionChange.objects.create(row_id=row.id, previous=current.code,
                                                period=new.code, reason=reason,
                                                changed_by=actor)
        record(actor=actor, action=events.event_retention_changed, target=change,
               reason=reason, detail={"row": row.id, "from": current.code, "to": new.code})
    return change


def table_rows() -> list[dict]:
    """The table as shown on its page: each row with its default and the period in force."""
    periods = periods_in_force()
    return [{"row": row, "in_force": periods[row.id], "changed": periods[row.id] != row.period}
            for row in load_table().rows]
