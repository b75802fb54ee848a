"""The audit log in the admin: read-only for everyone, superusers included (第二十六条 (二)).

Only roles that may view the log (audit.view: the legal affairs office) see it here, and
looking at it is audited just like the audit page.
"""

from __future__ import annotations

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
