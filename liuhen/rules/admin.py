from liuhen.rules.holiday_admin import *  # noqa

# --- records and completeness (rules engine): read-only, changes go through the services ---
from django.contrib import admin  # noqa: E402

from liuhen.core.admin import ReadOnlyAdmin  # noqa: E402
from liuhen.rules.models import CaseCompleteness  # noqa: E402


@admin.register(CaseCompleteness)
class CaseCompletenessAdmin(ReadOnlyAdmin):
    """Stored completeness snapshots; re-evaluated by the services and `liuhen check`."""

    list_display = ("case", "ratio", "met", "missing_count", "waived", "evaluated_at")
    list_filter = ("case__kind",)
    search_fields = ("case__number",)
