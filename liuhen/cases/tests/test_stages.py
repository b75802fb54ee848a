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

from conftest import last_entry
from liuhen.audit.models import AuditEntry
from liuhen.cases import events as case_events
from liuhen.cases import services, stages
from liuhen.cases.choices import CaseKind, Stage
from liuhen.cases.models import Case, StageLog
from liuhen.cases.tests.factories import make_case
from liuhen.core.errors import Forbidden, IllegalTransition

MOVABLE = [s for s in Stage.values if s != Stage.INITIATION]  # every possible target
S = Stage


def lawful_order(kind, *, hearing=False, complex_=False, outcome=""):
    """The steps of a case in the law's order, written out here independently of the table in
    ``cases.stages`` (行政处罚法第四十四条、第五十七条、第五十八条、第六十二条至第六十七条;
    行政强制法第三十五条至第三十八条; 第二条)."""
    if kind == CaseKind.PENALTY:
        return [S.INITIATION, S.INVESTIGATION, S.NOTICE,
                *([S.HEARING] if hearing else []),
                *([S.LEGAL_REVIEW] if hearing or complex_ else []),
                *([S.COLLECTIVE] if complex_ else []),
                S.DECISION, S.SERVICE,
                *([] if outcome in ("warning", "no_penalty") else [S.ENFORCEMENT]),
                S.CLOSING, S.CASE_FILE, S.ARCHIVING]
    return {
        CaseKind.COERCION: [S.INITIATION, S.INVESTIGATION, S.REMINDER, S.DECISION, S.SERVICE,
                            S.ENFORCEMENT, S.CLOSING, S.CASE_FILE, S.ARCHIVING],
        CaseKind.LEVY: [S.INITIATION, S.INVESTIGATION, S.DECISION, S.CASE_FILE, S.ARCHIVING],
        CaseKind.FEE: [S.INITIATION, S.DECISION, S.CASE_FILE, S.ARCHIVING],
        CaseKind.INSPECTION: [S.INITIATION, S.INVESTIGATION, S.CASE_FILE, S.ARCHIVING],
    }[kind]


#: Moves kept for cases of the earlier order (a coercion case left at 行政听证 goes on).
LEGACY_PAIRS = {CaseKind.COERCION: {(S.HEARING, S.CLOSING), (S.HEARING, S.CASE_FILE)}}

#: Facts per kind under test: (hearing requested, complex or major, penalty outcome).
FACTS = [(k, (False, False, "")) for k in CaseKind.values] + [
    (CaseKind.PENALTY, (True, True, "warning")),
    (CaseKind.PENALTY, (True, False, "fine")),
    (CaseKind.PENALTY, (False, True, "no_penalty")),
]


def _legal_pairs(kind, facts=(False, False, "")):
    hearing, complex_, outcome = facts
    order = lawful_order(kind, hearing=hearing, complex_=complex_, outcome=outcome)
    pairs = set(zip(order, order[1:], strict=False)) | LEGACY_PAIRS.get(kind, set())
    # A case at a step that no longer applies (reached before its facts changed) goes on to
    # the next step that does.
    full = lawful_order(kind, hearing=True, complex_=True)
    for i, stage in enumerate(full):
        if stage not in order:
            pairs.add((stage, next(s for s in full[i + 1:] if s in order)))
    return pairs


def _with_facts(case, facts):
    hearing, complex_, outcome = facts
    Case.objects.filter(pk=case.pk).update(hearing_requested=hearing, is_complex_or_major=complex_,
                                           penalty_outcome=outcome)
    case.refresh_from_db()
    return case


def _force_stage(case, stage, *, hearing_requested=False):
    """Put a case in ``stage`` directly (the machine is what is under test, not the path)."""
    Case.objects.filter(pk=case.pk).update(stage=stage, hearing_requested=hearing_requested)
    case.refresh_from_db()
    return case


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


