"""Enforcement of the TOTP second factor (access.otp: the roles in LIUHEN_OTP_REQUIRED_ROLES
and enrolled users), and the session's idle timeout (LIUHEN_SESSION_IDLE_MINUTES) without a write on every request."""

from __future__ import annotations

from django.contrib.sessions.middleware import SessionMiddleware
from django.http import JsonResponse
from django.shortcuts import redirect
from django.utils import timezone

from liuhen.access.otp import session_requires_otp

_OTP_EXEMPT = ("/login/", "/logout/", "/otp/", "/static/")


class OtpEnforcementMiddleware:
    """A user who must use TOTP (access.otp: the roles in LIUHEN_OTP_REQUIRED_ROLES, and anyone
    who enrolled an authenticator) must verify a code before anything else, on every path:
    the admin included (issue 16 item 6: /admin/login/ gave a full session on the password)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(_OTP_EXEMPT)
            and not getattr(request, "auth_via_token", False)
            and not user.is_verified()
            and session_requires_otp(request)
        ):
            if request.path.startswith("/api/"):
                return JsonResponse({"code": "otp_required", "message": "请先完成动态口令验证"},
                                    status=403)
            return redirect("otp_setup")
        return self.get_response(request)


class IdleSessionMiddleware(SessionMiddleware):
    """Django's session middleware, with the idle timeout pushed back at most once a minute.

    The session ends ``SESSION_COOKIE_AGE`` (LIUHEN_SESSION_IDLE_MINUTES) after it was last
    saved. Saving it on every request (``SESSION_SAVE_EVERY_REQUEST``) kept that exact, but
    cost a database write per page: 8 % of the recording list's time under load (issue 9
    item 3). Here a request saves the session only when it changed or when its idle deadline
    was last pushed ``RENEW_AFTER`` seconds ago or more; so an idle user is still logged out,
    between ``RENEW_AFTER`` seconds before and exactly at the configured idle time.
    """

    RENEW_AFTER = 60
    KEY = "_idle_renewed"  # epoch seconds of the save that set the current deadline

    def process_response(self, request, response):
        session = getattr(request, "session", None)
        if session is not None and session.accessed and not session.is_empty():
            now = int(timezone.now().timestamp())
            renewed = session.get(self.KEY)
            if not isinstance(renewed, int) or not 0 <= now - renewed < self.RENEW_AFTER:
                session[self.KEY] = now  # modified: saved below with a new expiry date
        return super().process_response(request, response)
