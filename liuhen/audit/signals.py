"""Logins, failed logins, lockouts and logouts go into the audit log (第二十六条 (三))."""

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from liuhen.audit import events
from liuhen.audit.choices import Outcome
from liuhen.audit.services import record


def _user_by_name(username):
    if not username:
        return None
    return get_user_model().objects.filter(username=username).first()


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    record(actor=user, action=events.event_login, target=user, request=request)


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        record(actor=user, action=events.event_logout, target=user, request=request)


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    username = (credentials or {}).get("username", "")
    user = _user_by_name(username)
    record(
        actor=None, actor_name=username, action=events.event_login_failed,
        target=user if user else ("auth.user", "", username), outcome=Outcome.FAILED,
        reason="用户名或密码错误", request=request,
    )


@receiver(user_locked_out)
def _locked_out(sender, request=None, username=None, ip_address=None, **kwargs):
    user = _user_by_name(username)
    record(
        actor=None, actor_name=username or "", action=events.event_lockout,
        target=user if user else ("auth.user", "", username or ""), outcome=Outcome.DENIED,
        reason="连续登录失败，账户已锁定", request=request,
    )
