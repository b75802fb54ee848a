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
# A written record or a case-file version made a tombstone, and its stored file erased.
event_record_disposed = "disposal.record_disposed"
event_record_object_erased = "disposal.record_object_erased"
# The scheduler tried again the erasures that failed after their tombstone committed.
event_erasures_retried = "disposal.erasures_retried"

# Case files (casefile.py, 第十二条).
event_casefile_assembled = "casefile.assembled"
event_casefile_bound = "casefile.bound"
event_casefile_refused = "casefile.refused"
event_casefile_downloaded = "casefile.downloaded"

# Long-term keeping (longterm.py, 第十五条).
event_longterm_marked = "longterm.marked"
event_longterm_refused = "longterm.refused"

# Archive packages (archive.py, 第十五条, DA/T 70).
event_package_built = "package.built"
event_package_refused = "package.refused"

# Burn register (burns.py, 第十五条): disc images written, discs burnt, discs read back.
event_burn_image_recorded = "burn.image_recorded"
event_burn_registered = "burn.registered"
event_burn_checked = "burn.checked"
event_burn_refused = "burn.refused"
event_burns_viewed = "burn.listed"
event_burns_exported = "burn.exported"
event_package_disc_checked = "package.disc_checked"
event_packages_viewed = "package.listed"
event_package_verified = "package.verified"
event_package_report_downloaded = "package.report_downloaded"
event_burn_image_downloaded = "burn.image_downloaded"

# 审计操作的名称 (core.display, issue 13 item 1): what the audit log page and its exports show.
ACTION_LABELS = {
    event_retention_changed: "修改保存期限",
    event_retention_change_refused: "拒绝修改保存期限",
    event_retention_table_viewed: "查看保存期限表",
    event_hold_placed: "设置法律冻结",
    event_hold_released: "解除法律冻结",
    event_hold_refused: "拒绝法律冻结操作",
    event_holds_viewed: "查看法律冻结列表",
    event_disposal_listed: "查看到期待销毁列表",
    event_disposal_proposed: "提出销毁清册",
    event_disposal_approved: "批准销毁清册",
    event_disposal_rejected: "驳回销毁清册",
    event_disposal_executed: "执行销毁",
    event_disposal_refused: "拒绝销毁操作",
    event_disposal_register_viewed: "查看销毁清册",
    event_disposal_register_printed: "打印销毁清册",
    event_record_disposed: "销毁文字记录或卷宗",
    event_record_object_erased: "删除已销毁文字记录或卷宗的文件",
    event_erasures_retried: "重试删除已销毁记录的存储对象",
    event_casefile_assembled: "组卷",
    event_casefile_bound: "案卷装订定稿",
    event_casefile_refused: "拒绝组卷操作",
    event_casefile_downloaded: "下载案卷",
    event_longterm_marked: "标记长期保存",
    event_longterm_refused: "拒绝长期保存操作",
    event_package_built: "制作档案包（四性检测）",
    event_package_refused: "拒绝制作档案包",
    event_burn_image_recorded: "登记光盘映像",
    event_burn_registered: "登记光盘刻录",
    event_burn_checked: "光盘回读校验",
    event_burn_refused: "拒绝光盘刻录登记操作",
    event_burns_viewed: "查看光盘刻录登记",
    event_burns_exported: "导出光盘刻录登记",
    event_package_disc_checked: "档案包光盘映像回读（安全性检测）",
    event_packages_viewed: "查看档案包",
    event_package_verified: "校验档案包",
    event_package_report_downloaded: "下载四性检测报告",
    event_burn_image_downloaded: "下载光盘映像",
}

# 审计详情字段的名称 (core.display), beyond the common ones.
DETAIL_LABELS = {
    "objects_pending": "待删除的存储对象",
    "objects_erased": "本次删除的存储对象",
    "objects_left": "仍未删除的存储对象",
}
