"""Statutory deadlines of one case, computed from its own facts and records.

:func:`case_deadlines` lists every deadline that applies to a case with its source, the fact
that started it, its due date on the bureau's working-day calendar, its status and the record
that met it. :func:`refresh_case_deadlines` stores the open ones (not yet met, owed by the
bureau) in :class:`~liuhen.deadlines.models.CaseDeadlineEntry` whenever the case changes,
so the dashboard counts due-soon and overdue items with one query.

Where each deadline starts and what meets it
---------------------------------------------
* 投诉受理立案, 5 working days (《关于实施〈劳动保障监察条例〉若干规定》第十八条):
  from ``Case.complaint_received_on``; met by opening the case (``opened_on``).
* 案件调查, 60 working days, +30 with approval (《劳动保障监察条例》第十七条), penalty and
  inspection cases: from ``opened_on``; extended by an approved ``investigation_extension``;
  met by an approved ``investigation_end``, by the case leaving the investigation (a stage
  after 调查取证 in its stage log) or by closing the case.
* 作出行政处罚决定, 90 days (行政处罚法 第六十条), penalty cases: from ``opened_on``; met by
  ``decided_on`` (or the date of a 行政处罚决定书), or by closing the case without one.
* 送达行政处罚决定书, 7 working days (第六十一条, 第八十五条): from the decision; met by the
  first ``Service`` of a 行政处罚决定书, or the decision signed for on the spot.
* 当事人要求听证, 5 working days (第六十四条第一项) — the party's period, shown but never
  counted against the officers: from the service of the 违法行为通知书/听证告知书; met when
  ``Case.hearing_requested`` is set.
* 听证通知, 7 working days before the hearing (第六十四条第二项): the hearing date is
  ``extra["hearing_date"]`` of a 听证告知书 (or any document), or the date of the 听证笔录;
  met by serving (or issuing) that notice.
* 先行登记保存 decision, 7 working days (第五十六条): from an approved
  ``evidence_preservation``; met by a document marked ``extra["deadline_met"]``.
* 查封、扣押, 30 days, +30 (行政强制法 第二十五条); 行政复议 answer 10 working days;
  行政诉讼 answer 15 days: started by a document marked ``extra["deadline_start"] = <code>``
  (dated the day of the seizure / the day the copy was received), met by one marked
  ``extra["deadline_met"] = <code>``; a seizure is extended by an approved
  ``seizure_extension``.

* 违法行为追责时效, two years (劳动保障监察条例第二十条; 行政处罚法第三十六条): from a
  ``violation_ended`` fact; met when the bureau learnt of it (complaint, or opening the case).
* 缴纳罚款, 15 days (行政处罚法第六十七条第三款), the party's: from the service of the
  decision; met by a ``fine_paid`` fact; when late, the 3 % daily surcharge (第七十二条第一项,
  at most the fine) is stated.
* 申请人民法院强制执行, three months (行政强制法第五十三条): from the end of the six months
  to sue (行政诉讼法第四十六条) after the decision was served, or from an
  ``appeal_periods_ended`` fact; met by a 强制执行申请书, an ``enforcement_applied`` or a
  ``fine_paid`` fact.
* 催告期, ten working days (行政强制法第三十五条、第五十四条、第六十九条), a waiting period:
  from the service of the 催告书; the application or enforcement decision must come after it
  (``premature`` otherwise).

Where a special rule displaces a general one, the governing deadline carries the displaced one
(``displaced``: its citation and due date) and the words that say why
(:attr:`~liuhen.deadlines.statutory.DeadlineRule.displacement`). Acts recorded out of the law's
order (a decision before the party's window closed) are :mod:`liuhen.deadlines.procedure`'s.

Both markers accept a code or a list of codes (see :data:`liuhen.deadlines.statutory.RULES`).
"""

from __future__ import annotations

