"""Security basics: Argon2, lockout, idle timeout, TOTP, CSRF, headers, the audit of logins,
personal API tokens and the admin (第二十六条 (二), (三)).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from conftest import FACTORY_PASSWORD as PASSWORD
from conftest import last_entry, logged_in, login_post, totp_code
from liuhen.access.models import ApiToken
from liuhen.cases.tests.factories import make_case

pytestmark = pytest.mark.django_db


# --- settings as production reads them ---------------------------------------------------


def _production_settings(tmp_path, **env):
    """Import liuhen.settings in a fresh interpreter, as `liuhen serve` would."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("LIUHEN_") and k != "DJANGO_SETTINGS_MODULE"
    }
    clean.update({"LIUHEN_DATA_DIR": str(tmp_path), **env})
    code = (
        "import json, liuhen.settings as s; print(json.dumps({"
        "'hasher': s.PASSWORD_HASHERS[0], 'failures': s.AXES_FAILURE_LIMIT, "
        "'cooloff': s.AXES_COOLOFF_TIME.total_seconds(), 'age': s.SESSION_COOKIE_AGE, "
        "'save_every': s.SESSION_SAVE_EVERY_REQUEST, 'otp_roles': s.OTP_REQUIRED_ROLES}))"
    )
    return subprocess.run(
        [sys.executable, "-c", code], env=clean, capture_output=True, text=True, timeout=60
    )


def test_production_settings_argon2_lockout_idle_timeout_and_otp_roles(tmp_path):
    """Argon2 hashes passwords in production; lockout, idle timeout and the roles that must
    use TOTP come from LIUHEN_* variables."""
    result = _production_settings(tmp_path)
    assert result.returncode == 0, result.stderr
    defaults = json.loads(result.stdout)
    assert defaults == {
        "hasher": "django.contrib.auth.hashers.Argon2PasswordHasher",
        "failures": 5,
        "cooloff": 15 * 60,
        "age": 30 * 60,
        "save_every": False,  # IdleSessionMiddleware: once a minute at most (issue 9 item 3)
        "otp_roles": ["admin", "bureau_leader", "legal_office"],  # issue 16 item 6
    }
    result = _production_settings(
        tmp_path,
        LIUHEN_LOCKOUT_FAILURES="3",
        LIUHEN_LOCKOUT_MINUTES="7",
        LIUHEN_SESSION_IDLE_MINUTES="12",
        LIUHEN_OTP_REQUIRED_ROLES="legal_office,unit_head",
    )
    configured = json.loads(result.stdout)
    assert (configured["failures"], configured["cooloff"], configured["age"]) == (3, 420, 720)
    assert configured["otp_roles"] == ["legal_office", "unit_head"]
    bad = _production_settings(tmp_path, LIUHEN_LOCKOUT_FAILURES="five")
    assert bad.returncode != 0 and "LIUHEN_LOCKOUT_FAILURES" in bad.stderr


def test_argon2_hashes_when_it_is_the_first_hasher():
    from django.contrib.auth.hashers import identify_hasher, make_password

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.Argon2PasswordHasher"]):
        assert identify_hasher(make_password("x" * 12)).algorithm == "argon2"


# --- login, failures, lockout, logout ----------------------------------------------------


def test_login_page_logs_in_and_is_audited(people):
    officer = people["officer_a"]
    client = Client()
    assert client.get(reverse("login")).status_code == 200
    response = login_post(client, officer.user.username)
    assert response.status_code == 302 and response["Location"] == reverse("dashboard")
    entry = last_entry("auth.login")
    assert entry.actor_id == officer.user.pk and entry.via == "web" and entry.ip == "127.0.0.1"
    assert client.get(reverse("dashboard")).status_code == 200
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert last_entry("auth.logout").actor_id == officer.user.pk
    assert client.get(reverse("dashboard")).status_code == 302  # back to the login page


def test_logout_only_by_post(people):
    assert logged_in(people["officer_a"]).get(reverse("logout")).status_code == 405


def test_wrong_password_is_a_chinese_error_and_audited(people):
    officer = people["officer_a"]
    response = login_post(Client(), officer.user.username, "wrong-password")
    assert response.status_code == 200
    assert "用户名或密码错误" in response.content.decode()
    entry = last_entry("auth.login_failed")
    assert entry.outcome == "failed" and entry.object_id == str(officer.user.pk)


