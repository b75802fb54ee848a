"""Dates that cannot make the record lie (issue 13 item 3): a case's dates in their lawful
order and not in the future, and a date of a patrol or a written record not in the future and
not before the case began. Each refusal names the date it conflicts with, and the field.

The order of a case (第二条: the stages of the act): 收到投诉/举报 ≤ 立案 ≤ 决定 ≤ 结案, none after
today; a closing date only once the case has been concluded (案卷制作 or later), so a closing
date cannot meet a deadline (作出行政处罚决定, 案件调查) of a case still under investigation.
"""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from liuhen.cases import stages
from liuhen.cases.choices import Stage
from liuhen.core.errors import InvalidInput

# (field, its name, the stage the case must have reached for the date to exist)
CASE_DATES = (
    ("complaint_received_on", "收到投诉/举报日期", None),
    ("opened_on", "立案日期", None),
    # A decision date is checked against the others, not the stage: the decision document
    # itself (行政处罚决定书) is what meets its deadline, and its facts may be entered first.
    ("decided_on", "决定日期", None),
    # 结案: from the closing step (案卷制作 for the kinds without one).
    ("closed_on", "结案日期", Stage.CLOSING),
)


def _refuse(field: str, message: str):
    raise InvalidInput(message, detail={"field": field})


def _needed(kind: str, needed: str) -> str:
    """The stage of ``kind`` a date needs: ``needed`` itself, or for a kind without it the
    first of its stages that comes after it (an inspection has no decision: its case file)."""
    every = list(Stage.values)
    later = [s for s in stages.path(kind) if every.index(s) >= every.index(needed)]
    return later[0] if later else stages.path(kind)[-1]


def _reached(kind: str, stage: str, needed: str) -> bool:
    order = stages.path(kind)
    return stage in order and order.index(stage) >= order.index(needed)


def check_case_dates(*, kind: str, stage: str, values: dict, today: date | None = None) -> None:
    """Refuse (InvalidInput naming the field and the conflicting date) dates out of order."""
    today = today or timezone.localdate()
    present = [(field, label, needed, values.get(field)) for field, label, needed in CASE_DATES]
    for field, label, needed, value in present:
        if value is None:
            continue
        if value > today:
            _refuse(field, f"{label}（{value:%Y-%m-%d}）不能晚于今天（{today:%Y-%m-%d}）")
        needed = _needed(kind, needed) if needed is not None else None
        if needed is not None and not _reached(kind, stage, needed):
            _refuse(field, f"案件尚处于“{Stage(stage).label}”环节，还不能填写{label}"
                           f"（{value:%Y-%m-%d}）：须进入“{Stage(needed).label}”环节后")
    earlier = None
    for field, label, _stage, value in present:
        if value is None:
            continue
        if earlier is not None and value < earlier[2]:
            _refuse(field, f"{label}（{value:%Y-%m-%d}）不能早于{earlier[1]}（{earlier[2]:%Y-%m-%d}）")
        earlier = (field, label, value)


def case_began(case) -> date:
    """The day ``case`` began: its complaint or its opening, whichever came first."""
    return min(d for d in (case.complaint_received_on, case.opened_on) if d is not None)


def check_event_date(*, field: str, label: str, value: date | None, case=None,
                     today: date | None = None) -> None:
    """A patrol's or a written record's date: not after today, not before its case began (the
    complaint or the opening, whichever came first)."""
    if value is None:
        return
    today = today or timezone.localdate()
    if value > today:
        _refuse(field, f"{label}（{value:%Y-%m-%d}）不能晚于今天（{today:%Y-%m-%d}）")
    if case is not None:
        began = case_began(case)
        began_label = "收到投诉/举报日期" if began != case.opened_on else "立案日期"
        if value < began:
            _refuse(field, f"{label}（{value:%Y-%m-%d}）不能早于本案{began_label}（{began:%Y-%m-%d}）")