import datetime as _dt
import logging
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from liuhen.cases import events as case_events
from liuhen.cases.choices import NO_FINE_OUTCOMES, Stage
from liuhen.cases.models import Case
from liuhen.core.errors import InvalidInput
from liuhen.deadlines.calendar import CalendarRangeError, WorkingCalendar
from liuhen.deadlines.facts import DEADLINE_FACTS, Facts, Item, deadline_items, prefetch
from liuhen.deadlines.holidays import current_calendar
from liuhen.deadlines.models import CaseDeadlineEntry
from liuhen.deadlines.procedure import FLAG_DEADLINES, procedure_flags
from liuhen.deadlines.statutory import (
    Deadline,
    Direction,
    compute_deadline,
    displaced_rule,
    late_payment_surcharge,
    status,
)
from liuhen.records.choices import DocumentType
from liuhen.records.services import add_document

logger = logging.getLogger(__name__)

__all__ = [
    "DEADLINE_FACTS",
    "STATUS_LABELS",
    "CaseDeadline",
    "case_deadline_report",
    "case_deadlines",
    "record_deadline_fact",
    "refresh_case_deadlines",
    "refresh_open_deadlines",
    "warn_from",
]

STATUS_LABELS = {
    "ok": "期限内",
    "due_soon": "即将到期",
    "overdue": "已逾期",
    "met": "已履行",
    "unknown": "无法计算",
}
#: The party's own period (听证申请) has other words: its lapse is no fault of the officers.
PARTY_STATUS_LABELS = {
    **STATUS_LABELS,
    "overdue": "申请期已过",
    "met": "已申请",
    "due_soon": "申请期将满",
    "ok": "申请期内",
}
#: A waiting period (催告期) is not a time limit: the act must come after it.
WAIT_STATUS_LABELS = {
    **STATUS_LABELS,
    "waiting": "期间未满",
    "ok": "期满，可以实施",
    "met": "期满后实施",
    "premature": "期满前实施（程序违法）",
}
#: Per deadline where the general words do not fit.
STATUS_LABELS_BY_CODE = {
    "fine_payment": {
        **STATUS_LABELS,
        "ok": "缴款期内",
        "due_soon": "缴款期将满",
        "overdue": "逾期未缴（加处罚款）",
        "met": "已缴纳",
    },
    "limitation": {
        **STATUS_LABELS,
        "met": "时效内发现",
        "overdue": "超过二年追责时效（不再查处）",
    },
}

_ORGAN_OBLIGOR = "劳动保障行政部门"

DEADLINE_KIND_LABELS = {
    "organ_duty": "机关应在期限内履行",
    "party_period": "当事人的期间",
    "waiting_period": "等待期（期满后方可实施）",
}


def warn_days() -> int:
    """Working days before the due date from which a deadline shows yellow."""
    return int(getattr(settings, "DEADLINE_WARN_WORKING_DAYS", 3))


