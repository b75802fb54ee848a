"""The officers API is scoped (issue 16 item 9, 第十一条).

Credential numbers and qualification dates are personal data of the officers: a role sees the
officers of the units it works in (``officer.view`` in access/permissions.py), and a role with
no such scope gets a 403 with a denied audit entry.
"""

from __future__ import annotations

import pytest

from liuhen.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def _listed(api, who, **params):
    response = api(who).get("/api/officers", **params)
    assert response.status_code == 200, response.content
    return {o["id"] for o in response.json()}


def test_device_keeper_lists_only_its_units_officers(people, bureau, api):
    """The finding: a device keeper listed every officer of every unit. It sits in the
    detachment: it sees the detachment's and both teams' officers, not the levy section's."""
    levy_officer = people["officer_a"].__class__.objects.create(
        user=people["admin"].user.__class__.objects.create_user("levy1"), name="征缴员",
        unit=bureau["levy"], role="officer", credential_number="130000000001")
    seen = _listed(api, people["device_keeper"])
    assert people["officer_a"].pk in seen and people["officer_b"].pk in seen
    assert levy_officer.pk not in seen and people["leader"].pk not in seen


def test_officer_lists_only_its_own_unit(people, api):
    seen = _listed(api, people["officer_a"])
    assert seen == {people["officer_a"].pk, people["officer_a2"].pk, people["head_a"].pk,
                    people["keeper_a"].pk}


def test_officer_of_another_unit_is_not_found_by_the_unit_filter(people, bureau, api):
    assert _listed(api, people["officer_a"], unit=bureau["team_b"].pk) == set()


def test_legal_office_lists_everyone(people, api):
    assert _listed(api, people["legal"]) == {o.pk for o in people.values()}


def test_a_user_without_a_role_is_refused_and_audited(django_user_model, api):
    user = django_user_model.objects.create_user("norole", password="x-long-password-1")
    response = api(user).get("/api/officers")
    assert response.status_code == 403
    entry = AuditEntry.objects.order_by("-seq").first()
    assert entry.outcome == "denied" and entry.actor_id == user.pk
    assert entry.action == "officer.view" and "查看执法人员" in entry.reason


@pytest.mark.parametrize("unit", [str(2**63), str(2**64), "9" * 30])
def test_a_unit_past_64_bits_is_a_422_naming_the_field(people, api, unit):
    response = api(people["legal"]).get("/api/officers", unit=unit)
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == "invalid_input" and body["detail"]["fields"][0]["field"] == "unit"
