"""Audit actions of access control: personal API tokens (logins are the audit app's)."""

event_token_created = "auth.token_created"
event_token_revoked = "auth.token_revoked"
event_token_denied = "auth.token_denied"
