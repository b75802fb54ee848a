"""Audit actions of the statutory deadlines, the calendar and the generated documents.

(Kept apart from the completeness rules' ``events.py`` so the two parts of the rules app
can grow independently.)
"""

event_case_deadlines_viewed = "case.deadlines_viewed"
event_deadlines_listed = "deadline.listed"
event_calendar_changed = "calendar.changed"
event_document_generated = "document.generated"
