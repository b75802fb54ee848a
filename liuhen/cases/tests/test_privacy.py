"""Parties of other units and masked names (issue 16 items 7, 8 and the patrol form of 14).

第十七条第四款: personal privacy in enforcement records is managed within permissions. The
handling unit sees a party's name and ID number; everyone else sees them masked, on pages, in
the API and in the pickers alike (liuhen/cases/privacy.py: one rule).
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from conftest import logged_in
from liuhen.audit.models import AuditEntry
from liuhen.cases.choices import CaseKind, PartyKind
from liuhen.cases.models import Case
from liuhen.cases.tests.factories import make_case, make_party
from liuhen.core.testing import TEST_TODAY

pytestmark = pytest.mark.django_db


@pytest.fixture
def person_b(people, bureau):
    """A person registered by team B (a known name, so a leak is easy to see)."""
    return make_party(actor=people["officer_b"].user, unit=bureau["team_b"],
                      kind=PartyKind.PERSON, name="李四海")


@pytest.fixture
def case_a(people, bureau):
    party = make_party(actor=people["officer_a"].user, unit=bureau["team_a"],
                       kind=PartyKind.PERSON, name="张三丰")
    return make_case(actor=people["officer_a"].user, unit=bureau["team_a"],
                     officers=[people["officer_a"], people["officer_a2"]], parties=[party])


def _case_payload(bureau, people, **extra):
    return {"unit_id": bureau["team_a"].pk, "kind": CaseKind.PENALTY, "cause": "拖欠工资",
            "source": "complaint",
            "officer_ids": [people["officer_a"].pk, people["officer_a2"].pk], **extra}


# --- item 7: a case names only parties of its own unit (one service rule) ----------------


def test_api_case_with_another_units_party_is_refused(people, bureau, person_b, api):
    """The detachment head sees team B's parties (tree scope) but may not put one into a case
    of team A: team A would then read 李四海's full name and ID number."""
    response = api(people["head_detachment"]).post(
        "/api/cases", _case_payload(bureau, people, party_ids=[person_b.pk]))
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid_input" and "监察一大队" in body["message"]
    assert body["detail"] == {"field": "party_ids"}
    assert not Case.objects.exists()


def test_api_case_from_patrol_with_another_units_party_is_refused(people, bureau, person_b,
                                                                  api):
    from liuhen.cases.services import create_patrol

    patrol = create_patrol(actor=people["officer_a"].user, unit=bureau["team_a"],
                           date=TEST_TODAY, area="开发区",
                           officer_ids=[people["officer_a"].pk, people["officer_a2"].pk])
    response = api(people["head_detachment"]).post(
        f"/api/patrols/{patrol.pk}/cases",
        {"kind": CaseKind.PENALTY, "cause": "拖欠工资", "party_ids": [person_b.pk]})
    assert response.status_code == 400, response.content
    assert not Case.objects.exists()


def test_api_case_with_own_units_party_is_created(people, bureau, api):
    own = make_party(actor=people["officer_a"].user, unit=bureau["team_a"])
    response = api(people["head_detachment"]).post(
        "/api/cases", _case_payload(bureau, people, party_ids=[own.pk]))
    assert response.status_code == 201, response.content
    assert list(Case.objects.get().parties.all()) == [own]


def test_case_form_offers_only_the_chosen_units_parties(people, bureau, person_b):
    own = make_party(actor=people["officer_a"].user, unit=bureau["team_a"], name="本队单位甲")
    html = logged_in(people["head_detachment"]).get(
        reverse("case_form_people"), {"unit": bureau["team_a"].pk}).content.decode()
    assert "本队单位甲" in html and own.name in html
    assert "李四" not in html


# --- item 8: one masking rule for pages and API ------------------------------------------


