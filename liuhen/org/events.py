"""Audit actions of the org app."""

event_officer_refused = "officer.refused_unqualified"
event_unit_changed = "org.unit_changed"
event_officer_changed = "org.officer_changed"
event_permissions_viewed = "org.permissions_viewed"
