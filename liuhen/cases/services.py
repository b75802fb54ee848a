"""Services for cases, parties and patrols: every rule of 第二条 and 第十一条 lives here."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from liuhen.access.choices import Role
from liuhen.access.querysets import unit_allowed, user_role
from liuhen.audit.services import record, record_denied
from liuhen.cases import dates, events, stages
from liuhen.cases.choices import CaseKind, CaseSource, PartyKind, PenaltyOutcome, Stage
from liuhen.cases.models import Case, CaseCounter, Party, Patrol, StageLog
from liuhen.cases.validators import id_card_error, uscc_error
from liuhen.core.errors import Forbidden, IllegalTransition, InvalidInput
from liuhen.org.services import ensure_qualified, officers_by_ids

# 行政处罚法 第四十二条 (and 行政强制法 第十八条): at least two enforcement officers.
MIN_OFFICERS = {CaseKind.PENALTY: 2, CaseKind.COERCION: 2}

# Facts of a case that may be changed after it is opened (each change is audited).
EDITABLE_FACTS = ("cause", "summary", "is_random_inspection", "is_disputed",
                  "is_major_incident", "hearing_requested", "complaint_received_on",
                  "decided_on", "closed_on", "is_complex_or_major",
                  "written_record_impractical", "av_other_reason", "penalty_outcome")


def _require_unit(actor, action: str, unit, event: str, *, target=None) -> None:
    """Refuse ``action`` outside the actor's units; the refusal names ``target`` (the object
    acted on; the unit by default: 第二十六条 (三), who was refused what)."""
    if not unit_allowed(actor, action, unit):
        record_denied(actor=actor, action=event, target=target or unit,
                      reason=f"无权在该单位执行：{action}")
        raise Forbidden("无权在该单位办理此事项")


def _check_officers(officers, unit, *, actor, purpose: str, on: date | None = None) -> None:
    outside = [o.name for o in officers if not o.unit.path.startswith(unit.path)]
    if outside:
        raise InvalidInput(f"执法人员不属于{unit.name}：{'、'.join(outside)}")
    ensure_qualified(officers, on=on, actor=actor, purpose=purpose)


def require_case_create(*, actor, unit, target=None) -> None:
    """Refuse (403, audited) opening a case in ``unit``: the case forms ask before they show
    anything, so a role that cannot open cases there never sees the form (issue 16 item 14).
    ``target``: what the case would come from (a patrol), named by the refusal."""
    _require_unit(actor, "case.create", unit, events.event_case_created, target=target)


def create_party(*, actor, unit, kind: str, name: str, id_number: str,
                 legal_representative: str = "", phone: str = "", address: str = "") -> Party:
    """Register a party, its ID card or unified social credit code checked."""
    _require_unit(actor, "party.create", unit, events.event_party_created)
    name = (name or "").strip()
    id_number = (id_number or "").strip().upper()
    if kind not in PartyKind.values:
        raise InvalidInput("当事人类型应为自然人或单位")
    if not name:
        raise InvalidInput("请填写当事人名称或姓名")
    error = id_card_error(id_number) if kind == PartyKind.PERSON else uscc_error(id_number)
    if error:
        raise InvalidInput(error, detail={"field": "id_number"})
    with transaction.atomic():
        existing = Party.objects.filter(unit=unit, id_number=id_number).first()
        if existing:
            return existing
        party = Party.objects.create(
            unit=unit, kind=kind, name=name[:200], id_number=id_number,
            legal_representative=legal_representative[:50], phone=phone[:30],
            address=address[:200])
        record(actor=actor, action=events.event_party_created, target=party,
               detail={"kind": kind})
    return party


def create_patrol(*, actor, unit, date: date, area: str, officer_ids, notes: str = "") -> Patrol:
    """Register a patrol shift (日常巡查, 第二条); its officers must be qualified (第十一条)."""
    _require_unit(actor, "patrol.create", unit, events.event_patrol_created)
    if not (area or "").strip():
        raise InvalidInput("请填写巡查区域")
    officers = officers_by_ids(officer_ids)
    if not officers:
        raise InvalidInput("请至少指定一名执法人员")
    dates.check_event_date(field="date", label="巡查日期", value=date)
    _check_officers(officers, unit, actor=actor, purpose="参加日常巡查", on=date)
    with transaction.atomic():
        patrol = Patrol.objects.create(unit=unit, date=date, area=area.strip()[:200],
                                       notes=notes, created_by=actor)
        patrol.officers.set(officers)
        record(actor=actor, action=events.event_patrol_created, target=patrol,
               detail={"officers": [o.pk for o in officers], "date": str(date)})
    return patrol


def parties_for_case(*, actor, unit):
    """The parties a case of ``unit`` may name: those ``actor`` may see, registered by ``unit``
    or a unit below it. One rule for the form and the API (issue 16 item 7): naming another
    unit's party would show its name and ID number to the handling unit (第十七条第四款)."""
    return Party.objects.restrict(actor, "party.view").filter(unit__path__startswith=unit.path)