@dataclass(frozen=True)
class CaseDeadline:
    """One statutory deadline of one case, as the case page and the API show it."""

    code: str
    name: str
    citation: str
    description: str  # 如“自立案之日起60个工作日内”
    obligor: str
    start: _dt.date | None
    started_by: str  # the fact that started it
    due: _dt.date | None
    status: str  # ok / due_soon / overdue / met / unknown
    met_on: _dt.date | None = None
    met_by: str = ""  # the record that met it
    extended: bool = False
    extended_by: str = ""  # the approval that extended it
    provisional: bool = False  # counted on a provisional (not yet published) calendar year
    #: The provisional years the period runs through (e.g. (2027,)): its due date may still
    #: move when the State Council's notice for that year is loaded.
    provisional_years: tuple = ()
    rolled_forward: bool = False  # the last day fell on a rest day and moved to the next
    days_left: int | None = None  # calendar days from today to due (negative when overdue)
    working_days_left: int | None = None
    note: str = ""
    error: str = ""
    met_ids: dict = field(default_factory=dict)  # {"document": id} / {"service": id} / …
    waiting_period: bool = False  # 催告期: the act must come after it (statutory.NOT_BEFORE)
    #: The general rule this special one displaces: {"code", "name", "citation", "due",
    #: "text"} (e.g. 行政处罚法第六十条's ninety days under 劳动保障监察条例第十七条).
    displaced: dict | None = None
    #: Said of this case, e.g. the surcharge accrued on a late fine (第七十二条).
    case_note: str = ""
    #: How the period is counted: working_days / calendar_days / months (statutory.Counting).
    counting: str = ""
    #: Acts out of the law's order that concern this deadline ({"code", "text", "citation"},
    #: deadlines.procedure); filled by :func:`case_deadline_report`.
    flags: tuple = ()

    @property
    def owed_by_party(self) -> bool:
        return self.obligor != _ORGAN_OBLIGOR

    @property
    def kind(self) -> str:
        """organ_duty (the bureau must act in time), party_period (the party's period) or
        waiting_period (the bureau may act only after it, 行政强制法第五十四条)."""
        if self.waiting_period:
            return "waiting_period"
        return "party_period" if self.owed_by_party else "organ_duty"

    @property
    def kind_label(self) -> str:
        return DEADLINE_KIND_LABELS[self.kind]

    @property
    def status_label(self) -> str:
        if self.code in STATUS_LABELS_BY_CODE:
            return STATUS_LABELS_BY_CODE[self.code][self.status]
        if self.waiting_period:
            return WAIT_STATUS_LABELS[self.status]
        return (PARTY_STATUS_LABELS if self.owed_by_party else STATUS_LABELS)[self.status]

    @property
    def is_open(self) -> bool:
        """Still to be done by the bureau (what the dashboard counts)."""
        return (
            not self.owed_by_party
            and not self.waiting_period
            and self.met_on is None
            and self.status != "met"
            and self.due is not None
        )

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "citation": self.citation,
            "description": self.description,
            "obligor": self.obligor,
            "start": self.start,
            "started_by": self.started_by,
            "due": self.due,
            "status": self.status,
            "status_label": self.status_label,
            "met_on": self.met_on,
            "met_by": self.met_by,
            "met_ids": self.met_ids,
            "extended": self.extended,
            "extended_by": self.extended_by,
            "provisional": self.provisional,
            "provisional_years": list(self.provisional_years),
            "rolled_forward": self.rolled_forward,
            "days_left": self.days_left,
            "working_days_left": self.working_days_left,
            "note": self.note,
            "error": self.error,
            "waiting_period": self.waiting_period,
            "displaced": self.displaced,
            "case_note": self.case_note,
            "kind": self.kind,
            "kind_label": self.kind_label,
            "counting": self.counting,
            "flags": list(self.flags),
        }


