"""Audit actions of the cases app, and its domain events (``liuhen.core.domain_events``)."""

from liuhen.core.domain_events import DomainEvent

event_case_created = "case.created"
event_case_viewed = "case.viewed"
event_case_listed = "case.listed"
event_case_changed = "case.changed"
event_case_stage_changed = "case.stage_changed"
event_case_transition_refused = "case.transition_refused"
event_party_created = "party.created"
event_party_viewed = "party.viewed"
event_patrol_created = "patrol.created"
event_patrol_viewed = "patrol.viewed"

# 审计操作的名称 (core.display): what the audit log page, its exports and the CLI show.
ACTION_LABELS = {
    event_case_created: "立案登记",
    event_case_viewed: "查看案件",
    event_case_listed: "查看案件列表",
    event_case_changed: "修改案件",
    event_case_stage_changed: "变更环节",
    event_case_transition_refused: "拒绝变更环节",
    event_party_created: "登记当事人",
    event_party_viewed: "查看当事人",
    event_patrol_created: "登记巡查",
    event_patrol_viewed: "查看巡查",
}


# A fact, stage, written record or recording of a case changed: ``case=``, ``actor=``. The
# rules app re-evaluates completeness (第十条), the deadlines app the statutory deadlines.
case_changed = DomainEvent("cases.case_changed")
# A case is about to be archived: ``case=``, ``actor=``. A handler refuses by raising (the
# rules app's archive gate: 第十条, 第十二条).
case_archiving = DomainEvent("cases.case_archiving")
