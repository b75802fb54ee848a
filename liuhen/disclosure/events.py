"""Audit actions of party copies (第十七条第二款)."""

event_copy_registered = "party_copy.registered"
event_copy_approved = "party_copy.approved"
event_copy_refused = "party_copy.refused"
event_copy_made = "party_copy.made"
event_copy_handed_over = "party_copy.handed_over"
