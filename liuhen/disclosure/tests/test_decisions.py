"""One decision rule for what leaves the bureau (第十七条第二款、第三款): for a party copy and for a
supply alike, the leader in charge decides, the registrar never does, a unit head never does,
a refusal gives its reason, a request is decided once; each refused attempt is audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from liuhen.audit.models import AuditEntry
from liuhen.core.errors import Conflict, Forbidden, InvalidInput
from liuhen.disclosure import decisions, services, supply

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["party_copy", "supply"])
def waiting(request, people):
    """(kind, pk, registrar) of a request waiting for the leader in charge."""
    if request.param == "party_copy":
        recording = request.getfixturevalue("stored_recording")()
        row = services.register_party_copy(actor=people["officer_a"].user, recording=recording,
                                           recipient_name="李某", identity_check="id_card",
                                           reason="复议")
        return decisions.PARTY_COPY, row.pk, people["officer_a"].user
    case = request.getfixturevalue("filed_case")
    row = supply.register_supply(actor=people["legal"].user, case=case, body_kind="review",
                                 body_name="某市人民政府", letter_number="某政复〔2026〕3号",
                                 received_on=timezone.localdate() - timedelta(days=1))
    return decisions.SUPPLY, row.pk, people["legal"].user


def test_one_rule_for_both_kinds(people, waiting):
    kind, pk, registrar = waiting
    leader = people["leader"].user
    row = kind.model.objects.get(pk=pk)
    assert decisions.may_decide(leader, row, kind)
    assert not decisions.may_decide(registrar, row, kind)
    for who in (registrar, people["head_a"].user):
        with pytest.raises(Forbidden, match="主管负责人"):
            decisions.decide(kind=kind, approver=who, pk=pk, approve=True)
        denied = AuditEntry.objects.filter(action=kind.event_approved, outcome="denied",
                                           actor_id=who.pk)
        assert denied.get().object_id == str(pk) and "第十七条" in denied.get().reason
    with pytest.raises(InvalidInput):
        decisions.decide(kind=kind, approver=leader, pk=pk, approve=False, note=" ")
    decided = decisions.decide(kind=kind, approver=leader, pk=pk, approve=False, note="材料不全")
    assert decided.status == kind.refused and decided.decided_by == leader
    assert decided.decision_note == "材料不全"
    entry = AuditEntry.objects.get(action=kind.event_refused, outcome="succeeded")
    assert entry.reason == "材料不全" and entry.actor_id == leader.pk
    with pytest.raises(Conflict):  # decided once
        decisions.decide(kind=kind, approver=leader, pk=pk, approve=True)
    assert not decisions.may_decide(leader, kind.model.objects.get(pk=pk), kind)
