"""Pages of access control: login (password + optional TOTP), logout, TOTP enrolment, the
lockout answer (django-axes) and the signed-in user's personal API tokens."""

from __future__ import annotations

import base64
import io

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from liuhen.access import services
from liuhen.access.models import ApiToken
from liuhen.access.otp import is_verified
from liuhen.audit import events
from liuhen.audit.choices import Outcome
from liuhen.audit.services import record
from liuhen.core.errors import LiuhenError
from liuhen.core.pages import handles_errors

# Issue 13 item 7: after a wrong code the authenticator's current code is refused too for a
# short while (django-otp throttles failures and never accepts a code twice), so say to wait.
WAIT_FOR_NEXT_CODE = ("动态口令不正确。请等待验证器显示下一个新口令（约30秒）后再输入，"
                      "不要重复输入刚才的口令。")


def lockout_response(request, original_response=None, credentials=None):
    return render(request, "access/login.html", {
        "error": f"连续登录失败次数过多，账户已锁定 {int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)} 分钟，请稍后再试或联系管理员。",
        "username": (credentials or {}).get("username", ""),
    }, status=429)


@require_http_methods(["GET", "POST"])
def login_view(request):
    if request.user.is_authenticated and request.method == "GET":
        return redirect("dashboard")
    context = {"username": ""}
    if request.method == "POST":
        username = request.POST.get("username", "").strip()[:150]
        password = request.POST.get("password", "")
        token = request.POST.get("otp_token", "").strip().replace(" ", "")
        context["username"] = username
        user = authenticate(request, username=username, password=password)
        if user is None:
            if getattr(request, "axes_locked_out", False):
                return lockout_response(request, None, {"username": username})
            context["error"] = "用户名或密码错误"
            return render(request, "access/login.html", context, status=200)
        device = None
        if user_has_device(user, confirmed=True):
            device = next((d for d in TOTPDevice.objects.devices_for_user(user, confirmed=True)
                           if token and d.verify_token(token)), None)
            if device is None:
                record(actor=user, action=events.event_otp_failed, target=user,
                       outcome=Outcome.FAILED, reason="动态口令错误或缺失", request=request)
                context["error"] = WAIT_FOR_NEXT_CODE if token else "请输入6位动态口令"
                context["need_otp"] = True
                return render(request, "access/login.html", context, status=200)
        login(request, user)
        if device is not None:
            otp_login(request, device)
        next_url = request.POST.get("next") or request.GET.get("next") or ""
        # Only a path on this site: "/\\evil.example" or "//evil.example" would leave it.
        if next_url.startswith("/") and url_has_allowed_host_and_scheme(
                next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
            return redirect(next_url)
        return redirect("dashboard")
    return render(request, "access/login.html", context)


def admin_login(request, extra_context=None):
    """The admin's own login page is replaced by ours: one login path, with TOTP, for
    everyone (issue 16 item 6: /admin/login/ logged an enrolled user in on the password)."""
    target = request.GET.get("next") or "/admin/"
    if not (target.startswith("/") and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()})):
        target = "/admin/"
    return redirect_to_login(target, reverse("login"))


@login_required
@require_http_methods(["GET", "POST"])
def password_change(request):
    """修改密码: the user's own, after giving the current one; Django's validators (length,
    common, numeric, similar to the user name) apply, the other sessions stay valid only in
    this browser (update_session_auth_hash), and the change is audited (issue 16 item 14)."""
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            user = form.save()
            update_session_auth_hash(request, user)
            record(actor=user, action=events.event_password_changed, target=user,
                   request=request)
            messages.success(request, "密码已修改")
            return redirect("dashboard")
        record(actor=request.user, action=events.event_password_changed, target=request.user,
               outcome=Outcome.FAILED,
               # The fields that failed, never the passwords typed.
               reason="修改密码未成功：" + "、".join(sorted(form.errors)), request=request)
    return render(request, "access/password_change.html", {"form": form},
                  status=400 if form.errors else 200)


@require_POST
def logout_view(request):
    logout(request)
    return redirect("login")


@login_required
@require_http_methods(["GET", "POST"])
def otp_setup(request):
    """Enrol a TOTP authenticator (any user may; roles in LIUHEN_OTP_REQUIRED_ROLES must)."""
    user = request.user
    confirmed = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if confirmed and request.method == "GET" and not request.GET.get("verify"):
        return render(request, "access/otp_setup.html", {"confirmed": True})
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None and not confirmed:
        device = TOTPDevice.objects.create(user=user, name="默认", confirmed=False)
    target = confirmed or device
    error = ""
    if request.method == "POST":
        token = request.POST.get("otp_token", "").strip().replace(" ", "")
        if target.verify_token(token):
            if not target.confirmed:
                target.confirmed = True
                target.save(update_fields=["confirmed"])
                record(actor=user, action=events.event_otp_enrolled, target=user)
            otp_login(request, target)
            messages.success(request, "动态口令已验证")
            return redirect("dashboard")
        error = WAIT_FOR_NEXT_CODE
        record(actor=user, action=events.event_otp_failed, target=user, outcome=Outcome.FAILED,
               reason=error)
    qr_svg = ""
    if not target.confirmed:
        image = qrcode.make(target.config_url, image_factory=qrcode.image.svg.SvgPathImage)
        buffer = io.BytesIO()
        image.save(buffer)
        qr_svg = "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()
    return render(request, "access/otp_setup.html", {
        "confirmed": target.confirmed, "qr": qr_svg, "error": error,
        "secret": base64.b32encode(target.bin_key).decode() if not target.confirmed else ""})


def _tokens(user):
    return list(ApiToken.objects.filter(user=user).order_by("-created_at"))


@login_required
@require_http_methods(["GET", "POST"])
@handles_errors
def token_list(request):
    """我的 API 令牌: create (the plain token is shown once, here), list, revoke.

    Only a hash is stored; creating and revoking are audited (access.services).
    """
    context = {"error": "", "name": "", "days": 365}
    if request.method == "POST":
        name = (request.POST.get("name") or "").strip()
        raw_days = (request.POST.get("days") or "").strip()
        context.update(name=name, days=raw_days)
        try:
            days = int(raw_days) if raw_days else None
        except ValueError:
            context["error"] = "有效天数应为 1 到 3650 之间的整数"
        else:
            try:
                token, plain = services.create_token(user=request.user, name=name, days=days,
                                                      otp_verified=is_verified(request))
            except LiuhenError as exc:
                context["error"] = exc.message
            else:
                context.update(created=token, plain=plain, name="", days=365)
    context["tokens"] = _tokens(request.user)
    response = render(request, "access/token_list.html", context,
                      status=400 if context["error"] else 200)
    return response


@login_required
@require_POST
@handles_errors
def token_revoke(request, pk):
    """Revoke one of the user's own tokens; someone else's answers 404 (access.services)."""
    token = services.revoke_token(user=request.user, token_id=pk)
    messages.success(request, f"令牌「{token.name}」已吊销")
    return redirect("token_list")
