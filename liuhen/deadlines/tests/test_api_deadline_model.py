"""The deadline model through the API (issue 8): each deadline of a case says its kind, its
article, start, due and status, the general rule it displaces where a special rule governs
(行政处罚法第六十条“从其规定” → 劳动保障监察条例第十七条), and the procedure flags that concern it
(a decision before the party's statement and hearing window closed, 第六十二条、第六十四条).
Checked on the published OpenAPI document and on real responses; dates derive from the frozen
"today"."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from liuhen.cases import services as case_services
from liuhen.cases.choices import CaseKind
from liuhen.deadlines.holidays import current_calendar
from liuhen.deadlines.statutory import compute_deadline
from liuhen.records import services as rs
from liuhen.records.choices import DocumentType, ServiceMethod
from liuhen.rules.tests.helpers import doc, penalty_case

pytestmark = pytest.mark.django_db


def _ref(schema: dict) -> str:
    """The component a property points to (directly or as one of anyOf)."""
    refs = [schema.get("$ref", "")] + [s.get("$ref", "") for s in schema.get("anyOf", [])]
    return next((r.rsplit("/", 1)[-1] for r in refs if r), "")


def test_openapi_documents_the_deadline_model(client):
    spec = client.get("/api/openapi.json").json()
    schemas = spec["components"]["schemas"]
    op = spec["paths"]["/api/cases/{case_id}/deadlines"]["get"]
    body = op["responses"]["200"]["content"]["application/json"]["schema"]
    assert _ref(body) == "CaseDeadlinesOut"

    report = schemas["CaseDeadlinesOut"]["properties"]
    assert _ref(report["deadlines"]["items"]) == "CaseDeadlineOut"
    assert _ref(report["procedure_flags"]["items"]) == "ProcedureFlagOut"
    assert "calendar" in report

    deadline = schemas["CaseDeadlineOut"]
    for name in ("code", "kind", "citation", "start", "due", "status", "counting",
                 "displaced", "flags", "provisional", "case_note"):
        assert name in deadline["properties"] and name in deadline["required"], name
    assert _ref(deadline["properties"]["displaced"]) == "DisplacedOut"
    assert _ref(deadline["properties"]["flags"]["items"]) == "ProcedureFlagOut"
    assert "waiting_period" in deadline["properties"]["kind"]["description"]
    assert set(schemas["DisplacedOut"]["required"]) >= {"code", "citation", "due", "text"}
    assert set(schemas["ProcedureFlagOut"]["required"]) == {"code", "text", "citation"}


@pytest.fixture
def qualified(people):
    from liuhen.org.models import Officer

    Officer.objects.update(qualification_valid_from=timezone.localdate() - dt.timedelta(days=800))


def _serve(case, people, document, day):
    rs.record_service(
        actor=people["officer_a"].user, case=case, document=document,
        method=ServiceMethod.DIRECT,
        served_at=timezone.make_aware(dt.datetime.combine(day, dt.time(10))),
        recipient="某公司",
    )


def _working_day_before(day: dt.date, n: int) -> dt.date:
    return current_calendar().add_working_days(day, -n)


def test_case_deadlines_carry_precedence_flags_and_kinds(api, people, qualified):
    """A penalty case opened 40 working days ago, told 2 working days ago and decided today:
    the decision deadline is 第十七条's (60 working days) naming the displaced ninety days;
    the decision is flagged on it and on the party's hearing request (window still open)."""
    today = timezone.localdate()
    calendar = current_calendar()
    opened = _working_day_before(today, 40)
    told = _working_day_before(today, 2)
    actor = people["officer_a"].user
    case = penalty_case(people, opened_on=opened)
    notice = doc(case, people, DocumentType.VIOLATION_NOTICE, date=told)
    _serve(case, people, notice, told)
    case_services.update_case_facts(actor=actor, case=case, decided_on=today)

    response = api(people["officer_a"]).get(f"/api/cases/{case.pk}/deadlines")
    assert response.status_code == 200
    body = response.json()
    by_code = {d["code"]: d for d in body["deadlines"]}

    decision = by_code["penalty_decision"]
    assert decision["kind"] == "organ_duty" and decision["counting"] == "working_days"
    assert decision["start"] == opened.isoformat()
    assert decision["due"] == calendar.add_working_days(opened, 60).isoformat()
    assert decision["status"] == "met" and "第十七条" in decision["citation"]
    displaced = decision["displaced"]
    general = compute_deadline("penalty_decision_general", opened, calendar=calendar)
    assert displaced["code"] == "penalty_decision_general"
    assert displaced["citation"] == "《中华人民共和国行政处罚法》第六十条"
    assert displaced["due"] == general.due.isoformat()
    assert displaced["text"] == "依劳动保障监察条例第十七条，不适用行政处罚法第六十条九十日期限"

    window = calendar.add_working_days(told, 5)
    assert [f["code"] for f in body["procedure_flags"]] == ["decision_before_window"]
    flag = body["procedure_flags"][0]
    assert window.isoformat() in flag["text"] and "第六十四条第一项" in flag["citation"]
    assert decision["flags"] == [flag]

    hearing = by_code["hearing_request"]
    assert hearing["kind"] == "party_period" and hearing["due"] == window.isoformat()
    assert hearing["flags"] == [flag] and "第六十四条第一项" in hearing["citation"]

    investigation = by_code["investigation"]
    assert investigation["displaced"] is None and investigation["flags"] == []
    assert "工作日历载入" in body["calendar"]


