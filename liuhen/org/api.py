"""JSON API for the current user, units, officers and personal API tokens."""

from __future__ import annotations

from datetime import date, datetime

from ninja import Field, Router, Schema, Status

from liuhen.core.querysets import user_role
from liuhen.org import services
from liuhen.org.models import ApiToken, Officer, Unit
from liuhen.org.permissions import MATRIX

router = Router(tags=["单位与人员"])


class MeOut(Schema):
    id: int
    username: str
    name: str
    role: str | None
    unit_id: int | None
    permissions: dict[str, str]


class UnitOut(Schema):
    id: int
    name: str
    parent_id: int | None
    path: str


class OfficerOut(Schema):
    id: int
    name: str
    unit_id: int
    role: str
    credential_number: str
    is_formal_staff: bool
    qualification_valid_to: date | None
    is_qualified: bool


class TokenIn(Schema):
    name: str = Field(max_length=100)
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


@router.get("/me", response=MeOut, summary="当前用户")
def me(request):
    user = request.user
    officer = getattr(user, "officer", None)
    role = user_role(user)
    return {"id": user.pk, "username": user.get_username(),
            "name": officer.name if officer else user.get_username(), "role": role,
            "unit_id": officer.unit_id if officer else None,
            "permissions": dict(MATRIX.get(role, {})) if role else {}}


@router.get("/units", response=list[UnitOut], summary="执法单位")
def list_units(request):
    # The unit tree itself is not secret inside the bureau: every user may pick from it.
    return list(Unit.objects.all())


@router.get("/officers", response=list[OfficerOut], summary="执法人员")
def list_officers(request, unit: int | None = None, qualified_only: bool = False):
    qs = Officer.objects.select_related("unit")
    if unit:
        qs = qs.filter(unit_id=unit)
    officers = list(qs)
    if qualified_only:
        officers = [o for o in officers if o.is_qualified]
    return officers


@router.get("/tokens", response=list[TokenOut], summary="我的 API 令牌")
def list_tokens(request):
    return list(ApiToken.objects.filter(user=request.user))


@router.post("/tokens", response={201: TokenCreatedOut}, summary="创建 API 令牌（仅显示一次）")
def create_token(request, payload: TokenIn):
    token, plain = services.create_token(user=request.user, name=payload.name, days=payload.days)
    token.token = plain
    return Status(201, token)


@router.delete("/tokens/{token_id}", response=TokenOut, summary="吊销 API 令牌")
def revoke_token(request, token_id: int):
    return services.revoke_token(user=request.user, token_id=token_id)
