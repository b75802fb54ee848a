"""The permission matrix, shown end to end through the JSON API (第三条, 第二十六条 (三)).

Every foundation endpoint under /api/ × every role × a target in the actor's own unit and in
another unit: the status it must answer, that nothing of a forbidden object leaks, and the
audit entry it must leave (a succeeded read/write naming actor, role and object, or a denied
entry with a reason). The endpoint list is read from the live NinjaAPI, so an endpoint added
to a foundation router without a row in ``EXPECT`` fails ``test_every_endpoint_has_a_row``.

One bureau (units, people, a case/party/patrol per team) is built once per module; each test
runs inside its own savepoint on top of it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest
from django.db import transaction

from liuhen.access.choices import Role
from liuhen.audit.models import AuditEntry
from liuhen.cases.choices import CaseKind, CaseSource, PartyKind
from liuhen.cases.models import Case
from liuhen.core.testing import TEST_TODAY
from liuhen.org.choices import UnitKind
from liuhen.web.api import api as ninja_api

FOUNDATION_MODULES = {
    "liuhen.org.api", "liuhen.access.api", "liuhen.cases.api", "liuhen.web.auditlog.api",
}

O, H, BL, LO, RK, DK, AD = (  # noqa: E741
    Role.OFFICER,
    Role.UNIT_HEAD,
    Role.BUREAU_LEADER,
    Role.LEGAL_OFFICE,
    Role.RECORDS_KEEPER,
    Role.DEVICE_KEEPER,
    Role.ADMIN,
)
ALL = frozenset(Role)
NONE: frozenset = frozenset()
CASE_VIEW_OWN = frozenset({O, H, BL, LO, RK})  # team A people see team A's cases
CASE_VIEW_OTHER = frozenset({BL, LO})  # only bureau-wide roles see team B's
WRITE_OWN = frozenset({O, H})  # officers and heads work in their unit

# Where each role's actor sits: team A for the unit-scoped roles, the bureau otherwise.
ACTOR_UNIT = {
    O: "team_a",
    H: "team_a",
    BL: "bureau",
    LO: "bureau",
    RK: "team_a",
    DK: "detachment",
    AD: "bureau",
}


@dataclass(frozen=True)
class Expect:
    """One endpoint's row: who succeeds on the own-unit / other-unit target, and the trace."""

    method: str
    path: str  # {case}, {party}, {patrol}, {token} filled per target
    own: frozenset  # roles that succeed on team A's object
    other: frozenset  # roles that succeed on team B's object
    ok: int = 200
    event: str | None = None  # audit action on success (None: not audited)
    denied_event: str | None = None
    denied: int = 404  # status when refused
    # Roles that may see the object but not do this: they get 403 instead of 404.
    visible_own: frozenset = NONE
    visible_other: frozenset = NONE
    body: str | None = None  # name of a body builder below
    unit_scoped: bool = True  # False: the "other" dimension does not apply
    object_type: str = ""
    listing: str | None = None  # list endpoint: the key of the object that must (not) appear
    extra: dict = field(default_factory=dict)


