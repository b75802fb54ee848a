"""Self-service password change and the password policy (issue 16 item 14)."""

from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from conftest import FACTORY_PASSWORD as PASSWORD
from conftest import logged_in
from liuhen.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("username", "password"), [
    ("zhangsan", "zhangsan2026"), ("zhangsan", "zhangsan123456"), ("wang1", "wang1123456"),
])
def test_the_user_name_with_digits_is_refused(people, username, password):
    """The finding: the policy accepted the user name plus digits."""
    user = people["officer_a"].user
    user.username = username
    with pytest.raises(ValidationError):
        validate_password(password, user)


def test_a_password_unlike_the_user_name_is_accepted(people):
    user = people["officer_a"].user
    user.username = "zhangsan"
    assert validate_password("zhang-蓝天-白云-77", user) is None  # raises when refused


def test_change_own_password_keeps_this_session_and_is_audited(people):
    user = people["officer_a"].user
    client = logged_in(user)
    assert "修改密码" in client.get(reverse("password_change")).content.decode()
    response = client.post(reverse("password_change"), {
        "old_password": PASSWORD, "new_password1": "蓝天-白云-青山-77",
        "new_password2": "蓝天-白云-青山-77"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("蓝天-白云-青山-77")
    assert client.get(reverse("dashboard")).status_code == 200
    entry = AuditEntry.objects.filter(action="auth.password_changed").get()
    assert entry.outcome == "succeeded" and entry.actor_id == user.pk
    assert "蓝天" not in str(entry.detail) and "蓝天" not in entry.reason


@pytest.mark.parametrize(("old", "new", "message"), [
    ("wrong-password-1", "蓝天-白云-青山-77", "旧密码"),
    (PASSWORD, "12345678901", "数字"),
    (PASSWORD, "qz7k", "10"),
])
def test_bad_changes_are_chinese_errors_and_audited(people, old, new, message):
    user = people["officer_a"].user
    response = logged_in(user).post(reverse("password_change"), {
        "old_password": old, "new_password1": new, "new_password2": new})
    assert response.status_code == 400 and message in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    entry = AuditEntry.objects.filter(action="auth.password_changed").get()
    assert entry.outcome == "failed" and new not in entry.reason


def test_the_page_needs_a_login():
    response = Client().get(reverse("password_change"))
    assert response.status_code == 302 and reverse("login") in response["Location"]
