"""Due soon (yellow) and overdue (red) per officer and per unit, scoped by restrict(): the
dashboard slot, ``/deadlines/``, the API and the command. Every protected endpoint has its
pair (refused + denied audit entry / allowed + audit entry, 第二十六条 (三))."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from liuhen.audit.choices import Outcome
from liuhen.audit.models import AuditEntry
from liuhen.cases import services as case_services
from liuhen.cases.tests.factories import make_case, make_party
from liuhen.core.testing import TEST_TODAY
from liuhen.deadlines.events import event_case_deadlines_viewed, event_deadlines_listed
from liuhen.deadlines.holidays import current_calendar
from liuhen.deadlines.queries import summary

pytestmark = pytest.mark.django_db

# Opened about half a year before the frozen "today": investigation (60 working days) and
# decision (90 days) are overdue.
LONG_AGO = TEST_TODAY - dt.timedelta(days=180)


def open_case(people, team: str, opened_on: dt.date):
    first, second = people[f"officer_{team}"], people[f"officer_{team}2"]
    party = make_party(actor=first.user, unit=first.unit)
    return make_case(
        actor=first.user,
        unit=first.unit,
        officers=[first, second],
        parties=[party],
        opened_on=opened_on,
    )


@pytest.fixture
def cases(people):
    """A1 and B1 with two overdue deadlines each; A2 with a decision to serve in 2 working
    days (due soon) and deadlines far away (not counted)."""
    today = timezone.localdate()
    decided = current_calendar().add_working_days(today, -5)
    a1 = open_case(people, "a", LONG_AGO)
    a2 = open_case(people, "a", decided - dt.timedelta(days=3))
    case_services.update_case_facts(actor=people["officer_a"].user, case=a2, decided_on=decided)
    b1 = open_case(people, "b", LONG_AGO)
    return {"a1": a1, "a2": a2, "b1": b1}


def counts(per, key, value):
    row = next(r for r in per if r[key] == value)
    return row["overdue"], row["due_soon"]


def test_summary_per_officer_and_unit_is_restricted(people, bureau, cases):
    """An officer sees their own unit's cases only; the detachment head and the legal office
    see both teams (restrict(user, "case.view"))."""
    today = timezone.localdate()
    mine = summary(people["officer_a"].user, today)
    assert mine["total"] == {"overdue": 2, "due_soon": 1}
    assert mine["mine"] == {"overdue": 2, "due_soon": 1}
    assert [u["case__unit__name"] for u in mine["per_unit"]] == [bureau["team_a"].name]
    officers = {r["case__officers__id"] for r in mine["per_officer"]}
    assert officers == {people["officer_a"].pk, people["officer_a2"].pk}
    assert counts(mine["per_officer"], "case__officers__id", people["officer_a2"].pk) == (2, 1)

    for role in ("head_detachment", "legal"):
        s = summary(people[role].user, today)
        assert s["total"] == {"overdue": 4, "due_soon": 1}
        assert counts(s["per_unit"], "case__unit_id", bureau["team_a"].pk) == (2, 1)
        assert counts(s["per_unit"], "case__unit_id", bureau["team_b"].pk) == (2, 0)
        assert counts(s["per_officer"], "case__officers__id", people["officer_b"].pk) == (2, 0)

    assert summary(people["head_a"].user, today)["total"] == {"overdue": 2, "due_soon": 1}
    assert summary(people["device_keeper"].user, today)["total"] == {"overdue": 0, "due_soon": 0}


def test_meeting_a_deadline_removes_it_from_the_counts(people, cases):
    today = timezone.localdate()
    case_services.update_case_facts(
        actor=people["officer_b"].user, case=cases["b1"], decided_on=today
    )
    s = summary(people["legal"].user, today)
    # B1: the decision is made (met late); its service is now due in 7 working days.
    assert s["total"]["overdue"] == 3


def test_dashboard_shows_the_slot_with_constant_queries(client, people, cases):
    """The dashboard's deadline slot reads the stored rows: the same number of queries
    for 3 cases as for 9 (no per-case evaluation on each request)."""
    client.force_login(people["head_detachment"].user)
    response = client.get(reverse("dashboard"))
    page = response.content.decode()
    assert response.status_code == 200
    assert cases["a1"].number in page and cases["b1"].number in page and "已逾期" in page

    template = Template("{% load liuhen_deadlines %}{% deadline_dashboard %}")
    user = people["head_detachment"].user
    with CaptureQueriesContext(connection) as few:
        template.render(Context({"user": user}))
    for team in ("a", "b", "a", "b", "a", "b"):
        open_case(people, team, LONG_AGO)
    with CaptureQueriesContext(connection) as many:
        html = template.render(Context({"user": user}))
    assert len(many) == len(few)
    assert ">16<" in html.replace(" ", "")  # 8 cases × 2 overdue deadlines


def test_dashboard_slot_hidden_for_roles_without_cases(client, people, cases):
    client.force_login(people["device_keeper"].user)
    page = client.get(reverse("dashboard")).content.decode()
    assert cases["a1"].number not in page


def test_deadline_page_filters_and_audit(client, people, bureau, cases):
    """/deadlines/ filters by unit, officer and status; the listing is audited."""
    client.force_login(people["head_detachment"].user)
    page = client.get(reverse("deadline_list")).content.decode()
    assert all(cases[k].number in page for k in ("a1", "a2", "b1"))
    page = client.get(reverse("deadline_list"), {"unit": bureau["team_b"].pk}).content.decode()
    assert cases["b1"].number in page and cases["a1"].number not in page
    page = client.get(
        reverse("deadline_list"), {"officer": people["officer_a2"].pk}
    ).content.decode()
    assert cases["a1"].number in page and cases["b1"].number not in page
    page = client.get(reverse("deadline_list"), {"status": "due_soon"}).content.decode()
    assert cases["a2"].number in page and cases["a1"].number not in page
    entry = AuditEntry.objects.filter(action=event_deadlines_listed).latest("seq")
    assert entry.outcome == Outcome.SUCCEEDED and entry.detail["status"] == "due_soon"
    response = client.get(reverse("deadline_list"), {"officer": "x"})
    assert response.status_code == 400 and "应为编号" in response.content.decode()


def test_deadline_page_refused_without_case_view(client, people, cases):
    client.force_login(people["device_keeper"].user)
    response = client.get(reverse("deadline_list"))
    assert response.status_code == 403
    entry = AuditEntry.objects.latest("seq")
    assert entry.action == event_deadlines_listed and entry.outcome == Outcome.DENIED


def test_officer_sees_only_own_unit_on_the_page(client, people, cases):
    client.force_login(people["officer_b"].user)
    page = client.get(reverse("deadline_list"), {"status": "open"}).content.decode()
    assert cases["b1"].number in page and cases["a1"].number not in page


def test_api_case_deadlines_pair(api, people, cases):
    """GET /api/cases/{id}/deadlines: another team's officer gets 404 and a denied entry;
    the case's officer gets the deadlines and the read is audited."""
    case = cases["a1"]
    response = api(people["officer_b"]).get(f"/api/cases/{case.pk}/deadlines")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    entry = AuditEntry.objects.latest("seq")
    assert entry.action == event_case_deadlines_viewed and entry.outcome == Outcome.DENIED

    response = api(people["officer_a"]).get(f"/api/cases/{case.pk}/deadlines")
    assert response.status_code == 200
    body = response.json()
    by_code = {d["code"]: d for d in body["deadlines"]}
    assert by_code["investigation"]["status"] == "overdue"
    assert by_code["investigation"]["citation"] == "《劳动保障监察条例》第十七条"
    assert by_code["penalty_decision"]["status_label"] == "已逾期"
    entry = AuditEntry.objects.latest("seq")
    assert entry.action == event_case_deadlines_viewed and entry.outcome == Outcome.SUCCEEDED
    assert entry.object_id == str(case.pk)


