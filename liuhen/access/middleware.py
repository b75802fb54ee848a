"""Per-role enforcement of the TOTP second factor (LIUHEN_OTP_REQUIRED_ROLES)."""

from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import redirect

from liuhen.access.querysets import user_role

_OTP_EXEMPT = ("/login/", "/logout/", "/otp/", "/static/")


class OtpEnforcementMiddleware:
    """Users whose role is in LIUHEN_OTP_REQUIRED_ROLES must verify a TOTP code first."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            settings.OTP_REQUIRED_ROLES
            and user is not None
            and user.is_authenticated
            and not request.path.startswith(_OTP_EXEMPT)
            and not getattr(request, "auth_via_token", False)
            and user_role(user) in settings.OTP_REQUIRED_ROLES
            and not user.is_verified()
        ):
            if request.path.startswith("/api/"):
                return JsonResponse({"code": "otp_required", "message": "请先完成动态口令验证"},
                                    status=403)
            return redirect("otp_setup")
        return self.get_response(request)