def _next_number(unit, year: int) -> tuple[str, int]:
    prefix = unit.number_prefix()
    counter, _ = CaseCounter.objects.select_for_update().get_or_create(prefix=prefix, year=year)
    CaseCounter.objects.filter(pk=counter.pk).update(last=F("last") + 1)
    counter.refresh_from_db()
    return f"{prefix}〔{year}〕{counter.last}号", counter.last


def create_case(*, actor, unit, kind: str, cause: str, source: str, officer_ids,
                party_ids=(), patrol: Patrol | None = None, summary: str = "",
                opened_on: date | None = None, complaint_received_on: date | None = None,
                is_random_inspection: bool = False, is_disputed: bool = False,
                is_major_incident: bool = False) -> Case:
    """Open a case (程序启动) with its generated number, officers and parties."""
    _require_unit(actor, "case.create", unit, events.event_case_created)
    if kind not in CaseKind.values:
        raise InvalidInput("执法行为类型无效", detail={"field": "kind"})
    if source not in CaseSource.values:
        raise InvalidInput("案件来源无效", detail={"field": "source"})
    cause = (cause or "").strip()
    if not cause:
        raise InvalidInput("请填写案由", detail={"field": "cause"})
    opened_on = opened_on or timezone.localdate()
    if opened_on > timezone.localdate():
        raise InvalidInput("立案日期不能晚于今天", detail={"field": "opened_on"})
    if complaint_received_on and complaint_received_on > opened_on:
        raise InvalidInput("收到投诉日期不能晚于立案日期", detail={"field": "complaint_received_on"})
    officers = officers_by_ids(officer_ids)
    minimum = MIN_OFFICERS.get(kind, 1)
    if len(officers) < minimum:
        raise InvalidInput(
            f"{CaseKind(kind).label}案件应由不少于{minimum}名执法人员承办（行政处罚法第四十二条）",
            detail={"field": "officer_ids"})
    _check_officers(officers, unit, actor=actor, purpose="承办案件", on=opened_on)
    parties = list(parties_for_case(actor=actor, unit=unit).filter(
        pk__in=[i for i in party_ids if 0 < i < 2**63]))  # out of range cannot exist
    if len(parties) != len(set(party_ids)):
        raise InvalidInput(f"当事人不存在、无权访问或不属于{unit.name}",
                           detail={"field": "party_ids"})
    if patrol is not None and patrol.unit_id != unit.pk:
        raise InvalidInput("来源巡查不属于本单位")
    with transaction.atomic():
        number, _ = _next_number(unit, opened_on.year)
        case = Case.objects.create(
            number=number, year=opened_on.year, unit=unit, kind=kind, cause=cause[:300],
            source=source, patrol=patrol, summary=summary, opened_on=opened_on,
            complaint_received_on=complaint_received_on,
            is_random_inspection=is_random_inspection, is_disputed=is_disputed,
            is_major_incident=is_major_incident, created_by=actor)
        case.officers.set(officers)
        case.parties.set(parties)
        StageLog.objects.create(case=case, from_stage="", to_stage=Stage.INITIATION, actor=actor,
                                actor_name=_name(actor), note="立案")
        record(actor=actor, action=events.event_case_created, target=case, detail={
            "number": number, "kind": kind, "officers": [o.pk for o in officers],
            "parties": [p.pk for p in parties]})
        _case_changed(case, actor)
    return case


def open_case_from_patrol(*, actor, patrol: Patrol, kind: str, cause: str, officer_ids=None,
                          party_ids=(), summary: str = "") -> Case:
    """A violation found on patrol opens a case (第五条: 日常巡查发现违法行为)."""
    require_case_create(actor=actor, unit=patrol.unit, target=patrol)
    ids = officer_ids or list(patrol.officers.values_list("pk", flat=True))
    return create_case(actor=actor, unit=patrol.unit, kind=kind, cause=cause,
                       source=CaseSource.PATROL, officer_ids=ids, party_ids=party_ids,
                       patrol=patrol, summary=summary)


