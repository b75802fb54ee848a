"""Audit actions of the org app."""

event_officer_refused = "officer.refused_unqualified"
event_token_created = "auth.token_created"
event_token_revoked = "auth.token_revoked"
event_token_denied = "auth.token_denied"
event_unit_changed = "org.unit_changed"
event_officer_changed = "org.officer_changed"
event_permissions_viewed = "org.permissions_viewed"
