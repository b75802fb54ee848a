"""The case page and the recording page in a bounded number of queries (issue 9 item 3).

Under load on PostgreSQL (bench/bench_pages_load.py, 10 users per role on a million
recordings) both cores were busy and the two pages missed their p95: each made 35-43
queries, a third of them the same question asked again: the session user's officer and unit,
who handles the case, its confidentiality marks, the user's grants, the legal affairs office's
spot checks, whether the recording just found was in scope for copying, marking and linking.
Each is now asked once per page. What is checked did not change: the pages still refuse and
audit as before (web/tests/test_access_every_page.py), and the read is still audited
(第二十六条 (三)).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import last_entry, logged_in
from liuhen.access.models import Grant
from liuhen.cases.tests.factories import make_case, make_party
from liuhen.disclosure.models import ConfidentialityMark
from liuhen.evidence.links import add_case_link, link_recording
from liuhen.evidence.models import Mark
from liuhen.org.models import Officer
from liuhen.records.models import Document
from liuhen.supervision.models import SpotCheckItem

pytestmark = pytest.mark.django_db

# Measured on this commit (SQLite counts the audit append as its head read and its INSERT in
# a transaction of their own, PostgreSQL as one statement); before it the case page took
# 33-37 queries and the recording page 34-41.
CASE_PAGE_QUERIES = 23  # 25 before the case's documents and the uploader were read once
RECORDING_PAGE_QUERIES = 27  # 29 before the marks and the uploader were


def _count(captured, table: str) -> int:
    return sum(f'"{table}"' in q["sql"] and q["sql"].lstrip().upper().startswith("SELECT")
               for q in captured.captured_queries)


def _officer_by_user(captured, user_id: int) -> int:
    """Queries that load the session user's officer on its own (not joined to the user)."""
    table = Officer._meta.db_table
    return sum(q["sql"].startswith(f'SELECT "{table}"."id"')
               and f'"{table}"."user_id" = {user_id} ' in q["sql"]
               for q in captured.captured_queries)


@pytest.fixture
def case_with_recording(people, bureau, stored_recording):
    """Team A's case with two officers and a party, and a recording that is evidence in it and
    in a second case (the bench's world: half of the cases have recordings)."""
    actor = people["officer_a"].user
    party = make_party(actor=actor, unit=bureau["team_a"])
    case = make_case(actor=actor, unit=bureau["team_a"], parties=[party],
                     officers=[people["officer_a"], people["officer_a2"]])
    other = make_case(actor=actor, unit=bureau["team_a"],
                      officers=[people["officer_a"], people["officer_a2"]])
    recording = stored_recording()
    link_recording(actor=actor, recording=recording, case=case, party=party)
    add_case_link(actor=actor, recording=recording, case=other, reason="同一次检查")
    return case, recording


def _second_view(officer, path: str, budget: int, assert_max_num_queries):
    """The page's queries when ``officer`` opens it the second time (templates and first-use
    caches warm), with the questions every page asks once: the session user's officer (joined
    to the user), their grants in force, the confidentiality marks (the level, the panel's
    rows), the legal affairs office's spot checks."""
    client = logged_in(officer)
    client.get(path)
    with assert_max_num_queries(budget), CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    assert _officer_by_user(captured, officer.user.pk) == 0
    assert _count(captured, Grant._meta.db_table) <= 1
    assert _count(captured, ConfidentialityMark._meta.db_table) <= 2
    assert _count(captured, SpotCheckItem._meta.db_table) <= 1
    return captured