def test_lockout_after_five_failures_for_fifteen_minutes(people):
    """django-axes: the 5th failure locks the account; even the right password is refused."""
    username = people["officer_a"].user.username
    client = Client()
    for _ in range(4):
        assert login_post(client, username, "wrong").status_code == 200
    response = login_post(client, username, "wrong")
    assert response.status_code == 429
    assert "已锁定 15 分钟" in response.content.decode()
    response = login_post(client, username)
    assert response.status_code == 429 and "_auth_user_id" not in client.session
    lockout = last_entry("auth.lockout")
    assert lockout.outcome == "denied" and lockout.object_id == str(people["officer_a"].user.pk)
    # Another account is not affected (lockout is per account, not per address).
    assert login_post(client, people["officer_b"].user.username).status_code == 302


@override_settings(AXES_FAILURE_LIMIT=2, AXES_COOLOFF_TIME=timedelta(minutes=3))
def test_lockout_is_configurable(people):
    username = people["officer_a"].user.username
    client = Client()
    assert login_post(client, username, "wrong").status_code == 200
    response = login_post(client, username, "wrong")
    assert response.status_code == 429 and "已锁定 3 分钟" in response.content.decode()


# --- session idle timeout ----------------------------------------------------------------


def test_session_expires_after_idle_time_and_a_request_extends_it(people, settings, frozen_clock):
    """The idle deadline moves with the user's requests, written at most once a minute (not
    on every page: issue 9 item 3), so it ends between 1 minute before and exactly at the
    configured idle time after the last request."""
    client = Client()
    login_post(client, people["officer_a"].user.username)
    key = client.session.session_key
    session = Session.objects.get(session_key=key)
    remaining = (session.expire_date - timezone.now()).total_seconds()
    assert settings.SESSION_IDLE_MINUTES * 60 - 60 < remaining <= settings.SESSION_IDLE_MINUTES * 60
    soon = timezone.now() + timedelta(minutes=5)
    Session.objects.filter(session_key=key).update(expire_date=soon)
    # Within the minute after the last save: no write, the deadline stays.
    assert client.get(reverse("dashboard")).status_code == 200
    assert Session.objects.get(session_key=key).expire_date == soon
    # A minute later: the request pushes the deadline to the full idle time again.
    frozen_clock.shift(timedelta(seconds=61))
    assert client.get(reverse("dashboard")).status_code == 200
    extended = Session.objects.get(session_key=key).expire_date - timezone.now()
    assert extended.total_seconds() > settings.SESSION_IDLE_MINUTES * 60 - 60
    # Idle past the limit: the session is gone and the page asks for a login.
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    response = client.get(reverse("case_list"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


# --- TOTP --------------------------------------------------------------------------------


def test_totp_enrolment_then_login_needs_the_code(people):
    officer = people["officer_a"]
    client = logged_in(officer)
    html = client.get(reverse("otp_setup")).content.decode()
    assert "data:image/svg+xml;base64," in html  # QR code as an image, no inline script
    device = TOTPDevice.objects.get(user=officer.user, confirmed=False)
    response = client.post(
        reverse("otp_setup"),
        {"otp_token": "000000" if totp_code(device) != "000000" else "111111"},
    )
    assert "动态口令不正确" in response.content.decode()
    # issue 13 item 7: the current code is refused for a while after a failure; say to wait
    assert "等待验证器显示下一个新口令" in response.content.decode()
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_count=0, throttling_failure_timestamp=None
    )
    response = client.post(reverse("otp_setup"), {"otp_token": totp_code(device)})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert last_entry("auth.otp_enrolled").actor_id == officer.user.pk
    client.post(reverse("logout"))

    fresh = Client()
    response = login_post(fresh, officer.user.username)
    assert response.status_code == 200 and "请输入6位动态口令" in response.content.decode()
    assert "_auth_user_id" not in fresh.session
    assert last_entry("auth.otp_failed").outcome == "failed"
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)  # as if the next time step
    response = login_post(fresh, officer.user.username, otp=totp_code(device))
    assert response.status_code == 302
    assert fresh.get(reverse("dashboard")).status_code == 200


