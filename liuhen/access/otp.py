"""Who must pass the TOTP second factor (issue 16 item 6).

One rule for every way in: the login page, the admin (whose own login page only sends people
to ours), the pages and the session API, and the creation of API tokens. A user must use TOTP
when their role is in ``LIUHEN_OTP_REQUIRED_ROLES`` (by default the administrator and the
bureau-wide roles: 等保 2.0 third level, GB/T 22239-2019 8.1.4.1 d, asks two factors of
administrators) or when they enrolled an authenticator, unless they are a demo account
(``OTP_EXEMPT_GROUP``, set by ``liuhen demo`` only). The answer is kept in the session, so a
page costs no query for it.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django_otp import user_has_device

from liuhen.access.querysets import user_role

SESSION_KEY = "liuhen_otp_required"


def must_use_otp(user) -> bool:
    """Whether ``user`` may act only after passing TOTP in this session."""
    if user is None or not user.is_authenticated:
        return False
    if user.groups.filter(name=settings.OTP_EXEMPT_GROUP).exists():
        return False
    return user_role(user) in settings.OTP_REQUIRED_ROLES or user_has_device(user, confirmed=True)


def session_requires_otp(request) -> bool:
    """``must_use_otp`` for the signed-in user, asked once per session."""
    session = getattr(request, "session", None)
    if session is None:
        return must_use_otp(request.user)
    required = session.get(SESSION_KEY)
    if required is None:
        required = session[SESSION_KEY] = must_use_otp(request.user)
    return required


def is_verified(request) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and getattr(user, "is_verified", lambda: False)())


@receiver(user_logged_in)
def _decide_at_login(sender, request, user, **kwargs):
    # Every login, whichever view called django.contrib.auth.login, decides afresh (a role
    # may have changed, a device may have been enrolled since the last session).
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_KEY] = must_use_otp(user)
