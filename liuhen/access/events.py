"""Audit actions of access control: personal API tokens (logins are the audit app's)."""

event_token_created = "auth.token_created"
event_token_revoked = "auth.token_revoked"
event_token_denied = "auth.token_denied"

# 审计操作的名称 (core.display): what the audit log page, its exports and the CLI show.
ACTION_LABELS = {
    event_token_created: "创建个人接口令牌",
    event_token_revoked: "吊销个人接口令牌",
    event_token_denied: "接口令牌被拒绝",
}


#: Detail fields of the access requests' and grants' entries (第十六条), as the audit page and
#: its exports name them.
DETAIL_LABELS = {
    "record": "调阅的记录",
    "grant": "授权编号",
    "narrowed": "已缩小批准范围",
    "until": "授权至",
}
