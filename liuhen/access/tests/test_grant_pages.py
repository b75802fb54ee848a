"""Pages and API of access requests (第十六条): the request form, the approver's inbox and
decision, my requests and grants, the dashboard counts; each refusal audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import logged_in as _client
from liuhen.access import grants
from liuhen.access.models import AccessRequest, Grant
from liuhen.audit.models import AuditEntry
from liuhen.cases.tests.factories import make_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def case_a(people, bureau):
    return make_case(actor=people["officer_a"].user, unit=bureau["team_a"],
                     officers=[people["officer_a"], people["officer_a2"]])


def test_request_inbox_approve_and_mine_through_the_pages(people, case_a):
    officer = _client(people["officer_b"])
    url = f"/access/requests/new/?target=cases.case:{case_a.pk}"
    form = officer.get(url)
    assert form.status_code == 200 and "申请调阅" in form.content.decode()
    today = timezone.localdate()
    bad = officer.post(url, {"actions": ["view"], "reason": "", "wanted_from": today,
                             "wanted_until": today})
    assert bad.status_code == 400 and not AccessRequest.objects.exists()
    done = officer.post(url, {"actions": ["view", "copy"], "reason": "协查同一用人单位",
                              "wanted_from": today, "wanted_until": today + timedelta(days=3)})
    assert done.status_code == 302 and done["Location"] == "/access/mine/"
    request = AccessRequest.objects.get()

    head = _client(people["head_a"])
    inbox = head.get("/access/inbox/").content.decode()
    assert request.number in inbox and "协查同一用人单位" in inbox
    assert "调阅审批" in head.get("/").content.decode()  # nav and dashboard count
    assert 'id="access-counts"' in head.get("/").content.decode()
    assert request.number not in _client(people["officer_a"]).get("/access/inbox/").content.decode()

    decided = head.post(f"/access/requests/{request.pk}/decision/",
                        {"decision": "approve", "actions": ["view"],
                         "valid_until": today + timedelta(days=1), "note": "同意查阅"})
    assert decided.status_code == 302
    grant = Grant.objects.get()
    assert grant.actions == ["view"]
    mine = officer.get("/access/mine/").content.decode()
    assert grant.number in mine and "有效" in mine


def test_a_head_of_another_unit_cannot_decide(people, case_a):
    request = grants.create_request(
        requester=people["officer_b"].user, target_type="cases.case", target_id=case_a.pk,
        actions=["view"], reason="复核", wanted_until=timezone.localdate())
    other = people["officer_a"]
    response = _client(other).post(f"/access/requests/{request.pk}/decision/",
                                   {"decision": "approve"})
    assert response.status_code == 404
    denied = AuditEntry.objects.get(action=grants.event_request_approved, outcome="denied")
    assert denied.actor_id == other.user.pk and denied.object_id == str(request.pk)
    assert not Grant.objects.exists()


def test_api_request_inbox_decide_and_revoke(people, case_a, api):
    officer, head = api(people["officer_b"]), api(people["head_a"])
    until = (timezone.localdate() + timedelta(days=5)).isoformat()
    created = officer.post("/api/access/requests", {
        "target_type": "cases.case", "target_id": case_a.pk, "actions": ["view", "export"],
        "reason": "行政复议答复需要", "wanted_until": until})
    assert created.status_code == 201, created.content
    request_id = created.json()["id"]
    assert [r["id"] for r in head.get("/api/access/inbox").json()] == [request_id]
    assert officer.get("/api/access/inbox").json() == []

    refused = api(people["officer_a"]).post(f"/api/access/requests/{request_id}/decision",
                                            {"decision": "approve"})
    assert refused.status_code == 404 and refused.json()["code"] == "not_found"
    approved = head.post(f"/api/access/requests/{request_id}/decision",
                         {"decision": "approve", "actions": ["view"]})
    assert approved.status_code == 200 and approved.json()["actions"] == ["view"]
    grant_id = approved.json()["id"]
    assert [g["id"] for g in officer.get("/api/access/grants").json()] == [grant_id]

    bad = officer.post("/api/access/requests", {"target_type": "cases.case",
                                                 "target_id": case_a.pk, "actions": ["view"],
                                                 "reason": "", "wanted_until": until})
    assert bad.status_code == 400 and "工作事由" in bad.json()["message"]
    revoked = head.post(f"/api/access/grants/{grant_id}/revoke", {"reason": "已答复"})
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]


def test_the_case_page_says_on_what_right_and_offers_a_request(people, case_a, grant_access):
    url = f"/cases/{case_a.pk}/"
    mine = _client(people["officer_a"]).get(url).content.decode()
    assert 'id="case-access"' in mine and "依职权（第十六条）" in mine
    leader = _client(people["leader"])
    page = leader.get(url).content.decode()
    assert "须因工作需要" in page and f"?target=cases.case:{case_a.pk}" in page
    grant = grant_access(people["leader"], people["head_a"], case_a)
    assert grant.number in leader.get(url).content.decode()
