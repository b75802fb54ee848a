"""The stage machine of every kind of enforcement act (第二条).

For each kind: every (from, to) pair the machine does not list is refused with
IllegalTransition, a denied audit entry, and the stage unchanged; every listed move is
accepted with a StageLog row and an audit entry. A hearing only happens when the party asked
for one (行政处罚法 第六十三条, 第二条 听证); officers not assigned to a case may not move it;
archiving (第十二条) is for records keepers and unit heads only.
"""

from __future__ import annotations

import pytest
from django.db import transaction

from liuhen.audit.models import AuditEntry
from liuhen.cases import events as case_events
from liuhen.cases import services, stages
from liuhen.cases.choices import CaseKind, Stage
from liuhen.cases.models import Case, StageLog
from liuhen.cases.tests.factories import make_case
from liuhen.core.errors import Forbidden, IllegalTransition

MOVABLE = [s for s in Stage.values if s != Stage.INITIATION]  # every possible target


def _legal_pairs(kind):
    return {(a, b) for a, targets in stages.TRANSITIONS[kind].items() for b in targets}


def _force_stage(case, stage, *, hearing_requested=False):
    """Put a case in ``stage`` directly (the machine is what is under test, not the path)."""
    Case.objects.filter(pk=case.pk).update(stage=stage, hearing_requested=hearing_requested)
    case.refresh_from_db()
    return case


def _last_entry():
    return AuditEntry.objects.order_by("-seq").first()


@pytest.fixture
def no_completeness_gate(monkeypatch):
    """The machine and the roles are under test here; what a case must contain before it is
    archived (第十条) is the rules app's gate, tested there and once below."""
    # The gate is a handler of the case_archiving domain event: none subscribed, no gate.
    monkeypatch.setattr(case_events.case_archiving, "_handlers", [])


@pytest.fixture
def team(people, bureau):
    return {
        "unit": bureau["team_a"],
        "officers": [people["officer_a"], people["officer_a2"]],
        "actor": people["officer_a"].user,
        "head": people["head_a"].user,
        "keeper": people["keeper_a"].user,
    }


@pytest.mark.parametrize("kind", CaseKind.values)
def test_every_illegal_transition_is_refused(team, kind):
    case = make_case(actor=team["actor"], unit=team["unit"], officers=team["officers"], kind=kind)
    legal = _legal_pairs(kind)
    refused = 0
    for from_stage in Stage.values:
        for to_stage in MOVABLE:
            if (from_stage, to_stage) in legal:
                continue
            _force_stage(case, from_stage)
            logs = StageLog.objects.filter(case=case).count()
            # Archiving is checked by role first; use the head so only the machine refuses.
            actor = team["head"]
            with pytest.raises(IllegalTransition) as err:
                services.move_case(actor=actor, case=case, to_stage=to_stage)
            assert err.value.code == "illegal_transition"
            assert err.value.message
            entry = _last_entry()
            assert (entry.action, entry.outcome) == ("case.transition_refused", "denied")
            assert entry.object_id == str(case.pk) and entry.reason
            case.refresh_from_db()
            assert case.stage == from_stage
            assert StageLog.objects.filter(case=case).count() == logs
            refused += 1
    assert refused == len(Stage.values) * len(MOVABLE) - len(legal)


@pytest.mark.usefixtures("no_completeness_gate")
@pytest.mark.parametrize("kind", CaseKind.values)
def test_the_whole_path_is_walked_with_logs_and_audit(team, kind):
    case = make_case(actor=team["actor"], unit=team["unit"], officers=team["officers"], kind=kind)
    path = stages.path(kind)
    assert path[0] == Stage.INITIATION and path[-1] == Stage.ARCHIVING
    walked = [Stage.INITIATION]
    while stages.allowed_next(case):
        to_stage = stages.allowed_next(case)[0]
        actor = team["keeper"] if to_stage == Stage.ARCHIVING else team["actor"]
        case = services.move_case(actor=actor, case=case, to_stage=to_stage, note="下一步")
        walked.append(case.stage)
        log = StageLog.objects.filter(case=case).last()
        assert (log.to_stage, log.actor_id, log.note) == (to_stage, actor.pk, "下一步")
        entry = _last_entry()
        assert (entry.action, entry.outcome) == ("case.stage_changed", "succeeded")
        assert entry.detail["to"] == to_stage and entry.actor_id == actor.pk
    assert walked == [s for s in path if s != Stage.HEARING]
    assert case.archived_at is not None and case.closed_on is not None
    timeline = list(StageLog.objects.filter(case=case).values_list("from_stage", "to_stage"))
    assert timeline[0] == ("", Stage.INITIATION) and len(timeline) == len(walked)
    # Archived is final: nothing moves it, and its facts are frozen.
    with pytest.raises(IllegalTransition):
        services.move_case(actor=team["head"], case=case, to_stage=Stage.CASE_FILE)
    with pytest.raises(IllegalTransition):
        services.update_case_facts(actor=team["head"], case=case, cause="改案由")


