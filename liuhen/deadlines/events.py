"""Audit actions of the statutory deadlines and the working-day calendar."""

event_case_deadlines_viewed = "case.deadlines_viewed"
event_deadlines_listed = "deadline.listed"
event_calendar_changed = "calendar.changed"

# 审计操作的名称 (core.display): what the audit log page, its exports and the CLI show.
ACTION_LABELS = {
    event_case_deadlines_viewed: "查看案件法定期限",
    event_deadlines_listed: "查看期限列表",
    event_calendar_changed: "修改工作日历",
}

