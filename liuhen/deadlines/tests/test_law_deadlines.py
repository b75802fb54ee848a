"""Issue 8 item 3: the deadlines the law gives that were not computed, each with its citation, on
dates that cross weekends, holidays and year ends (the shipped calendar: 2025 National Day
10月1日–8日 off, 10月11日 worked; 2026 元旦 1月1日–3日 off, 1月4日 (Sunday) worked; 2026 Spring
Festival 2月15日–23日 off, 2月28日 (Saturday) worked), and the decisions recorded before the
party's window closed (行政处罚法第四十五条、第六十二条至第六十五条; 行政强制法第三十五至三十七条、
第五十四条)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from liuhen.cases import services as case_services
from liuhen.cases.choices import CaseKind, Stage
from liuhen.cases.models import Case
from liuhen.deadlines.calendar import default_calendar
from liuhen.deadlines.services import case_deadlines, record_deadline_fact
from liuhen.deadlines.statutory import (
    add_months,
    compute_deadline,
    get_rule,
    late_payment_surcharge,
    status,
)
from liuhen.records import services as rs
from liuhen.records.choices import DocumentType, ServiceMethod
from liuhen.rules.tests.helpers import doc, penalty_case, statuses, walk

D = dt.date


@pytest.mark.parametrize(
    ("code", "start", "due", "rolled", "citation"),
    [
        # 15 days from service: 2025-09-20 (Saturday) + 15 = 10月5日, National Day → 10月9日.
        ("fine_payment", D(2025, 9, 20), D(2025, 10, 9), True, "第六十七条第三款"),
        # Across the year end: 2025-12-17 + 15 = 2026-01-01 (元旦) → 1月4日, the Sunday worked.
        ("fine_payment", D(2025, 12, 17), D(2026, 1, 4), True, "第六十七条第三款"),
        # 10 working days from the 催告书 (第六十九条): 2025-12-24 → 12月25、26、29、30、31日,
        # 2026年1月4日 (Sunday worked), 5、6、7、8日.
        ("reminder_period", D(2025, 12, 24), D(2026, 1, 8), False, "第五十四条"),
        # Three months: 2025-07-05 → 10月5日 (National Day) → 10月9日.
        ("court_enforcement", D(2025, 7, 5), D(2025, 10, 9), True, "行政强制法》第五十三条"),
        # 11月30日 + 3 months: February has no 30th → 2026-02-28, a Saturday worked: not moved.
        ("court_enforcement", D(2025, 11, 30), D(2026, 2, 28), False, "第五十三条"),
        # Two years from 2024-02-29 → 2026-02-28; a limitation is not moved to a working day.
        ("limitation", D(2024, 2, 29), D(2026, 2, 28), False, "劳动保障监察条例》第二十条"),
        ("limitation", D(2024, 12, 31), D(2026, 12, 31), False, "行政处罚法》第三十六条"),
        # 第十七条 governs the decision: 60 working days from 2025-12-01 cross 元旦 and the
        # Spring Festival → 2026-03-02 (counted in the test below).
        ("penalty_decision", D(2025, 12, 1), D(2026, 3, 2), False, "劳动保障监察条例》第十七条"),
        # ... the displaced general rule: 90 days → 2026-03-01, a Sunday → 3月2日.
        ("penalty_decision_general", D(2025, 12, 1), D(2026, 3, 2), True, "行政处罚法》第六十条"),
    ],
)
def test_deadline_table(code, start, due, rolled, citation):
    d = compute_deadline(code, start, calendar=default_calendar())
    assert d.due == due
    assert d.rolled_forward == rolled
    assert citation in get_rule(code).citation


def test_sixty_working_days_across_spring_festival_2026():
    """Counted by hand from the State Council's notices: December 2025 after the 1st (a Monday)
    has 22 working days; January 2026 has 21 (1月1日–3日 off, 4日 Sunday worked) → 43; February
    2–6, 9–13 → 53, 14日 Saturday worked → 54, 15日–23日 off, 24–27日 → 58, 28日 Saturday worked
    → 59; Monday 3月2日 is the 60th."""
    cal = default_calendar()
    assert cal.add_working_days(D(2025, 12, 1), 43) == D(2026, 1, 30)
    assert cal.add_working_days(D(2025, 12, 1), 54) == D(2026, 2, 14)
    assert cal.add_working_days(D(2025, 12, 1), 55) == D(2026, 2, 24)
    assert cal.add_working_days(D(2025, 12, 1), 59) == D(2026, 2, 28)
    assert cal.add_working_days(D(2025, 12, 1), 60) == D(2026, 3, 2)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (D(2025, 8, 31), 6, D(2026, 2, 28)),
        (D(2023, 8, 31), 6, D(2024, 2, 29)),
        (D(2025, 1, 31), 1, D(2025, 2, 28)),
        (D(2025, 12, 15), 3, D(2026, 3, 15)),
        (D(2025, 10, 31), -1, D(2025, 9, 30)),
    ],
)
def test_add_months(day, months, expected):
    assert add_months(day, months) == expected


@pytest.mark.parametrize(
    ("paid", "days", "percent"),
    [
        (D(2025, 10, 9), 0, 0),  # paid on the last day: no surcharge
        (D(2025, 10, 10), 1, 3),
        (D(2025, 11, 11), 33, 99),
        (D(2025, 11, 12), 34, 100),  # 102 % capped: never more than the fine (第七十二条第一项)
        (D(2026, 6, 1), 235, 100),
    ],
)
def test_late_payment_surcharge(paid, days, percent):
    assert late_payment_surcharge(D(2025, 10, 9), paid) == (days, percent)


@pytest.mark.parametrize(
    ("today", "acted_on", "expected"),
    [
        (D(2026, 1, 7), None, "waiting"),
        (D(2026, 1, 8), None, "waiting"),  # the last day of the period: still waiting
        (D(2026, 1, 9), None, "ok"),
        (D(2026, 1, 20), D(2026, 1, 8), "premature"),  # 第五十四条: “送达十日后”
        (D(2026, 1, 20), D(2026, 1, 9), "met"),
    ],
)
def test_reminder_period_is_a_waiting_period(today, acted_on, expected):
    d = compute_deadline("reminder_period", D(2025, 12, 24), calendar=default_calendar())
    assert status(d, today, met_on=acted_on) == expected


# --- on cases -----------------------------------------------------------------------------

pytestmark_db = pytest.mark.django_db


@pytest.fixture
def qualified_since_2020(people):
    from liuhen.org.models import Officer

    Officer.objects.update(qualification_valid_from=D(2020, 1, 1))


def by_code(case, today):
    return {d.code: d for d in case_deadlines(case, today=today)}


def serve(case, people, document, day):
    return rs.record_service(
        actor=people["officer_a"].user,
        case=case,
        document=document,
        method=ServiceMethod.DIRECT,
        served_at=timezone.make_aware(dt.datetime.combine(day, dt.time(10))),
        recipient="某公司",
    )


@pytest.mark.django_db
def test_fine_payment_surcharge_and_court_enforcement(people, qualified_since_2020):
    case = penalty_case(people, opened_on=D(2025, 6, 2))
    decision = doc(case, people, DocumentType.PENALTY_DECISION, date=D(2025, 9, 19))
    serve(case, people, decision, D(2025, 9, 20))
    ds = by_code(case, D(2025, 9, 22))
    pay = ds["fine_payment"]
    assert pay.due == D(2025, 10, 9) and pay.owed_by_party and pay.status_label == "缴款期内"
    court = ds["court_enforcement"]
    # Six months to sue (行政诉讼法第四十六条) end 2026-03-20; three months → 2026-06-20, a
    # Saturday in the 端午 holiday (6月19日–21日) → 6月22日.
    assert court.start == D(2026, 3, 20) and court.due == D(2026, 6, 22) and court.rolled_forward
    assert "第五十三条" in court.citation and court.is_open

    late = by_code(case, D(2025, 10, 20))["fine_payment"]
    assert late.status == "overdue" and late.status_label == "逾期未缴（加处罚款）"
    assert "逾期11日" in late.case_note and "33%" in late.case_note and "第七十二条" in late.case_note
    assert not late.is_open  # the party's period: not the officers' to miss

    record_deadline_fact(actor=people["officer_a"].user, case=case, kind="fine_paid", on=D(2025, 10, 31))
    ds = by_code(case, D(2025, 11, 5))
    assert ds["fine_payment"].met_on == D(2025, 10, 31)
    assert "66%" in ds["fine_payment"].case_note  # 22 days late
    assert ds["court_enforcement"].status == "met"  # paid: nothing to enforce


@pytest.mark.django_db
def test_limitation_two_years_from_the_violation(people, qualified_since_2020):
    case = penalty_case(people, opened_on=D(2026, 3, 2))
    record_deadline_fact(
        actor=people["officer_a"].user, case=case, kind="violation_ended", on=D(2024, 2, 29)
    )
    d = by_code(case, D(2026, 3, 5))["limitation"]
    assert d.due == D(2026, 2, 28) and d.status == "overdue"
    assert d.status_label == "超过二年追责时效（不再查处）" and "第二十条" in d.citation

    other = penalty_case(people, opened_on=D(2026, 3, 2), complaint_received_on=D(2026, 2, 27))
    record_deadline_fact(
        actor=people["officer_a"].user, case=other, kind="violation_ended", on=D(2024, 2, 29)
    )
    d = by_code(other, D(2026, 3, 5))["limitation"]
    assert d.status == "met" and "收到投诉" in d.met_by and d.status_label == "时效内发现"


def flags(case):
    return [f["code"] for f in Case.objects.get(pk=case.pk).procedure_flags]


@pytest.mark.django_db
def test_decision_before_the_party_window_closed_is_flagged(people, qualified_since_2020):
    """Told on 2025-09-30; the five working days (第六十四条第一项, 第八十五条) end 10月14日
    (National Day in between). A decision of 10月10日 is flagged, on the case and in the
    completeness report; the party's written waiver clears it."""
    actor = people["officer_a"].user
    case = penalty_case(people, opened_on=D(2025, 9, 1))
    case = walk(case, Stage.DECISION, actor)
    notice = doc(case, people, DocumentType.VIOLATION_NOTICE, date=D(2025, 9, 30))
    serve(case, people, notice, D(2025, 9, 30))
    assert flags(case) == []
    case_services.update_case_facts(actor=actor, case=case, decided_on=D(2025, 10, 10))
    stored = Case.objects.get(pk=case.pk).procedure_flags
    assert [f["code"] for f in stored] == ["decision_before_window"]
    assert "2025-10-14" in stored[0]["text"] and "第六十二条" in stored[0]["citation"]
    assert statuses(case)["penalty.procedure_order"] == "missing"

    doc(case, people, DocumentType.STATEMENT_RECORD, date=D(2025, 10, 9),
        extra={"statement_waived": "当事人书面放弃陈述、申辩和听证权利"})
    assert flags(case) == []
    assert statuses(case)["penalty.procedure_order"] in ("met", "not_applicable")