def test_penalty_hearing_comes_before_the_decision(team):
    """行政处罚法第六十三至六十五条: told of the intended penalty, the party asks for a hearing; it
    is held, and only then is the decision made. Unlawful orders are refused."""
    case = make_case(actor=team["actor"], unit=team["unit"], officers=team["officers"],
                     kind=CaseKind.PENALTY)
    case = services.start_investigation(actor=team["actor"], case=case)
    assert stages.allowed_next(case) == [Stage.DECISION]
    with pytest.raises(IllegalTransition):
        services.hold_hearing(actor=team["actor"], case=case)  # nobody asked for one

    services.update_case_facts(actor=team["actor"], case=case, hearing_requested=True)
    case.refresh_from_db()
    assert stages.allowed_next(case) == [Stage.HEARING]
    with pytest.raises(IllegalTransition):
        services.make_decision(actor=team["actor"], case=case)  # decision before the hearing
    case = services.hold_hearing(actor=team["actor"], case=case, note="听证会")
    assert stages.allowed_next(case) == [Stage.DECISION]
    with pytest.raises(IllegalTransition):
        services.make_case_file(actor=team["actor"], case=case)
    case = services.make_decision(actor=team["actor"], case=case)
    case = services.start_service(actor=team["actor"], case=case)
    assert stages.allowed_next(case) == [Stage.CASE_FILE]  # no hearing after the decision
    with pytest.raises(IllegalTransition):
        services.hold_hearing(actor=team["actor"], case=case)
    log = StageLog.objects.filter(case=case, to_stage=Stage.HEARING).get()
    assert log.from_stage == Stage.INVESTIGATION
    entry = AuditEntry.objects.filter(action="case.stage_changed",
                                      detail__to=Stage.HEARING).latest("seq")
    assert "第六十三条" in entry.detail["article"]


def test_coercion_has_no_hearing(team):
    """行政强制法 has 陈述、申辩 (第三十六条), not a hearing: never offered, even if asked."""
    case = make_case(actor=team["actor"], unit=team["unit"], officers=team["officers"],
                     kind=CaseKind.COERCION)
    services.update_case_facts(actor=team["actor"], case=case, hearing_requested=True)
    assert Stage.HEARING not in stages.path(CaseKind.COERCION)
    for stage in stages.path(CaseKind.COERCION):
        _force_stage(case, stage, hearing_requested=True)
        assert Stage.HEARING not in stages.allowed_next(case)
    assert "行政强制法第三十五条" in stages.article(CaseKind.COERCION, Stage.DECISION)


def test_a_case_heard_after_its_decision_keeps_its_history(team):
    """A case that followed the earlier order (hearing after 送达执行) goes on to the file; its
    timeline keeps the old path."""
    case = make_case(actor=team["actor"], unit=team["unit"], officers=team["officers"],
                     kind=CaseKind.PENALTY)
    for stage in (Stage.INVESTIGATION, Stage.DECISION, Stage.SERVICE, Stage.HEARING):
        StageLog.objects.create(case=case, from_stage=case.stage, to_stage=stage,
                                actor=team["actor"], actor_name="旧流程")
        _force_stage(case, stage, hearing_requested=True)
        case.refresh_from_db()
    assert stages.allowed_next(case) == [Stage.CASE_FILE]
    case = services.make_case_file(actor=team["actor"], case=case)
    assert list(StageLog.objects.filter(case=case).values_list("to_stage", flat=True))[-2:] == [
        Stage.HEARING, Stage.CASE_FILE]


