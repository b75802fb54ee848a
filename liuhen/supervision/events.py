"""Audit actions of supervision (第二十六条)."""

event_violations_detected = "violation.detected"
event_violation_reported = "violation.reported"
event_violations_listed = "violation.listed"
event_violation_viewed = "violation.viewed"
event_violation_confirmed = "violation.confirmed"
event_violation_dismissed = "violation.dismissed"
event_violation_measure_taken = "violation.measure_taken"
event_violation_closed = "violation.closed"

# Spot checks and playback reviews (第二十三条).
event_spot_check_opened = "spotcheck.opened"
event_spot_check_viewed = "spotcheck.viewed"
event_spot_check_listed = "spotcheck.listed"
event_spot_check_redrawn = "spotcheck.redrawn"
event_spot_check_item_reviewed = "spotcheck.item_reviewed"
event_rectification_requested = "spotcheck.rectification_requested"
event_rectification_reported = "spotcheck.rectification_reported"
event_rectification_verified = "spotcheck.rectification_verified"
event_ledger_exported = "spotcheck.ledger_exported"

# Circulars and scores (第二十四条).
event_circular_created = "circular.created"
event_circular_published = "circular.published"
event_circular_viewed = "circular.viewed"
event_circular_listed = "circular.listed"
event_circular_exported = "circular.exported"
event_circular_drafted = "circular.drafted"

# Training (第二十五条).
event_training_session_added = "training.session_added"
event_training_attendance_recorded = "training.attendance_recorded"
event_training_listed = "training.listed"
event_training_viewed = "training.viewed"
event_training_record_viewed = "training.record_viewed"

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
    event_spot_check_opened: "发起抽查",
    event_spot_check_viewed: "查看抽查",
    event_spot_check_listed: "查看抽查列表",
    event_spot_check_redrawn: "重新抽取核对",
    event_spot_check_item_reviewed: "评查抽查项",
    event_rectification_requested: "发出限期整改",
    event_rectification_reported: "报告整改情况",
    event_rectification_verified: "验收整改",
    event_ledger_exported: "导出检查台帐",
    event_circular_created: "制作通报",
    event_circular_published: "发布通报",
    event_circular_viewed: "查看通报",
    event_circular_listed: "查看通报列表",
    event_circular_exported: "导出通报",
    event_circular_drafted: "定期生成通报草稿",
    event_training_session_added: "登记培训",
    event_training_attendance_recorded: "登记参训人员",
    event_training_listed: "查看培训列表",
    event_training_viewed: "查看培训",
    event_training_record_viewed: "查看个人培训记录",
}

# 审计详情中的字段名称 (core.display): what the audit page shows for these actions' details.
DETAIL_LABELS = {
    "findings": "发现问题",
    "object": "对象",
    "scores": "评分",
    "formula_version": "评分办法版本",
    "period": "期间",
    "hours": "学时",
    "result": "结论",
    "seed": "随机种子",
    "method": "抽取方法",
    "population": "抽查对象",
    "strata": "分层",
    "per_stratum": "每层抽取数",
    "population_size": "总体数量",
    "population_digest": "总体标识",
    "sample": "样本数",
    "same_population": "总体一致",
    "same_sample": "样本一致",
    "item": "抽查项",
    "deadline": "整改期限",
    "refreshed": "更新",
}
