"""The audit log in the admin: read-only for everyone, superusers included (第二十六条 (二)).

Only roles that may view the log (audit.view: the legal affairs office) see it here, and
looking at it is audited just like the audit page.

Also the third-party admin pages in the bureau's words (issue 13 item 7): their apps, models and
fields are named in core.apps; the columns, filters and sections their ModelAdmins label
themselves are renamed here, once, on their classes.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin

from liuhen.access.admin import ReadOnlyAdmin
from liuhen.access.choices import Role
from liuhen.audit import events
from liuhen.audit.models import AuditEntry
from liuhen.audit.services import record
from liuhen.core import display

ROLE_LABELS = dict(Role.choices)


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("seq", "at", "actor_name", "role_label", "action_label", "object_label",
                    "object_id", "outcome", "ip")
    list_filter = ("outcome", "via", "actor_role")
    search_fields = ("action", "actor_name", "object_type", "object_id", "uuid")
    ordering = ("-seq",)
    show_full_result_count = False  # no COUNT(*) over millions of rows on every page
    list_per_page = 100
    view_action = "audit.view"

    # Names instead of codes (issue 13 item 1, core.display).
    @admin.display(description="角色", ordering="actor_role")
    def role_label(self, entry):
        return ROLE_LABELS.get(entry.actor_role, entry.actor_role)

    @admin.display(description="操作", ordering="action")
    def action_label(self, entry):
        return display.action_label(entry.action)

    @admin.display(description="对象类型", ordering="object_type")
    def object_label(self, entry):
        return display.object_type_label(entry.object_type) if entry.object_type else ""

    def changelist_view(self, request, extra_context=None):
        if self.has_view_permission(request):
            record(actor=request.user, action=events.event_audit_viewed,
                   detail={"via": "admin", "query": request.GET.urlencode()[:500]})
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if self.has_view_permission(request):
            record(actor=request.user, action=events.event_audit_viewed,
                   target=("audit.auditentry", object_id), detail={"via": "admin"})
        return super().change_view(request, object_id, form_url, extra_context)


# -- third-party admin pages -------------------------------------------------------------------
# Section titles the third-party ModelAdmins write in English → the bureau's words.
THIRD_PARTY_SECTIONS = {"Identity": "身份", "Timestamps": "时间", "Configuration": "参数",
                        "State": "状态", "Throttling": "失败限制", "Form Data": "提交的表单",
                        "Meta Data": "请求信息"}


def _sections(fieldsets):
    return [(THIRD_PARTY_SECTIONS.get(str(title), title) if title else title, options)
            for title, options in fieldsets]


def _describe(owner, name: str, label: str) -> None:
    """Name a third-party admin column (a method, or a model property's getter)."""
    attribute = owner.__dict__.get(name)
    function = attribute.fget if isinstance(attribute, property) else attribute
    if function is not None:  # gone upstream: the admin words test says so
        function.short_description = label


@admin.display(description="状态")
def _attempt_status(model_admin, attempt) -> str:
    left = settings.AXES_FAILURE_LIMIT - attempt.failures_since_start
    return f"还可尝试 {left} 次" if left > 0 else "已锁定"


def _third_party_admin_in_chinese() -> None:
    from axes import admin as axes_admin
    from django_otp.plugins.otp_totp import admin as totp_admin
    from django_tasks_db import admin as tasks_admin
    from django_tasks_db.models import DBTaskResult

    axes_admin.IsLockedOutFilter.title = "是否已锁定"
    axes_admin.AccessAttemptAdmin.status = _attempt_status
    _describe(axes_admin.AccessAttemptAdmin, "cleanup_expired_attempts", "清理已过期的登录尝试")
    for admin_class in (axes_admin.AccessAttemptAdmin, axes_admin.AccessLogAdmin,
                        axes_admin.AccessFailureLogAdmin):
        admin_class.fieldsets = _sections(admin_class.fieldsets)
    totp = totp_admin.TOTPDeviceAdmin
    _describe(totp, "qrcode_link", "二维码")
    if not getattr(totp.get_fieldsets, "in_chinese", False):
        upstream = totp.get_fieldsets

        def get_fieldsets(self, request, obj=None):
            return _sections(upstream(self, request, obj))

        get_fieldsets.in_chinese = True
        totp.get_fieldsets = get_fieldsets
    _describe(tasks_admin.DBTaskResultAdmin, "display_run_after", "最早执行时间")
    _describe(tasks_admin.DBTaskResultAdmin, "formatted_traceback", "错误堆栈")
    _describe(DBTaskResult, "task_name", "任务")


_third_party_admin_in_chinese()