def test_api_deadline_list_pair(api, people, bureau, cases):
    response = api(people["device_keeper"]).get("/api/deadlines")
    assert response.status_code == 403
    assert AuditEntry.objects.latest("seq").outcome == Outcome.DENIED

    body = api(people["officer_a"]).get("/api/deadlines").json()
    assert (body["overdue"], body["due_soon"]) == (2, 1)
    assert {i["number"] for i in body["items"]} == {cases["a1"].number, cases["a2"].number}
    body = api(people["legal"]).get("/api/deadlines", status="overdue").json()
    assert {i["status"] for i in body["items"]} == {"overdue"} and len(body["items"]) == 4
    assert {u["unit_id"] for u in body["per_unit"]} == {bureau["team_a"].pk, bureau["team_b"].pk}
    response = api(people["legal"]).get("/api/deadlines", status="nonsense")
    assert response.status_code == 400 and response.json()["code"] == "invalid_input"


def test_command_lists_and_refreshes(people, cases):
    out = io.StringIO()
    call_command("deadlines", "--format", "json", stdout=out)
    rows = json.loads(out.getvalue())
    assert len(rows) == 5 and {r["status"] for r in rows} == {"overdue", "due_soon"}
    out = io.StringIO()
    call_command("deadlines", "--refresh", stdout=out)
    assert "3 件" in out.getvalue()


