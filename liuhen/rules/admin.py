"""Completeness snapshots in the admin: read-only, changes go through the services."""

from django.contrib import admin

from liuhen.access.admin import ReadOnlyAdmin
from liuhen.rules.models import CaseCompleteness


@admin.register(CaseCompleteness)
class CaseCompletenessAdmin(ReadOnlyAdmin):
    """Stored completeness snapshots; re-evaluated by the services and `liuhen completeness`."""

    list_display = ("case", "ratio", "met", "missing_count", "waived", "evaluated_at")
    list_filter = ("case__kind",)
    search_fields = ("case__number",)
