"""Recording list queries (第十八条 classification) and the late report (第十三条).

Rows are bulk-created here (the list reads rows only): the pagination and filters are about
the table, not the stored bytes, which other tests cover.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta

import pytest

from liuhen.cases.tests.factories import make_case, make_party
from liuhen.evidence import queries
from liuhen.evidence.models import Recording

pytestmark = pytest.mark.django_db

BASE = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def make_rows(unit, user, n, *, start=BASE, step=timedelta(minutes=7), **fields):
    """``n`` recordings of ``unit``, one every ``step`` from ``start`` (some share a time)."""
    rows = []
    for i in range(n):
        captured = start + step * (i // 2)  # pairs share a capture time: tests the id tiebreak
        digest = hashlib.sha256(f"{unit.pk}-{i}-{fields}-{start}".encode()).hexdigest()
        rows.append(
            Recording(
                kind=fields.get("kind", "video"),
                original_name=f"r{i}.mp4",
                size=1000 + i,
                media_type="video/mp4",
                captured_start=captured,
                capture_time_source="metadata",
                unit=unit,
                sha256=digest,
                sm3=digest,
                storage_key=f"sha256/{digest}",
                uploaded_by=user,
                channel="web",
                stored_at=captured + timedelta(hours=1),
                deadline_at=captured + timedelta(days=1),
                **{k: v for k, v in fields.items() if k != "kind"},
            )
        )
    return Recording.objects.bulk_create(rows)


def test_keyset_pages_cover_everything_once_in_order(people, bureau):
    user = people["officer_a"].user
    make_rows(bureau["team_a"], user, 23)
    make_rows(bureau["team_b"], user, 5)
    seen, cursor, pages = [], None, 0
    while True:
        page = queries.recording_page(user=user, filters={}, cursor=cursor, page_size=5)
        seen += page.rows
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert pages == 5 and len(seen) == 23  # team B's rows are not visible to officer_a
    assert len({r.pk for r in seen}) == 23
    keys = [(r.captured_start, r.pk) for r in seen]
    assert keys == sorted(keys, reverse=True)
    assert all(r.unit_id == bureau["team_a"].pk for r in seen)


def test_forged_cursor_is_ignored(people, bureau):
    user = people["officer_a"].user
    make_rows(bureau["team_a"], user, 3)
    for cursor in ("!!!", "bm90IGEgY3Vyc29y", ""):
        assert len(queries.recording_page(user=user, filters={}, cursor=cursor).rows) == 3


def test_filters(people, bureau):
    user = people["keeper_a"].user
    officer = people["officer_a"]
    team_a = bureau["team_a"]
    case = make_case(
        actor=officer.user,
        unit=team_a,
        officers=[officer, people["officer_a2"]],
        cause="拖欠农民工工资案",
    )
    party = make_party(actor=officer.user, unit=team_a, name="某建筑劳务有限公司")
    linked = make_rows(
        team_a, user, 2, case=case, party=party, officer=officer, start=BASE - timedelta(days=10)
    )
    late = make_rows(team_a, user, 3, is_late=True, late_seconds=7200, kind="photo")
    flagged = make_rows(team_a, user, 1, is_flagged=True, flags=["device_faulty"])

    def ids(**filters):
        return {r.pk for r in queries.recording_page(user=user, filters=filters).rows}

    assert ids(case=case.number) == ids(case="农民工") == {r.pk for r in linked}
    assert ids(party="劳务") == {r.pk for r in linked}
    assert ids(officer=officer) == {r.pk for r in linked}
    assert ids(late=True) == ids(kind="photo") == {r.pk for r in late}
    assert ids(flagged=True) == {r.pk for r in flagged}
    day = (BASE - timedelta(days=10)).date()
    assert ids(start=day, end=day) == {r.pk for r in linked}
    assert ids(start=date(2030, 1, 1)) == set()
    assert ids(unit=bureau["detachment"]) == ids()  # sub-units included
    assert ids(unit=bureau["team_b"]) == set()
    assert ids(case="不存在的案由") == set()


def test_late_report_groups_by_unit_and_uploader(people, bureau):
    """第十三条: how late and by whom, per unit, in a period of storage dates."""
    a, b = people["officer_a"].user, people["officer_b"].user
    make_rows(bureau["team_a"], a, 2, is_late=True, late_seconds=3 * 3600)
    make_rows(bureau["team_b"], b, 1, is_late=True, late_seconds=2 * 86400)
    make_rows(bureau["team_b"], b, 4)  # on time
    report = queries.late_report(user=people["legal"].user)
    assert report.total == 3
    assert [r.late_seconds for r in report.rows] == [2 * 86400, 3 * 3600, 3 * 3600]
    per_unit = {row["unit__name"]: (row["n"], row["worst"]) for row in report.per_unit}
    assert per_unit == {"监察一大队": (2, 3 * 3600), "监察二大队": (1, 2 * 86400)}
    assert {row["uploaded_by__username"] for row in report.per_uploader} == {a.username, b.username}
    # Head of team A sees only team A; a period without late uploads is empty.
    assert queries.late_report(user=people["head_a"].user).total == 2
    assert queries.late_report(user=people["legal"].user, start=date(2030, 1, 1)).total == 0
    assert queries.late_report(user=people["officer_a"].user).total == 0  # no permission


def test_human_duration():
    assert queries.human_duration(0) == "0分"
    assert queries.human_duration(59) == "1分"
    assert queries.human_duration(3 * 3600 + 120) == "3小时2分"
    assert queries.human_duration(2 * 86400 + 3600) == "2天1小时"


def _walk(user, filters, page_size):
    rows, cursor = [], None
    while True:
        page = queries.recording_page(user=user, filters=filters, cursor=cursor,
                                      page_size=page_size)
        rows += [r.pk for r in page.rows]
        if page.next_cursor is None:
            return rows
        cursor = page.next_cursor


@pytest.mark.parametrize(
    ("who", "filters"),
    [("head_detachment", {}),  # TREE scope: the detachment's units merged one by one
     ("head_detachment", {"kind": "audio"}),  # a kind the units never recorded
     ("head_detachment", {"start": date(2026, 3, 2), "end": date(2026, 3, 2)}),
     ("legal", {"unit": "detachment"}),  # a unit filter with sub-units
     ("officer_a", {"unit": "detachment"}),  # OWN scope inside the filter: one unit
     ("head_detachment", {"late": True})],  # not merged: the late index finds them
)
def test_unit_by_unit_pages_are_the_same_rows_in_the_same_order(people, bureau, monkeypatch,
                                                                 who, filters):
    """Reading each unit's newest rows and merging them changes nothing a user sees."""
    user = people["officer_a"].user
    # Same capture times in several units: the merge must break ties by id like one query.
    make_rows(bureau["team_a"], user, 11)
    make_rows(bureau["team_b"], user, 9)
    make_rows(bureau["detachment"], user, 3, step=timedelta(minutes=14))
    make_rows(bureau["levy"], user, 6)  # outside the detachment: never shown
    make_rows(bureau["team_b"], user, 4, is_late=True, start=BASE + timedelta(minutes=3))
    if filters.get("unit") == "detachment":
        filters = {**filters, "unit": bureau["detachment"]}
    viewer = people[who].user
    merged = _walk(viewer, filters, page_size=4)
    monkeypatch.setattr(queries, "_units_to_merge", lambda user, filters: None)
    assert merged == _walk(viewer, filters, page_size=4)
    visible = Recording.objects.restrict(viewer, "recording.view")
    if filters.get("unit"):
        visible = visible.filter(unit__path__startswith=bureau["detachment"].path)
    visible = queries.filter_recordings(visible, {k: v for k, v in filters.items() if k != "unit"})
    assert merged == list(visible.order_by("-captured_start", "-id").values_list("pk", flat=True))
    assert not Recording.objects.filter(pk__in=merged, unit=bureau["levy"]).exists()