@pytest.mark.parametrize(("kind", "facts"), FACTS)
def test_every_illegal_transition_is_refused(team, kind, facts):
    case = make_case(actor=team["actor"], unit=team["unit"], officers=team["officers"], kind=kind)
    case = _with_facts(case, facts)
    legal = _legal_pairs(kind, facts)
    refused = 0
    for from_stage in Stage.values:
        for to_stage in MOVABLE:
            if (from_stage, to_stage) in legal:
                continue
            Case.objects.filter(pk=case.pk).update(stage=from_stage)
            case.refresh_from_db()
            logs = StageLog.objects.filter(case=case).count()
            # Archiving is checked by role first; use the head so only the machine refuses.
            actor = team["head"]
            with pytest.raises(IllegalTransition) as err:
                services.move_case(actor=actor, case=case, to_stage=to_stage)
            assert err.value.code == "illegal_transition"
            assert err.value.message
            entry = last_entry()
            assert (entry.action, entry.outcome) == ("case.transition_refused", "denied")
            assert entry.object_id == str(case.pk) and entry.reason
            case.refresh_from_db()
            assert case.stage == from_stage
            assert StageLog.objects.filter(case=case).count() == logs
            refused += 1
    assert refused == len(Stage.values) * len(MOVABLE) - len(legal)


@pytest.mark.usefixtures("no_completeness_gate")
@pytest.mark.parametrize(("kind", "facts"), FACTS)
def test_the_whole_path_is_walked_with_logs_and_audit(team, kind, facts):
    case = make_case(actor=team["actor"], unit=team["unit"], officers=team["officers"], kind=kind)
    case = _with_facts(case, facts)
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
        entry = last_entry()
        assert (entry.action, entry.outcome) == ("case.stage_changed", "succeeded")
        assert entry.detail["to"] == to_stage and entry.actor_id == actor.pk
        assert entry.detail["article"] == stages.article(kind, to_stage) != "第二条"
    hearing, complex_, outcome = facts
    assert walked == lawful_order(kind, hearing=hearing, complex_=complex_, outcome=outcome)
    assert case.archived_at is not None and case.closed_on is not None
    timeline = list(StageLog.objects.filter(case=case).values_list("from_stage", "to_stage"))
    assert timeline[0] == ("", Stage.INITIATION) and len(timeline) == len(walked)
    # Archived is final: nothing moves it, and its facts are frozen.
    with pytest.raises(IllegalTransition):
        services.move_case(actor=team["head"], case=case, to_stage=Stage.CASE_FILE)
    with pytest.raises(IllegalTransition):
        services.update_case_facts(actor=team["head"], case=case, cause="改案由")


def test_every_step_has_a_phase_of_article_2():
    """第二条's phases stay the names cases are reported by; each step belongs to one."""
    from liuhen.cases.choices import Phase

    assert {stages.phase(s) for s in Stage.values} == set(Phase.values)
    assert stages.phase_label(Stage.NOTICE) == "审查决定"
    assert stages.phase_label(Stage.ENFORCEMENT) == "送达执行"
    assert stages.phase_label(Stage.HEARING) == "行政听证"


def test_penalty_hearing_comes_before_the_decision(team):
    """行政处罚法第六十二条至第六十五条: told of the intended penalty, the party asks for a
    hearing; it is held, reviewed (第五十八条第一款第二项: 经过听证程序的), and only then is the
    decision made. Unlawful orders are refused."""
    case = make_case(actor=team["actor"], unit=team["unit"], officers=team["officers"],
                     kind=CaseKind.PENALTY)
    case = services.start_investigation(actor=team["actor"], case=case)
    assert stages.allowed_next(case) == [Stage.NOTICE]
    with pytest.raises(IllegalTransition):
        services.make_decision(actor=team["actor"], case=case)  # no 事先告知 (第六十二条)
    case = services.give_notice(actor=team["actor"], case=case)
    assert stages.allowed_next(case) == [Stage.DECISION]
    with pytest.raises(IllegalTransition):
        services.hold_hearing(actor=team["actor"], case=case)  # nobody asked for one

    services.update_case_facts(actor=team["actor"], case=case, hearing_requested=True)
    case.refresh_from_db()
    assert stages.allowed_next(case) == [Stage.HEARING]
    with pytest.raises(IllegalTransition):
        services.make_decision(actor=team["actor"], case=case)  # decision before the hearing
    case = services.hold_hearing(actor=team["actor"], case=case, note="听证会")
    assert stages.allowed_next(case) == [Stage.LEGAL_REVIEW]
    with pytest.raises(IllegalTransition):
        services.make_decision(actor=team["actor"], case=case)  # not reviewed (第五十八条)
    case = services.review_legality(actor=team["actor"], case=case)
    case = services.make_decision(actor=team["actor"], case=case)
    case = services.start_service(actor=team["actor"], case=case)
    assert stages.allowed_next(case) == [Stage.ENFORCEMENT]  # no hearing after the decision
    with pytest.raises(IllegalTransition):
        services.hold_hearing(actor=team["actor"], case=case)
    with pytest.raises(IllegalTransition):
        services.close_case(actor=team["actor"], case=case)  # the fine is not yet paid/enforced
    log = StageLog.objects.filter(case=case, to_stage=Stage.HEARING).get()
    assert log.from_stage == Stage.NOTICE
    entry = AuditEntry.objects.filter(action="case.stage_changed",
                                      detail__to=Stage.HEARING).latest("seq")
    assert "第六十三条" in entry.detail["article"]


