"""TOTP cannot be sidestepped (issue 16 item 6; 等保 2.0 third level, GB/T 22239-2019
8.1.4.1 d: administrators log in with two factors; 第二十六条 (三)).

The finding: an account that enrolled TOTP logged in at /admin/login/ with its password alone
and, with that session, created an API token. Now there is one login path, a session of an
enrolled user without the code reaches nothing, the admin and the bureau-wide roles need TOTP
by default, the demo's accounts are exempt by the group ``liuhen demo`` sets, and a user who
must use TOTP gets a token only from a verified session.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.test import Client, override_settings
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from conftest import FACTORY_PASSWORD as PASSWORD
from conftest import login_post, totp_code
from liuhen.access.models import ApiToken
from liuhen.access.services import create_token
from liuhen.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def _enrol(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="默认", confirmed=True)


def _login(client, user, otp=""):
    return login_post(client, user.username, PASSWORD, otp)


def test_admin_login_page_sends_everyone_to_the_one_login_page(people):
    user = people["admin"].user
    _enrol(user)
    client = Client()
    response = client.post("/admin/login/?next=/admin/", {"username": user.username,
                                                         "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=/admin/")
    assert "_auth_user_id" not in client.session
    response = client.get("/admin/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_admin_login_never_redirects_off_site(people):
    response = Client().get("/admin/login/", {"next": "//evil.example/"})
    assert response["Location"] == reverse("login") + "?next=/admin/"


def test_an_enrolled_users_password_only_session_reaches_nothing(people, api):
    """Whatever path made the session (here force_login, as any other login view would),
    an enrolled officer without the code is sent to verify it; the API answers 403."""
    officer = people["officer_a"]
    _enrol(officer.user)
    client = Client()
    client.force_login(officer.user)
    response = client.get(reverse("case_list"))
    assert response.status_code == 302 and response["Location"] == reverse("otp_setup")
    response = api(officer).post("/api/tokens", {"name": "绕过", "days": 30})
    assert response.status_code == 403 and response.json()["code"] == "otp_required"
    assert not ApiToken.objects.exists()


def test_the_code_opens_the_session(people):
    officer = people["officer_a"]
    device = _enrol(officer.user)
    client = Client()
    assert _login(client, officer.user, totp_code(device)).status_code == 302
    assert client.get(reverse("case_list")).status_code == 200


@override_settings(OTP_REQUIRED_ROLES=["admin", "bureau_leader", "legal_office"])
def test_admin_and_bureau_wide_roles_need_totp_and_officers_do_not(people):
    for role in ("admin", "leader", "legal"):
        client = Client()
        assert _login(client, people[role].user).status_code == 302
        response = client.get(reverse("dashboard"))
        assert response.status_code == 302 and response["Location"] == reverse("otp_setup"), role
    client = Client()
    _login(client, people["officer_a"].user)
    assert client.get(reverse("dashboard")).status_code == 200


@override_settings(OTP_REQUIRED_ROLES=["admin", "bureau_leader", "legal_office"])
def test_demo_accounts_are_exempt_by_their_group(people):
    group, _ = Group.objects.get_or_create(name=settings.OTP_EXEMPT_GROUP)
    group.user_set.add(people["leader"].user)
    client = Client()
    _login(client, people["leader"].user)
    assert client.get(reverse("dashboard")).status_code == 200


@override_settings(OTP_REQUIRED_ROLES=["legal_office"])
def test_a_token_cannot_make_a_token_for_a_user_who_must_use_totp(people, api):
    """A token works without the second factor, so a token (or a password-only session)
    must not be able to mint more of them for such a user."""
    legal = people["legal"].user
    _, plain = create_token(user=legal, name="采集站")
    response = api(token=plain).post("/api/tokens", {"name": "再来一个", "days": 30})
    assert response.status_code == 403, response.content
    assert ApiToken.objects.filter(user=legal).count() == 1
    entry = AuditEntry.objects.filter(action="auth.token_created").order_by("-seq").first()
    assert entry.outcome == "denied" and entry.actor_id == legal.pk


@override_settings(OTP_REQUIRED_ROLES=["legal_office"])
def test_a_verified_session_creates_a_token(people):
    legal = people["legal"].user
    device = _enrol(legal)
    client = Client()
    assert _login(client, legal, totp_code(device)).status_code == 302
    response = client.post(reverse("token_list"), {"name": "采集站", "days": "30"})
    assert response.status_code == 200 and ApiToken.objects.filter(user=legal).count() == 1


def test_production_default_requires_totp_of_admin_and_bureau_wide_roles(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("LIUHEN_") and k != "DJANGO_SETTINGS_MODULE"}
    env["LIUHEN_DATA_DIR"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-c",
         "import json, liuhen.settings as s; print(json.dumps(s.OTP_REQUIRED_ROLES))"],
        env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == ["admin", "bureau_leader", "legal_office"]


@pytest.mark.parametrize("view", ["config", "qrcode"])
def test_the_totp_device_admin_answers_404_for_an_unknown_device(view, people):
    """django-otp's own view raised DoesNotExist (a 500) for an id that names no device."""
    from django.contrib.auth import get_user_model

    superuser = get_user_model().objects.create_superuser("root-otp", password=PASSWORD)
    client = Client(raise_request_exception=False)
    client.force_login(superuser)
    known = _enrol(superuser)
    missing = known.pk + 1000
    response = client.get(f"/admin/otp_totp/totpdevice/{missing}/{view}/")
    assert response.status_code == 404
    response = client.get(f"/admin/otp_totp/totpdevice/{known.pk}/{view}/")
    assert response.status_code in (200, 302), response.status_code
