"""Django admin: device registration and edits (第二十一条), scoped like the device API."""

from django.contrib import admin
from django.db import transaction

from liuhen.access.admin import ScopedAdmin
from liuhen.access.querysets import allows, unit_allowed
from liuhen.audit.services import record
from liuhen.devices import events, services
from liuhen.devices.models import Device
from liuhen.org.models import Unit


@admin.register(Device)
class DeviceAdmin(ScopedAdmin):
    # Scoped like the device API: device.view to see (own unit, sub-units or bureau by role;
    # opening one audited), device.manage to register or edit, only for units the role may
    # manage (第二十一条).
    view_action = "device.view"
    read_event = events.event_device_viewed
    list_display = ("number", "kind", "unit", "officer", "status", "model_name", "registered_at")
    list_filter = ("kind", "status", "unit")
    search_fields = ("number", "model_name", "officer__name")
    autocomplete_fields = ()
    raw_id_fields = ("officer",)

    def get_readonly_fields(self, request, obj=None):
        # The status and the holder change only through the lifecycle's services (the device
        # page and API), which log and audit each move (第二十一条, 第二十二条).
        return ("status", "officer") if obj is not None else ()

    def has_add_permission(self, request):
        return self.has_view_permission(request) and allows(request.user, "device.manage")

    def has_change_permission(self, request, obj=None):
        if not self.has_add_permission(request):
            return False
        return obj is None or unit_allowed(request.user, "device.manage", obj.unit)

    def has_delete_permission(self, request, obj=None):
        # A device that made recordings is part of their provenance (PROTECT); retire it.
        return False

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "unit":
            kwargs["queryset"] = Unit.objects.restrict(request.user, "device.manage")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        """Registration goes through the service (checks + audit); edits are audited."""
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