@pytest.mark.django_db
def test_decision_after_the_window_is_not_flagged(people, qualified_since_2020):
    actor = people["officer_a"].user
    case = penalty_case(people, opened_on=D(2025, 9, 1))
    notice = doc(case, people, DocumentType.VIOLATION_NOTICE, date=D(2025, 9, 30))
    serve(case, people, notice, D(2025, 9, 30))
    case_services.update_case_facts(actor=actor, case=case, decided_on=D(2025, 10, 15))
    assert flags(case) == []
    assert statuses(case)["penalty.procedure_order"] == "not_applicable"


@pytest.mark.django_db
def test_decision_without_notice_and_before_the_hearing(people, qualified_since_2020):
    actor = people["officer_a"].user
    case = penalty_case(people, opened_on=D(2025, 9, 1))
    case_services.update_case_facts(actor=actor, case=case, decided_on=D(2025, 10, 15))
    assert flags(case) == ["decision_without_notice"]

    heard = penalty_case(people, opened_on=D(2025, 9, 1))
    notice = doc(heard, people, DocumentType.VIOLATION_NOTICE, date=D(2025, 9, 1))
    serve(heard, people, notice, D(2025, 9, 1))
    case_services.update_case_facts(
        actor=actor, case=heard, hearing_requested=True, decided_on=D(2025, 10, 15)
    )
    assert flags(heard) == ["decision_before_hearing"]
    doc(heard, people, DocumentType.HEARING_RECORD, date=D(2025, 10, 13))
    assert flags(heard) == []


