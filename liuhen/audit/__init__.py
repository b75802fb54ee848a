"""Audit: the append-only, SM3 hash-chained audit log, its triggers, anchors and verification,
and the audit of logins (第二十六条 (二), (三))."""