def _summary_the_long_way(user, today):
    """What summary() answered with four queries before (issue 9 item 3): its reference."""
    from django.db.models import Count, Q

    from liuhen.deadlines.queries import visible_entries

    qs = visible_entries(user).filter(warn_from__lte=today)
    counts = {
        "overdue": Count("id", filter=Q(due__lt=today)),
        "due_soon": Count("id", filter=Q(due__gte=today)),
    }
    return {
        "total": qs.aggregate(**counts),
        "mine": qs.filter(case__officers__user=user).aggregate(**counts),
        "per_unit": sorted(
            (r["case__unit_id"], r["overdue"], r["due_soon"])
            for r in qs.values("case__unit_id").annotate(**counts).order_by()
        ),
        "per_officer": sorted(
            (r["case__officers__id"], r["overdue"], r["due_soon"])
            for r in qs.filter(case__officers__isnull=False)
            .values("case__officers__id")
            .annotate(**counts)
            .order_by()
        ),
    }


@pytest.mark.parametrize(
    "role",
    ["officer_a", "officer_a2", "officer_b", "head_a", "head_detachment", "legal", "device_keeper"],
)
def test_summary_in_two_queries_answers_what_the_four_did(people, cases, role):
    """Totals from the units' rows and the user's own counts from their officer's row equal
    the separate aggregates, for every scope (cases with two officers each)."""
    today = timezone.localdate()
    open_case(people, "b", LONG_AGO - dt.timedelta(days=40))
    user = people[role].user
    got = summary(user, today)
    want = _summary_the_long_way(user, today)
    assert got["total"] == want["total"]
    assert got["mine"] == want["mine"]
    assert (
        sorted((r["case__unit_id"], r["overdue"], r["due_soon"]) for r in got["per_unit"])
        == want["per_unit"]
    )
    assert (
        sorted((r["case__officers__id"], r["overdue"], r["due_soon"]) for r in got["per_officer"])
        == want["per_officer"]
    )


def test_summary_kept_briefly_per_scope(people, cases, settings, monkeypatch):
    """Kept DEADLINE_SUMMARY_SECONDS per scope: a second dashboard of the same scope reads no
    counts; another scope does not get this one's; after the window the counts are fresh."""
    from liuhen.core import kept

    settings.DEADLINE_SUMMARY_SECONDS = 30
    clock = {"now": 1000.0}
    monkeypatch.setattr(kept.time, "monotonic", lambda: clock["now"])
    monkeypatch.setattr(kept, "_kept", {})
    today = timezone.localdate()
    legal, officer_a = people["legal"].user, people["officer_a"].user
    first = summary(legal, today)
    assert first["total"] == {"overdue": 4, "due_soon": 1}
    with CaptureQueriesContext(connection) as again:
        assert summary(legal, today) == first
    assert len(again) <= 2  # the scope (restrict) and the user's officer; no counting
    assert summary(officer_a, today)["total"] == {"overdue": 2, "due_soon": 1}

    case_services.update_case_facts(
        actor=people["officer_b"].user, case=cases["b1"], decided_on=today
    )
    clock["now"] += 29
    assert summary(legal, today)["total"]["overdue"] == 4  # still the kept counts
    clock["now"] += 2
    assert summary(legal, today)["total"]["overdue"] == 3
    first["per_unit"][0]["overdue"] = 99  # a caller changing its rows changes no kept ones
    assert summary(legal, today)["per_unit"][0]["overdue"] != 99
