"""Audit actions of supervision (第二十六条)."""

event_violations_detected = "violation.detected"
event_violation_reported = "violation.reported"
event_violations_listed = "violation.listed"
event_violation_viewed = "violation.viewed"
event_violation_confirmed = "violation.confirmed"
event_violation_dismissed = "violation.dismissed"
event_violation_measure_taken = "violation.measure_taken"
event_violation_closed = "violation.closed"

# 审计操作的名称 (core.display, issue 13 item 1): what the audit log page and its exports show.
ACTION_LABELS = {
    event_violations_detected: "发现违规",
    event_violation_reported: "报告违规",
    event_violations_listed: "查看违规列表",
    event_violation_viewed: "查看违规",
    event_violation_confirmed: "确认违规",
    event_violation_dismissed: "排除违规",
    event_violation_measure_taken: "采取整改措施",
    event_violation_closed: "违规处理完毕",
}
