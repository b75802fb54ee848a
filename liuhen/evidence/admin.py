"""Django admin: a read-only view of recordings (devices: liuhen/devices/admin.py).

Recordings cannot be added, changed or deleted here: originals enter through the ingest
service only and are never altered (第二十六条 (二)). Recordings, marks and fixity checks are
scoped like the vault's pages — ``restrict(user, action)`` with the same actions — and opening
one is audited like any other read (第二十六条 (三)).
"""

from django.contrib import admin

from liuhen.access.admin import ScopedReadOnlyAdmin
from liuhen.access.querysets import allows
from liuhen.evidence import events
from liuhen.evidence.models import (
    CaseLink,
    FixityCheck,
    Mark,
    Recording,
    RecordingDisposal,
    RecordingSubmission,
)


class SubmissionInline(admin.TabularInline):
    """Who submitted the recording's bytes, and how: shown to whoever may see the recording
    (the API's submissions list asks ``recording.view`` too)."""

    model = RecordingSubmission
    extra = 0
    can_delete = False
    readonly_fields = ("submitted_by", "channel", "original_name", "at", "was_duplicate")

    def has_view_permission(self, request, obj=None):
        return allows(request.user, "recording.view")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Recording)
class RecordingAdmin(ScopedReadOnlyAdmin):
    view_action = "recording.view"
    read_event = events.event_recording_viewed
    list_display = (
        "system_number",
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
    list_select_related = ("unit", "device", "officer")
    date_hierarchy = "captured_start"
    inlines = [SubmissionInline]

    def get_actions(self, request):
        return {}  # no bulk delete


@admin.register(FixityCheck)
class FixityCheckAdmin(ScopedReadOnlyAdmin):
    # As the fixity page: recording.fixity, checks of the units in scope; bureau-wide
    # supervisors also see orphans (objects in storage with no row, hence no unit).
    view_action = "recording.fixity"
    read_event = events.event_fixity_viewed
    list_display = ("at", "outcome", "recording", "storage_key", "tool_version")
    list_filter = ("outcome",)
    search_fields = ("storage_key", "expected_sha256", "found_sha256")
    list_select_related = ("recording",)

    def get_actions(self, request):
        return {}


@admin.register(Mark)
class MarkAdmin(ScopedReadOnlyAdmin):
    # A mark is part of its recording: whoever may see the recording sees its marks.
    view_action = "recording.view"
    read_event = events.event_mark_viewed
    list_display = ("recording", "offset_seconds", "label", "created_by", "created_at")
    list_filter = ("label",)
    list_select_related = ("recording", "created_by")

    def get_actions(self, request):
        return {}


@admin.register(CaseLink)
class CaseLinkAdmin(ScopedReadOnlyAdmin):
    # Scoped by the linked case's unit; changed only through the recording page or the API.
    view_action = "recording.view"
    read_event = events.event_recording_links_viewed
    list_display = ("recording", "case", "is_primary", "linked_by", "linked_at", "ended_at")
    list_filter = ("is_primary",)
    search_fields = ("case__number", "recording__sha256", "reason")
    list_select_related = ("recording", "case", "linked_by")

    def get_actions(self, request):
        return {}


@admin.register(RecordingDisposal)
class RecordingDisposalAdmin(ScopedReadOnlyAdmin):
    # Tombstones: written by the disposal path only (evidence.disposal), never changed here.
    view_action = "recording.view"
    read_event = events.event_recording_viewed
    list_display = ("register_number", "recording", "executed_at", "object_erased_at")
    search_fields = ("register_number", "recording__sha256")
    list_select_related = ("recording",)

    def get_actions(self, request):
        return {}
