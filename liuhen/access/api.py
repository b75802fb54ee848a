"""JSON API of personal API tokens (the owner creates, lists and revokes them)."""

from __future__ import annotations

from datetime import datetime

from ninja import Router, Schema, Status

from liuhen.access import services
from liuhen.access.models import ApiToken
from liuhen.access.otp import is_verified
from liuhen.core.schemas import Short

# The same tag as the org router: the API groups them as it did before issue 15.
router = Router(tags=["单位与人员"])


class TokenIn(Schema):
    name: Short
    days: int | None = 365


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreatedOut(TokenOut):
    token: str


@router.get("/tokens", response=list[TokenOut], summary="我的 API 令牌")
def list_tokens(request):
    return list(ApiToken.objects.filter(user=request.user))


@router.post("/tokens", response={201: TokenCreatedOut}, summary="创建 API 令牌（仅显示一次）")
def create_token(request, payload: TokenIn):
    token, plain = services.create_token(user=request.user, name=payload.name, days=payload.days,
                                         otp_verified=is_verified(request))
    token.token = plain
    return Status(201, token)


@router.delete("/tokens/{token_id}", response=TokenOut, summary="吊销 API 令牌")
def revoke_token(request, token_id: int):
    return services.revoke_token(user=request.user, token_id=token_id)
