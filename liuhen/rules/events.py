"""Audit actions of the completeness rules (第十条, 第十二条)."""

event_completeness_viewed = "completeness.viewed"
event_completeness_checked = "completeness.checked"
event_archive_refused = "case.archive_refused"
event_report_viewed = "rules_report.viewed"