@pytest.mark.django_db
def test_enforcement_before_the_reminder_period_ends(people, qualified_since_2020):
    """行政强制法第五十四条: the application to the court only after ten (working) days from
    the 催告书's service: served 2025-12-24, the period ends 2026-01-08."""
    case = penalty_case(people, kind=CaseKind.COERCION, opened_on=D(2025, 12, 1))
    reminder = doc(case, people, DocumentType.REMINDER_NOTICE, date=D(2025, 12, 24))
    serve(case, people, reminder, D(2025, 12, 24))
    d = by_code(case, D(2026, 1, 5))["reminder_period"]
    assert d.due == D(2026, 1, 8) and d.status == "waiting" and d.status_label == "期间未满"
    assert not d.is_open

    doc(case, people, DocumentType.ENFORCEMENT_APPLICATION, date=D(2026, 1, 8))
    d = by_code(case, D(2026, 1, 20))["reminder_period"]
    assert d.status == "premature" and d.status_label == "期满前实施（程序违法）"
    assert flags(case) == ["enforcement_before_reminder_period"]

    timely = penalty_case(people, kind=CaseKind.COERCION, opened_on=D(2025, 12, 1))
    reminder = doc(timely, people, DocumentType.REMINDER_NOTICE, date=D(2025, 12, 24))
    serve(timely, people, reminder, D(2025, 12, 24))
    doc(timely, people, DocumentType.ENFORCEMENT_APPLICATION, date=D(2026, 1, 9))
    assert by_code(timely, D(2026, 1, 20))["reminder_period"].status == "met"
    assert flags(timely) == []