def test_waiting_period_and_no_flags_when_in_order(api, people, qualified):
    """行政强制法第五十四条: the 催告 period is a waiting period; nothing out of order, no flags."""
    today = timezone.localdate()
    served = _working_day_before(today, 3)
    case = penalty_case(people, kind=CaseKind.COERCION, opened_on=today - dt.timedelta(days=60))
    reminder = doc(case, people, DocumentType.REMINDER_NOTICE, date=served)
    _serve(case, people, reminder, served)
    body = api(people["officer_a"]).get(f"/api/cases/{case.pk}/deadlines").json()
    period = {d["code"]: d for d in body["deadlines"]}["reminder_period"]
    assert period["kind"] == "waiting_period" and period["waiting_period"] is True
    assert period["status"] == "waiting" and period["flags"] == []
    assert period["due"] == current_calendar().add_working_days(served, 10).isoformat()
    assert body["procedure_flags"] == []


def test_deadline_fact_answer_has_the_same_model(api, people, qualified):
    today = timezone.localdate()
    case = penalty_case(people, opened_on=today - dt.timedelta(days=10))
    response = api(people["officer_a"]).post(
        f"/api/cases/{case.pk}/deadline-facts",
        {"kind": "violation_ended", "on": (today - dt.timedelta(days=30)).isoformat()},
    )
    assert response.status_code == 201, response.content
    limitation = {d["code"]: d for d in response.json()["deadlines"]}["limitation"]
    assert limitation["counting"] == "months" and limitation["kind"] == "organ_duty"
    assert limitation["status"] == "met" and limitation["flags"] == []


def test_a_deadline_into_a_provisional_year_is_marked(api, client, people, qualified):
    """A deadline whose period runs into a year whose holidays are only estimated (2027 in the
    shipped table, or the synthetic years of a clock moved ahead) is marked 暂定 with the year,
    on the case page and in the API; one that stays in a published year is not."""
    calendar = current_calendar()
    if not calendar.provisional_years:
        pytest.skip("no provisional year in this calendar")
    year = calendar.provisional_years[0]
    today = timezone.localdate()
    # Opened so that the 60 working days of 第十七条 end in the provisional year.
    opened = min(today, dt.date(year, 1, 1) - dt.timedelta(days=20))
    if calendar.add_working_days(opened, 60).year < year:
        pytest.skip("the frozen clock is too early for a period into the provisional year")
    case = penalty_case(people, opened_on=opened)
    body = api(people["officer_a"]).get(f"/api/cases/{case.pk}/deadlines").json()
    investigation = {d["code"]: d for d in body["deadlines"]}["investigation"]
    assert investigation["provisional"] is True and year in investigation["provisional_years"]

    client.force_login(people["officer_a"].user)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert f"部分期限跨入 {year} 年" in page and f"暂定：{year}年日历未确认" in page


def test_a_deadline_in_published_years_is_not_marked(api, client, people, qualified):
    calendar = current_calendar()
    today = timezone.localdate()
    published = [y for y in calendar.years if y not in calendar.provisional_years]
    start = today - dt.timedelta(days=150)
    if not published or calendar.add_working_days(start, 90).year in calendar.provisional_years \
            or start.year in calendar.provisional_years:
        pytest.skip("the frozen clock's year is provisional in this calendar")
    case = penalty_case(people, opened_on=start)
    body = api(people["officer_a"]).get(f"/api/cases/{case.pk}/deadlines").json()
    assert all(d["provisional_years"] == [] for d in body["deadlines"])
    client.force_login(people["officer_a"].user)
    assert "部分期限跨入" not in client.get(f"/cases/{case.pk}/").content.decode()
