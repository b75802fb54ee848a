"""Statutory deadlines of real cases: each deadline met, due soon and overdue, counted on the
working-day calendar around the 2025 Spring Festival (1月28日–2月4日 off, 1月26日 and 2月8日
worked) and National Day (10月1日–8日 off, 9月28日 and 10月11日 worked)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from liuhen.cases import services as case_services
from liuhen.cases.choices import CaseKind, CaseSource, Stage
from liuhen.deadlines.holidays import current_calendar
from liuhen.deadlines.models import CaseDeadlineEntry
from liuhen.deadlines.services import case_deadlines, refresh_case_deadlines, warn_from
from liuhen.records import services as rs
from liuhen.records.choices import ApprovalAction, DocumentType, ServiceMethod
from liuhen.records.models import Approval
from liuhen.rules.tests.helpers import approve, doc, penalty_case, walk

pytestmark = pytest.mark.django_db

D = dt.date
# Written out independently of holidays.toml, from the State Council's 2025 notice.
HOLIDAYS_2025 = {
    D(2025, 1, 1),
    *(D(2025, 1, 28) + dt.timedelta(days=i) for i in range(8)),
    *(D(2025, 10, 1) + dt.timedelta(days=i) for i in range(8)),
    D(2026, 1, 1),
    D(2026, 1, 2),
}  # 2026年元旦 1月1日–3日, 1月4日 worked
WORKDAYS_2025 = {D(2025, 1, 26), D(2025, 2, 8), D(2025, 9, 28), D(2025, 10, 11), D(2026, 1, 4)}


@pytest.fixture(autouse=True)
def qualified_since_2020(people):
    """The cases below were opened in 2024–2025; the officers were qualified then (第十一条)."""
    from liuhen.org.models import Officer

    Officer.objects.update(qualification_valid_from=D(2020, 1, 1))


def working(day: dt.date) -> bool:
    if day in WORKDAYS_2025:
        return True
    return day.weekday() < 5 and day not in HOLIDAYS_2025


def nth_working_day_after(start: dt.date, n: int) -> dt.date:
    day = start
    while n:
        day += dt.timedelta(days=1)
        n -= working(day)
    return day


def by_code(case, today):
    return {d.code: d for d in case_deadlines(case, today=today)}


def stored(case):
    return dict(CaseDeadlineEntry.objects.filter(case=case).values_list("code", "due"))


def test_complaint_acceptance_across_spring_festival(people):
    """若干规定 第十八条: 5 working days from the complaint; 1月26日 (Sunday) is a working day,
    the festival is not: a complaint of Friday 1月24日 must be accepted by 2月7日."""
    on_time = penalty_case(
        people,
        source=CaseSource.COMPLAINT,
        complaint_received_on=D(2025, 1, 24),
        opened_on=D(2025, 2, 7),
    )
    d = by_code(on_time, D(2025, 3, 1))["complaint_acceptance"]
    assert d.due == D(2025, 2, 7) == nth_working_day_after(D(2025, 1, 24), 5)
    assert d.status == "met" and d.met_on == D(2025, 2, 7)
    assert "第十八条" in d.citation and "收到投诉" in d.started_by and "立案" in d.met_by

    late = penalty_case(
        people,
        source=CaseSource.COMPLAINT,
        complaint_received_on=D(2025, 1, 24),
        opened_on=D(2025, 2, 10),
    )
    assert by_code(late, D(2025, 3, 1))["complaint_acceptance"].status == "overdue"
    # Met (even late) is history, not a reminder: nothing stored for the dashboard.
    assert "complaint_acceptance" not in stored(late)


def test_investigation_60_working_days_extension_and_end(people):
    """劳动保障监察条例 第十七条: 60 working days from opening, +30 with approval; met when
    the investigation ends (the case moves on to 审查决定)."""
    case = penalty_case(people, opened_on=D(2025, 9, 26))
    due = nth_working_day_after(D(2025, 9, 26), 60)
    d = by_code(case, D(2025, 10, 1))["investigation"]
    assert d.due == due and d.status == "ok" and not d.extended
    assert "《劳动保障监察条例》第十七条" == d.citation
    assert by_code(case, due - dt.timedelta(days=1))["investigation"].status == "due_soon"
    assert by_code(case, due + dt.timedelta(days=1))["investigation"].status == "overdue"
    assert stored(case)["investigation"] == due

    approve(case, people, ApprovalAction.INVESTIGATION_EXTENSION)
    d = by_code(case, due + dt.timedelta(days=1))["investigation"]
    assert d.extended and "延长调查期限" in d.extended_by
    assert d.due == nth_working_day_after(D(2025, 9, 26), 90)
    assert d.status == "ok" and "90个工作日" in d.description
    assert stored(case)["investigation"] == d.due  # the hook refreshed the stored row

    case = walk(case, Stage.DECISION, people["officer_a"].user)
    d = by_code(case, D(2027, 1, 1))["investigation"]
    assert d.met_on == timezone.localdate() and "事先告知" in d.met_by  # 调查终结, then 告知
    assert "investigation" not in stored(case)


def test_penalty_decision_governed_by_article_17_not_the_90_days(people):
    """行政处罚法第六十条 gives 90 days "法律、法规、规章另有规定的，从其规定": a labour-inspection
    case's decision is due in 60 working days (劳动保障监察条例第十七条). Opened 2025-07-04, the
    60th working day after it is 9月26日; the displaced 90 days would have ended 10月2日, a
    holiday, rolled to 10月9日 — named, not applied."""
    case = penalty_case(people, opened_on=D(2025, 7, 4))
    d = by_code(case, D(2025, 9, 1))["penalty_decision"]
    assert d.due == D(2025, 9, 26) == nth_working_day_after(D(2025, 7, 4), 60)
    assert d.status == "ok" and "第十七条" in d.citation
    assert d.displaced["text"] == "依劳动保障监察条例第十七条，不适用行政处罚法第六十条九十日期限"
    assert d.displaced["due"] == D(2025, 10, 9) and "第六十条" in d.displaced["citation"]
    assert by_code(case, D(2025, 9, 24))["penalty_decision"].status == "due_soon"
    assert by_code(case, D(2025, 9, 29))["penalty_decision"].status == "overdue"

    case_services.update_case_facts(
        actor=people["officer_a"].user, case=case, decided_on=D(2025, 9, 25)
    )
    d = by_code(case, D(2025, 12, 1))["penalty_decision"]
    assert d.status == "met" and d.met_on == D(2025, 9, 25)
    assert "penalty_decision" not in stored(case)


def test_2026_03_02_case_with_extension_shows_no_false_overdue(people):
    """The case of issue 8: opened 2026-03-02, investigation extended with the approval of the
    bureau's head (第十七条). On 06-15 the 90 calendar days of 第六十条 have passed, but they do
    not govern: the decision is due with the investigation, 60 + 30 working days, 2026-07-10."""
    case = penalty_case(people, opened_on=D(2026, 3, 2))
    approve(case, people, ApprovalAction.INVESTIGATION_EXTENSION)
    ds = by_code(case, D(2026, 6, 15))
    decision, investigation = ds["penalty_decision"], ds["investigation"]
    assert decision.due == investigation.due == D(2026, 7, 10)
    assert decision.status == investigation.status == "ok"
    assert decision.status_label == "期限内" and decision.extended
    assert all(d.status != "overdue" for d in ds.values())
    assert decision.displaced["due"] == D(2026, 5, 31) + dt.timedelta(days=1)  # 5月31日 Sunday
    assert stored(case)["penalty_decision"] == D(2026, 7, 10)


def test_decision_service_7_working_days_met_by_service(people, tmp_path):
    """行政处罚法 第六十一条、第八十五条: served within 7 working days of the decision;
    9月28日 and 10月11日 are worked, 10月1日–8日 are not: 9月26日 → 10月13日."""
    case = penalty_case(people, opened_on=D(2025, 9, 1))
    case_services.update_case_facts(
        actor=people["officer_a"].user, case=case, decided_on=D(2025, 9, 26)
    )
    d = by_code(case, D(2025, 10, 9))["decision_service"]
    assert d.due == D(2025, 10, 13) == nth_working_day_after(D(2025, 9, 26), 7)
    assert d.status == "due_soon" and "第六十一条" in d.citation
    assert by_code(case, D(2025, 10, 14))["decision_service"].status == "overdue"
    assert stored(case)["decision_service"] == D(2025, 10, 13)

    decision = doc(
        case,
        people,
        DocumentType.PENALTY_DECISION,
        date=D(2025, 9, 26),
        number="冀人社监罚字〔2025〕1号",
    )
    served_at = timezone.make_aware(dt.datetime(2025, 10, 10, 10, 0))
    rs.record_service(
        actor=people["officer_a"].user,
        case=case,
        document=decision,
        method=ServiceMethod.POSTAL,
        served_at=served_at,
        recipient="某公司",
    )
    d = by_code(case, D(2025, 12, 1))["decision_service"]
    assert d.status == "met" and d.met_on == D(2025, 10, 10)
    assert "邮寄送达" in d.met_by and d.met_ids.get("service")
    assert "decision_service" not in stored(case)


def test_hearing_request_and_hearing_notice(people, tmp_path):
    """行政处罚法 第六十四条: the party asks within 5 working days of being told (their
    period, never counted against the officers); the hearing is notified 7 working days
    before it is held."""
    case = penalty_case(people, opened_on=D(2025, 9, 1))
    notice = doc(
        case,
        people,
        DocumentType.VIOLATION_NOTICE,
        date=D(2025, 9, 30),
        number="冀人社监告字〔2025〕1号",
    )
    rs.record_service(
        actor=people["officer_a"].user,
        case=case,
        document=notice,
        method=ServiceMethod.DIRECT,
        served_at=timezone.make_aware(dt.datetime(2025, 9, 30, 9)),
        recipient="某公司",
    )
    d = by_code(case, D(2025, 10, 15))["hearing_request"]
    assert d.due == D(2025, 10, 14) and d.status == "overdue"
    assert d.owed_by_party and d.status_label == "申请期已过"
    assert "hearing_request" not in stored(case)  # not the officers' deadline

    case_services.update_case_facts(
        actor=people["officer_a"].user, case=case, hearing_requested=True
    )
    assert by_code(case, D(2025, 10, 15))["hearing_request"].status == "met"

    hearing = doc(
        case, people, DocumentType.HEARING_NOTICE, date=None, extra={"hearing_date": "2025-10-20"}
    )
    d = by_code(case, D(2025, 10, 9))["hearing_notice"]
    assert d.due == D(2025, 10, 10)  # 7 working days before, 10月11日 (Saturday) counted
    assert d.status == "due_soon" and stored(case)["hearing_notice"] == D(2025, 10, 10)
    assert by_code(case, D(2025, 10, 13))["hearing_notice"].status == "overdue"
    rs.record_service(
        actor=people["officer_a"].user,
        case=case,
        document=hearing,
        method=ServiceMethod.DIRECT,
        served_at=timezone.make_aware(dt.datetime(2025, 10, 9, 15)),
        recipient="某公司",
    )
    d = by_code(case, D(2025, 10, 13))["hearing_notice"]
    assert d.status == "met" and d.met_on == D(2025, 10, 9)


def test_evidence_preservation_7_working_days_over_spring_festival(people):
    """行政处罚法 第五十六条: decide within 7 working days of 先行登记保存 (approved 1月24日:
    1月26日, 27日, 2月5日–8日, 10日 → 2月10日)."""
    case = penalty_case(people, opened_on=D(2025, 1, 20))
    approval = approve(case, people, ApprovalAction.EVIDENCE_PRESERVATION)
    Approval.objects.filter(pk=approval.pk).update(
        decided_at=timezone.make_aware(dt.datetime(2025, 1, 24, 16))
    )
    refresh_case_deadlines(case=case)
    d = by_code(case, D(2025, 2, 7))["evidence_preservation"]
    assert d.due == D(2025, 2, 10) == nth_working_day_after(D(2025, 1, 24), 7)
    assert d.status == "due_soon" and "第五十六条" in d.citation
    assert by_code(case, D(2025, 2, 11))["evidence_preservation"].status == "overdue"

    doc(
        case,
        people,
        DocumentType.OTHER,
        date=D(2025, 2, 6),
        extra={"deadline_met": "evidence_preservation"},
        note="解除先行登记保存决定",
    )
    d = by_code(case, D(2025, 2, 11))["evidence_preservation"]
    assert d.status == "met" and d.met_on == D(2025, 2, 6)


def test_seizure_30_days_and_extension(people):
    """行政强制法 第二十五条: 30 days, +30 with approval (seized 9月5日 → 10月5日 is a holiday →
    10月9日; extended: 11月4日)."""
    case = penalty_case(people, kind=CaseKind.COERCION, opened_on=D(2025, 9, 1))
    doc(
        case,
        people,
        DocumentType.OTHER,
        date=D(2025, 9, 5),
        extra={"deadline_start": "seizure"},
        note="查封、扣押决定书",
    )
    d = by_code(case, D(2025, 10, 8))["seizure"]
    assert d.due == D(2025, 10, 9) and d.status == "due_soon" and d.rolled_forward
    assert "行政强制法》第二十五条" in d.citation

    approval = rs.request_approval(
        actor=people["officer_a"].user,
        case=case,
        action=ApprovalAction.SEIZURE_EXTENSION,
        reason="需检测",
    )
    rs.decide_approval(
        actor=people["leader"].user, approval=approval, approve=True, opinion="同意延长"
    )
    d = by_code(case, D(2025, 10, 10))["seizure"]
    assert d.extended and d.due == D(2025, 11, 4) and d.status == "ok"
    assert stored(case)["seizure"] == D(2025, 11, 4)


def test_review_and_litigation_answers(people):
    """行政复议法 第四十八条、第八十八条 (10 working days); 行政诉讼法 第六十七条 (15 days)."""
    case = penalty_case(people, opened_on=D(2025, 9, 1))
    doc(
        case,
        people,
        DocumentType.OTHER,
        date=D(2025, 9, 26),
        extra={"deadline_start": ["review_response"]},
        note="行政复议答复通知书",
    )
    doc(
        case,
        people,
        DocumentType.OTHER,
        date=D(2025, 9, 20),
        extra={"deadline_start": "litigation_response"},
        note="起诉状副本",
    )
    ds = by_code(case, D(2025, 10, 9))
    assert ds["review_response"].due == D(2025, 10, 16) == nth_working_day_after(D(2025, 9, 26), 10)
    assert ds["litigation_response"].due == D(2025, 10, 9)  # 10月5日 + roll forward
    assert ds["litigation_response"].status == "due_soon"
    doc(
        case,
        people,
        DocumentType.OTHER,
        date=D(2025, 10, 15),
        extra={"deadline_met": "review_response"},
        note="答复书及证据目录",
    )
    assert by_code(case, D(2025, 10, 20))["review_response"].status == "met"


def test_kinds_without_the_deadline_and_archived_case(people):
    """A levy case has no investigation/decision deadlines; an archived case stores none."""
    officer = people["officer_a"]
    from liuhen.cases.tests.factories import make_case

    levy = make_case(
        actor=officer.user,
        unit=officer.unit,
        officers=[officer],
        kind=CaseKind.LEVY,
        opened_on=D(2025, 9, 1),
    )
    assert by_code(levy, D(2025, 9, 2)) == {}
    assert stored(levy) == {}

    case = penalty_case(people, opened_on=D(2025, 9, 1))
    assert set(stored(case)) == {"investigation", "penalty_decision"}
    case.stage = Stage.ARCHIVING
    refresh_case_deadlines(case=case)
    assert stored(case) == {}


def test_out_of_calendar_range_is_reported_not_guessed(people):
    """A year the calendar does not hold is never guessed (2024 is not loaded)."""
    case = penalty_case(people, opened_on=D(2024, 12, 2))
    d = by_code(case, D(2025, 1, 2))["investigation"]
    assert d.status == "unknown" and d.due is None and "2024" in d.error


def test_warn_from_matches_status():
    """The stored warn_from is exactly the first day status() calls due_soon."""
    from liuhen.deadlines.statutory import compute_deadline, status

    cal = current_calendar()
    deadline = compute_deadline("decision_service", D(2025, 9, 26), calendar=cal)
    first = warn_from(deadline.due, cal)
    assert status(deadline, first, calendar=cal) == "due_soon"
    assert status(deadline, first - dt.timedelta(days=1), calendar=cal) == "ok"


def test_bulk_refresh_matches_per_case_refresh(people, django_assert_max_num_queries):
    """refresh_open_deadlines (prefetched, in batches) stores exactly what the per-case hook
    stored, in a number of queries that does not grow with the number of cases."""
    from liuhen.deadlines.services import refresh_open_deadlines

    first = penalty_case(people, opened_on=D(2025, 9, 26))
    approve(first, people, ApprovalAction.INVESTIGATION_EXTENSION)
    second = penalty_case(people, kind=CaseKind.COERCION, opened_on=D(2025, 9, 1))
    doc(second, people, DocumentType.OTHER, date=D(2025, 9, 5), extra={"deadline_start": "seizure"})
    third = penalty_case(people, opened_on=D(2025, 9, 1))
    case_services.update_case_facts(
        actor=people["officer_a"].user, case=third, decided_on=D(2025, 9, 26)
    )
    fields = ("case_id", "code", "due", "warn_from", "extended", "start")
    before = sorted(CaseDeadlineEntry.objects.values_list(*fields))
    assert len(before) == 5
    CaseDeadlineEntry.objects.all().delete()
    with django_assert_max_num_queries(13):  # one batch: ids, cases, 4 prefetches, write
        assert refresh_open_deadlines() == 3
    assert sorted(CaseDeadlineEntry.objects.values_list(*fields)) == before
    CaseDeadlineEntry.objects.all().delete()
    assert refresh_open_deadlines(batch_size=2) == 3  # two batches give the same rows
    assert sorted(CaseDeadlineEntry.objects.values_list(*fields)) == before


def test_recorded_facts_start_and_meet_deadlines_via_api(api, people):
    """收到起诉状副本 and the answer, recorded as facts (文字记录 “其他”, 第十条): the
    litigation deadline (行政诉讼法 第六十七条) starts and is met; another team is refused."""
    from liuhen.audit.choices import Outcome
    from liuhen.audit.models import AuditEntry
    from liuhen.records.models import Document

    case = penalty_case(people, opened_on=D(2025, 9, 1))
    url = f"/api/cases/{case.pk}/deadline-facts"
    refused = api(people["officer_b"]).post(
        url, {"kind": "litigation_received", "on": "2025-09-20"}
    )
    assert refused.status_code == 404
    assert AuditEntry.objects.latest("seq").outcome == Outcome.DENIED
    assert not Document.objects.filter(case=case).exists()

    response = api(people["officer_a"]).post(
        url, {"kind": "litigation_received", "on": "2025-09-20", "note": "（2025）冀01行初1号"}
    )
    assert response.status_code == 201
    body = {d["code"]: d for d in response.json()["deadlines"]}
    assert body["litigation_response"]["due"] == "2025-10-09"
    assert body["litigation_response"]["started_by"].startswith("收到行政诉讼起诉状副本")
    fact = Document.objects.get(pk=response.json()["document_id"])
    assert fact.doc_type == DocumentType.OTHER and "冀01行初1号" in fact.note
    assert AuditEntry.objects.filter(action="document.added", object_id=str(fact.pk)).exists()

    response = api(people["officer_a"]).post(
        url, {"kind": "litigation_answered", "on": "2025-10-09"}
    )
    body = {d["code"]: d for d in response.json()["deadlines"]}
    assert body["litigation_response"]["status"] == "met"

    bad = api(people["officer_a"]).post(url, {"kind": "hearing_notified", "on": "2025-10-09"})
    assert bad.status_code == 400 and "听证的日期" in bad.json()["message"]
    bad = api(people["officer_a"]).post(url, {"kind": "nonsense", "on": "2025-10-09"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_input"


def test_hearing_notice_fact_from_the_case_page(client, people):
    """The case page form records 听证通知 with the hearing date (第六十四条第二项)."""
    case = penalty_case(people, opened_on=D(2025, 9, 1))
    client.force_login(people["officer_a"].user)
    response = client.post(
        f"/cases/{case.pk}/deadlines/facts/",
        {"kind": "hearing_notified", "on": "2025-10-09", "hearing_date": "2025-10-20"},
    )
    assert response.status_code == 302 and response["Location"].endswith("#case-deadlines")
    d = by_code(case, D(2025, 10, 13))["hearing_notice"]
    assert d.due == D(2025, 10, 10) and d.status == "met"
    assert d.met_by.startswith("通知当事人举行听证")
    response = client.post(
        f"/cases/{case.pk}/deadlines/facts/", {"kind": "seizure_start", "on": "2099-01-01"}
    )
    assert response.status_code == 302  # refused with a message, back to the case
    assert "seizure" not in by_code(case, D(2025, 10, 13))