@pytest.mark.django_db
def test_case_page_names_the_governing_deadline_and_the_flag(client, people, qualified_since_2020):
    actor = people["officer_a"].user
    case = penalty_case(people, opened_on=timezone.localdate() - dt.timedelta(days=30))
    case_services.update_case_facts(actor=actor, case=case, decided_on=timezone.localdate())
    client.force_login(actor)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "依劳动保障监察条例第十七条，不适用行政处罚法第六十条九十日期限" in page
    assert "程序顺序提示" in page and "未告知拟作出的处罚" in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("outcome", "payment", "court"),
    [
        ("", True, True),  # not recorded (cases from before the field): as before
        ("fine", True, True),
        ("warning", False, False),  # 警告 only: nothing to pay, nothing to enforce
        ("no_penalty", False, False),  # 不予行政处罚 (第五十七条第一款第二、三项)
        ("other_no_fine", False, True),  # 没收违法所得 etc.: enforceable, but no fine
    ],
)
def test_a_decision_without_a_fine_has_no_payment_deadline(
    people, qualified_since_2020, outcome, payment, court
):
    """行政处罚法第六十七条 (15 days to pay) and 第七十二条 (3 % a day) concern a fine: a
    decision of 警告 or 不予行政处罚 shows neither, even long after the service."""
    actor = people["officer_a"].user
    case = penalty_case(people, opened_on=D(2025, 6, 2))
    decision = doc(case, people, DocumentType.PENALTY_DECISION, date=D(2025, 9, 19))
    serve(case, people, decision, D(2025, 9, 20))
    if outcome:
        case_services.update_case_facts(actor=actor, case=case, penalty_outcome=outcome)
    ds = by_code(case, D(2025, 12, 1))  # 72 days after service: a fine would be overdue
    assert ("fine_payment" in ds) is payment
    assert ("court_enforcement" in ds) is court
    assert ds["decision_service"].status == "met"
    notes = " ".join(d.case_note for d in ds.values())
    assert ("第七十二条" in notes) is payment


@pytest.mark.django_db
def test_fine_paid_and_outcome_are_refused_where_they_cannot_apply(people, qualified_since_2020):
    from liuhen.core.errors import InvalidInput

    actor = people["officer_a"].user
    case = penalty_case(people, opened_on=D(2025, 6, 2))
    case_services.update_case_facts(actor=actor, case=case, penalty_outcome="warning")
    with pytest.raises(InvalidInput, match="第六十七条"):
        record_deadline_fact(actor=actor, case=case, kind="fine_paid", on=D(2025, 10, 31))
    with pytest.raises(InvalidInput, match="处罚决定内容无效"):
        case_services.update_case_facts(actor=actor, case=case, penalty_outcome="jail")
    coercion = penalty_case(people, kind=CaseKind.COERCION, opened_on=D(2025, 6, 2))
    with pytest.raises(InvalidInput, match="只有行政处罚案件"):
        case_services.update_case_facts(actor=actor, case=coercion, penalty_outcome="fine")
