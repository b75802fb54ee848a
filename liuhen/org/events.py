"""Audit actions of the org app."""

event_officer_refused = "officer.refused_unqualified"
event_token_created = "auth.token_created"
event_token_revoked = "auth.token_revoked"
event_token_denied = "auth.token_denied"