def test_units_to_merge_only_for_several_units_without_a_driving_filter(people, bureau):
    head, legal = people["head_detachment"].user, people["legal"].user
    units = queries._units_to_merge(head, {})
    assert set(units) == {bureau["detachment"].pk, bureau["team_a"].pk, bureau["team_b"].pk}
    assert queries._units_to_merge(head, {"unit": bureau["team_a"]}) is None  # one unit
    assert queries._units_to_merge(head, {"party": "某"}) is None
    assert queries._units_to_merge(legal, {}) is None  # bureau-wide: no unit list at all
    assert queries._units_to_merge(people["officer_a"].user, {"unit": bureau["detachment"]}) \
        is None


def test_case_and_party_searches_page_newest_first_with_ties(people, bureau):
    """Case and party searches sort their matches themselves (not through the time index):
    still newest first, ties by id, every match once across keyset pages."""
    officer = people["officer_a"]
    case = make_case(actor=officer.user, unit=bureau["team_a"],
                     officers=[officer, people["officer_a2"]], cause="拖欠工资案")
    party = make_party(actor=officer.user, unit=bureau["team_a"], name="某劳务公司")
    linked = make_rows(bureau["team_a"], officer.user, 9, case=case, party=party)
    make_rows(bureau["team_a"], officer.user, 5)  # same times, not linked
    expected = [r.pk for r in sorted(linked, key=lambda r: (r.captured_start, r.pk),
                                     reverse=True)]
    for filters in ({"case": "拖欠工资"}, {"party": "劳务"}):
        for who in ("officer_a", "head_detachment", "legal"):
            assert _walk(people[who].user, filters, page_size=2) == expected
