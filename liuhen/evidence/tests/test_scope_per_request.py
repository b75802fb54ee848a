"""A unit head's scope is read once per page, not once per ``restrict()`` (issue 9 item 3).

Every ``restrict()`` of a unit-scoped user needed three facts: the units below theirs, their
grants in force (第十六条) and the recordings other units linked to their cases. A recording
page asked ``restrict()`` four times and read them four times. They are now read once per
reading request (``core.per_request``) and never kept beyond it: a grant approved between two
pages counts on the next one, and a write (POST) reads afresh.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import logged_in
from liuhen.access.models import Grant
from liuhen.audit.models import AuditEntry
from liuhen.core import per_request
from liuhen.evidence import events
from liuhen.evidence.models import CaseLink
from liuhen.org.models import Unit

pytestmark = pytest.mark.django_db


def _reads(captured, table: str) -> int:
    return sum(
        f'"{table}"' in q["sql"] and q["sql"].lstrip().upper().startswith("SELECT")
        for q in captured.captured_queries
    )


def _active_link_reads(captured) -> int:
    """Queries of one recording's active links (the page's list of all its links, ended ones
    included, is another question)."""
    table = CaseLink._meta.db_table
    found = 0
    for q in captured.captured_queries:
        if f'FROM "{table}"' not in q["sql"] or " WHERE " not in q["sql"]:
            continue
        where = q["sql"].split(" WHERE ", 1)[1].split(" ORDER BY ")[0]
        found += f'"{table}"."ended_at" IS NULL' in where and f'"{table}"."recording_id" =' in where
    return found


def _scope_reads(client, path: str) -> dict[str, int]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, path
    return {
        # sub_unit_ids: the ids of the units under a path (the filter forms' option lists
        # read whole rows of their own).
        "sub_units": sum(
            q["sql"].startswith(f'SELECT "{Unit._meta.db_table}"."id" AS "pk" FROM')
            and "LIKE" in q["sql"].upper()
            for q in captured.captured_queries
        ),
        "grants": _reads(captured, Grant._meta.db_table),
        "active_links": _active_link_reads(captured),
        # linked_recording_ids: recording ids of the links of the units' cases.
        "cross_unit_links": sum(
            q["sql"].startswith(f'SELECT "{CaseLink._meta.db_table}"."recording_id"')
            and 'JOIN "cases_case"' in q["sql"]
            for q in captured.captured_queries
        ),
    }


def test_a_unit_heads_recording_page_reads_the_scope_once(people, stored_recording):
    """The detachment head's recording page (a team's recording, 第十六条 by right of the
    approver): each scope fact read at most once, and the read still audited
    (第二十六条 (三))."""
    recording = stored_recording()
    head = logged_in(people["head_detachment"])
    head.get(f"/recordings/{recording.pk}/")  # templates and first-use caches
    reads = _scope_reads(head, f"/recordings/{recording.pk}/")
    assert reads["sub_units"] == 1, reads
    assert reads["grants"] <= 2, reads  # the scope's, and the copy right's own grant lookup
    assert reads["cross_unit_links"] <= 1, reads
    # Its active case links (access, retention, long-term marks, holds, confidentiality):
    # once, where each asked again (ten queries).
    assert reads["active_links"] <= 1, reads
    assert (
        AuditEntry.objects.filter(
            action=events.event_recording_viewed,
            actor_id=people["head_detachment"].user.pk,
            object_id=str(recording.pk),
        ).count()
        == 2
    )


@pytest.mark.parametrize("path", ["/recordings/", "/cases/", "/"])
def test_a_unit_heads_lists_and_dashboard_read_the_sub_units_once(people, stored_recording, path):
    stored_recording()
    head = logged_in(people["head_detachment"])
    head.get(path)
    reads = _scope_reads(head, path)
    assert reads["sub_units"] <= 1, reads
    # The scope's grants, and on the dashboard the count of one's own grants it shows.
    assert reads["grants"] <= (2 if path == "/" else 1), reads
    assert reads["cross_unit_links"] <= 1, reads


def test_a_grant_counts_from_the_next_page(people, stored_recording, grant_access):
    """Nothing outlives its request: a grant approved between two pages opens the second
    (第十六条: checked at every request)."""
    recording = stored_recording()  # team A's
    outsider = logged_in(people["officer_b"])
    assert outsider.get(f"/recordings/{recording.pk}/").status_code == 404
    grant_access(people["officer_b"], people["head_detachment"], recording)
    assert outsider.get(f"/recordings/{recording.pk}/").status_code == 200


def test_remembered_only_inside_a_reading_request():
    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    assert per_request.remembered("k", compute) == 1  # outside a request: every time
    assert per_request.remembered("k", compute) == 2
    with per_request.remembering():
        assert per_request.remembered("k", compute) == 3
        assert per_request.remembered("k", compute) == 3  # kept for the request
        assert per_request.remembered("other", compute) == 4
    assert per_request.remembered("k", compute) == 5  # gone with the request

    seen = []
    middleware = per_request.PerRequestMiddleware(
        lambda request: seen.append(per_request._memo.get() is not None)
    )
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"):
        middleware(type("Request", (), {"method": method})())
    assert seen == [True, True, False, False, False, False]