@override_settings(OTP_REQUIRED_ROLES=["legal_office"])
def test_otp_enforced_per_role(people, api):
    """A role listed in LIUHEN_OTP_REQUIRED_ROLES must pass TOTP first; others need not."""
    legal = logged_in(people["legal"])
    response = legal.get(reverse("audit_list"))
    assert response.status_code == 302 and response["Location"] == reverse("otp_setup")
    response = api(people["legal"]).get("/api/me")
    assert response.status_code == 403 and response.json()["code"] == "otp_required"
    assert logged_in(people["officer_a"]).get(reverse("case_list")).status_code == 200


# --- CSRF and headers --------------------------------------------------------------------


def test_csrf_on_forms_and_session_api_calls(people, bureau):
    client = Client(enforce_csrf_checks=True)
    client.force_login(people["officer_a"].user)
    response = client.post(reverse("party_create"), {"name": "x"})
    assert response.status_code == 403 and "请求已失效" in response.content.decode()
    response = client.post("/api/parties", data=json.dumps({}), content_type="application/json")
    assert response.status_code == 403
    # With the token from the form the same session may post.
    client.get(reverse("party_create"))
    token = client.cookies["csrftoken"].value
    response = client.post(reverse("party_create"), {"csrfmiddlewaretoken": token, "name": ""})
    assert response.status_code == 200


def test_bearer_token_api_calls_need_no_csrf(people, bureau):
    from liuhen.access.services import create_token

    _, plain = create_token(user=people["officer_a"].user, name="采集站")
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/api/parties",
        data=json.dumps(
            {"unit_id": bureau["team_a"].pk, "kind": "person", "name": "赵六", "id_number": "123"}
        ),
        content_type="application/json",
        headers={"Authorization": f"Bearer {plain}"},
    )
    assert response.status_code == 400 and response.json()["code"] == "invalid_input"


