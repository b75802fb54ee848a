"""Audit actions of the keeping app (第二十六条: every change is logged, reads of the table's
history too). Stored in the hash-chained log: add, never rename."""

event_retention_changed = "retention.changed"
event_retention_change_refused = "retention.change_refused"
event_retention_table_viewed = "retention.table_viewed"

# Legal holds (holds.py).
event_hold_placed = "hold.placed"
event_hold_released = "hold.released"
event_hold_refused = "hold.refused"
event_holds_viewed = "hold.listed"

# Destruction registers (disposal.py): proposal, approvals, execution, the PDF.
event_disposal_listed = "disposal.listed"
event_disposal_proposed = "disposal.proposed"
event_disposal_approved = "disposal.approved"
event_disposal_rejected = "disposal.rejected"
event_disposal_executed = "disposal.executed"
event_disposal_refused = "disposal.refused"
event_disposal_register_viewed = "disposal.register_viewed"
event_disposal_register_printed = "disposal.register_printed"

# Case files (casefile.py, 第十二条).
event_casefile_assembled = "casefile.assembled"
event_casefile_bound = "casefile.bound"
event_casefile_refused = "casefile.refused"
event_casefile_downloaded = "casefile.downloaded"

# Long-term keeping (longterm.py, 第十五条).
event_longterm_marked = "longterm.marked"
event_longterm_refused = "longterm.refused"