EXPECT: dict[str, Expect] = {
    "me": Expect("GET", "/api/me", ALL, ALL, unit_scoped=False),
    "list_units": Expect("GET", "/api/units", ALL, ALL, unit_scoped=False),
    "list_officers": Expect("GET", "/api/officers", ALL, ALL, unit_scoped=False),
    "list_tokens": Expect("GET", "/api/tokens", ALL, NONE, listing="token"),
    "create_token": Expect(
        "POST",
        "/api/tokens",
        ALL,
        ALL,
        ok=201,
        body="token",
        event="auth.token_created",
        unit_scoped=False,
        object_type="access.apitoken",
    ),
    # "own" = the actor's own token, "other" = someone else's: never revocable.
    "revoke_token": Expect(
        "DELETE",
        "/api/tokens/{token}",
        ALL,
        NONE,
        event="auth.token_revoked",
        denied_event="auth.token_revoked",
        object_type="access.apitoken",
    ),
    "list_cases": Expect(
        "GET",
        "/api/cases",
        CASE_VIEW_OWN,
        CASE_VIEW_OTHER,
        denied=403,
        denied_event="case.listed",
        listing="case",
    ),
    "create_case": Expect(
        "POST",
        "/api/cases",
        WRITE_OWN,
        NONE,
        ok=201,
        body="case",
        denied=403,
        event="case.created",
        denied_event="case.created",
        object_type="cases.case",
    ),
    "get_case": Expect(
        "GET",
        "/api/cases/{case}",
        CASE_VIEW_OWN,
        CASE_VIEW_OTHER,
        event="case.viewed",
        denied_event="case.viewed",
        object_type="cases.case",
    ),
    "update_case": Expect(
        "PATCH",
        "/api/cases/{case}",
        WRITE_OWN,
        NONE,
        body="facts",
        event="case.changed",
        denied_event="case.changed",
        object_type="cases.case",
    ),
    "transition_case": Expect(
        "POST",
        "/api/cases/{case}/transitions",
        WRITE_OWN,
        NONE,
        body="transition",
        event="case.stage_changed",
        denied_event="case.transition_refused",
        visible_own=CASE_VIEW_OWN,
        visible_other=CASE_VIEW_OTHER,
        object_type="cases.case",
    ),
    "list_parties": Expect(
        "GET",
        "/api/parties",
        CASE_VIEW_OWN,
        CASE_VIEW_OTHER,
        denied=403,
        denied_event="party.view",
        listing="party",
    ),
    "create_party": Expect(
        "POST",
        "/api/parties",
        WRITE_OWN,
        NONE,
        ok=201,
        body="party",
        denied=403,
        event="party.created",
        denied_event="party.created",
        object_type="cases.party",
    ),
    "get_party": Expect(
        "GET",
        "/api/parties/{party}",
        CASE_VIEW_OWN,
        CASE_VIEW_OTHER,
        event="party.viewed",
        denied_event="party.viewed",
        object_type="cases.party",
    ),
    "list_patrols": Expect(
        "GET",
        "/api/patrols",
        CASE_VIEW_OWN,
        CASE_VIEW_OTHER,
        denied=403,
        denied_event="patrol.view",
        listing="patrol",
    ),
    "create_patrol": Expect(
        "POST",
        "/api/patrols",
        WRITE_OWN,
        NONE,
        ok=201,
        body="patrol",
        denied=403,
        event="patrol.created",
        denied_event="patrol.created",
        object_type="cases.patrol",
    ),
    "get_patrol": Expect(
        "GET",
        "/api/patrols/{patrol}",
        CASE_VIEW_OWN,
        CASE_VIEW_OTHER,
        event="patrol.viewed",
        denied_event="patrol.viewed",
        object_type="cases.patrol",
    ),
    "case_from_patrol": Expect(
        "POST",
        "/api/patrols/{patrol}/cases",
        WRITE_OWN,
        NONE,
        ok=201,
        body="from_patrol",
        event="case.created",
        denied_event="case.created",
        visible_own=CASE_VIEW_OWN,
        visible_other=CASE_VIEW_OTHER,
        object_type="cases.case",
    ),
    "list_entries": Expect(
        "GET",
        "/api/audit",
        frozenset({LO}),
        frozenset({LO}),
        denied=403,
        event="audit.viewed",
        denied_event="audit.viewed",
        unit_scoped=False,
    ),
    "verify_chain": Expect(
        "POST",
        "/api/audit/verify",
        frozenset({LO}),
        frozenset({LO}),
        denied=403,
        event="audit.verified",
        denied_event="audit.verified",
        unit_scoped=False,
    ),
}


