"""The register of party copies in the admin: a place to look, never a back door."""

from django.contrib import admin

from liuhen.access.admin import ReadOnlyAdmin
from liuhen.disclosure.models import PartyCopy


@admin.register(PartyCopy)
class PartyCopyAdmin(ReadOnlyAdmin):
    """当事人复制登记 (第十七条第二款) for the legal affairs office."""

    view_action = "audit.view"
    list_display = ("number", "recipient_name", "recording", "status", "registered_at",
                    "decided_by", "made_at", "handed_over_at", "copy_sha256")
    list_filter = ("status",)
    search_fields = ("number", "recipient_name", "copy_sha256")