def test_secure_headers(people):
    response = Client().get(reverse("login"))
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    page = logged_in(people["officer_a"]).get(reverse("dashboard"))
    assert page["Cache-Control"] == "no-store"


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<style", re.I), "<style> element"),
    (re.compile(r"\sstyle=", re.I), "style= attribute"),
    (re.compile(r"\son[a-z]+=", re.I), "on*= event handler"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def test_pages_have_no_inline_script_or_style(people, bureau):
    """The CSP forbids inline code, so no page may contain any (it would silently break)."""
    case = make_case(
        actor=people["officer_a"].user,
        unit=bureau["team_a"],
        officers=[people["officer_a"], people["officer_a2"]],
    )
    pages = {
        people["officer_a"]: [
            "dashboard",
            "case_list",
            "case_create",
            "party_list",
            "party_create",
            "patrol_list",
            "patrol_create",
            "token_list",
            "otp_setup",
            ("case_detail", case.pk),
            ("case_edit", case.pk),
        ],
        people["legal"]: ["audit_list", ("case_detail", case.pk)],
        people["device_keeper"]: ["case_list"],  # the 403 page
        people["officer_b"]: [("case_detail", case.pk)],  # the 404 page
    }
    for officer, names in pages.items():
        client = logged_in(officer)
        for name in names:
            url = reverse(name[0], args=name[1:]) if isinstance(name, tuple) else reverse(name)
            html = client.get(url).content.decode()
            for pattern, what in INLINE:
                assert not pattern.search(html), f"{what} on {url}"
    html = Client().get(reverse("login")).content.decode()
    assert not any(p.search(html) for p, _ in INLINE)


# --- personal API tokens page ------------------------------------------------------------


def test_token_page_shows_a_new_token_once_and_revokes(people):
    officer = people["officer_a"]
    client = logged_in(officer)
    response = client.post(reverse("token_list"), {"name": "一大队采集站", "days": "30"})
    assert response.status_code == 200
    token = ApiToken.objects.get(user=officer.user)
    plain = re.search(r"lh_[0-9a-f]{8}_[\w-]+", response.content.decode()).group(0)
    assert plain.startswith(f"lh_{token.prefix}_") and token.token_hash not in plain
    html = client.get(reverse("token_list")).content.decode()
    assert plain not in html and f"lh_{token.prefix}_…" in html  # shown once only
    assert last_entry("auth.token_created").actor_id == officer.user.pk
    response = logged_in(people["officer_b"]).post(reverse("token_revoke", args=[token.pk]))
    assert response.status_code == 404  # someone else's token
    response = client.post(reverse("token_revoke", args=[token.pk]))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert last_entry("auth.token_revoked").actor_id == officer.user.pk


def test_token_page_bad_input(people):
    client = logged_in(people["officer_a"])
    response = client.post(reverse("token_list"), {"name": "x", "days": "abc"})
    assert response.status_code == 400 and "有效天数" in response.content.decode()
    response = client.post(reverse("token_list"), {"name": "", "days": "30"})
    assert response.status_code == 400 and "请填写令牌用途" in response.content.decode()
    assert not ApiToken.objects.exists()


# --- admin -------------------------------------------------------------------------------


def test_admin_audit_entries_are_read_only_even_for_superusers(people, superuser):
    from django.contrib.admin.sites import site

    from liuhen.audit.models import AuditEntry as Entry

    entry_admin = site._registry[Entry]
    request = type("R", (), {"user": superuser})()
    assert not entry_admin.has_add_permission(request)
    assert not entry_admin.has_change_permission(request)
    assert not entry_admin.has_delete_permission(request)
    client = Client()
    client.force_login(superuser)
    # The system administrator does not read the audit log; the legal office does.
    assert client.get("/admin/audit/auditentry/").status_code == 403
    legal = people["legal"].user
    legal.is_staff = True
    legal.save(update_fields=["is_staff"])
    response = logged_in(people["legal"]).get("/admin/audit/auditentry/")
    assert response.status_code == 200
    assert last_entry("audit.viewed").detail["via"] == "admin"
    entry = Entry.objects.first()
    response = logged_in(people["legal"]).post(
        f"/admin/audit/auditentry/{entry.pk}/change/", {"action": "forged"}
    )
    assert response.status_code == 403
    assert client.post(f"/admin/audit/auditentry/{entry.pk}/delete/").status_code == 403


def test_admin_permission_matrix_page(superuser):
    client = Client()
    client.force_login(superuser)
    index = client.get("/admin/").content.decode()
    assert reverse("admin:org_permission_matrix") in index
    html = client.get(reverse("admin:org_permission_matrix")).content.decode()
    assert "查看案件" in html and "法制机构" in html and "本单位及下级" in html
    assert "audit.export" in html


def test_admin_officer_change_and_token_revoke_are_audited(people, superuser):
    from liuhen.access.services import create_token

    client = Client()
    client.force_login(superuser)
    officer = people["officer_a"]
    url = f"/admin/org/officer/{officer.pk}/change/"
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "user": officer.user_id,
            "name": officer.name,
            "unit": officer.unit_id,
            "role": "unit_head",
            "credential_number": officer.credential_number,
            "is_formal_staff": "on",
            "qualification_number": officer.qualification_number,
            "qualification_valid_from": officer.qualification_valid_from.isoformat(),
            "qualification_valid_to": officer.qualification_valid_to.isoformat(),
        },
    )
    assert response.status_code == 302
    entry = last_entry("org.officer_changed")
    assert entry.actor_id == superuser.pk and entry.detail["after"] == {"role": "unit_head"}
    token, _ = create_token(user=officer.user, name="采集站")
    response = client.post(
        "/admin/access/apitoken/", {"action": "revoke", "_selected_action": [token.pk]}
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    entry = last_entry("auth.token_revoked")
    assert entry.actor_id == superuser.pk and entry.detail["owner"] == officer.user_id


@pytest.mark.parametrize(
    "target", ["//evil.example/x", "/\\evil.example/x", "https://evil.example/"]
)
def test_login_never_redirects_off_site(people, target):
    client = Client()
    response = client.post(
        reverse("login"),
        {"username": people["officer_a"].user.username, "password": PASSWORD, "next": target},
    )
    assert response.status_code == 302 and response["Location"] == reverse("dashboard")
    response = Client().post(
        reverse("login"),
        {
            "username": people["officer_a"].user.username,
            "password": PASSWORD,
            "next": "/cases/?stage=decision",
        },
    )
    assert response["Location"] == "/cases/?stage=decision"
