"""The audit log in the admin: read-only for everyone, superusers included (第二十六条 (二)).

Only roles that may view the log (audit.view: the legal affairs office) see it here, and
looking at it is audited just like the audit page.
"""

from __future__ import annotations

from django.contrib import admin

from liuhen.access.admin import ReadOnlyAdmin
from liuhen.audit import events
from liuhen.audit.models import AuditEntry
from liuhen.audit.services import record


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("seq", "at", "actor_name", "actor_role", "action", "object_type",
                    "object_id", "outcome", "ip")
    list_filter = ("outcome", "via", "actor_role")
    search_fields = ("action", "actor_name", "object_type", "object_id", "uuid")
    ordering = ("-seq",)
    show_full_result_count = False  # no COUNT(*) over millions of rows on every page
    list_per_page = 100
    view_action = "audit.view"


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
