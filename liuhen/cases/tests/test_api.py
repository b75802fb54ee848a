"""Bad input to the JSON API gets a clear error with a stable code, never a 500.

Specific cases first (wrong types, missing fields, unknown enum values, huge strings,
nonexistent ids, malformed JSON), then a small fuzz over every foundation POST/PATCH endpoint
and the list filters.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client

from liuhen.audit.models import AuditEntry
from liuhen.audit.services import verify
from liuhen.cases.tests.factories import make_case, make_party
from liuhen.core.testing import TEST_TODAY

HUGE_INT = 10**30
BIG_INT = 2**63


@pytest.fixture
def world(people, bureau):
    actor = people["officer_a"]
    party = make_party(actor=actor.user, unit=bureau["team_a"])
    case = make_case(
        actor=actor.user,
        unit=bureau["team_a"],
        officers=[actor, people["officer_a2"]],
        parties=[party],
    )
    from liuhen.cases.services import create_patrol

    patrol = create_patrol(
        actor=actor.user,
        unit=bureau["team_a"],
        date=TEST_TODAY,
        area="开发区",
        officer_ids=[actor.pk],
    )
    return {
        "actor": actor,
        "case": case,
        "party": party,
        "patrol": patrol,
        "unit": bureau["team_a"],
        "people": people,
    }


_clients: dict = {}


def _raw(client_user, method, path, body: str | bytes, content_type="application/json"):
    # One logged-in client per user and test (a login per request would dominate the runtime).
    client = _clients.get(client_user.pk)
    if client is None:
        client = _clients[client_user.pk] = Client()
        client.force_login(client_user)
    return getattr(client, method)(path, data=body, content_type=content_type)


@pytest.fixture(autouse=True)
def _fresh_clients():
    _clients.clear()
    yield
    _clients.clear()


def _assert_clean_error(response, status=None, code=None):
    assert response.status_code < 500, response.content[:500]
    if status is not None:
        assert response.status_code == status, response.content[:500]
    body = response.json()
    assert set(body) <= {"code", "message", "detail", "request_id"} and body["message"], body
    if code is not None:
        assert body["code"] == code, body
    return body


def test_missing_fields_name_the_field(world, api):
    body = _assert_clean_error(
        api(world["actor"]).post("/api/cases", {"kind": "penalty"}), 422, "invalid_input"
    )
    fields = {f["field"] for f in body["detail"]["fields"]}
    assert {"unit_id", "cause", "source", "officer_ids"} <= fields
    assert "输入有误" in body["message"]


def test_wrong_types(world, api):
    client = api(world["actor"])
    _assert_clean_error(
        client.post(
            "/api/cases",
            {
                "unit_id": "一大队",
                "kind": "penalty",
                "cause": "x",
                "source": "complaint",
                "officer_ids": "all",
            },
        ),
        422,
        "invalid_input",
    )
    _assert_clean_error(
        client.patch(f"/api/cases/{world['case'].pk}", {"is_disputed": {"yes": 1}}),
        422,
        "invalid_input",
    )
    _assert_clean_error(
        client.post(
            "/api/patrols",
            {"unit_id": world["unit"].pk, "date": "昨天", "area": "x", "officer_ids": []},
        ),
        422,
        "invalid_input",
    )


def test_unknown_enum_values(world, api):
    client = api(world["actor"])
    ids = [o.pk for o in world["case"].officers.all()]
    for field, value in (("kind", "fine"), ("source", "gossip")):
        payload = {
            "unit_id": world["unit"].pk,
            "kind": "penalty",
            "cause": "欠薪",
            "source": "complaint",
            "officer_ids": ids,
            field: value,
        }
        body = _assert_clean_error(client.post("/api/cases", payload), 400, "invalid_input")
        assert body["detail"]["field"] == field
    _assert_clean_error(
        client.post(f"/api/cases/{world['case'].pk}/transitions", {"to": "heaven"}),
        409,
        "illegal_transition",
    )
    _assert_clean_error(client.get("/api/cases", kind="fine"), 400, "invalid_input")
    _assert_clean_error(client.get("/api/cases", stage="limbo"), 400, "invalid_input")
    _assert_clean_error(
        client.post(
            "/api/parties",
            {
                "unit_id": world["unit"].pk,
                "kind": "robot",
                "name": "x",
                "id_number": world["party"].id_number,
            },
        ),
        400,
        "invalid_input",
    )


def test_huge_strings_are_refused_not_truncated_silently(world, api):
    client = api(world["actor"])
    ids = [o.pk for o in world["case"].officers.all()]
    _assert_clean_error(
        client.post(
            "/api/cases",
            {
                "unit_id": world["unit"].pk,
                "kind": "penalty",
                "cause": "欠" * 301,
                "source": "complaint",
                "officer_ids": ids,
            },
        ),
        422,
        "invalid_input",
    )
    _assert_clean_error(
        client.post(
            "/api/parties",
            {
                "unit_id": world["unit"].pk,
                "kind": "person",
                "name": "张" * 5000,
                "id_number": "1" * 5000,
            },
        ),
        422,
        "invalid_input",
    )
    # 11 MB: over the request size limit, still a clean answer.
    response = _raw(
        world["actor"].user, "post", "/api/cases", json.dumps({"cause": "x" * (11 * 1024 * 1024)})
    )
    assert response.status_code < 500


def test_nonexistent_ids(world, api):
    client = api(world["actor"])
    for path in (
        "/api/cases/999999",
        f"/api/cases/{HUGE_INT}",
        "/api/parties/0",
        f"/api/patrols/{BIG_INT}",
        "/api/cases/-1",
    ):
        _assert_clean_error(client.get(path), 404, "not_found")
    _assert_clean_error(client.get("/api/cases/abc"), None)
    ids = [o.pk for o in world["case"].officers.all()]
    body = _assert_clean_error(
        client.post(
            "/api/cases",
            {
                "unit_id": 999999,
                "kind": "penalty",
                "cause": "x",
                "source": "complaint",
                "officer_ids": ids,
            },
        ),
        400,
        "invalid_input",
    )
    assert body["detail"]["field"] == "unit_id"
    _assert_clean_error(
        client.post(
            "/api/cases",
            {
                "unit_id": world["unit"].pk,
                "kind": "penalty",
                "cause": "x",
                "source": "complaint",
                "officer_ids": [999998, 999999],
            },
        ),
        400,
        "invalid_input",
    )
    _assert_clean_error(
        client.post(
            "/api/cases",
            {
                "unit_id": world["unit"].pk,
                "kind": "penalty",
                "cause": "x",
                "source": "complaint",
                "officer_ids": ids,
                "party_ids": [HUGE_INT],
            },
        ),
        None,
    )
    _assert_clean_error(client.delete("/api/tokens/424242"), 404, "not_found")


def test_malformed_json(world):
    for body in (
        "{",
        "not json",
        "",
        "[1,2",
        '{"unit_id": 1,}',
        "\x00",
        "null",
        "[]",
        "42",
        '{"cause": "a\\u0000b"}',
    ):
        response = _raw(world["actor"].user, "post", "/api/cases", body)
        _assert_clean_error(response, code="invalid_input")
    response = _raw(world["actor"].user, "post", "/api/parties", b"\xff\xfe\x00garbage")
    _assert_clean_error(response)
    response = _raw(
        world["actor"].user,
        "post",
        "/api/cases",
        "unit_id=1",
        content_type="application/x-www-form-urlencoded",
    )
    _assert_clean_error(response)


def test_bad_dates_and_pages(world, api):
    client = api(world["actor"])
    _assert_clean_error(client.get("/api/cases", page=0), 400, "invalid_input")
    _assert_clean_error(client.get("/api/cases", page_size=100000), 400, "invalid_input")
    _assert_clean_error(client.get("/api/cases", opened_from="2026-13-45"), 422)
    _assert_clean_error(
        client.get("/api/cases", opened_from="2026-05-01", opened_to="2026-01-01"),
        400,
        "invalid_input",
    )
    future = str(TEST_TODAY + timedelta(days=30))
    ids = [o.pk for o in world["case"].officers.all()]
    body = _assert_clean_error(
        client.post(
            "/api/cases",
            {
                "unit_id": world["unit"].pk,
                "kind": "penalty",
                "cause": "x",
                "source": "complaint",
                "officer_ids": ids,
                "opened_on": future,
            },
        ),
        400,
        "invalid_input",
    )
    assert body["detail"]["field"] == "opened_on"
    assert client.get("/api/cases", page=999).status_code == 200  # last page, not an error


# ------------------------------------------------------------------------------ the fuzz

NASTY_VALUES = [
    None,
    "",
    "\x00",
    "🚓" * 50 + "x" * 10_000,
    -1,
    HUGE_INT,
    3.5,
    True,
    [],
    {"$gt": ""},
    "2026-02-30",
]

BODIES = {
    "/api/cases": {
        "unit_id": 0,
        "kind": "",
        "cause": "",
        "source": "",
        "officer_ids": [],
        "party_ids": [],
        "patrol_id": 0,
        "summary": "",
        "opened_on": "",
        "complaint_received_on": "",
        "is_random_inspection": False,
    },
    "/api/cases/{case}": {
        "cause": "",
        "summary": "",
        "is_disputed": False,
        "hearing_requested": False,
        "decided_on": "",
        "closed_on": "",
    },
    "/api/cases/{case}/transitions": {"to": "", "note": ""},
    "/api/parties": {
        "unit_id": 0,
        "kind": "",
        "name": "",
        "id_number": "",
        "legal_representative": "",
        "phone": "",
        "address": "",
    },
    "/api/patrols": {"unit_id": 0, "date": "", "area": "", "officer_ids": [], "notes": ""},
    "/api/patrols/{patrol}/cases": {
        "kind": "",
        "cause": "",
        "officer_ids": [],
        "party_ids": [],
        "summary": "",
    },
    "/api/tokens": {"name": "", "days": 1},
    "/api/audit/verify": {},
}


def _write_endpoints():
    from liuhen.web.api import api as ninja_api

    for _prefix, router in ninja_api._routers:
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                if operation.view_func.__module__ not in (
                    "liuhen.org.api",
                    "liuhen.access.api",
                    "liuhen.cases.api",
                    "liuhen.web.auditlog.api",
                ):
                    continue
                for method in operation.methods:
                    if method in ("POST", "PATCH"):
                        yield method, "/api/" + path.lstrip("/")


def test_fuzz_every_write_endpoint(world, people):
    """Each field of each POST/PATCH body replaced by each nasty value: never a 500."""
    endpoints = sorted(set(_write_endpoints()))
    assert len(endpoints) >= 8
    head = people["head_a"].user  # may do every write in team A
    legal = people["legal"].user
    good = {
        "unit_id": world["unit"].pk,
        "officer_ids": [world["actor"].pk],
        "kind": "inspection",
        "source": "complaint",
        "cause": "检查",
        "area": "区",
        "date": str(TEST_TODAY),
        "name": "某公司",
        "to": "investigation",
    }
    sent = 0
    for method, template in endpoints:
        key = template.replace("{case_id}", "{case}").replace("{patrol_id}", "{patrol}")
        assert key in BODIES, f"add a fuzz body for {method} {template}"
        path = key.format(case=world["case"].pk, patrol=world["patrol"].pk)
        user = legal if "audit" in path else head
        base = {k: good.get(k, v) for k, v in BODIES[key].items()}
        for field in list(base) or [None]:
            for value in NASTY_VALUES:
                body = dict(base)
                if field is not None:
                    body[field] = value
                response = _raw(user, method.lower(), path, json.dumps(body))
                assert response.status_code < 500, (
                    method,
                    path,
                    field,
                    value,
                    response.content[:300],
                )
                assert "code" in response.json() or response.status_code < 300
                sent += 1
        for raw in ("{", "[]", "null", '"x"', "\x00", "{" * 1000 + "}" * 1000):
            response = _raw(user, method.lower(), path, raw)
            assert response.status_code < 500, (method, path, raw[:20])
            sent += 1
    assert sent > 400
    assert verify().ok  # every refusal and write left the chain intact


@pytest.mark.parametrize(
    "params",
    [
        {"unit": HUGE_INT},
        {"unit": -5},
        {"officer": BIG_INT},
        {"party": "\x00"},
        {"q": "\x00"},
        {"q": "%" * 300},
        {"q": "' OR 1=1 --"},
        {"kind": "\x00"},
        {"opened_from": "0000-00-00"},
        {"opened_to": "9999-12-31"},
        {"page": HUGE_INT},
        {"page_size": -1},
        {"party": "张" * 10_000},
    ],
)
def test_fuzz_case_list_filters(world, api, params):
    response = api(world["actor"]).get("/api/cases", **params)
    assert response.status_code < 500, response.content[:300]


@pytest.mark.parametrize(
    "params",
    [
        {"actor": "9" * 40},
        {"actor": "\x00"},
        {"since": "yesterday"},
        {"limit": HUGE_INT},
        {"limit": -3},
        {"outcome": "maybe"},
        {"object_id": "x" * 5000},
        {"since": "2026-05-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
    ],
)
def test_fuzz_audit_filters(world, api, params):
    response = api(world["people"]["legal"]).get("/api/audit", **params)
    assert response.status_code < 500, response.content[:300]


def test_parties_and_patrols_limits(world, api):
    client = api(world["actor"])
    for path in ("/api/parties", "/api/patrols"):
        for limit in (-1, 0, HUGE_INT):
            assert client.get(path, limit=limit).status_code < 500
    assert client.get("/api/parties", q="\x00").status_code < 500
    assert AuditEntry.objects.exists()


def test_nul_characters_are_refused_before_the_database(world, api):
    """PostgreSQL cannot store NUL; the API refuses it as bad input on both databases."""
    client = api(world["actor"])
    body = _assert_clean_error(
        client.post(
            f"/api/cases/{world['case'].pk}/transitions", {"to": "investigation", "note": "a\x00b"}
        ),
        400,
        "invalid_input",
    )
    assert "JSON" in body["message"]
    _assert_clean_error(client.get("/api/cases", q="a\x00"), 422, "invalid_input")
    world["case"].refresh_from_db()
    assert world["case"].stage == "initiation"
