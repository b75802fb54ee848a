"""Django admin: device registration (第二十一条) and a read-only view of recordings.

Recordings cannot be added, changed or deleted here: originals enter through the ingest
service only and are never altered (第二十六条 (二)).
"""

from django.contrib import admin

from liuhen.core.admin import ReadOnlyAdmin
from liuhen.evidence.models import Device, FixityCheck, Mark, Recording, RecordingSubmission


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ("number", "kind", "unit", "officer", "status", "model_name", "registered_at")
    list_filter = ("kind", "status", "unit")
    search_fields = ("number", "model_name", "officer__name")
    autocomplete_fields = ()
    raw_id_fields = ("officer",)

    def has_delete_permission(self, request, obj=None):
        # A device that made recordings is part of their provenance (PROTECT); retire it.
        return False

    def save_model(self, request, obj, form, change):
        """Registration goes through the service (checks + audit); edits are audited."""
        from django.db import transaction

        from liuhen.audit.services import record
        from liuhen.evidence import events, services

        if not change:
            device = services.register_device(
                actor=request.user,
                number=obj.number,
                kind=obj.kind,
                unit=obj.unit,
                officer=obj.officer,
                status=obj.status,
                model_name=obj.model_name,
                notes=obj.notes,
            )
            obj.pk = device.pk
            obj.registered_at = device.registered_at
            return
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            record(
                actor=request.user,
                action=events.event_device_changed,
                target=obj,
                detail={name: str(form.cleaned_data.get(name)) for name in form.changed_data},
            )


class SubmissionInline(admin.TabularInline):
    model = RecordingSubmission
    extra = 0
    can_delete = False
    readonly_fields = ("submitted_by", "channel", "original_name", "at", "was_duplicate")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Recording)
class RecordingAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "original_name",
        "kind",
        "unit",
        "device",
        "officer",
        "captured_start",
        "stored_at",
        "is_late",
        "is_flagged",
        "sha256",
    )
    list_filter = ("kind", "is_late", "is_flagged", "channel", "capture_time_source")
    search_fields = ("sha256", "sm3", "original_name", "device__number")
    date_hierarchy = "captured_start"
    inlines = [SubmissionInline]

    def get_actions(self, request):
        return {}  # no bulk delete


@admin.register(FixityCheck)
class FixityCheckAdmin(ReadOnlyAdmin):
    list_display = ("at", "outcome", "recording", "storage_key", "tool_version")
    list_filter = ("outcome",)
    search_fields = ("storage_key", "expected_sha256", "found_sha256")

    def get_actions(self, request):
        return {}


@admin.register(Mark)
class MarkAdmin(ReadOnlyAdmin):
    list_display = ("recording", "offset_seconds", "label", "created_by", "created_at")
    list_filter = ("label",)
