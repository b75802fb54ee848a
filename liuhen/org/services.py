"""Services for people: qualifications (第十一条) and personal API tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from liuhen.audit.services import record, record_denied
from liuhen.core.errors import InvalidInput, NotFound, UnqualifiedOfficer
from liuhen.org import events
from liuhen.org.models import ApiToken, Officer

TOKEN_PREFIX = "lh_"


def ensure_qualified(officers, *, on: date | None = None, actor=None, purpose: str = "") -> None:
    """Refuse anyone who is not formal staff with a valid qualification (第十一条)."""
    problems = [p for p in (o.qualification_problem(on) for o in officers) if p]
    if problems:
        message = "；".join(problems) + "，不能" + (purpose or "担任执法记录主体") + "（依据第十一条）"
        record_denied(actor=actor, action=events.event_officer_refused,
                      target=("org.officer", ",".join(str(o.pk) for o in officers)),
                      reason=message)
        raise UnqualifiedOfficer(message, detail={"officers": [o.pk for o in officers]})


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(*, user, name: str, days: int | None = 365) -> tuple[ApiToken, str]:
    """Issue a token; the plain text is returned once and never stored."""
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
                      target=("org.apitoken", str(token_id)), reason="令牌不存在或不属于本人")
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
                      target=("org.apitoken", parts[0] if parts else ""), reason="令牌无效")
        return None
    if not token.is_active or not token.user.is_active:
        record_denied(actor=token.user, action=events.event_token_denied, target=token,
                      reason="令牌已吊销或过期")
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def officers_by_ids(ids) -> list[Officer]:
    try:
        ids = list(dict.fromkeys(int(i) for i in ids))
    except (TypeError, ValueError):
        raise InvalidInput("执法人员编号无效") from None
    # Out-of-range numbers cannot exist; leaving them out of the query avoids driver overflows.
    valid = [i for i in ids if 0 < i < 2**63]
    found = {o.pk: o for o in Officer.objects.filter(pk__in=valid).select_related("unit")}
    missing = [i for i in ids if i not in found]
    if missing:
        raise InvalidInput(f"执法人员不存在：{missing}")
    return [found[i] for i in ids]
