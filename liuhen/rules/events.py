"""Audit actions of the completeness rules (第十条, 第十二条)."""

event_completeness_viewed = "completeness.viewed"
event_completeness_checked = "completeness.checked"
event_archive_refused = "case.archive_refused"
event_report_viewed = "rules_report.viewed"

# 审计操作的名称 (core.display): what the audit log page, its exports and the CLI show.
ACTION_LABELS = {
    event_completeness_viewed: "查看记录完整性",
    event_completeness_checked: "检查记录完整性",
    event_archive_refused: "拒绝归档",
    event_report_viewed: "查看完整性统计",
}