def _evaluate(item: Item, today: _dt.date, calendar: WorkingCalendar) -> CaseDeadline:
    rule = item.rule
    base = dict(
        code=rule.code,
        name=rule.name,
        citation=rule.citation,
        description=rule.describe(extended=item.extended),
        obligor=rule.obligor,
        start=item.start,
        started_by=item.started_by,
        extended=item.extended,
        extended_by=item.extended_by,
        met_on=item.met_on,
        met_by=item.met_by,
        met_ids=item.met_ids,
        note=rule.note,
        waiting_period=rule.direction is Direction.NOT_BEFORE,
        case_note=item.note,
        displaced=_displaced(item, calendar),
        counting=rule.counting.value,
    )
    try:
        deadline: Deadline = compute_deadline(
            rule, item.start, extended=item.extended, calendar=calendar
        )
    except CalendarRangeError as exc:
        return CaseDeadline(due=None, status="unknown", error=calendar_end_message(exc), **base)
    if item.met_known and item.met_on is None:
        state = "met"
    else:
        try:
            state = status(
                deadline, today, warn_days=warn_days(), met_on=item.met_on, calendar=calendar
            )
        except CalendarRangeError:
            state = status(deadline, today, warn_days=warn_days(), met_on=item.met_on)
    if rule.code == "fine_payment" and state == "overdue":
        days, percent = late_payment_surcharge(deadline.due, item.met_on or today)
        base["case_note"] = (
            f"逾期{days}日，依行政处罚法第七十二条第一项每日按罚款数额的3%加处罚款，"
            f"{'已' if item.met_on else '至今'}累计罚款数额的{percent}%"
            f"{'（已达上限，不得超出罚款数额）' if percent >= 100 else ''}"
        )
    days_left = working_left = None
    if state not in ("met",) and item.met_on is None:
        days_left = (deadline.due - today).days
        try:
            working_left = calendar.working_days_between(today, deadline.due)
        except CalendarRangeError:
            working_left = None
    lo, hi = sorted((deadline.start, deadline.due))
    return CaseDeadline(
        due=deadline.due,
        status=state,
        provisional=deadline.provisional,
        provisional_years=tuple(y for y in calendar.provisional_years if lo.year <= y <= hi.year),
        rolled_forward=deadline.rolled_forward,
        days_left=days_left,
        working_days_left=working_left,
        **base,
    )


def calendar_end_message(exc: CalendarRangeError) -> str:
    """Why a deadline cannot be computed, and what to do: the calendar has no such year."""
    years = exc.years
    if years and exc.date.year > years[-1]:
        where = f"工作日历只载入至 {years[-1]} 年"
    elif years and exc.date.year < years[0]:
        where = f"工作日历自 {years[0]} 年起载入"
    elif years:
        where = f"工作日历缺少 {exc.date.year} 年"
    else:
        where = "工作日历未载入任何年度"
    return (
        f"{where}，{exc.date.year} 年的节假日安排尚未载入，该期限无法计算。"
        f"请系统管理员按国务院办公厅关于 {exc.date.year} 年部分节假日安排的通知载入该年度"
        "（系统管理 → 节假日安排（年度），或 liuhen holidays --load 文件）。"
    )


def calendar_coverage(calendar: WorkingCalendar) -> str:
    """The years the calendar covers, provisional ones named, e.g. for ``liuhen deadlines``."""
    if not calendar.years:
        return "工作日历未载入任何年度：按工作日计算的期限均无法计算。"
    first, last = calendar.years[0], calendar.years[-1]
    text = f"工作日历载入 {first}–{last} 年，{last}-12-31 之后届满的期限无法计算"
    if calendar.provisional_years:
        text += "；" + "、".join(str(y) for y in calendar.provisional_years) + " 年为暂定（须核对）"
    return text + "。"


def uncomputable_deadlines(*, unit=None, batch_size: int = 500) -> list[tuple[Case, CaseDeadline]]:
    """Deadlines of cases not archived that cannot be computed because the calendar ends."""
    calendar = current_calendar()
    cases = Case.objects.exclude(stage=Stage.ARCHIVING).order_by("pk")
    if unit is not None:
        cases = cases.filter(unit__path__startswith=unit.path)
    ids = list(cases.values_list("pk", flat=True))
    result = []
    for i in range(0, len(ids), batch_size):
        for case in prefetch(Case.objects.filter(pk__in=ids[i : i + batch_size]).order_by("pk")):
            for d in case_deadlines(case, calendar=calendar):
                if d.status == "unknown" and d.met_on is None:
                    result.append((case, d))
    return result


def _displaced(item: Item, calendar: WorkingCalendar) -> dict | None:
    """The general rule displaced by ``item``'s special one, with the day it would have given
    (shown so a reader sees which period was not applied, and why)."""
    general = displaced_rule(item.rule)
    if general is None:
        return None
    try:
        due = compute_deadline(general, item.start, calendar=calendar).due
    except CalendarRangeError:
        due = None
    return {
        "code": general.code,
        "name": general.name,
        "citation": general.citation,
        "description": general.describe(),
        "due": due,
        "text": item.rule.displacement,
    }


