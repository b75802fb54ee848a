"""Personal API tokens: stored hashed, revocable, and every use or refusal audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import last_entry
from liuhen.access.models import ApiToken
from liuhen.access.services import authenticate_token, create_token, revoke_token
from liuhen.audit.models import AuditEntry
from liuhen.core.errors import InvalidInput, NotFound


@pytest.fixture
def issued(people):
    user = people["officer_a"].user
    token, plain = create_token(user=user, name="采集站一号")
    return user, token, plain


def test_token_is_stored_hashed_and_shown_once(issued):
    user, token, plain = issued
    assert plain.startswith(f"lh_{token.prefix}_")
    stored = ApiToken.objects.get(pk=token.pk)
    assert plain not in stored.token_hash and len(stored.token_hash) == 64
    entry = AuditEntry.objects.get(action="auth.token_created")
    assert entry.actor_id == user.pk and plain not in str(entry.detail)


def test_valid_token_works_and_its_actions_are_audited_as_api(issued, api):
    user, token, plain = issued
    response = api(token=plain).get("/api/me")
    assert response.status_code == 200 and response.json()["id"] == user.pk
    case_list = api(token=plain).get("/api/cases")
    assert case_list.status_code == 200
    assert not AuditEntry.objects.filter(action="auth.token_denied").exists()
    assert ApiToken.objects.get(pk=token.pk).last_used_at is not None
    party = api(token=plain).post(
        "/api/parties",
        {
            "unit_id": user.officer.unit_id,
            "kind": "organisation",
            "name": "某公司",
            "id_number": "91350100M000100Y43",
        },
    )
    assert party.status_code == 201
    entry = last_entry()
    assert (entry.action, entry.actor_id, entry.via, entry.session) == (
        "party.created",
        user.pk,
        "api",
        "token",
    )


def test_token_with_session_cookie_needs_no_csrf(issued, api):
    """Bearer tokens are not cookies: CSRF does not apply, and is not needed."""
    _user, _token, plain = issued
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/api/tokens",
        data='{"name": "x"}',
        content_type="application/json",
        headers={"Authorization": f"Bearer {plain}"},
    )
    assert response.status_code == 201


@pytest.mark.parametrize("state", ["revoked", "expired", "user_inactive"])
def test_dead_tokens_are_refused_and_audited(issued, api, state):
    user, token, plain = issued
    if state == "revoked":
        revoke_token(user=user, token_id=token.pk)
        assert last_entry().action == "auth.token_revoked"
    elif state == "expired":
        ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(1))
    else:
        type(user).objects.filter(pk=user.pk).update(is_active=False)
    response = api(token=plain).get("/api/cases")
    assert response.status_code == 401 and response.json()["code"] == "unauthenticated"
    entry = last_entry()
    assert (entry.action, entry.outcome, entry.actor_id) == ("auth.token_denied", "denied", user.pk)
    assert entry.object_id == str(token.pk) and "吊销或过期" in entry.reason


@pytest.mark.parametrize(
    "garbage",
    [
        "lh_nothere_secret",
        "lh_",
        "lh__",
        "not-a-token",
        "lh_" + "a" * 500,
        "lh_{prefix}_wrong-secret",
        "Bearer lh_x",
        "lh_\u4e2d\u6587_x",
    ],
)
def test_garbage_tokens_are_refused_and_audited(issued, api, garbage):
    _user, token, _plain = issued
    response = api(token=garbage.format(prefix=token.prefix)).get("/api/me")
    assert response.status_code == 401
    entry = last_entry()
    assert (entry.action, entry.outcome, entry.actor_id) == ("auth.token_denied", "denied", None)
    assert entry.reason == "令牌无效" and len(entry.object_id) <= 64


def test_create_token_bad_input(people):
    user = people["officer_a"].user
    for kwargs in ({"name": " "}, {"name": "x", "days": 0}, {"name": "x", "days": 4000}):
        with pytest.raises(InvalidInput):
            create_token(user=user, **kwargs)
    forever, _ = create_token(user=user, name="长期", days=None)
    assert forever.expires_at is None and forever.is_active


def test_revoke_is_own_only_idempotent_and_audited(issued, people, api):
    user, token, plain = issued
    stranger = people["officer_b"].user
    with pytest.raises(NotFound):
        revoke_token(user=stranger, token_id=token.pk)
    entry = last_entry()
    assert (entry.action, entry.outcome, entry.actor_id) == (
        "auth.token_revoked",
        "denied",
        stranger.pk,
    )
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None
    revoke_token(user=user, token_id=token.pk)
    revoke_token(user=user, token_id=token.pk)
    assert AuditEntry.objects.filter(action="auth.token_revoked", outcome="succeeded").count() == 1
    assert authenticate_token(plain) is None
