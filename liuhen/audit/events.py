"""Audit actions of authentication and of the audit log itself."""

event_login = "auth.login"
event_login_failed = "auth.login_failed"
event_lockout = "auth.lockout"
event_logout = "auth.logout"
event_otp_failed = "auth.otp_failed"
event_otp_enrolled = "auth.otp_enrolled"
event_password_changed = "auth.password_changed"
event_token_created = "auth.token_created"
event_token_revoked = "auth.token_revoked"
event_token_denied = "auth.token_denied"
event_audit_viewed = "audit.viewed"
event_audit_exported = "audit.exported"
event_audit_verified = "audit.verified"
event_audit_tamper_refused = "audit.tamper_refused"
event_audit_anchored = "audit.anchored"

# 审计操作的名称 (core.display): what the audit log page, its exports and the CLI show.
ACTION_LABELS = {
    event_login: "登录",
    event_login_failed: "登录失败",
    event_lockout: "账号被锁定",
    event_logout: "退出登录",
    event_otp_failed: "动态口令错误",
    event_otp_enrolled: "绑定动态口令",
    event_password_changed: "修改密码",
    event_token_created: "创建个人接口令牌",
    event_token_revoked: "吊销个人接口令牌",
    event_token_denied: "接口令牌被拒绝",
    event_audit_viewed: "查阅审计日志",
    event_audit_exported: "导出审计日志",
    event_audit_verified: "校验审计日志",
    event_audit_tamper_refused: "拒绝篡改审计日志",
    event_audit_anchored: "审计日志锚定",
}

