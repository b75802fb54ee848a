"""Acts recorded out of the law's order: a decision before the party's window closed.

行政处罚法第四十四条、第四十五条、第六十二条: before a penalty is decided the party is told of it
and of their rights, and heard; a decision made without that is not valid. 第六十四条第一项: the
party may ask for a hearing within five (working, 第八十五条) days of being told, so a decision
recorded on or before the window's last day was made while the party could still speak or ask for
a hearing; 第六十三条、第六十五条: where a hearing was asked for, the decision follows it.
行政强制法第三十五条至第三十七条、第五十四条: enforcement only after the 催告 and its period
(ten working days, 第六十九条) with the party heard.

:func:`procedure_flags` lists what a case's records show out of order. The deadlines app stores
the list on the case (``Case.procedure_flags``), so the case page and the completeness rules
(condition ``procedure_flagged``) both show it; a written waiver by the party (a 陈述申辩笔录 with
``extra["statement_waived"]``) clears the window's flag, since the party gave up the right.
"""

from __future__ import annotations

import datetime as _dt

from liuhen.cases.choices import CaseKind
from liuhen.deadlines.calendar import CalendarRangeError, WorkingCalendar
from liuhen.deadlines.facts import Facts, day_of, told
from liuhen.deadlines.statutory import compute_deadline
from liuhen.records.choices import DocumentType

__all__ = ["FLAG_DEADLINES", "decision_day", "procedure_flags"]

#: The deadlines each flag concerns (a flag is shown beside them, e.g. in the API): a decision
#: before the party's window closed concerns the decision and the party's hearing request.
FLAG_DEADLINES: dict[str, tuple[str, ...]] = {
    "decision_without_notice": ("penalty_decision", "hearing_request"),
    "decision_before_window": ("penalty_decision", "hearing_request"),
    "decision_before_hearing": ("penalty_decision", "hearing_notice"),
    "enforcement_without_reminder": ("reminder_period", "court_enforcement"),
    "enforcement_before_reminder_period": ("reminder_period", "court_enforcement"),
}


def decision_day(facts: Facts) -> _dt.date | None:
    """The day the penalty was decided: ``Case.decided_on`` or the 行政处罚决定书's date."""
    if facts.case.decided_on:
        return facts.case.decided_on
    dated = [d.date for d in facts.docs(DocumentType.PENALTY_DECISION) if d.date]
    return min(dated) if dated else None


def _flag(code: str, text: str, citation: str) -> dict:
    return {"code": code, "text": text, "citation": citation}


def _waived(facts: Facts) -> bool:
    return any(
        "statement_waived" in (d.extra or {}) for d in facts.docs(DocumentType.STATEMENT_RECORD)
    )


def _penalty_flags(facts: Facts, calendar: WorkingCalendar) -> list[dict]:
    decided = decision_day(facts)
    if decided is None:
        return []
    flags = []
    told_on, _ = told(facts)
    if told_on is None or told_on > decided:
        flags.append(
            _flag(
                "decision_without_notice",
                f"处罚决定（{decided:%Y-%m-%d}）作出前未告知拟作出的处罚及陈述、申辩、听证权利",
                "行政处罚法第四十四条、第六十二条",
            )
        )
    else:
        try:
            window = compute_deadline("hearing_request", told_on, calendar=calendar).due
        except CalendarRangeError:
            window = None
        heard = [d.date for d in facts.docs(DocumentType.HEARING_RECORD) if d.date]
        if window is not None and decided <= window and not heard and not _waived(facts):
            flags.append(
                _flag(
                    "decision_before_window",
                    f"处罚决定（{decided:%Y-%m-%d}）在当事人陈述申辩、申请听证期届满"
                    f"（{window:%Y-%m-%d}）前作出",
                    "行政处罚法第四十五条、第六十二条、第六十四条第一项",
                )
            )
    if facts.case.hearing_requested:
        heard_before = [
            d.date for d in facts.docs(DocumentType.HEARING_RECORD) if d.date and d.date <= decided
        ]
        if not heard_before:
            flags.append(
                _flag(
                    "decision_before_hearing",
                    f"当事人申请听证，处罚决定（{decided:%Y-%m-%d}）在听证前作出",
                    "行政处罚法第六十三条、第六十四条、第六十五条",
                )
            )
    return flags


def _enforcement_flags(facts: Facts, calendar: WorkingCalendar) -> list[dict]:
    acts = [
        d
        for d in facts.docs(DocumentType.ENFORCEMENT_DECISION, DocumentType.ENFORCEMENT_APPLICATION)
        if d.date
    ]
    if not acts:
        return []
    first = min(acts, key=lambda d: d.date)
    served = facts.served(DocumentType.REMINDER_NOTICE)
    signed = [
        d.date
        for d in facts.docs(DocumentType.REMINDER_NOTICE)
        if d.date and d.signature == "signed"
    ]
    reminded = min(
        [day_of(s.served_at) for s in served] + signed,
        default=None,
    )
    label = first.get_doc_type_display()
    if reminded is None or reminded > first.date:
        return [
            _flag(
                "enforcement_without_reminder",
                f"{label}（{first.date:%Y-%m-%d}）前未催告当事人履行义务",
                "行政强制法第三十五条、第三十七条、第五十四条",
            )
        ]
    try:
        period = compute_deadline("reminder_period", reminded, calendar=calendar).due
    except CalendarRangeError:
        return []
    if first.date <= period:
        return [
            _flag(
                "enforcement_before_reminder_period",
                f"{label}（{first.date:%Y-%m-%d}）在催告期届满（{period:%Y-%m-%d}）前作出",
                "行政强制法第三十五条、第三十七条、第五十四条、第六十九条",
            )
        ]
    return []


def procedure_flags(facts: Facts, calendar: WorkingCalendar) -> list[dict]:
    """What the case's records show out of the law's order, each ``{code, text, citation}``."""
    flags = []
    if facts.case.kind == CaseKind.PENALTY:
        flags += _penalty_flags(facts, calendar)
    if facts.case.kind in (CaseKind.PENALTY, CaseKind.COERCION):
        flags += _enforcement_flags(facts, calendar)
    return flags
