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

# A fact, stage, written record or recording of a case changed: ``case=``, ``actor=``. The
# rules app re-evaluates completeness (第十条), the deadlines app the statutory deadlines.
case_changed = DomainEvent("cases.case_changed")
# A case is about to be archived: ``case=``, ``actor=``. A handler refuses by raising (the
# rules app's archive gate: 第十条, 第十二条).
case_archiving = DomainEvent("cases.case_archiving")
