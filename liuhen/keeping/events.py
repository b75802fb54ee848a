"""Audit actions of the keeping app (第二十六条: every change is logged, reads of the table's
history too). Stored in the hash-chained log: add, never rename."""

event_retention_changed = "retention.changed"
event_retention_change_refused = "retention.change_refused"
event_retention_table_viewed = "retention.table_viewed"
