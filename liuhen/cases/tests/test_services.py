"""Case, party and patrol services: 第十一条 qualifications, two officers for penalty and
coercion (行政处罚法 第四十二条), case numbers per unit and year, the audit trace of each write."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from conftest import last_entry
from liuhen.audit.models import AuditEntry
from liuhen.cases import services
from liuhen.cases.choices import CaseKind, CaseSource, PartyKind, Stage
from liuhen.cases.models import Case, Patrol
from liuhen.cases.tests.factories import make_case, make_party, valid_id_card, valid_uscc
from liuhen.core.errors import Forbidden, InvalidInput, UnqualifiedOfficer
from liuhen.core.testing import TEST_TODAY

TODAY = TEST_TODAY

UNQUALIFIED = {
    "not_formal_staff": ({"is_formal_staff": False}, "不是正式在编人员"),
    "no_qualification": (
        {"qualification_number": "", "qualification_valid_to": None},
        "没有行政执法资格",
    ),
    "expired": ({"qualification_valid_to": TODAY - timedelta(days=1)}, "过期"),
    "not_yet_valid": ({"qualification_valid_from": TODAY + timedelta(days=3)}, "尚未生效"),
}


@pytest.mark.parametrize("problem", UNQUALIFIED)
def test_unqualified_officer_cannot_be_assigned_to_a_case(people, bureau, make_officer, problem):
    fields, words = UNQUALIFIED[problem]
    bad = make_officer(bureau["team_a"], **fields)
    before = Case.objects.count()
    with pytest.raises(UnqualifiedOfficer) as err:
        make_case(
            actor=people["officer_a"].user,
            unit=bureau["team_a"],
            officers=[people["officer_a"], bad],
        )
    assert err.value.code == "officer_unqualified"
    assert "第十一条" in err.value.message and words in err.value.message
    assert bad.name in err.value.message and "承办案件" in err.value.message
    assert Case.objects.count() == before
    entry = last_entry("officer.refused_unqualified")
    assert entry.outcome == "denied" and str(bad.pk) in entry.object_id
    assert entry.actor_id == people["officer_a"].user.pk and "第十一条" in entry.reason


@pytest.mark.parametrize("problem", UNQUALIFIED)
def test_unqualified_officer_cannot_go_on_patrol(people, bureau, make_officer, problem):
    fields, words = UNQUALIFIED[problem]
    bad = make_officer(bureau["team_a"], **fields)
    with pytest.raises(UnqualifiedOfficer) as err:
        services.create_patrol(
            actor=people["officer_a"].user,
            unit=bureau["team_a"],
            date=TODAY,
            area="工业园",
            officer_ids=[bad.pk],
        )
    assert "第十一条" in err.value.message and words in err.value.message
    assert not Patrol.objects.exists()
    assert last_entry("officer.refused_unqualified").outcome == "denied"


def test_qualification_is_judged_on_the_day_of_the_act(people, bureau, make_officer):
    """A patrol last month counts the qualification as it stood then (第十一条)."""
    lapsed = make_officer(bureau["team_a"], qualification_valid_to=TODAY - timedelta(days=5))
    patrol = services.create_patrol(
        actor=people["officer_a"].user,
        unit=bureau["team_a"],
        date=TODAY - timedelta(days=10),
        area="老城区",
        officer_ids=[lapsed.pk],
    )
    assert list(patrol.officers.all()) == [lapsed]
    assert lapsed.qualification_problem(TODAY - timedelta(days=10)) is None
    assert not lapsed.is_qualified


@pytest.mark.parametrize("kind", [CaseKind.PENALTY, CaseKind.COERCION])
def test_penalty_and_coercion_need_two_officers(people, bureau, kind):
    with pytest.raises(InvalidInput) as err:
        make_case(
            actor=people["officer_a"].user,
            unit=bureau["team_a"],
            officers=[people["officer_a"]],
            kind=kind,
        )
    assert "不少于2名" in err.value.message and err.value.detail["field"] == "officer_ids"
    # The same officer twice is still one officer.
    with pytest.raises(InvalidInput):
        services.create_case(
            actor=people["officer_a"].user,
            unit=bureau["team_a"],
            kind=kind,
            cause="欠薪",
            source=CaseSource.COMPLAINT,
            officer_ids=[people["officer_a"].pk, people["officer_a"].pk],
        )


@pytest.mark.parametrize("kind", [CaseKind.LEVY, CaseKind.FEE, CaseKind.INSPECTION])
def test_other_kinds_need_one_officer(people, bureau, kind):
    case = make_case(
        actor=people["officer_a"].user,
        unit=bureau["team_a"],
        officers=[people["officer_a"]],
        kind=kind,
    )
    assert case.stage == Stage.INITIATION


def test_create_case_numbers_logs_and_audits(people, bureau):
    actor = people["officer_a"].user
    party = make_party(actor=actor, unit=bureau["team_a"])
    officers = [people["officer_a"], people["officer_a2"]]
    first = make_case(actor=actor, unit=bureau["team_a"], officers=officers, parties=[party])
    second = make_case(actor=actor, unit=bureau["team_a"], officers=officers)
    year = TODAY.year
    # The team inherits the bureau's prefix; numbers count up per prefix and year.
    assert first.number == f"冀人社监〔{year}〕1号" and second.number == f"冀人社监〔{year}〕2号"
    levy = make_case(
        actor=people["head_detachment"].user,
        unit=bureau["detachment"],
        officers=officers,
        kind=CaseKind.LEVY,
    )
    assert levy.number == f"冀人社监〔{year}〕3号"
    last_year = make_case(
        actor=actor, unit=bureau["team_a"], officers=officers, opened_on=date(year - 1, 12, 30)
    )
    assert last_year.number == f"冀人社监〔{year - 1}〕1号"
    assert list(first.parties.all()) == [party]
    assert set(first.officers.all()) == set(officers)
    log = first.stage_logs.get()
    assert (log.from_stage, log.to_stage, log.actor_id) == ("", Stage.INITIATION, actor.pk)
    entry = AuditEntry.objects.get(action="case.created", object_id=str(first.pk))
    assert entry.detail["number"] == first.number and entry.actor_role == "officer"
    assert sorted(entry.detail["officers"]) == sorted(o.pk for o in officers)


def test_officers_must_belong_to_the_unit(people, bureau):
    with pytest.raises(InvalidInput, match="不属于"):
        make_case(
            actor=people["officer_a"].user,
            unit=bureau["team_a"],
            officers=[people["officer_a"], people["officer_b"]],
        )


def test_officer_may_not_open_a_case_in_another_unit(people, bureau):
    with pytest.raises(Forbidden):
        make_case(
            actor=people["officer_a"].user,
            unit=bureau["team_b"],
            officers=[people["officer_b"], people["officer_b2"]],
        )
    entry = last_entry("case.created")
    assert entry.outcome == "denied" and entry.object_id == str(bureau["team_b"].pk)
    assert not Case.objects.exists()


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("cause", {"cause": "   "}),
        ("opened_on", {"opened_on": TODAY + timedelta(days=1)}),
        (
            "complaint_received_on",
            {"opened_on": TODAY - timedelta(days=3), "complaint_received_on": TODAY},
        ),
        ("kind", {"kind": "fine"}),
        ("source", {"source": "rumour"}),
    ],
)
def test_create_case_refuses_bad_facts(people, bureau, field, changes):
    kwargs = {
        "actor": people["officer_a"].user,
        "unit": bureau["team_a"],
        "kind": CaseKind.PENALTY,
        "cause": "欠薪",
        "source": CaseSource.COMPLAINT,
        "officer_ids": [people["officer_a"].pk, people["officer_a2"].pk],
        **changes,
    }
    with pytest.raises(InvalidInput) as err:
        services.create_case(**kwargs)
    assert err.value.detail["field"] == field and err.value.message


def test_parties_of_units_out_of_sight_cannot_be_attached(people, bureau):
    foreign = make_party(actor=people["officer_b"].user, unit=bureau["team_b"])
    with pytest.raises(InvalidInput, match="当事人"):
        make_case(
            actor=people["officer_a"].user,
            unit=bureau["team_a"],
            officers=[people["officer_a"], people["officer_a2"]],
            parties=[foreign],
        )


def test_case_from_patrol_takes_its_unit_and_officers(people, bureau):
    actor = people["officer_a"].user
    patrol = services.create_patrol(
        actor=actor,
        unit=bureau["team_a"],
        date=TODAY,
        area="开发区",
        officer_ids=[people["officer_a"].pk, people["officer_a2"].pk],
    )
    case = services.open_case_from_patrol(
        actor=actor, patrol=patrol, kind=CaseKind.PENALTY, cause="巡查发现拖欠工资"
    )
    assert case.patrol == patrol and case.source == CaseSource.PATROL
    assert case.unit == bureau["team_a"] and case.officers.count() == 2
    assert last_entry("patrol.created").object_id == str(patrol.pk)


def test_update_case_facts_audits_before_and_after(people, bureau):
    actor = people["officer_a"].user
    case = make_case(
        actor=actor, unit=bureau["team_a"], officers=[people["officer_a"], people["officer_a2"]]
    )
    services.update_case_facts(actor=actor, case=case, is_disputed=True, cause="新案由")
    entry = last_entry("case.changed")
    assert entry.detail == {
        "before": {"is_disputed": False, "cause": "拖欠劳动者工资"},
        "after": {"is_disputed": True, "cause": "新案由"},
    }
    with pytest.raises(InvalidInput, match="不可修改"):
        services.update_case_facts(actor=actor, case=case, stage=Stage.ARCHIVING)
    with pytest.raises(Forbidden):
        services.update_case_facts(actor=people["legal"].user, case=case, is_disputed=False)


def test_create_party_validates_and_is_idempotent(people, bureau):
    actor = people["officer_a"].user
    number = valid_id_card()
    person = services.create_party(
        actor=actor,
        unit=bureau["team_a"],
        kind=PartyKind.PERSON,
        name="张三丰",
        id_number=number.lower(),
    )
    assert person.id_number == number.upper()
    again = services.create_party(
        actor=actor, unit=bureau["team_a"], kind=PartyKind.PERSON, name="张三丰", id_number=number
    )
    assert again.pk == person.pk
    assert AuditEntry.objects.filter(action="party.created").count() == 1
    with pytest.raises(InvalidInput) as err:
        services.create_party(
            actor=actor,
            unit=bureau["team_a"],
            kind=PartyKind.PERSON,
            name="李四",
            id_number=valid_uscc(),
        )
    assert err.value.detail == {"field": "id_number"}
    with pytest.raises(InvalidInput):
        services.create_party(
            actor=actor, unit=bureau["team_a"], kind="alien", name="李四", id_number=number
        )
    with pytest.raises(InvalidInput):
        services.create_party(
            actor=actor, unit=bureau["team_a"], kind=PartyKind.PERSON, name="  ", id_number=number
        )
