"""Django admin for units and officers (role, qualification), plus a read-only page showing
the permission matrix of liuhen/access/permissions.py (第三条, 第十一条).

Changes made here are security-relevant (who may do what, who is qualified), so each one is
written to the audit log as well as to Django's own admin history.
"""

from __future__ import annotations

from django.contrib import admin
from django.db import transaction
from django.forms.models import model_to_dict
from django.shortcuts import render
from django.urls import path, reverse

from liuhen.access.choices import Role
from liuhen.access.permissions import rows
from liuhen.audit.services import record
from liuhen.org import events
from liuhen.org.models import Officer, Unit

# The admin index links to the permission matrix (see templates/admin/liuhen_index.html).
admin.site.index_template = "admin/liuhen_index.html"


class AuditedAdmin(admin.ModelAdmin):
    """Records every add, change and delete in the hash-chained audit log."""

    audit_event = ""

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            before = {k: form.initial.get(k) for k in form.changed_data} if change else {}
            super().save_model(request, obj, form, change)
            after = {k: model_to_dict(obj).get(k) for k in form.changed_data}
            record(actor=request.user, action=self.audit_event, target=obj,
                   detail={"created": not change, "before": before, "after": after,
                           "via": "admin"})

    def delete_model(self, request, obj):
        with transaction.atomic():
            record(actor=request.user, action=self.audit_event, target=obj,
                   detail={"deleted": True, "via": "admin"})
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(Unit)
class UnitAdmin(AuditedAdmin):
    audit_event = events.event_unit_changed
    list_display = ("indented_name", "kind", "parent", "case_number_prefix", "path")
    list_filter = ("kind",)
    search_fields = ("name", "short_name")
    fields = ("name", "short_name", "kind", "parent", "case_number_prefix")

    @admin.display(description="单位名称", ordering="path")
    def indented_name(self, obj):
        return "　" * obj.depth + obj.name


@admin.register(Officer)
class OfficerAdmin(AuditedAdmin):
    audit_event = events.event_officer_changed
    list_display = ("name", "unit", "role", "credential_number", "is_formal_staff",
                    "qualification_valid_to", "qualified")
    list_filter = ("role", "is_formal_staff", "unit")
    search_fields = ("name", "credential_number", "qualification_number", "user__username")
    list_select_related = ("unit",)
    autocomplete_fields = ("user",)
    fieldsets = (
        (None, {"fields": ("user", "name", "unit", "role")}),
        ("执法资格（第十一条）", {"fields": (
            "credential_number", "is_formal_staff", "qualification_number",
            "qualification_valid_from", "qualification_valid_to")}),
    )

    @admin.display(description="执法资格", boolean=True)
    def qualified(self, obj):
        return obj.is_qualified

    def get_urls(self):
        urls = super().get_urls()
        matrix = path("permissions/", self.admin_site.admin_view(self.permission_matrix),
                      name="org_permission_matrix")
        return [matrix, *urls]

    def permission_matrix(self, request):
        """The role × action matrix of access/permissions.py, as it is enforced."""
        record(actor=request.user, action=events.event_permissions_viewed)
        context = {**self.admin_site.each_context(request), "title": "权限矩阵（角色 × 操作）",
                   "roles": [label for _, label in Role.choices], "rows": rows(),
                   "opts": self.model._meta}
        return render(request, "admin/org/permission_matrix.html", context)


def permission_matrix_url() -> str:
    return reverse("admin:org_permission_matrix")
