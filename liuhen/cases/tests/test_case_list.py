"""The case list: paging, counting and scoping, on the page and in the API.

bench/bench_cases.py keeps the list under 100 ms on 100,000 cases by reading a page's ids from
an index, counting only up to COUNT_CAP and checking the scope as a literal list of unit ids.
These tests pin what those shortcuts must not change: every case the actor may see (第三条
scope: own unit, the unit and those below it, or the bureau), once, newest first, with persons
masked; and what the count says when it stops early.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import logged_in
from liuhen.cases import queries, views
from liuhen.cases.choices import CaseKind, PartyKind
from liuhen.cases.forms import CaseFilterForm
from liuhen.cases.models import Case
from liuhen.cases.tests.factories import make_case, make_party
from liuhen.core.testing import TEST_TODAY

pytestmark = pytest.mark.django_db


@pytest.fixture
def cases(people, bureau, make_officer):
    """Five cases in team A (two opened the same day), two in team B, one in the levy section."""
    today = TEST_TODAY
    made = {"team_a": [], "team_b": [], "levy": []}
    person = make_party(actor=people["officer_a"].user, unit=bureau["team_a"],
                        kind=PartyKind.PERSON, name="李四光")
    for days, cause in [(3, "甲一"), (1, "甲二"), (1, "甲三"), (9, "甲四"), (0, "甲五")]:
        made["team_a"].append(make_case(
            actor=people["officer_a"].user, unit=bureau["team_a"],
            officers=[people["officer_a"], people["officer_a2"]], cause=cause,
            opened_on=today - timedelta(days=days), parties=[person] if days == 1 else ()))
    for days in (2, 1):
        made["team_b"].append(make_case(
            actor=people["officer_b"].user, unit=bureau["team_b"],
            officers=[people["officer_b"], people["officer_b2"]], cause=f"乙{days}",
            opened_on=today - timedelta(days=days)))
    levy = [make_officer(bureau["levy"]), make_officer(bureau["levy"])]
    made["levy"].append(make_case(actor=levy[0].user, unit=bureau["levy"], officers=levy,
                                  kind=CaseKind.LEVY, cause="征缴",
                                  opened_on=today - timedelta(days=1)))
    return made


def newest_first(*groups):
    ids = [c.pk for group in groups for c in group]
    return list(Case.objects.filter(pk__in=ids).order_by("-opened_on", "-id")
                .values_list("pk", flat=True))


def walk_api(api_client, **params):
    """Every page of GET /api/cases, following has_next; the ids in the order served."""
    ids, number = [], 1
    while True:
        body = api_client.get("/api/cases", page=number, **params).json()
        assert body["page"] == number
        ids += [item["id"] for item in body["items"]]
        if not body["has_next"]:
            return ids, body
        number += 1


@pytest.mark.parametrize(
    ("who", "groups"),
    [("officer_a", ["team_a"]),  # OWN
     ("head_a", ["team_a"]),  # TREE, a team without sub-units
     ("head_detachment", ["team_a", "team_b"]),  # TREE: the detachment's teams, not levy
     ("legal", ["team_a", "team_b", "levy"])],  # BUREAU
)
def test_api_pages_serve_every_case_in_scope_once_newest_first(people, cases, api, who, groups):
    expected = newest_first(*(cases[g] for g in groups))
    ids, last = walk_api(api(people[who]), page_size=2)
    assert ids == expected
    assert last["count"] == len(expected) and last["count_capped"] is False


def test_api_count_stops_at_the_cap_and_says_so(people, cases, api, monkeypatch):
    monkeypatch.setattr(queries, "COUNT_CAP", 3)
    client = api(people["legal"])
    expected = newest_first(cases["team_a"], cases["team_b"], cases["levy"])  # 8 cases
    first = client.get("/api/cases", page_size=2).json()
    assert (first["count"], first["count_capped"], first["has_next"]) == (3, True, True)
    assert [i["id"] for i in first["items"]] == expected[:2]
    # The rows do not stop at the cap: every page whose rows exist is served.
    ids, last = walk_api(client, page_size=2)
    assert ids == expected and last["page"] == 4
    assert (last["count"], last["count_capped"]) == (3, True)
    # A page past the end answers the last page, as before (Paginator.get_page).
    beyond = client.get("/api/cases", page_size=2, page=99).json()
    assert beyond["page"] == 4 and [i["id"] for i in beyond["items"]] == expected[6:]
    assert client.get("/api/cases", page=2**70).status_code == 200


def test_api_last_page_and_pages_past_the_cap_need_no_count(people, cases, api, monkeypatch):
    client = api(people["legal"])
    with CaptureQueriesContext(connection) as seen:
        body = client.get("/api/cases", page_size=3, page=3).json()  # rows 7-8 of 8
    assert len(body["items"]) == 2 and body["count"] == 8 and not body["has_next"]
    assert not [q for q in seen.captured_queries if "COUNT(" in q["sql"].upper()]
    monkeypatch.setattr(queries, "COUNT_CAP", 3)
    with CaptureQueriesContext(connection) as seen:
        body = client.get("/api/cases", page_size=2, page=2).json()  # rows 3-4: past the cap
    assert body["count_capped"] and body["has_next"]
    assert not [q for q in seen.captured_queries if "COUNT(" in q["sql"].upper()]


def test_page_counts_to_the_cap_and_keeps_its_pages_within_it(people, cases, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    monkeypatch.setattr(queries, "COUNT_CAP", 3)
    expected = newest_first(cases["team_a"], cases["team_b"])
    client = logged_in(people["head_detachment"])
    html = client.get(reverse("case_list")).content.decode()
    assert "共 超过 3 条 · 第 1 / 2 页" in html and "下一页" in html
    html = client.get(reverse("case_list"), {"page": "9"}).content.decode()
    assert "第 2 / 2 页" in html and "下一页" not in html and "上一页" in html
    shown = [pk for pk in expected if f'href="/cases/{pk}/"' in html]
    assert shown == expected[2:4]


def test_page_past_the_end_of_a_short_list_is_its_last_page(people, cases):
    """Used to be a 500: a page number past a list that fits on one page."""
    client = logged_in(people["officer_a"])
    for params in ({"q": "不存在的案由", "page": "3"}, {"q": "甲", "page": "7"}):
        response = client.get(reverse("case_list"), params)
        assert response.status_code == 200
    html = response.content.decode()
    assert "共 5 条 · 第 1 / 1 页" in html


def test_page_rows_show_the_same_cells_and_mask_persons(people, cases, bureau):
    html = logged_in(people["legal"]).get(reverse("case_list"), {"q": "甲三"}).content.decode()
    case = cases["team_a"][2]
    row = html[html.index(f'href="/cases/{case.pk}/"'):]
    row = row[:row.index("</tr>")]
    for cell in (case.number, "行政处罚", "甲三", "李**", "监察一大队", "程序启动",
                 case.opened_on.isoformat()):
        assert cell in row
    assert "李四光" not in html
    names = sorted([people["officer_a"].name, people["officer_a2"].name])
    assert "、".join(names) in row


def test_scope_outside_filters_find_nothing(people, cases, api):
    """A unit head filtering on another unit, or on its officer, gets no foreign case."""
    client = api(people["head_a"])
    assert client.get("/api/cases", unit=cases["team_b"][0].unit_id).json()["items"] == []
    assert client.get("/api/cases", officer=people["officer_b"].pk).json()["items"] == []
    assert client.get("/api/cases", q="乙").json()["count"] == 0


def test_party_filter_same_rows_by_ids_or_by_subquery(people, cases, api, monkeypatch):
    client = api(people["head_detachment"])
    by_ids = client.get("/api/cases", party="李四").json()
    monkeypatch.setattr(queries, "PARTY_IDS_INLINE", 0)  # more parties than inlined
    by_subquery = client.get("/api/cases", party="李四").json()
    assert by_ids == by_subquery
    assert [i["id"] for i in by_ids["items"]] == newest_first(cases["team_a"][1:3])


def test_unit_filter_includes_sub_units(people, cases, bureau, api):
    ids, _ = walk_api(api(people["legal"]), unit=bureau["detachment"].pk)
    assert ids == newest_first(cases["team_a"], cases["team_b"])


def test_filter_selects_keep_the_choice_and_escape_labels(people, bureau):
    bureau["team_b"].name = "<b>二大队</b>"
    bureau["team_b"].save()
    form = CaseFilterForm({"kind": "levy", "unit": str(bureau["team_a"].pk)},
                          user=people["head_detachment"].user)
    assert form.is_valid()
    kind = str(form["kind"])
    assert '<option value="levy" selected>行政征收</option>' in kind
    assert kind.count(" selected") == 1
    unit = str(form["unit"])
    assert f'<option value="{bureau["team_a"].pk}" selected>' in unit
    assert "&lt;b&gt;二大队&lt;/b&gt;" in unit and "<b>" not in unit
    assert '<option value="" selected>' in str(CaseFilterForm(None, user=people["legal"].user)["officer"])


@pytest.mark.parametrize("walk_order", [0, 10_000])
def test_officer_and_party_filters_find_the_same_cases_by_either_plan(
        people, cases, api, monkeypatch, walk_order):
    """0: every link filter walks the list order (EXISTS); 10,000: reads the links (IN)."""
    monkeypatch.setattr(queries, "LINKS_WALK_ORDER", walk_order)
    client = api(people["head_detachment"])
    ids, last = walk_api(client, page_size=2, officer=people["officer_a"].pk)
    assert ids == newest_first(cases["team_a"]) and last["count"] == 5
    ids, last = walk_api(client, page_size=1, officer=people["officer_a"].pk, party="李四")
    assert ids == newest_first(cases["team_a"][1:3]) and last["count"] == 2
    assert walk_api(client, officer=people["officer_b"].pk, party="李四")[0] == []
    html = logged_in(people["head_detachment"]).get(
        reverse("case_list"), {"officer": people["officer_b"].pk}).content.decode()
    assert "共 2 条" in html
    assert [pk for pk in newest_first(cases["team_b"]) if f"/cases/{pk}/" in html] == \
        newest_first(cases["team_b"])


def test_party_and_patrol_lists_past_their_end_show_the_last_page(people, bureau):
    """The same 500 as the case list had: page 3 of a list that fits on one page."""
    make_party(actor=people["officer_a"].user, unit=bureau["team_a"], name="某某公司")
    client = logged_in(people["officer_a"])
    for name in ("party_list", "patrol_list"):
        response = client.get(reverse(name), {"page": "3"})
        assert response.status_code == 200
        assert "第 1 / 1 页" in response.content.decode()


def test_filter_options_are_kept_a_minute_and_escaped(people, bureau, make_officer, settings,
                                                       frozen_clock):
    """Issue 9 item 3: the officer and unit options of the list filters are written once a
    minute per scope, not on every request; a new officer appears after that minute, a name
    is escaped, and the chosen option is still marked."""
    from liuhen.core.widgets import QuickSelect

    settings.FILTER_OPTIONS_SECONDS = 60
    QuickSelect._kept.clear()
    legal = people["legal"].user
    html = str(CaseFilterForm(None, user=legal)["officer"])
    assert f'<option value="{people["officer_a"].pk}">' in html
    newcomer = make_officer(bureau["team_a"])
    newcomer.name = "<b>新人</b>"
    newcomer.save(update_fields=["name"])
    with CaptureQueriesContext(connection) as queries_run:
        kept = str(CaseFilterForm({"officer": people["officer_b"].pk}, user=legal)["officer"])
    # No list of officers read (validating the bound choice still reads that one officer).
    assert not [q for q in queries_run if "org_officer" in q["sql"] and "LIMIT" not in q["sql"]]
    assert f'value="{newcomer.pk}"' not in kept
    assert f'<option value="{people["officer_b"].pk}" selected>' in kept
    # Another scope has options of its own.
    head = str(CaseFilterForm(None, user=people["head_a"].user)["officer"])
    assert f'value="{people["officer_b"].pk}"' not in head
    frozen_clock.shift(timedelta(seconds=61))
    fresh = str(CaseFilterForm(None, user=legal)["officer"])
    assert f'<option value="{newcomer.pk}">&lt;b&gt;新人&lt;/b&gt;' in fresh
    QuickSelect._kept.clear()
