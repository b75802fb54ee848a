"""待办 (issue 13 item 2): what waits for each person, from one registry of providers.

Per role: the unit head finds the access request (第十六条) and the approval (第十九条) of his
unit, the officer who asked does not; the legal affairs office finds the 法制审核 the law
gives it (行政处罚法第五十八条); the device keeper finds a camera past its maintenance date
(第二十一条); the officer finds his case's deadline once the reminder starts. The page, the
count in the navigation and the dashboard read the same sections.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import logged_in
from liuhen.access import grants
from liuhen.cases.tests.factories import make_case
from liuhen.core import inbox
from liuhen.core.inbox import InboxItem, InboxSection
from liuhen.records import services as rs
from liuhen.records.choices import ApprovalAction

pytestmark = pytest.mark.django_db


def _keys(user) -> dict[str, int]:
    return {s.key: s.count for s in inbox.sections(user)}


@pytest.fixture
def case_a(people, bureau):
    return make_case(actor=people["officer_a"].user, unit=bureau["team_a"],
                     officers=[people["officer_a"], people["officer_a2"]])


def test_registry_orders_providers_and_drops_empty_sections(people):
    user = people["officer_a"].user
    try:
        inbox.register("zz_test_empty", lambda u, limit: InboxSection("zz_test_empty", "空", 0))
        inbox.register("zz_test_none", lambda u, limit: None)
        inbox.register("zz_test_two", lambda u, limit: InboxSection(
            "zz_test_two", "两项", 2, [InboxItem("一", "/"), InboxItem("二", "/")][:limit]),
            order=1)
        found = inbox.sections(user)
        assert found[0].key == "zz_test_two" and len(found[0].items) == 2
        assert "zz_test_empty" not in _keys(user) and "zz_test_none" not in _keys(user)
        assert inbox.total(user) == sum(s.count for s in found)
        assert inbox.sections(user, limit=1)[0].items == [InboxItem("一", "/")]
    finally:
        for key in ("zz_test_empty", "zz_test_none", "zz_test_two"):
            inbox.unregister(key)
    assert "zz_test_two" not in _keys(user)


def test_access_request_waits_for_the_owning_units_head(people, case_a):
    """第十六条: the request goes to the heads of the owning unit, not to the requester."""
    grants.create_request(requester=people["officer_b"].user, target_type="cases.case",
                          target_id=case_a.pk, actions=["view"], reason="复核证据",
                          wanted_until=timezone.localdate() + timedelta(days=3))
    assert _keys(people["head_a"].user).get("access_requests") == 1
    assert _keys(people["head_detachment"].user).get("access_requests") == 1
    for who in ("officer_b", "officer_a", "leader", "legal"):
        assert "access_requests" not in _keys(people[who].user)


def test_approval_waits_for_whom_the_law_names(people, case_a):
    """第十九条 and approvals.toml: 立案 is decided by the unit head; 法制审核 by the legal
    affairs office (行政处罚法第五十八条); nobody decides his own request."""
    rs.request_approval(actor=people["officer_a"].user, case=case_a, action=ApprovalAction.FILING)
    rs.request_approval(actor=people["officer_a"].user, case=case_a,
                        action=ApprovalAction.LEGAL_REVIEW)
    head = inbox.sections(people["head_a"].user)
    approvals = next(s for s in head if s.key == "approvals")
    assert approvals.count == 1
    assert approvals.items[0].url == f"/cases/{case_a.pk}/records/#approvals"
    assert "立案" in approvals.items[0].title
    legal = next(s for s in inbox.sections(people["legal"].user) if s.key == "approvals")
    assert legal.count == 1 and "法制审核" in legal.items[0].title
    for who in ("officer_a", "officer_a2", "officer_b", "device_keeper"):
        assert "approvals" not in _keys(people[who].user)
    # A head who asked himself does not find his own request.
    own = make_case(actor=people["head_a"].user, unit=case_a.unit,
                    officers=[people["officer_a"], people["officer_a2"]])
    rs.request_approval(actor=people["head_a"].user, case=own, action=ApprovalAction.FILING)
    assert _keys(people["head_a"].user)["approvals"] == 1
    assert _keys(people["head_detachment"].user)["approvals"] == 2


def test_device_past_its_maintenance_date_waits_for_the_device_keeper(people, bureau,
                                                                      frozen_clock, settings):
    """第二十一条: 定期维护保养 is due ``LIUHEN_DEVICE_MAINTENANCE_DAYS`` after registration."""
    from liuhen.devices.services import register_device

    keeper = people["device_keeper"].user
    register_device(actor=keeper, number="DSJ-A-009", kind="body_camera", unit=bureau["team_a"],
                    model_name="DSJ-V9")
    assert "device_maintenance" not in _keys(keeper)
    frozen_clock.shift(timedelta(days=settings.DEVICE_MAINTENANCE_DAYS + 1))
    section = next(s for s in inbox.sections(keeper) if s.key == "device_maintenance")
    assert section.count == 1 and "DSJ-A-009" in section.items[0].title
    assert section.items[0].overdue
    assert "device_maintenance" not in _keys(people["officer_a"].user)


def test_the_officers_deadline_appears_when_the_reminder_starts(people, bureau):
    """A case opened long ago: its statutory deadlines are due or past; they wait for the
    officers who handle it, and the unit head sees the overdue ones of his unit."""
    from liuhen.deadlines.queries import visible_entries

    today = timezone.localdate()
    case = make_case(actor=people["officer_a"].user, unit=bureau["team_a"],
                     officers=[people["officer_a"], people["officer_a2"]],
                     opened_on=today - timedelta(days=200))
    entries = visible_entries(people["officer_a"].user).filter(case=case, warn_from__lte=today)
    assert entries.exists(), "a case opened 200 days ago has deadlines to remind of"
    mine = next(s for s in inbox.sections(people["officer_a"].user) if s.key == "my_deadlines")
    assert mine.count == entries.count()
    assert mine.overdue == entries.filter(due__lt=today).count()
    assert all(i.url == f"/cases/{case.pk}/" for i in mine.items)
    assert "my_deadlines" not in _keys(people["officer_b"].user)
    if mine.overdue:
        assert _keys(people["head_a"].user)["unit_overdue_deadlines"] == mine.overdue
        assert "unit_overdue_deadlines" not in _keys(people["officer_a"].user)


def test_page_count_and_dashboard_agree_for_every_role(people, case_a):
    rs.request_approval(actor=people["officer_a"].user, case=case_a, action=ApprovalAction.FILING)
    for who, person in people.items():
        client = logged_in(person.user)
        page = client.get("/inbox/")
        assert page.status_code == 200, who
        html = page.content.decode()
        total = inbox.total(person.user)
        assert f"共 {total} 项" in html
        count = client.get("/inbox/count/", HTTP_HX_REQUEST="true").content.decode().strip()
        assert count == (f'<span class="badge bad" title="待办事项">{total}</span>' if total
                         else ""), who
        dashboard = client.get("/").content.decode()
        assert 'hx-get="/inbox/count/"' in dashboard  # the navigation asks for the count
        if total:
            assert "查看全部待办" in dashboard
    head_page = logged_in(people["head_a"].user).get("/inbox/").content.decode()
    assert f'href="/cases/{case_a.pk}/records/#approvals"' in head_page
    assert "内部审批待决定（1 项）" in head_page


def test_inbox_needs_login(client):
    assert client.get("/inbox/").status_code == 302
    assert client.get("/inbox/count/").status_code == 302


def test_deadline_counts_are_kept_briefly_per_scope(people, bureau, settings, monkeypatch):
    """Issue 9 item 3: the overdue deadlines of a scope are counted once per
    DEADLINE_SUMMARY_SECONDS (core.kept), not on every dashboard; another scope (team A's head,
    the detachment's head) has its own count; after the window the count is fresh."""
    from liuhen.core import kept

    settings.DEADLINE_SUMMARY_SECONDS = 30
    clock = {"now": 1000.0}
    monkeypatch.setattr(kept.time, "monotonic", lambda: clock["now"])
    monkeypatch.setattr(kept, "_kept", {})
    today = timezone.localdate()

    def open_case():
        make_case(actor=people["officer_a"].user, unit=bureau["team_a"],
                  officers=[people["officer_a"], people["officer_a2"]],
                  opened_on=today - timedelta(days=200))

    open_case()
    head_a, head_d = people["head_a"].user, people["head_detachment"].user
    first = _keys(head_a)["unit_overdue_deadlines"]
    assert first > 0
    open_case()
    clock["now"] += 29
    assert _keys(head_a)["unit_overdue_deadlines"] == first  # kept
    assert _keys(head_d)["unit_overdue_deadlines"] == 2 * first  # its own scope, counted now
    clock["now"] += 2
    assert _keys(head_a)["unit_overdue_deadlines"] == 2 * first  # fresh after the window
    settings.DEADLINE_SUMMARY_SECONDS = 0
    open_case()
    assert _keys(head_a)["unit_overdue_deadlines"] == 3 * first  # 0: nothing kept
