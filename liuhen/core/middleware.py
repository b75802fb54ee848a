"""Security headers and per-role enforcement of the TOTP second factor."""

from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import redirect

from liuhen.core.querysets import user_role

# No inline scripts or styles anywhere: every asset is served by the app itself (intranet).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if request.user.is_authenticated if hasattr(request, "user") else False:
            response.headers.setdefault("Cache-Control", "no-store")
        return response


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
