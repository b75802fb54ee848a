"""Access requests and grants (第十六条): ask, approve (narrowed), refuse, revoke, expire; the
by-right table; the approver is the head of the owning unit, never the requester."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from liuhen.access import grants, use
from liuhen.access.choices import UseAction
from liuhen.access.models import AccessRequest, Grant
from liuhen.audit.models import AuditEntry
from liuhen.cases.models import Case
from liuhen.cases.tests.factories import make_case
from liuhen.core.errors import Conflict, Forbidden, InvalidInput, NotFound

pytestmark = pytest.mark.django_db


@pytest.fixture
def case_a(people, bureau):
    return make_case(actor=people["officer_a"].user, unit=bureau["team_a"],
                     officers=[people["officer_a"], people["officer_a2"]])


def _ask(officer, obj, actions=("view",), days=7, **kwargs):
    meta = obj._meta
    return grants.create_request(
        requester=officer.user, target_type=f"{meta.app_label}.{meta.model_name}",
        target_id=obj.pk, actions=list(actions), reason=kwargs.pop("reason", "复核证据"),
        wanted_until=timezone.localdate() + timedelta(days=days - 1), **kwargs)


def test_the_case_officers_and_the_unit_heads_use_by_right(people, case_a):
    """The by-right table: the case's own officers while it is handled, the heads of the
    owning unit and above; nobody else, and nobody copies by right."""
    for who, right in [("officer_a", "case_officer"), ("officer_a2", "case_officer"),
                       ("head_a", "unit_head"), ("head_detachment", "unit_head"),
                       ("keeper_a", "records_keeper")]:
        assert use.right_for(people[who].user, case_a, "view").right == right
    for who in ("officer_b", "leader", "legal", "keeper_a", "head_a"):
        assert use.right_for(people[who].user, case_a, "copy") is None
    for who in ("officer_b", "leader", "legal"):
        assert use.right_for(people[who].user, case_a, "view") is None

    Case.objects.filter(pk=case_a.pk).update(archived_at=timezone.now())
    case_a.refresh_from_db()
    assert use.right_for(people["officer_a"].user, case_a, "view") is None  # no longer handled
    assert use.right_for(people["head_a"].user, case_a, "view").right == "unit_head"


def test_every_by_right_row_cites_its_article():
    assert {row.code for row in use.BY_RIGHT} == {"case_officer", "producer", "unit_head",
                                                  "records_keeper", "spot_check"}
    for row in use.BY_RIGHT:
        assert row.article.startswith("第") and row.actions == {UseAction.VIEW}


def test_spot_check_hook_lets_the_legal_office_view(people, case_a, monkeypatch):
    """第二十三条: the supervision app registers who reviews what in a spot check."""
    legal = people["legal"].user
    assert use.right_for(legal, case_a, "view") is None
    monkeypatch.setattr(use, "spot_check_providers", [])
    use.register_spot_check_provider(lambda user, target: target.id == str(case_a.pk))
    assert use.right_for(legal, case_a, "view").right == "spot_check"
    # Only the legal affairs office gets this row.
    assert use.right_for(people["leader"].user, case_a, "view") is None


def test_request_goes_to_the_owning_units_heads_and_is_approved_narrowed(people, case_a):
    request = _ask(people["officer_b"], case_a, ["view", "copy"], days=10)
    assert request.number == f"调阅〔{timezone.localdate().year}〕{request.pk}号"
    assert request.unit == case_a.unit
    # Across units it goes to the head of the owning unit (team A) and above, not team B's.
    assert set(grants.pending_for(people["head_a"].user)) == {request}
    assert set(grants.pending_for(people["head_detachment"].user)) == {request}
    for who in ("officer_b", "officer_a", "leader", "legal"):
        assert not grants.pending_for(people[who].user).exists()
    entry = AuditEntry.objects.get(action=grants.event_request_created)
    assert entry.actor_id == people["officer_b"].user.pk and entry.object_id == str(request.pk)

    until = timezone.localdate() + timedelta(days=2)
    grant = grants.approve_request(approver=people["head_a"].user, request_id=request.pk,
                                   actions=["view"], valid_until=until, note="仅限查阅")
    assert grant.actions == ["view"] and grant.number.startswith("授权〔")
    assert timezone.localtime(grant.valid_until).date() == until + timedelta(days=1)
    request.refresh_from_db()
    assert request.status == "approved" and request.decided_by == people["head_a"].user
    approved = AuditEntry.objects.get(action=grants.event_request_approved)
    assert approved.detail["narrowed"] is True and approved.detail["grant"] == grant.number

    officer_b = people["officer_b"].user
    found = use.check_use(officer_b, case_a, "view")
    assert found.grant == grant and found.detail["grant"] == grant.number
    with pytest.raises(Forbidden):
        use.check_use(officer_b, case_a, "copy")  # narrowed away
    # The grant widens officer B's scope to the case (a request across units).
    assert Case.objects.restrict(officer_b, "case.view").filter(pk=case_a.pk).exists()
    assert not Case.objects.restrict(officer_b, "case.change").filter(pk=case_a.pk).exists()
    with pytest.raises(Conflict):
        grants.approve_request(approver=people["head_detachment"].user, request_id=request.pk)


def test_the_requester_is_never_the_approver(people, case_a):
    request = _ask(people["head_a"], case_a, ["copy"])
    assert not grants.pending_for(people["head_a"].user).exists()
    with pytest.raises(NotFound):
        grants.approve_request(approver=people["head_a"].user, request_id=request.pk)
    denied = AuditEntry.objects.get(action=grants.event_request_approved, outcome="denied")
    assert denied.actor_id == people["head_a"].user.pk and "申请人不得自批" in denied.reason
    # The head above decides instead; a head of another team may not.
    with pytest.raises(NotFound):
        grants.approve_request(approver=people["officer_a"].user, request_id=request.pk)
    grant = grants.approve_request(approver=people["head_detachment"].user, request_id=request.pk)
    assert grant.granted_by == people["head_detachment"].user


def test_refusal_needs_a_reason_and_makes_no_grant(people, case_a):
    request = _ask(people["officer_b"], case_a)
    with pytest.raises(InvalidInput):
        grants.refuse_request(approver=people["head_a"].user, request_id=request.pk, reason=" ")
    grants.refuse_request(approver=people["head_a"].user, request_id=request.pk,
                          reason="与承办工作无关")
    request.refresh_from_db()
    assert request.status == "refused" and request.decision_note == "与承办工作无关"
    assert not Grant.objects.exists()
    with pytest.raises(Forbidden):
        use.check_use(people["officer_b"].user, case_a, "view")
    refusal = AuditEntry.objects.get(action=use.event_use_refused, outcome="denied")
    assert refusal.actor_id == people["officer_b"].user.pk
    assert refusal.object_type == "cases.case" and refusal.object_id == str(case_a.pk)


def test_revoked_and_expired_grants_are_refused_at_the_next_use(people, case_a, frozen_clock):
    request = _ask(people["officer_b"], case_a, days=3)
    grant = grants.approve_request(approver=people["head_a"].user, request_id=request.pk)
    officer_b = people["officer_b"].user
    assert use.check_use(officer_b, case_a, "view").grant == grant

    # Expiry: compared at every use, no job needed.
    frozen_clock.move_to(grant.valid_until + timedelta(seconds=1))
    with pytest.raises(Forbidden):
        use.check_use(officer_b, case_a, "view")
    assert not Case.objects.restrict(officer_b, "case.view").filter(pk=case_a.pk).exists()

    frozen_clock.move_to(grant.valid_until - timedelta(hours=1))
    assert use.check_use(officer_b, case_a, "view").grant == grant
    with pytest.raises(NotFound):  # someone else may not revoke it
        grants.revoke_grant(actor=people["officer_a"].user, grant_id=grant.pk)
    grants.revoke_grant(actor=people["head_a"].user, grant_id=grant.pk, reason="工作已完成")
    with pytest.raises(Forbidden):
        use.check_use(officer_b, case_a, "view")
    revoked = AuditEntry.objects.get(action=grants.event_grant_revoked, outcome="succeeded")
    assert revoked.actor_id == people["head_a"].user.pk and revoked.reason == "工作已完成"


def test_bad_requests_are_refused_in_chinese(people, case_a):
    officer = people["officer_b"]
    with pytest.raises(InvalidInput, match="工作事由"):
        _ask(officer, case_a, reason="")
    with pytest.raises(InvalidInput, match="至少一项"):
        _ask(officer, case_a, actions=[])
    with pytest.raises(InvalidInput, match="最长"):
        _ask(officer, case_a, days=grants.MAX_DAYS + 1)
    with pytest.raises(InvalidInput, match="只能申请"):
        grants.create_request(requester=officer.user, target_type="org.officer", target_id=1,
                              actions=["view"], reason="x",
                              wanted_until=timezone.localdate())
    with pytest.raises(NotFound):
        grants.create_request(requester=officer.user, target_type="cases.case",
                              target_id=10**9, actions=["view"], reason="x",
                              wanted_until=timezone.localdate())
    with pytest.raises(Forbidden):  # a device keeper may not view cases at all
        _ask(people["device_keeper"], case_a)
    assert not AccessRequest.objects.exists()


def test_a_request_across_units_shows_only_kind_and_number(people, case_a):
    request = _ask(people["officer_b"], case_a)
    assert request.target_label == f"执法案件 {case_a.pk}"
    own = _ask(people["officer_a2"], case_a, ["copy"])
    assert own.target_label == str(case_a)


def test_withdraw_only_own_pending_requests(people, case_a):
    request = _ask(people["officer_b"], case_a)
    with pytest.raises(NotFound):
        grants.withdraw_request(requester=people["officer_a"].user, request_id=request.pk)
    grants.withdraw_request(requester=people["officer_b"].user, request_id=request.pk)
    assert not grants.pending_for(people["head_a"].user).exists()
    with pytest.raises(Conflict):
        grants.withdraw_request(requester=people["officer_b"].user, request_id=request.pk)