def test_collective_discussion_only_when_required(team):
    """行政处罚法第五十七条第二款: 情节复杂或者重大违法 → 集体讨论 before the decision; not otherwise."""
    case = make_case(actor=team["actor"], unit=team["unit"], officers=team["officers"],
                     kind=CaseKind.PENALTY)
    case = services.start_investigation(actor=team["actor"], case=case)
    case = services.give_notice(actor=team["actor"], case=case)
    with pytest.raises(IllegalTransition):
        services.discuss_collectively(actor=team["actor"], case=case)
    services.update_case_facts(actor=team["actor"], case=case, is_complex_or_major=True)
    case.refresh_from_db()
    assert stages.allowed_next(case) == [Stage.LEGAL_REVIEW]  # 第五十八条第一款第三项
    case = services.review_legality(actor=team["actor"], case=case)
    with pytest.raises(IllegalTransition):
        services.make_decision(actor=team["actor"], case=case)
    case = services.discuss_collectively(actor=team["actor"], case=case)
    entry = AuditEntry.objects.filter(action="case.stage_changed",
                                      detail__to=Stage.COLLECTIVE).latest("seq")
    assert entry.detail["article"] == "行政处罚法第五十七条第二款"
    assert stages.allowed_next(case) == [Stage.DECISION]


def test_closing_sets_the_closing_date(team, no_completeness_gate):
    case = make_case(actor=team["actor"], unit=team["unit"], officers=team["officers"],
                     kind=CaseKind.PENALTY)
    services.update_case_facts(actor=team["actor"], case=case, penalty_outcome="warning")
    case.refresh_from_db()
    for step in (services.start_investigation, services.give_notice, services.make_decision,
                 services.start_service):
        case = step(actor=team["actor"], case=case)
    assert stages.allowed_next(case) == [Stage.CLOSING]  # 警告: nothing to enforce
    assert case.closed_on is None
    case = services.close_case(actor=team["actor"], case=case)
    from django.utils import timezone

    assert case.closed_on == timezone.localdate()


def test_coercion_has_no_hearing(team):
    """行政强制法 has 陈述、申辩 (第三十六条), not a hearing: never offered, even if asked."""
    case = make_case(actor=team["actor"], unit=team["unit"], officers=team["officers"],
                     kind=CaseKind.COERCION)
    services.update_case_facts(actor=team["actor"], case=case, hearing_requested=True)
    assert Stage.HEARING not in stages.path(CaseKind.COERCION)
    for stage in stages.path(CaseKind.COERCION):
        _force_stage(case, stage, hearing_requested=True)
        assert Stage.HEARING not in stages.allowed_next(case)
    assert stages.article(CaseKind.COERCION, Stage.DECISION) == "行政强制法第三十七条"
    assert "行政强制法第三十五条" in stages.article(CaseKind.COERCION, Stage.REMINDER)
    # 催告 and 陈述申辩 come before the decision (第三十五条至第三十七条).
    order = stages.path(CaseKind.COERCION)
    assert order.index(Stage.REMINDER) < order.index(Stage.DECISION)


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
    assert stages.allowed_next(case) == [Stage.CLOSING, Stage.CASE_FILE]
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
        entry = last_entry()
        assert (entry.action, entry.outcome) == ("case.transition_refused", "denied")
    case.refresh_from_db()
    assert case.stage == Stage.INITIATION


def test_officer_not_assigned_may_not_move_a_case(team, people, bureau, make_officer):
    case = make_case(actor=team["actor"], unit=team["unit"], officers=team["officers"])
    colleague = make_officer(bureau["team_a"])  # same team, not on the case
    with pytest.raises(Forbidden):
        services.start_investigation(actor=colleague.user, case=case)
    entry = last_entry()
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
    entry = last_entry()
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