def case_deadlines(
    case, today: _dt.date | None = None, *, calendar: WorkingCalendar | None = None
) -> list[CaseDeadline]:
    """Every statutory deadline that applies to ``case``, in due-date order.

    :param today: the day statuses are judged on (default: today, local time).
    :param calendar: default: the bureau's calendar from the admin (:func:`current_calendar`).
    """
    today = today or timezone.localdate()
    calendar = calendar or current_calendar()
    result = [_evaluate(item, today, calendar) for item in deadline_items(Facts(case))]
    result.sort(key=lambda d: (d.due or _dt.date.max, d.code))
    return result


def case_deadline_report(
    case, today: _dt.date | None = None, *, calendar: WorkingCalendar | None = None
) -> tuple[list[CaseDeadline], list[dict]]:
    """The case's deadlines, each with the procedure flags that concern it, and all its flags
    (computed now from its records, deadlines.procedure), for the API and the case page."""
    calendar = calendar or current_calendar()
    deadlines = case_deadlines(case, today, calendar=calendar)
    flags = procedure_flags(Facts(case), calendar)
    by_code: dict[str, list[dict]] = {}
    for flag in flags:
        for code in FLAG_DEADLINES.get(flag["code"], ()):
            by_code.setdefault(code, []).append(flag)
    return [replace(d, flags=tuple(by_code.get(d.code, ()))) for d in deadlines], flags


# --------------------------------------------------------------------------- stored entries
def warn_from(due: _dt.date, calendar: WorkingCalendar, days: int | None = None) -> _dt.date:
    """The first day on which :func:`liuhen.deadlines.statutory.status` says ``due_soon``.

    ``status`` counts the working days in ``(today, due]``; the earliest ``today`` with at
    most ``days`` of them is found by walking back from ``due``.
    """
    days = warn_days() if days is None else days
    day = due
    while calendar.working_days_between(day - _dt.timedelta(days=1), due) <= days:
        day -= _dt.timedelta(days=1)
    return day


def _open_entries(case, calendar: WorkingCalendar) -> list:
    if case.stage == Stage.ARCHIVING:
        return []
    rows = []
    for d in case_deadlines(case, calendar=calendar):
        if not d.is_open:
            continue
        try:
            warn = warn_from(d.due, calendar)
        except CalendarRangeError:
            warn = d.due - _dt.timedelta(days=warn_days())
        rows.append(
            CaseDeadlineEntry(
                case_id=case.pk,
                code=d.code,
                name=d.name,
                citation=d.citation[:200],
                start=d.start,
                due=d.due,
                warn_from=warn,
                extended=d.extended,
                provisional=d.provisional,
            )
        )
    return rows


def refresh_case_deadlines(*, case, calendar: WorkingCalendar | None = None) -> int:
    """Rewrite the stored open deadlines of ``case``; returns how many are open.

    Called from ``case_changed`` inside the change's transaction, so the stored rows always
    match the committed facts. An archived case has none.
    """

    rows = _open_entries(case, calendar or current_calendar())
    with transaction.atomic():
        CaseDeadlineEntry.objects.filter(case_id=case.pk).delete()
        CaseDeadlineEntry.objects.bulk_create(rows)
    return len(rows)


def store_procedure_flags(*, case, calendar: WorkingCalendar | None = None) -> bool:
    """Store on ``case`` what its records show out of the law's order
    (:func:`liuhen.deadlines.procedure.procedure_flags`); True when that changed."""

    flags = procedure_flags(Facts(case), calendar or current_calendar())
    if flags == (case.procedure_flags or []):
        return False
    Case.objects.filter(pk=case.pk).update(procedure_flags=flags)
    case.procedure_flags = flags
    return True


