"""Admin base classes shared by the apps (records change only through their services, so the
admin is a place to look, never a back door), and the admin of personal API tokens."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import transaction
from django.utils import timezone

from liuhen.access import events
from liuhen.access.models import AccessRequest, ApiToken, Grant
from liuhen.access.querysets import allows
from liuhen.audit.services import record, record_denied


class ReadOnlyAdmin(admin.ModelAdmin):
    """No add, change or delete for anyone, superusers included.

    With ``view_action`` set, only staff whose role may do that action see the model at all.
    """

    view_action: str | None = None

    def get_readonly_fields(self, request, obj=None):
        # Django's own primary key shows as 系统编号, the number the audit log names a record
        # by ("执法案件 16 号"), not as "ID" (issue 13 item 1).
        return ["system_number" if f.primary_key and f.auto_created else f.name
                for f in self.model._meta.fields]

    @admin.display(description="系统编号", ordering="pk")
    def system_number(self, obj):
        return obj.pk

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        if self.view_action is None:
            return super().has_view_permission(request, obj)
        user = request.user
        return user.is_active and user.is_staff and allows(user, self.view_action)

    def has_module_permission(self, request):
        if self.view_action is None:
            return super().has_module_permission(request)
        return self.has_view_permission(request)


class ScopedAdmin(admin.ModelAdmin):
    """Scoped like the pages: staff whose role may do ``view_action`` see
    ``restrict(user, view_action)``; opening an object is audited as ``read_event`` (第二十六条
    (三)), and opening one that is missing or out of scope as a denied ``read_event``."""

    view_action = "case.view"
    read_event: str = ""

    def has_view_permission(self, request, obj=None):
        user = request.user
        return user.is_active and user.is_staff and allows(user, self.view_action)

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def get_queryset(self, request):
        return super().get_queryset(request).restrict(request.user, self.view_action)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        if obj is not None and self.read_event and self.has_view_permission(request, obj):
            # A request that saves is audited by the save; any other is a read.
            if request.method == "GET" or not self.has_change_permission(request, obj):
                record(actor=request.user, action=self.read_event, target=obj,
                       detail={"via": "admin"})
        elif obj is None and self.has_view_permission(request):
            # Missing or out of scope: the admin redirects like for a missing object, and the
            # attempt is audited as the pages audit it (get_for), without telling which.
            meta = self.model._meta
            record_denied(actor=request.user, action=self.read_event or self.view_action,
                          target=(f"{meta.app_label}.{meta.model_name}", str(object_id)[:64]),
                          reason="对象不存在或无权访问", detail={"via": "admin"})
        return super().change_view(request, object_id, form_url, extra_context)


class ScopedReadOnlyAdmin(ReadOnlyAdmin, ScopedAdmin):
    """Read-only and scoped like the pages: ``restrict(user, view_action)``; reads audited."""


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are created by their owner (a plain token is shown once); here they can only be
    inspected and revoked."""

    list_display = ("name", "user", "prefix", "created_at", "expires_at", "last_used_at",
                    "revoked_at", "active")
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix", "user__username")
    readonly_fields = ("user", "name", "prefix", "token_hash", "created_at", "expires_at",
                       "last_used_at", "revoked_at")
    actions = ["revoke"]

    @admin.display(description="有效", boolean=True)
    def active(self, obj):
        return obj.is_active

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        # A revoked token stays on record: who held it and when it was revoked.
        return False

    @admin.action(description="吊销所选令牌")
    def revoke(self, request, queryset):
        count = 0
        with transaction.atomic():
            for token in queryset.select_for_update().filter(revoked_at__isnull=True):
                token.revoked_at = timezone.now()
                token.save(update_fields=["revoked_at"])
                record(actor=request.user, action=events.event_token_revoked, target=token,
                       detail={"owner": token.user_id, "via": "admin"})
                count += 1
        messages.success(request, f"已吊销 {count} 个令牌")


@admin.register(AccessRequest)
class AccessRequestAdmin(ReadOnlyAdmin):
    """调阅申请 as a register for the legal affairs office (第十六条, 第二十六条 (三)); decided
    only through the inbox."""

    view_action = "audit.view"
    list_display = ("number", "target_label", "requester", "unit", "status", "created_at",
                    "decided_by", "decided_at")
    list_filter = ("status",)
    search_fields = ("number", "target_label")


@admin.register(Grant)
class GrantAdmin(ReadOnlyAdmin):
    """调阅授权: what was allowed, to whom, until when, and revocations."""

    view_action = "audit.view"
    list_display = ("number", "user", "target_type", "target_id", "valid_from", "valid_until",
                    "granted_by", "revoked_at")
    search_fields = ("number",)


# django-otp's TOTP device admin looks its device up with ``objects.get`` in the config and
# QR code views, so an unknown id raised DoesNotExist: a 500 where the rest of the admin
# answers 404 (issue 16 item 17). The same views, with the lookup answered first.
from django.http import Http404  # noqa: E402
from django_otp.plugins.otp_totp import admin as otp_totp_admin  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402


class TOTPDeviceAdmin(otp_totp_admin.TOTPDeviceAdmin):
    def _device_exists(self, pk) -> None:
        if not TOTPDevice.objects.filter(pk=pk).exists():
            raise Http404("动态口令设备不存在")

    def config_view(self, request, pk):
        self._device_exists(pk)
        return super().config_view(request, pk)

    def qrcode_view(self, request, pk):
        self._device_exists(pk)
        return super().qrcode_view(request, pk)


if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)
admin.site.register(TOTPDevice, TOTPDeviceAdmin)