def update_case_facts(*, actor, case: Case, **changes) -> Case:
    """Change recorded facts of a case (flags, dates, cause); each change is audited."""
    unknown = set(changes) - set(EDITABLE_FACTS)
    if unknown:
        raise InvalidInput(f"不可修改的字段：{', '.join(sorted(unknown))}")
    _require_unit(actor, "case.change", case.unit, events.event_case_changed)
    if case.stage == Stage.ARCHIVING:
        raise IllegalTransition("案件已归档，不能再修改")
    if "cause" in changes and not (changes["cause"] or "").strip():
        raise InvalidInput("请填写案由", detail={"field": "cause"})
    # null for a fact that cannot be empty (a flag, the summary) is bad input, not a database
    # error (issue 16 item 12: PATCH {"is_disputed": null} answered 500).
    for key, value in changes.items():
        if value is None and not Case._meta.get_field(key).null:
            raise InvalidInput(f"「{Case._meta.get_field(key).verbose_name}」不能为空",
                               detail={"field": key})
    if changes.get("penalty_outcome", "") not in PenaltyOutcome.values:
        raise InvalidInput("处罚决定内容无效", detail={"field": "penalty_outcome"})
    if changes.get("penalty_outcome") and case.kind != CaseKind.PENALTY:
        raise InvalidInput("只有行政处罚案件登记处罚决定内容", detail={"field": "penalty_outcome"})
    dated = {field for field, _label, _stage in dates.CASE_DATES}
    if dated & set(changes):
        values = {field: changes.get(field, getattr(case, field)) for field in dated}
        dates.check_case_dates(kind=case.kind, stage=case.stage, values=values)
    with transaction.atomic():
        before = {k: getattr(case, k) for k in changes}
        for key, value in changes.items():
            setattr(case, key, value)
        case.updated_at = timezone.now()
        case.save(update_fields=[*changes, "updated_at"])
        record(actor=actor, action=events.event_case_changed, target=case,
               detail={"before": before, "after": changes})
        _case_changed(case, actor)
    return case


def _name(actor) -> str:
    officer = getattr(actor, "officer", None)
    return officer.name if officer else actor.get_username()


def _case_changed(case: Case, actor) -> None:
    # The apps above re-evaluate what the case still lacks (第十条) and its deadlines.
    events.case_changed.publish(case=case, actor=actor)


def may_move(actor, case: Case, to_stage: str, *, officers=None) -> bool:
    """Whether ``actor`` may move ``case`` to ``to_stage`` by who they are (the stage order is
    ``stages.allowed_next``'s): archiving needs case.archive, any other move case.transition in
    the case's unit, and an officer must handle the case. ``officers``: the case's officers
    when the caller has them (the case page), else asked."""
    action = "case.archive" if to_stage == Stage.ARCHIVING else "case.transition"
    if not unit_allowed(actor, action, case.unit):
        return False
    if user_role(actor) != Role.OFFICER:
        return True
    if officers is not None:
        return any(o.user_id == actor.pk for o in officers)
    return case.officers.filter(user=actor).exists()


def refuse_unless_may_move(*, actor, case: Case) -> None:
    """A stage move whose form named no stage (or a malformed note): refused and audited when
    the actor may move the case to none of its next stages (第二十六条: a refused attempt is on
    record whatever the form held); otherwise the form's own error is for them to mend."""
    targets = stages.allowed_next(case) or [Stage.CLOSING]  # archived: any move is a transition
    if not any(may_move(actor, case, s) for s in targets):
        record_denied(actor=actor, action=events.event_case_transition_refused, target=case,
                      reason="无权变更案件环节")
        raise Forbidden("无权变更该案件的环节")


def _transition(case: Case, to_stage: str, *, actor, note: str = "") -> Case:
    label = Stage(to_stage).label
    if not may_move(actor, case, to_stage):
        record_denied(actor=actor, action=events.event_case_transition_refused, target=case,
                      reason=f"无权将案件转入{label}", detail={"to": to_stage})
        raise Forbidden(f"无权将案件转入「{label}」环节")
    allowed = stages.allowed_next(case)
    if to_stage not in allowed:
        names = "、".join(Stage(s).label for s in allowed) or "无（已归档）"
        reason = f"案件当前处于「{Stage(case.stage).label}」，不能转入「{label}」；可转入：{names}"
        record_denied(actor=actor, action=events.event_case_transition_refused, target=case,
                      reason=reason, detail={"from": case.stage, "to": to_stage})
        raise IllegalTransition(reason, detail={"from": case.stage, "to": to_stage,
                                                "allowed": allowed})
    if to_stage == Stage.ARCHIVING:
        # 第十条/第十二条: an incomplete case is not archived without an approved waiver (the
        # rules app's archive gate refuses by raising).
        events.case_archiving.publish(case=case, actor=actor)
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if locked.stage != case.stage:
            raise IllegalTransition("案件环节已被他人变更，请刷新后重试")
        from_stage = locked.stage
        locked.stage = to_stage
        locked.updated_at = timezone.now()
        fields = ["stage", "updated_at"]
        if to_stage == Stage.ARCHIVING:
            locked.archived_at = locked.updated_at
            locked.closed_on = locked.closed_on or timezone.localdate()
            fields += ["archived_at", "closed_on"]
        elif to_stage == Stage.CLOSING and locked.closed_on is None:
            locked.closed_on = timezone.localdate()  # 结案: the day it is closed
            fields.append("closed_on")
        locked.save(update_fields=fields)
        StageLog.objects.create(case=locked, from_stage=from_stage, to_stage=to_stage,
                                actor=actor, actor_name=_name(actor), note=note[:2000])
        record(actor=actor, action=events.event_case_stage_changed, target=locked,
               detail={"from": from_stage, "to": to_stage, "note": note[:500],
                       "article": stages.article(locked.kind, to_stage)})
        _case_changed(locked, actor)
    return locked