def refresh_open_deadlines(*, batch_size: int = 500) -> int:
    """Re-compute the stored deadlines of every case not archived (after a calendar edit,
    or once after upgrading a database that has cases); returns the number of cases."""

    calendar = current_calendar()
    ids = list(
        Case.objects.exclude(stage=Stage.ARCHIVING).order_by("pk").values_list("pk", flat=True)
    )
    for i in range(0, len(ids), batch_size):
        chunk = ids[i : i + batch_size]
        cases = prefetch(Case.objects.filter(pk__in=chunk).order_by("pk"))
        cases = list(cases)
        rows = [row for case in cases for row in _open_entries(case, calendar)]
        with transaction.atomic():
            for case in cases:
                store_procedure_flags(case=case, calendar=calendar)
            CaseDeadlineEntry.objects.filter(case_id__in=chunk).delete()
            CaseDeadlineEntry.objects.bulk_create(rows, batch_size=1000)
    # Archived cases keep none (normally already empty; this also heals an interrupted run).
    CaseDeadlineEntry.objects.filter(case__stage=Stage.ARCHIVING).delete()
    return len(ids)


def case_changed(*, case, actor=None) -> None:
    """Store the case's open deadlines and procedure flags after any fact of it changed: the
    handler of the ``cases.events.case_changed`` domain event (``DeadlinesConfig.ready``).

    When the flags changed, the event is published once more so the completeness rules (which
    ran before this handler, INSTALLED_APPS order) read them; the second pass finds them
    unchanged and stops."""
    calendar = current_calendar()
    refresh_case_deadlines(case=case, calendar=calendar)
    if store_procedure_flags(case=case, calendar=calendar):
        case_events.case_changed.publish(case=case, actor=actor)


# Facts that happen before their case began by nature, and why (recorded with the document).
EARLY_FACTS = {
    "violation_ended": "违法行为发生在立案之前，追责时效自其发生（终了）之日起算（行政处罚法第三十六条）",
}


def record_deadline_fact(
    *, actor, case, kind: str, on: _dt.date, hearing_date: _dt.date | None = None, note: str = ""
):
    """Record a fact that starts or meets a deadline (e.g. 收到起诉状副本 on ``on``).

    Stored through ``add_document`` (permission ``document.create``, audited, re-evaluates
    the case); returns the new ``Document``.
    """

    if kind not in DEADLINE_FACTS:
        raise InvalidInput("未知的期限事实", detail={"field": "kind"})
    if not isinstance(on, _dt.date) or on > timezone.localdate():
        raise InvalidInput("事实发生日期应为今天或以前的日期", detail={"field": "on"})
    if kind == "fine_paid" and case.penalty_outcome in NO_FINE_OUTCOMES:
        raise InvalidInput(
            f"该案处罚决定内容为「{case.get_penalty_outcome_display()}」，没有应缴纳的罚款"
            "（行政处罚法第六十七条）",
            detail={"field": "kind"},
        )
    label, extra = DEADLINE_FACTS[kind]
    extra = {**extra, "deadline_fact": kind}
    if kind == "hearing_notified":
        if hearing_date is None or hearing_date < on:
            raise InvalidInput(
                "请填写举行听证的日期（不早于通知日期）", detail={"field": "hearing_date"}
            )
        extra["hearing_date"] = hearing_date.isoformat()
        label = f"通知当事人举行听证（听证日期{hearing_date:%Y-%m-%d}）"
    return add_document(
        actor=actor,
        case=case,
        doc_type=DocumentType.OTHER,
        date=on,
        extra=extra,
        note=f"{label}。{note.strip()}".rstrip("。") + "。",
        # The violation comes before its case by nature (the two years of 第三十六条 run from
        # it); any other record dated before the case began is refused (issue 13 item 3).
        early_date_reason=EARLY_FACTS.get(kind, ""),
    )