@pytest.mark.parametrize("kind", [CaseKind.LEVY, CaseKind.FEE, CaseKind.INSPECTION])
def test_no_hearing_in_short_paths(team, kind):
    case = make_case(actor=team["actor"], unit=team["unit"], officers=team["officers"], kind=kind)
    services.update_case_facts(actor=team["actor"], case=case, hearing_requested=True)
    assert Stage.HEARING not in stages.path(kind)
    for stage in stages.path(kind):
        _force_stage(case, stage, hearing_requested=True)
        assert Stage.HEARING not in stages.allowed_next(case)


def test_unknown_target_stage_is_refused(team):
    case = make_case(actor=team["actor"], unit=team["unit"], officers=team["officers"])
    for bogus in ("", "closed", "INVESTIGATION", "patrol", "initiation"):
        with pytest.raises(IllegalTransition):
            services.move_case(actor=team["actor"], case=case, to_stage=bogus)
        entry = _last_entry()
        assert (entry.action, entry.outcome) == ("case.transition_refused", "denied")
    case.refresh_from_db()
    assert case.stage == Stage.INITIATION


def test_officer_not_assigned_may_not_move_a_case(team, people, bureau, make_officer):
    case = make_case(actor=team["actor"], unit=team["unit"], officers=team["officers"])
    colleague = make_officer(bureau["team_a"])  # same team, not on the case
    with pytest.raises(Forbidden):
        services.start_investigation(actor=colleague.user, case=case)
    entry = _last_entry()
    assert (entry.action, entry.outcome, entry.actor_id) == (
        "case.transition_refused",
        "denied",
        colleague.user.pk,
    )
    case.refresh_from_db()
    assert case.stage == Stage.INITIATION
    # The unit head may, without being assigned.
    assert services.start_investigation(actor=team["head"], case=case).stage == (
        Stage.INVESTIGATION
    )


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("keeper_a", True),
        ("head_a", True),
        ("head_detachment", True),
        ("officer_a", False),
        ("legal", False),
        ("leader", False),
        ("device_keeper", False),
        ("admin", False),
    ],
)
@pytest.mark.usefixtures("no_completeness_gate")
def test_archiving_by_records_keeper_or_unit_head_only(team, people, who, allowed):
    case = make_case(actor=team["actor"], unit=team["unit"], officers=team["officers"])
    _force_stage(case, Stage.CASE_FILE)
    actor = people[who].user
    if allowed:
        case = services.archive_case(actor=actor, case=case, note="归档")
        assert case.stage == Stage.ARCHIVING and case.archived_at is not None
        return
    with pytest.raises(Forbidden):
        services.archive_case(actor=actor, case=case)
    entry = _last_entry()
    assert (entry.action, entry.outcome, entry.actor_id) == (
        "case.transition_refused",
        "denied",
        actor.pk,
    )
    case.refresh_from_db()
    assert case.stage == Stage.CASE_FILE and case.archived_at is None


def test_keeper_of_another_team_may_not_archive(team, bureau, make_officer):
    from liuhen.access.choices import Role

    case = make_case(actor=team["actor"], unit=team["unit"], officers=team["officers"])
    _force_stage(case, Stage.CASE_FILE)
    keeper_b = make_officer(bureau["team_b"], Role.RECORDS_KEEPER)
    with pytest.raises(Forbidden):
        services.archive_case(actor=keeper_b.user, case=case)


def test_stale_case_object_cannot_move_twice(team):
    """Two people moving the same case at once: the second sees the first's change."""
    case = make_case(actor=team["actor"], unit=team["unit"], officers=team["officers"])
    stale = Case.objects.get(pk=case.pk)
    services.start_investigation(actor=team["actor"], case=case)
    with pytest.raises(IllegalTransition), transaction.atomic():
        services.start_investigation(actor=team["head"], case=stale)
    assert StageLog.objects.filter(case=case, to_stage=Stage.INVESTIGATION).count() == 1


def test_archiving_goes_through_the_completeness_gate(team):
    """An incomplete case is not archived (第十条, 第十二条): refused, stage unchanged."""
    from liuhen.core.errors import Conflict

    case = make_case(actor=team["actor"], unit=team["unit"], officers=team["officers"])
    _force_stage(case, Stage.CASE_FILE)
    with pytest.raises(Conflict):
        services.archive_case(actor=team["keeper"], case=case)
    case.refresh_from_db()
    assert case.stage == Stage.CASE_FILE and case.archived_at is None
    assert not StageLog.objects.filter(case=case, to_stage=Stage.ARCHIVING).exists()
    assert AuditEntry.objects.filter(object_id=str(case.pk), outcome="denied").exists()