def start_investigation(*, actor, case: Case, note: str = "") -> Case:
    """程序启动 → 调查取证."""
    return _transition(case, Stage.INVESTIGATION, actor=actor, note=note)


def make_decision(*, actor, case: Case, note: str = "") -> Case:
    """→ 审查决定."""
    return _transition(case, Stage.DECISION, actor=actor, note=note)


def start_service(*, actor, case: Case, note: str = "") -> Case:
    """审查决定 → 送达 (行政处罚法第六十一条; 行政强制法第三十八条)."""
    return _transition(case, Stage.SERVICE, actor=actor, note=note)


def give_notice(*, actor, case: Case, note: str = "") -> Case:
    """调查取证 → 事先告知 (行政处罚法第四十四条、第六十二条): the party's window opens."""
    return _transition(case, Stage.NOTICE, actor=actor, note=note)


def remind(*, actor, case: Case, note: str = "") -> Case:
    """调查取证 → 催告、陈述申辩 (行政强制法第三十五条、第三十六条; 强制措施 第十八条)."""
    return _transition(case, Stage.REMINDER, actor=actor, note=note)


def review_legality(*, actor, case: Case, note: str = "") -> Case:
    """→ 法制审核 where 行政处罚法第五十八条 applies."""
    return _transition(case, Stage.LEGAL_REVIEW, actor=actor, note=note)


def discuss_collectively(*, actor, case: Case, note: str = "") -> Case:
    """→ 集体讨论 where 行政处罚法第五十七条第二款 applies."""
    return _transition(case, Stage.COLLECTIVE, actor=actor, note=note)


def enforce(*, actor, case: Case, note: str = "") -> Case:
    """送达 → 执行 (行政处罚法第六十六条、第六十七条; 行政强制法第五十三条、第五十四条)."""
    return _transition(case, Stage.ENFORCEMENT, actor=actor, note=note)


def close_case(*, actor, case: Case, note: str = "") -> Case:
    """→ 结案 (第五条第四款); the closing date is today unless one was recorded."""
    return _transition(case, Stage.CLOSING, actor=actor, note=note)


def hold_hearing(*, actor, case: Case, note: str = "") -> Case:
    """事先告知 → 行政听证 (penalty cases whose party requested one, 行政处罚法第六十三、六十四条)."""
    return _transition(case, Stage.HEARING, actor=actor, note=note)


def make_case_file(*, actor, case: Case, note: str = "") -> Case:
    """→ 案卷制作."""
    return _transition(case, Stage.CASE_FILE, actor=actor, note=note)


def archive_case(*, actor, case: Case, note: str = "") -> Case:
    """案卷制作 → 归档管理 (第十二条), behind the completeness gate."""
    return _transition(case, Stage.ARCHIVING, actor=actor, note=note)


TRANSITION_SERVICES = {
    Stage.INVESTIGATION: start_investigation,
    Stage.NOTICE: give_notice,
    Stage.REMINDER: remind,
    Stage.HEARING: hold_hearing,
    Stage.LEGAL_REVIEW: review_legality,
    Stage.COLLECTIVE: discuss_collectively,
    Stage.DECISION: make_decision,
    Stage.SERVICE: start_service,
    Stage.ENFORCEMENT: enforce,
    Stage.CLOSING: close_case,
    Stage.CASE_FILE: make_case_file,
    Stage.ARCHIVING: archive_case,
}


def move_case(*, actor, case: Case, to_stage: str, note: str = "") -> Case:
    """Dispatch to the one service for the target stage (pages and API call this)."""
    service = TRANSITION_SERVICES.get(to_stage)
    if service is None:
        record_denied(actor=actor, action=events.event_case_transition_refused, target=case,
                      reason=f"未知环节：{to_stage}")
        raise IllegalTransition(f"未知或不可转入的环节：{to_stage}")
    return service(actor=actor, case=case, note=note)