# ---------------------------------------------------------------- the bureau, built once


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Units, one actor per role, and a case, party, patrol and token in team A and team B."""
    from liuhen.access.services import create_token
    from liuhen.cases import services
    from liuhen.cases.tests.factories import make_case, make_party
    from liuhen.org.tests.factories import OfficerFactory, UnitFactory

    with django_db_blocker.unblock(), transaction.atomic():
        top = UnitFactory(name="矩阵测试局", kind=UnitKind.BUREAU, case_number_prefix="矩人社")
        detachment = UnitFactory(name="监察支队", parent=top)
        units = {
            "bureau": top,
            "detachment": detachment,
            "team_a": UnitFactory(name="一大队", parent=detachment, kind=UnitKind.TEAM),
            "team_b": UnitFactory(name="二大队", parent=detachment, kind=UnitKind.TEAM),
        }
        actors = {role: OfficerFactory(unit=units[ACTOR_UNIT[role]], role=role) for role in Role}
        crew = {
            key: [OfficerFactory(unit=units[key]) for _ in range(2)] for key in ("team_a", "team_b")
        }
        head_b = OfficerFactory(unit=units["team_b"], role=H)
        owners = {"team_a": actors[O], "team_b": crew["team_b"][0]}
        targets = {}
        for key in ("team_a", "team_b"):
            # The role-O actor is one of team A's two assigned officers.
            officers = [actors[O], crew["team_a"][0]] if key == "team_a" else crew["team_b"]
            creator = owners[key].user
            party = make_party(actor=creator, unit=units[key])
            case = make_case(actor=creator, unit=units[key], officers=officers, parties=[party])
            patrol = services.create_patrol(
                actor=creator,
                unit=units[key],
                date=TEST_TODAY,
                area="开发区",
                officer_ids=[o.pk for o in officers],
            )
            targets[key] = {"case": case, "party": party, "patrol": patrol, "officers": officers}
        tokens = {
            role: create_token(user=actor.user, name="测试")[0] for role, actor in actors.items()
        }
        tokens["stranger"] = create_token(user=head_b.user, name="他人")[0]
        yield {"units": units, "actors": actors, "targets": targets, "tokens": tokens}
        transaction.set_rollback(True)


def _body(name, world, where):
    unit = world["units"][where]
    officers = world["targets"][where]["officers"]
    ids = [o.pk for o in officers]
    from liuhen.cases.tests.factories import valid_uscc

    return {
        None: None,
        "token": {"name": "采集站", "days": 30},
        "case": {
            "unit_id": unit.pk,
            "kind": CaseKind.PENALTY,
            "cause": "拖欠工资",
            "source": CaseSource.COMPLAINT,
            "officer_ids": ids,
        },
        "facts": {"is_disputed": True},
        "transition": {"to": "investigation", "note": "开始调查"},
        "party": {
            "unit_id": unit.pk,
            "kind": PartyKind.ORGANISATION,
            "name": "某某公司",
            "id_number": valid_uscc(9000 + unit.pk),
        },
        "patrol": {
            "unit_id": unit.pk,
            "date": str(TEST_TODAY),
            "area": "高新区",
            "officer_ids": ids,
        },
        "from_patrol": {"kind": CaseKind.INSPECTION, "cause": "巡查发现未签劳动合同"},
    }[name]


def _path(row: Expect, world, role, where) -> str:
    target = world["targets"][where]
    token = world["tokens"][role if where == "team_a" else "stranger"]
    return row.path.format(
        case=target["case"].pk, party=target["party"].pk, patrol=target["patrol"].pk, token=token.pk
    )


def _cases():
    for name, row in EXPECT.items():
        for role in Role:
            for where in ("team_a", "team_b") if row.unit_scoped else ("team_a",):
                yield pytest.param(name, role, where, id=f"{name}-{role}-{where}")


@pytest.mark.parametrize(("name", "role", "where"), list(_cases()))
def test_matrix(world, db, api, name, role, where):
    row = EXPECT[name]
    actor = world["actors"][role]
    allowed = role in (row.own if where == "team_a" else row.other)
    client = api(actor)  # force_login writes its own auth.login entry: count after it
    before = AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    call = getattr(client, row.method.lower())
    path = _path(row, world, role, where)
    body = _body(row.body, world, where)
    response = call(path, body) if row.method in ("POST", "PATCH") else call(path)
    entries = list(AuditEntry.objects.filter(seq__gt=before).order_by("seq"))
    data = response.json()

    if row.listing:
        # Lists answer 200 to whoever may list at all; scoping shows in what they contain.
        lists = (row.own | row.other) if row.listing != "token" else ALL
        if role in lists:
            assert response.status_code == 200, data
            items = data["items"] if isinstance(data, dict) else data
            listed = {item["id"] for item in items}
            obj = (
                world["tokens"][role if where == "team_a" else "stranger"]
                if row.listing == "token"
                else world["targets"][where][row.listing]
            )
            assert (obj.pk in listed) == allowed, (role, where, listed)
            assert not [e for e in entries if e.outcome == "denied"]
            return
        allowed = False

    if allowed:
        assert response.status_code == row.ok, data
        if row.event:
            mine = [e for e in entries if e.action == row.event and e.outcome == "succeeded"]
            assert mine, [(e.action, e.outcome) for e in entries]
            entry = mine[-1]
            assert entry.actor_id == actor.user.pk and entry.actor_role == role
            assert entry.actor_name == actor.name and entry.via in ("web", "api")
            if row.object_type:
                assert entry.object_type == row.object_type
                assert entry.object_id == str(data["id"])
        else:
            assert not entries, [(e.action, e.outcome) for e in entries]
        assert not [e for e in entries if e.outcome == "denied"]
        return

    visible = role in (row.visible_own if where == "team_a" else row.visible_other)
    expected = 403 if visible else row.denied
    assert response.status_code == expected, (response.status_code, data)
    # Nothing of the object leaks: the body is only the error.
    assert set(data) <= {"code", "message", "detail", "request_id"}, data  # 1febbd9: the request id
    assert data["code"] in ("not_found", "forbidden", "illegal_transition"), data
    target = world["targets"][where]
    text = json.dumps(data, ensure_ascii=False)
    assert target["case"].number not in text and target["party"].name not in text
    denied = [e for e in entries if e.outcome == "denied"]
    assert denied, f"{name} refused {role} without a denied audit entry"
    assert any(e.action == row.denied_event for e in denied), [e.action for e in denied]
    entry = denied[-1]
    assert entry.actor_id == actor.user.pk and entry.actor_role == role and entry.reason
    # 第二十六条 (三): a refusal about one object names it, not only who was refused
    in_path = {key: str(obj.pk) for key, obj in (
        *((k, target[k]) for k in ("case", "party", "patrol")),
        ("token", world["tokens"][role if where == "team_a" else "stranger"]))
        if "{" + key + "}" in row.path}
    if in_path:
        assert {(e.object_type.rsplit(".", 1)[-1].removeprefix("api"), e.object_id)
                for e in denied} & set(in_path.items()), (
            in_path, [(e.object_type, e.object_id) for e in denied])
    assert not [e for e in entries if e.outcome == "succeeded" and e.action == row.event]
    # The refused write changed nothing.
    assert Case.objects.get(pk=target["case"].pk).stage == "initiation"
    assert not Case.objects.get(pk=target["case"].pk).is_disputed


def test_anonymous_gets_401_everywhere(world, db, api):
    client = api(None)
    for name, row in EXPECT.items():
        path = _path(row, world, O, "team_a")
        call = getattr(client, row.method.lower())
        response = (
            call(path, _body(row.body, world, "team_a"))
            if row.method in ("POST", "PATCH")
            else call(path)
        )
        assert response.status_code == 401, name
        assert response.json()["code"] == "unauthenticated"


def _foundation_operations():
    for _prefix, router in ninja_api._routers:
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                func = operation.view_func
                if func.__module__ in FOUNDATION_MODULES:
                    yield func.__name__, tuple(operation.methods)


def test_every_endpoint_has_a_row():
    """A new foundation endpoint must be added to EXPECT (and so to this matrix)."""
    found = dict(_foundation_operations())
    assert set(found) == set(EXPECT), set(found) ^ set(EXPECT)
    for name, methods in found.items():
        assert EXPECT[name].method in methods, name


def test_matrix_matches_permissions_module():
    """The table above and access/permissions.py agree on who may view and write cases."""
    from liuhen.access.permissions import scope_for

    for role in Role:
        assert (scope_for(role, "case.view") is not None) == (role in CASE_VIEW_OWN)
        assert (scope_for(role, "case.view") == "bureau") == (role in CASE_VIEW_OTHER)
        assert (scope_for(role, "case.create") is not None) == (role in WRITE_OWN)
        assert (scope_for(role, "audit.view") is not None) == (role == LO)
