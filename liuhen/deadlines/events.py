"""Audit actions of the statutory deadlines and the working-day calendar."""

event_case_deadlines_viewed = "case.deadlines_viewed"
event_deadlines_listed = "deadline.listed"
event_calendar_changed = "calendar.changed"
