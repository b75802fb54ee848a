"""The OpenAPI document tells the truth about errors (issue 16 item 15): every operation,
enumerated from the served document (not a hand list), is called the ways a client can fail —
without credentials, during a database outage, with a session but no CSRF token, with a missing
object, with input of the wrong shape — and each answer must be a status the document declares
for that operation, with a body that validates against the declared error schema."""

from __future__ import annotations

import json
import re

import jsonschema
import pytest
from django.db import OperationalError
from django.test import Client

from liuhen.web.openapi import ERROR_SCHEMA, error_statuses


def _document():
    return json.loads(Client().get("/api/openapi.json").content)


def _operations():
    # Collected before the test settings apply, so read from the API object, not over HTTP.
    from liuhen.web.api import api

    document = api.get_openapi_schema(path_prefix="api/")
    return [(method, path, operation) for path, operations in document["paths"].items()
            for method, operation in operations.items()]


OPERATIONS = _operations()
MISSING_ID = 2_000_000_000


def _url(path: str, operation: dict, value=MISSING_ID) -> str:
    def fill(match):
        name = match.group(1)
        param = next(p for p in operation["parameters"] if p["name"] == name)
        return "0" * 64 if param["schema"].get("type") == "string" else str(value)
    return re.sub(r"{([^}]+)}", fill, path)


def _body_type(operation: dict) -> str | None:
    content = operation.get("requestBody", {}).get("content", {})
    return next(iter(content), None)


def _call(client, method, url, operation, body="{}", **headers):
    kind = _body_type(operation)
    if kind == "multipart/form-data":
        return getattr(client, method)(url, data={}, headers=headers)
    if method == "get":
        return client.get(url, headers=headers)
    return getattr(client, method)(url, data=body, content_type="application/json",
                                   headers=headers)


def _check(response, method, path, operation, expected: set[int] | None = None) -> int:
    """The answer's status is declared for the operation and an error body is an ``ErrorOut``."""
    status = response.status_code
    declared = {int(s) for s in operation["responses"]}
    assert status in declared, (method, path, status, response.content[:300])
    if expected is not None:
        assert status in expected, (method, path, status, response.content[:300])
    if status >= 400:
        assert response["Content-Type"].startswith("application/json"), (method, path)
        jsonschema.validate(response.json(), ERROR_SCHEMA)
    return status


def test_every_operation_declares_its_errors_with_the_error_schema():
    document = _document()
    assert sorted(document["paths"]) == sorted({path for _, path, _ in OPERATIONS})
    assert document["components"]["schemas"]["ErrorOut"] == ERROR_SCHEMA
    assert len(OPERATIONS) > 60
    served = [(method, path, operation) for path, operations in document["paths"].items()
              for method, operation in operations.items()]
    for method, path, operation in served:
        declared = {int(s) for s in operation["responses"] if int(s) >= 400}
        assert declared == set(error_statuses(method, operation)), (method, path)
        assert {401, 403, 503} <= declared
        for status in declared:
            schema = operation["responses"][str(status)]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorOut"}
        assert "Retry-After" in operation["responses"]["503"]["headers"]


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS,
                         ids=[f"{m} {p}" for m, p, _ in OPERATIONS])
def test_every_operation_answers_only_declared_errors(method, path, operation, people,
                                                      monkeypatch):
    url = _url(path, operation)
    has_input = bool(operation["parameters"]) or "requestBody" in operation

    # No session, no token.
    _check(_call(Client(), method, url, operation), method, path, operation, {401})

    # A session whose unsafe request lacks the CSRF token.
    session = Client(enforce_csrf_checks=True)
    session.force_login(people["leader"].user)
    if method != "get":
        _check(_call(session, method, url, operation), method, path, operation, {403})

    # A missing object (or one the role may not see): refused or not found, never a 500.
    for role in ("leader", "device_keeper", "officer_a"):
        client = Client(raise_request_exception=False)
        client.force_login(people[role].user)
        status = _check(_call(client, method, url, operation), method, path, operation)
        if "{" in path:
            assert status in {403, 404, 422}, (role, method, path, status)

    client = Client(raise_request_exception=False)
    client.force_login(people["leader"].user)
    if _body_type(operation) == "application/json":
        # A body of the wrong shape, and one that is not JSON at all.
        _check(_call(client, method, url, operation, body="[]"), method, path, operation,
               {403, 404, 422})
        _check(_call(client, method, url, operation, body="{"), method, path, operation,
               {400, 403, 404})
    if "{" in path:
        # An id past 64 bits is the client's mistake (issue 16 item 12).
        _check(_call(client, method, _url(path, operation, 2**70), operation), method, path,
               operation, {400, 403, 404, 422})
    for param in operation["parameters"]:
        if param["in"] == "query" and "integer" in json.dumps(param["schema"]):
            response = client.get(url, {param["name"]: "x"})
            _check(response, method, path, operation, {422})
    if not has_input:
        assert 422 not in {int(s) for s in operation["responses"]}

    # The database goes away: 503 with Retry-After, the JSON error.
    def outage(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr("liuhen.web.api.authenticate_token", outage)
    response = _call(Client(raise_request_exception=False), method, url, operation,
                     Authorization="Bearer lh_x")
    _check(response, method, path, operation, {503})
    assert response["Retry-After"]