@pytest.mark.parametrize("role", ["leader", "legal", "keeper_a"])
def test_api_party_and_case_mask_names_outside_the_handling_unit(people, case_a, api, role):
    """A bureau leader, the legal office and a records keeper read 张** and a masked number from
    every party path of the API, as the case page shows them."""
    party = case_a.parties.get()
    client = api(people[role])
    bodies = [client.get(f"/api/parties/{party.pk}").json(),
              *client.get(f"/api/cases/{case_a.pk}").json()["parties"],
              *client.get("/api/parties").json()]
    for body in bodies:
        assert body["name"] == "张**", (role, body)
        assert body["id_number_masked"] == party.masked_id_number
    text = "".join(str(b) for b in bodies)
    assert "张三丰" not in text and party.id_number not in text


def test_api_handling_unit_reads_the_full_name(people, case_a, api):
    party = case_a.parties.get()
    client = api(people["officer_a"])
    assert client.get(f"/api/parties/{party.pk}").json()["name"] == "张三丰"
    assert client.get(f"/api/cases/{case_a.pk}").json()["parties"][0]["name"] == "张三丰"
    # A list is masked for everyone, the handling unit included (as the pages' lists are).
    assert client.get("/api/parties").json()[0]["name"] == "张**"


def test_api_party_list_masks_for_a_unit_head_over_the_registering_unit(people, person_b,
                                                                        api):
    names = [p["name"] for p in api(people["head_detachment"]).get("/api/parties").json()]
    assert "李**" in names and "李四海" not in names


def test_case_page_masks_for_the_unit_above_and_shows_the_handling_unit(people, case_a):
    html = logged_in(people["head_detachment"]).get(
        reverse("case_detail", args=[case_a.pk])).content.decode()
    # The detachment head may change team A's cases (tree scope): the handling chain.
    assert "张三丰" in html
    html = logged_in(people["leader"]).get(
        reverse("case_detail", args=[case_a.pk])).content.decode()
    assert "张**" in html and "张三丰" not in html


# --- item 14: the case-from-patrol form only for who may open a case there --------------


@pytest.fixture
def patrol_a(people, bureau):
    from liuhen.cases.services import create_patrol

    return create_patrol(actor=people["officer_a"].user, unit=bureau["team_a"],
                         date=TEST_TODAY, area="开发区",
                         officer_ids=[people["officer_a"].pk])


@pytest.mark.parametrize("role", ["leader", "legal", "keeper_a"])
def test_case_from_patrol_form_refused_for_roles_that_cannot_open_cases(people, patrol_a,
                                                                       case_a, role):
    """The bureau leader saw the form and, in its picker, the parties' full names."""
    response = logged_in(people[role]).get(reverse("patrol_open_case", args=[patrol_a.pk]))
    assert response.status_code == 403
    assert "张三丰" not in response.content.decode()
    entry = AuditEntry.objects.filter(action="case.created").order_by("-seq").first()
    assert entry.outcome == "denied" and entry.actor_id == people[role].user.pk


def test_case_from_patrol_form_opens_for_the_handling_unit(people, patrol_a, case_a):
    response = logged_in(people["officer_a"]).get(
        reverse("patrol_open_case", args=[patrol_a.pk]))
    assert response.status_code == 200 and "张三丰" in response.content.decode()


def test_admin_party_page_masks_the_name_and_number(people, case_a):
    """The legal office as staff: the admin's list and change page show what lists show."""
    party = case_a.parties.get()
    user = people["legal"].user
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client = logged_in(people["legal"])
    for url in (reverse("admin:cases_party_changelist"),
                reverse("admin:cases_party_change", args=[party.pk])):
        html = client.get(url).content.decode()
        assert "张**" in html, url
        assert "张三丰" not in html and party.id_number not in html, url


def test_audit_log_names_a_person_party_masked(people, bureau):
    """The audit log (and its CSV) is read bureau-wide by the legal office: its object_repr
    of a party is the masked name."""
    party = make_party(actor=people["officer_a"].user, unit=bureau["team_a"],
                       kind=PartyKind.PERSON, name="王五岳")
    entry = AuditEntry.objects.filter(action="party.created", object_id=str(party.pk)).get()
    assert entry.object_repr == "王**"
