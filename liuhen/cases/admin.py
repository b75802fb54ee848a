"""Cases in the admin: read-only and scoped like the pages.

Cases change only through cases.services (stage machine, audit); the admin is a place to look,
never a back door. Each role sees what ``restrict(user, "case.view")`` lets it see.
"""

from __future__ import annotations

from django.contrib import admin

from liuhen.audit.services import record
from liuhen.cases import events
from liuhen.cases.models import Case, Party, Patrol
from liuhen.core.querysets import allows


class ScopedReadOnlyAdmin(admin.ModelAdmin):
    view_action = "case.view"
    read_event = events.event_case_viewed

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # A read through the admin is a read like any other (第二十六条 (三)).
        obj = self.get_object(request, object_id)
        if obj is not None and self.has_view_permission(request, obj):
            record(actor=request.user, action=self.read_event, target=obj,
                   detail={"via": "admin"})
        return super().change_view(request, object_id, form_url, extra_context)

    def get_queryset(self, request):
        return super().get_queryset(request).restrict(request.user, self.view_action)

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff and allows(request.user,
                                                                           self.view_action)

    def has_module_permission(self, request):
        return self.has_view_permission(request)


@admin.register(Case)
class CaseAdmin(ScopedReadOnlyAdmin):
    list_display = ("number", "kind", "cause", "unit", "stage", "opened_on")
    list_filter = ("kind", "stage")
    search_fields = ("number", "cause")
    list_select_related = ("unit",)
    show_full_result_count = False


@admin.register(Patrol)
class PatrolAdmin(ScopedReadOnlyAdmin):
    view_action = "patrol.view"
    read_event = events.event_patrol_viewed
    list_display = ("date", "area", "unit")
    list_select_related = ("unit",)


@admin.register(Party)
class PartyAdmin(ScopedReadOnlyAdmin):
    view_action = "party.view"
    read_event = events.event_party_viewed
    list_display = ("masked_name", "kind", "masked_id_number", "unit")
    list_select_related = ("unit",)
    exclude = ("id_number",)

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields if f.name != "id_number"]
