"""Dates that cannot make the record lie (issue 13 item 3): a case's dates in lawful order and
not in the future, a decision or closing date only once the case has reached that stage (a
closing date then cannot meet 作出行政处罚决定 or 案件调查 of a case still under investigation),
patrols and written records neither in the future nor before their case began. Table-driven,
on the service, the form and the API; every refusal names the conflicting date."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from liuhen.cases import services
from liuhen.cases.choices import CaseKind, Stage
from liuhen.cases.dates import check_case_dates
from liuhen.cases.tests.factories import make_case, make_party
from liuhen.core.errors import InvalidInput
from liuhen.core.testing import TEST_TODAY
from liuhen.records import services as records_services

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)
OPENED = TEST_TODAY - 30 * DAY
FMT = "%Y-%m-%d"


def _d(offset: int):
    return OPENED + offset * DAY


# (kind, stage, values relative to the opening (days), field refused or None, words in message)
CASE_TABLE = [
    # lawful
    (CaseKind.PENALTY, Stage.CASE_FILE, {"complaint_received_on": -2, "decided_on": 10,
                                          "closed_on": 20}, None, ""),
    (CaseKind.PENALTY, Stage.DECISION, {"decided_on": 0}, None, ""),
    (CaseKind.INSPECTION, Stage.CASE_FILE, {"closed_on": 5}, None, ""),
    # 结案 is its own step for penalty and coercion cases: the closing date exists from there
    (CaseKind.PENALTY, Stage.CLOSING, {"decided_on": 10, "closed_on": 20}, None, ""),
    (CaseKind.COERCION, Stage.CLOSING, {"closed_on": 20}, None, ""),
    (CaseKind.PENALTY, Stage.ENFORCEMENT, {"decided_on": 10, "closed_on": 20}, "closed_on",
     "结案"),
    # the issue's case: opened, still investigating, closed "2020-01-01"
    (CaseKind.PENALTY, Stage.INVESTIGATION, {"closed_on": -2000}, "closed_on", "还不能填写结案日期"),
    # closed before it was opened, though concluded
    (CaseKind.PENALTY, Stage.CASE_FILE, {"closed_on": -1}, "closed_on", "不能早于立案日期"),
    # decided before it was opened
    (CaseKind.PENALTY, Stage.DECISION, {"decided_on": -3}, "decided_on", "不能早于立案日期"),
    # closed before the decision
    (CaseKind.PENALTY, Stage.CASE_FILE, {"decided_on": 10, "closed_on": 9}, "closed_on",
     "不能早于决定日期"),
    # a complaint received after the opening
    (CaseKind.PENALTY, Stage.INITIATION, {"complaint_received_on": 1}, "opened_on",
     "不能早于收到投诉/举报日期"),
    # in the future
    (CaseKind.PENALTY, Stage.CASE_FILE, {"decided_on": 31}, "decided_on", "不能晚于今天"),
    (CaseKind.PENALTY, Stage.CASE_FILE, {"closed_on": 45}, "closed_on", "不能晚于今天"),
    # an inspection has no decision stage: its case file is the first stage after it
    (CaseKind.INSPECTION, Stage.INVESTIGATION, {"closed_on": 5}, "closed_on", "案卷制作"),
]


@pytest.mark.parametrize(("kind", "stage", "offsets", "field", "words"), CASE_TABLE)
def test_case_dates_table(kind, stage, offsets, field, words):
    values = {"opened_on": OPENED, **{k: _d(v) for k, v in offsets.items()}}
    if field is None:
        check_case_dates(kind=kind, stage=stage, values=values)
        return
    with pytest.raises(InvalidInput) as caught:
        check_case_dates(kind=kind, stage=stage, values=values)
    assert caught.value.detail == {"field": field}
    assert words in caught.value.message
    # the refusal names the conflicting date itself
    assert values[field].strftime(FMT) in caught.value.message


@pytest.fixture
def case(people, bureau):
    party = make_party(actor=people["officer_a"].user, unit=bureau["team_a"])
    return make_case(actor=people["officer_a"].user, unit=bureau["team_a"],
                     officers=[people["officer_a"], people["officer_a2"]], parties=[party],
                     opened_on=OPENED)


def _move(case, actor, *stages):
    for stage in stages:
        case = services.move_case(actor=actor, case=case, to_stage=stage, note="测试")
    return case


def test_the_issue_closing_date_is_refused_and_meets_no_deadline(people, case):
    """Opened, under investigation, 结案日期 = 2020-01-01: refused, nothing saved."""
    case = _move(case, people["officer_a"].user, Stage.INVESTIGATION)
    with pytest.raises(InvalidInput, match="还不能填写结案日期"):
        services.update_case_facts(actor=people["officer_a"].user, case=case,
                                   closed_on=TEST_TODAY.replace(year=2020, month=1, day=1))
    case.refresh_from_db()
    assert case.closed_on is None


@pytest.mark.parametrize(("kind", "stage", "offsets", "field", "words"),
                         [row for row in CASE_TABLE if row[0] == CaseKind.PENALTY
                          and row[1] in (Stage.INITIATION, Stage.INVESTIGATION, Stage.DECISION)
                          and row[3] != "opened_on"])
def test_case_dates_on_the_form_and_the_api(people, case, api, kind, stage, offsets, field,
                                            words):
    actor = people["officer_a"]
    path = {Stage.INITIATION: [], Stage.INVESTIGATION: [Stage.INVESTIGATION],
            Stage.DECISION: [Stage.INVESTIGATION, Stage.NOTICE, Stage.DECISION]}[stage]
    case = _move(case, actor.user, *path)
    values = {k: _d(v).strftime(FMT) for k, v in offsets.items()}
    client = Client()
    client.force_login(actor.user)
    response = client.post(reverse("case_edit", args=[case.pk]), {"cause": case.cause, **values})
    if field is None:
        assert response.status_code == 302
        return
    html = response.content.decode()
    assert response.status_code == 200 and words in html and values[field] in html
    response = api(actor).patch(f"/api/cases/{case.pk}", values)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_input" and words in body["message"]
    case.refresh_from_db()
    assert getattr(case, field) is None


@pytest.mark.parametrize(("offset", "words"), [(1, "不能晚于今天"), (0, None), (-400, None)])
def test_patrol_date_table(people, bureau, api, offset, words):
    """A patrol may be registered late, never ahead of the day it happens."""
    day = TEST_TODAY + offset * DAY
    payload = {"unit_id": bureau["team_a"].pk, "date": day.strftime(FMT), "area": "开发区",
               "officer_ids": [people["officer_a"].pk, people["officer_a2"].pk]}
    response = api(people["officer_a"]).post("/api/patrols", payload)
    if words is None:
        assert response.status_code == 201, response.content
        return
    assert response.status_code == 400
    assert words in response.json()["message"] and day.strftime(FMT) in response.json()["message"]
    client = Client()
    client.force_login(people["officer_a"].user)
    html = client.post(reverse("patrol_create"), {
        "unit": bureau["team_a"].pk, "date": day.strftime(FMT), "area": "开发区",
        "officers": [people["officer_a"].pk, people["officer_a2"].pk]}).content.decode()
    assert words in html


@pytest.mark.parametrize(("offset", "words"), [
    (0, None), (30, None), (-1, "不能早于本案立案日期"), (-400, "不能早于本案立案日期"),
    (31, "不能晚于今天"), (150, "不能晚于今天"),
])
def test_document_date_table(people, case, api, offset, words):
    """A written record dated 2027-06-01 on a case of 2026 was accepted (the issue); so was one
    dated before the case opened. Both are refused on the service, the page and the API (an
    import alone may give a reason: records/tests/test_imports.py)."""
    day = _d(offset)
    kwargs = {"actor": people["officer_a"].user, "case": case, "doc_type": "inquiry_record",
              "date": day}
    if words is None:
        records_services.add_document(**kwargs)
        return
    with pytest.raises(InvalidInput) as caught:
        records_services.add_document(**kwargs)
    assert words in caught.value.message and day.strftime(FMT) in caught.value.message
    assert caught.value.detail == {"field": "date"}
    client = Client()
    client.force_login(people["officer_a"].user)
    response = client.post(f"/api/cases/{case.pk}/documents",
                           {"doc_type": "inquiry_record", "date": day.strftime(FMT)})
    assert response.status_code == 400 and words in response.json()["message"]
    page = client.post(reverse("case_document_add", args=[case.pk]),
                       {"doc_type": "inquiry_record", "date": day.strftime(FMT),
                        "signature": "signed"})
    assert page.status_code == 400 and words in page.content.decode()
