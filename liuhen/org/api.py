"""JSON API for the current user, units and officers (personal API tokens: access.api)."""

from __future__ import annotations

from datetime import date

from ninja import Router, Schema

from liuhen.access.permissions import MATRIX
from liuhen.access.querysets import user_role
from liuhen.access.services import require
from liuhen.core.schemas import Id
from liuhen.org.models import Officer, Unit

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
def list_officers(request, unit: Id | None = None, qualified_only: bool = False):
    """The officers the user may see (``officer.view``: own unit for an officer, the tree for a
    unit head or a device keeper, bureau-wide for the leaders, the legal office and the
    administrator)."""
    # Credential numbers and qualification dates are personal data: an unscoped list showed
    # every unit's to every role (issue 16 item 9).
    require(request.user, "officer.view")
    qs = Officer.objects.restrict(request.user, "officer.view").select_related("unit")
    if unit:
        qs = qs.filter(unit_id=unit)
    officers = list(qs)
    if qualified_only:
        officers = [o for o in officers if o.is_qualified]
    return officers
