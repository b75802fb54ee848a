"""Audit actions of party copies (第十七条第二款)."""

event_copy_registered = "party_copy.registered"
event_copy_approved = "party_copy.approved"
event_copy_refused = "party_copy.refused"
event_copy_made = "party_copy.made"
event_copy_handed_over = "party_copy.handed_over"

# 审计操作的名称 (core.display, issue 13 item 1): what the audit log page and its exports show.
ACTION_LABELS = {
    event_copy_registered: "登记当事人复制申请",
    event_copy_approved: "批准当事人复制",
    event_copy_refused: "拒绝当事人复制",
    event_copy_made: "制作当事人复制件",
    event_copy_handed_over: "交付当事人复制件",
}
