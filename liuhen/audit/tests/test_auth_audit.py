"""Logins, failed logins, lockouts and logouts are in the audit log (第二十六条 (三))."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from conftest import FACTORY_PASSWORD as PASSWORD
from liuhen.audit.models import AuditEntry
from liuhen.audit.services import verify


def _entries(action):
    return list(AuditEntry.objects.filter(action=action).order_by("seq"))


@pytest.fixture
def officer(people):
    return people["officer_a"]


def test_login_and_logout_are_audited(officer):
    client = Client(REMOTE_ADDR="10.1.2.3")
    response = client.post("/login/", {"username": officer.user.username, "password": PASSWORD})
    assert response.status_code == 302
    (login,) = _entries("auth.login")
    assert (login.outcome, login.actor_id, login.actor_role) == (
        "succeeded",
        officer.user.pk,
        "officer",
    )
    assert login.ip == "10.1.2.3" and login.via == "web" and login.session
    # The session key itself is a credential: only a short tag of it is kept.
    assert login.session != client.session.session_key and len(login.session) == 16
    client.post("/logout/")
    (logout,) = _entries("auth.logout")
    assert logout.actor_id == officer.user.pk and logout.session == login.session
    assert verify().ok


def test_failed_login_is_audited_without_the_password(officer):
    client = Client(REMOTE_ADDR="10.9.9.9")
    response = client.post("/login/", {"username": officer.user.username, "password": "wrong!"})
    assert response.status_code == 200 and "用户名或密码错误" in response.content.decode()
    (failed,) = _entries("auth.login_failed")
    assert failed.outcome == "failed" and failed.actor_id is None
    assert failed.actor_name == officer.user.username and failed.ip == "10.9.9.9"
    assert failed.object_id == str(officer.user.pk)
    assert "wrong!" not in str(failed.detail) + failed.reason
    client.post("/login/", {"username": "nobody-" + "x" * 300, "password": "x"})
    assert len(_entries("auth.login_failed")) == 2 and verify().ok


def test_lockout_after_repeated_failures_is_audited(officer):
    client = Client()
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit):
        client.post("/login/", {"username": officer.user.username, "password": "wrong"})
    locked = _entries("auth.lockout")
    assert locked and locked[0].outcome == "denied" and locked[0].object_id == str(officer.user.pk)
    # Locked: even the right password is refused, with a clear page, and no login is recorded.
    response = client.post("/login/", {"username": officer.user.username, "password": PASSWORD})
    assert response.status_code == 429 and "锁定" in response.content.decode()
    assert not _entries("auth.login")
    assert len(_entries("auth.login_failed")) >= limit
