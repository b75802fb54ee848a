"""Audit actions of the org app."""

event_officer_refused = "officer.refused_unqualified"
event_unit_changed = "org.unit_changed"
event_officer_changed = "org.officer_changed"
event_permissions_viewed = "org.permissions_viewed"

# 审计操作的名称 (core.display): what the audit log page, its exports and the CLI show.
ACTION_LABELS = {
    event_officer_refused: "拒绝无执法资格人员",
    event_unit_changed: "修改执法单位",
    event_officer_changed: "修改执法人员",
    event_permissions_viewed: "查看权限表",
}

