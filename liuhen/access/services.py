"""The one place that answers "may this person do this to this object now".

``get_for`` fetches one protected object (found and allowed, or NotFound with a denied audit
entry), ``require`` refuses a role that may not act at all, and personal API tokens say who a
machine client acts for. Scopes come from ``permissions.MATRIX`` through
``querysets.RestrictedQuerySet.restrict``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from liuhen.access import events, grants, use
from liuhen.access.models import ApiToken
from liuhen.access.otp import must_use_otp
from liuhen.access.permissions import ACTIONS
from liuhen.access.querysets import allows, found_in_scope, grants_in_force
from liuhen.audit.services import record, record_denied
from liuhen.core.errors import Forbidden, InvalidInput, NotFound

TOKEN_PREFIX = "lh_"


def get_for(user, action: str, queryset, pk, *, read_event: str | None = None,
            denied_event: str | None = None):
    """The object with ``pk`` if ``user`` may do ``action`` on it.

    A forbidden object answers exactly like a missing one (404), and the attempt is audited.
    When ``read_event`` is given the successful read is audited too (第二十六条 (三)).
    ``denied_event`` names the refusal when the lookup guards a write (e.g. a transition).
    """
    model = queryset.model
    meta = model._meta
    try:
        obj = queryset.restrict(user, action).filter(pk=pk).first()
    except (ValueError, TypeError):
        obj = None
    if obj is None:
        record_denied(actor=user, action=denied_event or read_event or action,
                      target=(f"{meta.app_label}.{meta.model_name}", str(pk)[:64]),
                      reason="对象不存在或无权访问")
        raise NotFound()
    found_in_scope(user, action, obj)
    if read_event:
        record(actor=user, action=read_event, target=obj)
    return obj


def require(user, action: str, *, target=None, event: str | None = None) -> None:
    """Refuse (403, audited) a user whose role may not do ``action`` anywhere."""
    if not allows(user, action):
        record_denied(actor=user, action=event or action, target=target,
                      reason=f"角色无权执行：{ACTIONS.get(action, action)}",
                      detail={"permission": action})
        raise Forbidden()


# --- personal API tokens ----------------------------------------------------------------


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(*, user, name: str, days: int | None = 365,
                 otp_verified: bool | None = None) -> tuple[ApiToken, str]:
    """Issue a token; the plain text is returned once and never stored.

    ``otp_verified`` says whether the request asking passed TOTP (pages and API pass it; a
    console command run by the operator passes nothing). A user who must use TOTP gets a
    token only from a verified session: a token works without the second factor, so one
    made from a password-only session, or from another token, would undo it (issue 16
    item 6)."""
    if otp_verified is False and must_use_otp(user):
        record_denied(actor=user, action=events.event_token_created, target=user,
                      reason="创建令牌前须完成动态口令验证")
        raise Forbidden("创建 API 令牌前请先完成动态口令验证")
    name = (name or "").strip()
    if not name:
        raise InvalidInput("请填写令牌用途")
    if days is not None and not 1 <= days <= 3650:
        raise InvalidInput("有效天数应在 1 到 3650 之间")
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    plain = f"{TOKEN_PREFIX}{prefix}_{secret}"
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user, name=name[:100], prefix=prefix, token_hash=_hash(plain),
            expires_at=timezone.now() + timedelta(days=days) if days else None,
        )
        record(actor=user, action=events.event_token_created, target=token,
               detail={"name": token.name, "expires_at": str(token.expires_at)})
    return token, plain


def revoke_token(*, user, token_id: int) -> ApiToken:
    """Revoke one of the user's own tokens (idempotent); later use of it is refused."""
    token = ApiToken.objects.filter(pk=token_id, user=user).first()
    if token is None:
        # Someone else's token answers like a missing one, and the attempt is on record.
        record_denied(actor=user, action=events.event_token_revoked,
                      target=("access.apitoken", str(token_id)), reason="令牌不存在或不属于本人")
        raise NotFound()
    with transaction.atomic():
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            record(actor=user, action=events.event_token_revoked, target=token)
    return token


def authenticate_token(raw: str):
    """The user a bearer token belongs to, or None (and a denied audit entry)."""
    raw = (raw or "").strip()
    parts = raw[len(TOKEN_PREFIX):].split("_", 1) if raw.startswith(TOKEN_PREFIX) else []
    token = ApiToken.objects.select_related("user").filter(prefix=parts[0]).first() if parts else None
    if token is None or not hmac.compare_digest(token.token_hash, _hash(raw)):
        record_denied(actor=None, action=events.event_token_denied,
                      target=("access.apitoken", parts[0] if parts else ""), reason="令牌无效")
        return None
    if not token.is_active or not token.user.is_active:
        record_denied(actor=token.user, action=events.event_token_denied, target=token,
                      reason="令牌已吊销或过期")
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


# --- use of records (第十六条): see access.use and access.grants -------------------------
# The names other apps call: one check before any content is served, and the inbox query.
check_use = use.check_use
may_use = use.may_use
right_for = use.right_for
pending_for = grants.pending_for


def access_counts(user) -> dict:
    """The requester's open items for the dashboard: requests pending, grants in force (the
    page's own list of them, ``grants_in_force``: not counted again)."""
    return {"pending": grants.requests_of(user).filter(status="pending").count(),
            "active": len(grants_in_force(user))}