@pytest.mark.parametrize("role", ["head_detachment", "legal"])
def test_the_case_page_asks_each_question_once(people, case_with_recording, role,
                                               django_assert_max_num_queries):
    case, _ = case_with_recording
    captured = _second_view(people[role], f"/cases/{case.pk}/", CASE_PAGE_QUERIES,
                            django_assert_max_num_queries)
    # Who handles the case: read with the officers the page lists.
    officers = 'FROM "org_officer" INNER JOIN "cases_case_officers"'
    assert sum(officers in q["sql"] for q in captured.captured_queries) == 1
    # Its documents: once for the deadlines, the retention (decided?) and the copies panels.
    table = Document._meta.db_table
    assert sum(q["sql"].startswith(f'SELECT "{table}"."id"') or f'FROM "{table}" WHERE' in q["sql"]
               for q in captured.captured_queries) == 1, [q["sql"][:120] for q in
                                                           captured.captured_queries]
    entry = last_entry("case.viewed")
    assert (entry.actor_id, entry.object_id) == (people[role].user.pk, str(case.pk))


@pytest.mark.parametrize("role", ["head_detachment", "legal"])
def test_the_recording_page_asks_each_question_once(people, case_with_recording, role,
                                                    django_assert_max_num_queries):
    _, recording = case_with_recording
    captured = _second_view(people[role], f"/recordings/{recording.pk}/",
                            RECORDING_PAGE_QUERIES, django_assert_max_num_queries)
    # In scope for viewing, copying, marking and linking: the lookup that found it answers
    # for every action with the same scope; a unit head's four were one scope.
    exists = [q["sql"] for q in captured.captured_queries
              if q["sql"].startswith(('SELECT 1 AS "a" FROM "evidence_recording"',
                                      'SELECT %s AS "a" FROM "evidence_recording"'))]
    assert len(exists) <= (0 if role == "head_detachment" else 1), exists
    # Its marks: once for the player and the retention panel (a refusal to sign, 第十五条);
    # the uploader with their officer in one query.
    assert _count(captured, Mark._meta.db_table) == 1
    uploader = [q["sql"] for q in captured.captured_queries
                if q["sql"].startswith('SELECT "auth_user"."id"')]
    assert len(uploader) == 2 and '"org_officer"' in uploader[-1]  # the session's, the uploader
    entry = last_entry("recording.viewed")
    assert (entry.actor_id, entry.object_id) == (people[role].user.pk, str(recording.pk))


def test_a_page_still_refuses_what_is_out_of_scope(people, case_with_recording):
    """Remembered answers are per request and per scope: team B's officer is refused both
    pages (404, audited), whatever the previous requests of others found."""
    case, recording = case_with_recording
    logged_in(people["head_detachment"]).get(f"/recordings/{recording.pk}/")
    outsider = logged_in(people["officer_b"])
    assert outsider.get(f"/cases/{case.pk}/").status_code == 404
    assert outsider.get(f"/recordings/{recording.pk}/").status_code == 404
    entry = last_entry()
    assert (entry.outcome, entry.actor_id) == ("denied", people["officer_b"].user.pk)


def test_the_dashboard_counts_an_approvers_requests_once(people, case_with_recording,
                                                         grant_access):
    """待我审批 on a unit head's dashboard is the inbox's own count of the requests waiting for
    them (第十六条), and the grants in force come from the page's one read of them."""
    from liuhen.access import grants
    from liuhen.access.models import AccessRequest

    case, recording = case_with_recording
    grant_access(people["officer_b"], people["head_detachment"], case)  # one in force
    grants.create_request(requester=people["officer_b"].user, target_type="evidence.recording",
                          target_id=recording.pk, actions=["view"], reason="办案需要",
                          wanted_until=timezone.localdate() + timedelta(days=6))
    head = logged_in(people["head_detachment"])
    head.get("/")
    with CaptureQueriesContext(connection) as captured:
        page = head.get("/").content.decode()
    assert "<b>1</b><span>待我审批</span>" in page
    assert _count(captured, AccessRequest._meta.db_table) == 2  # waiting for them; their own
    requester = logged_in(people["officer_b"])
    with CaptureQueriesContext(connection) as captured:
        page = requester.get("/").content.decode()
    assert "<b>1</b><span>我的有效授权</span>" in page
    assert _count(captured, Grant._meta.db_table) == 1
