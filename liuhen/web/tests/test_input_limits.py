"""Input limits (issue 13 item 4): every form field is bounded, oversize input gets the
field's own Chinese message on a page and JSON with a code from the API, never a 500.

The form walk imports every module of the project and checks each form class's fields; the
API walk reads the published OpenAPI document and sends every string of every request body
and query one character over the net (``limits.MAX_FIELD_CHARS``).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import pytest
from django import forms
from django.db import DataError
from django.test import RequestFactory
from django.urls import reverse

import liuhen
from conftest import logged_in
from liuhen.cases.tests.factories import make_case
from liuhen.core import limits, outage
from liuhen.records.models import Approval

pytestmark = pytest.mark.django_db

OVER = "字" * (limits.MAX_FIELD_CHARS + 1)
UNBOUNDED_KINDS = (forms.ChoiceField, forms.ModelChoiceField, forms.DateField,
                   forms.DateTimeField, forms.BooleanField, forms.FileField)


def _form_classes():
    found = set()
    for info in pkgutil.walk_packages(liuhen.__path__, "liuhen."):
        if re.search(r"\.(tests|migrations|management)(\.|$)|__main__", info.name):
            continue
        module = importlib.import_module(info.name)
        for obj in vars(module).values():
            if (inspect.isclass(obj) and issubclass(obj, forms.BaseForm)
                    and obj.__module__ == module.__name__):
                found.add(obj)
    return sorted(found, key=lambda c: (c.__module__, c.__name__))


def test_every_form_field_is_bounded():
    classes = _form_classes()
    assert len(classes) > 15  # the walk found the project's forms
    unbounded = []
    for cls in classes:
        for name, field in cls.base_fields.items():
            where = f"{cls.__module__}.{cls.__name__}.{name}"
            if isinstance(field, UNBOUNDED_KINDS):
                continue
            if isinstance(field, forms.CharField):
                if not field.max_length or field.max_length > limits.MAX_FIELD_CHARS:
                    unbounded.append(where)
            elif isinstance(field, (forms.IntegerField, forms.FloatField, forms.DecimalField)):
                if field.min_value is None or field.max_value is None:
                    unbounded.append(where)
    assert unbounded == []


def test_length_message_reads_in_plain_chinese():
    class F(forms.Form):
        reason = forms.CharField(max_length=limits.REASON)

    form = F({"reason": "字" * (limits.REASON + 5)})
    assert not form.is_valid()
    assert form.errors["reason"] == [f"最多 {limits.REASON} 个字（现有 {limits.REASON + 5} 个字）"]


@pytest.fixture
def case_a(people, bureau):
    return make_case(actor=people["officer_a"].user, unit=bureau["team_a"],
                     officers=[people["officer_a"], people["officer_a2"]])


def test_a_page_refuses_oversize_text_with_the_card(people, case_a):
    client = logged_in(people["officer_a"].user)
    response = client.post(reverse("case_move", args=[case_a.pk]), {"to": "investigation",
                                                                   "note": OVER})
    assert response.status_code == 400
    html = response.content.decode()
    assert "内容过长" in html and f"最多 {limits.MAX_FIELD_CHARS} 个字" in html
    case_a.refresh_from_db()
    assert case_a.stage == "initiation"


def test_stage_note_too_long_names_the_note_not_the_stage(people, case_a):
    client = logged_in(people["officer_a"].user)
    response = client.post(reverse("case_move", args=[case_a.pk]),
                           {"to": "investigation", "note": "字" * (limits.REASON + 1)},
                           follow=True)
    html = response.content.decode()
    assert f"说明：最多 {limits.REASON} 个字" in html and "请选择要转入的环节" not in html


def test_approval_reason_over_the_limit_is_refused_on_the_form(people, case_a):
    client = logged_in(people["officer_a"].user)
    response = client.post(reverse("case_approval_request", args=[case_a.pk]),
                           {"action": "filing", "reason": "字" * (limits.REASON + 1)})
    assert response.status_code in (200, 400)
    assert f"申请理由：最多 {limits.REASON} 个字" in response.content.decode()
    assert not Approval.objects.filter(case=case_a).exists()


def _string_fields(schema, components, prefix=""):
    """(path, schema) of every free-text string property of a JSON schema, following $ref."""
    if "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    for key in ("anyOf", "allOf", "oneOf"):
        for sub in schema.get(key, []):
            yield from _string_fields(sub, components, prefix)
    if schema.get("type") == "string" and not schema.get("format") and "enum" not in schema:
        yield prefix, schema
    for name, sub in schema.get("properties", {}).items():
        yield from _string_fields(sub, components, f"{prefix}.{name}" if prefix else name)


def _api_strings(doc):
    """(method, url, where, name, schema) of every free-text string an operation takes: the
    fields of its JSON or form body and its query parameters."""
    components = doc.get("components", {}).get("schemas", {})
    for path, operations in doc["paths"].items():
        url = re.sub(r"\{[^}]+\}", "1", path)
        for method, op in operations.items():
            for media, content in op.get("requestBody", {}).get("content", {}).items():
                for name, schema in _string_fields(content["schema"], components):
                    yield method, url, media, name, schema
            for param in op.get("parameters", []):
                if param.get("in") == "query":
                    for _name, schema in _string_fields(param["schema"], components):
                        yield method, url, "query", param["name"], schema


def _send(client, method, url, where, name, value):
    if where == "query":
        return client.get(url, {name: value})
    if where == "application/json":
        return getattr(client, method)(url, {name: value}, content_type="application/json")
    return getattr(client, method)(url, {name: value})  # multipart form


@pytest.fixture
def openapi_doc(people):
    return logged_in(people["legal"].user).get("/api/openapi.json").json()


def test_every_api_string_declares_its_limit(openapi_doc):
    """Every free-text string of every request body and query names its maxLength, no more than
    the net, so a client (and the OpenAPI document's reader) knows the limit before sending."""
    found = list(_api_strings(openapi_doc))
    assert len(found) > 80  # the walk reached the bodies, the forms and the queries
    undeclared = [(m, u, n) for m, u, _w, n, s in found if "maxLength" not in s]
    assert undeclared == []
    assert all(s["maxLength"] <= limits.MAX_FIELD_CHARS for *_rest, s in found)
    declared = {s["maxLength"] for *_rest, s in found}
    assert {limits.NAME, limits.REASON, limits.SUMMARY, limits.SEARCH, limits.CODE} <= declared


def test_api_walk_every_string_over_its_own_limit_names_the_field(people, openapi_doc):
    """One character over the field's declared maxLength: a 422 whose detail names that field
    with its limit and the length sent (in words, like the forms), never a 400 from the net or
    a 500."""
    client = logged_in(people["legal"].user)
    tried = 0
    for method, url, where, name, schema in _api_strings(openapi_doc):
        if "." in name:
            continue
        limit = schema["maxLength"]
        response = _send(client, method, url, where, name, "字" * (limit + 1))
        tried += 1
        assert response.status_code == 422, (method, url, name, response.status_code)
        body = response.json()
        assert body["code"] == "invalid_input" and body["request_id"]
        entry = [f for f in body["detail"]["fields"] if f["field"] == name]
        assert entry, (method, url, name, body)
        assert entry[0]["code"] == "too_long" and entry[0]["limit"] == limit
        assert entry[0]["message"] == f"最多 {limit} 个字（现有 {limit + 1} 个字）"
        assert f"{name} 最多 {limit} 个字" in body["message"]
        # At the limit the field itself is accepted (other fields may still be missing).
        response = _send(client, method, url, where, name, "字" * limit)
        if response.status_code == 422:
            assert name not in {f["field"] for f in response.json()["detail"]["fields"]}
    assert tried > 80


def test_api_walk_every_string_over_the_net_is_a_json_error(people, openapi_doc):
    client = logged_in(people["legal"].user)
    tried = 0
    for method, url, where, name, _schema in _api_strings(openapi_doc):
        if "." in name or where == "multipart/form-data":
            continue
        response = _send(client, method, url, where, name, OVER)
        tried += 1
        assert response.status_code == 400, (method, url, name, response.status_code)
        assert response.json()["code"] == "too_long", (method, url, name)
    assert tried > 20


def test_database_refusing_a_value_is_a_400_not_a_500():
    """PostgreSQL's “value too long for type character varying”: the card, and JSON with a
    code for the API (SQLite stores the value as given)."""
    factory = RequestFactory()
    for path in ("/cases/1/", "/api/cases/1"):
        request = factory.post(path)
        request.request_id = "rid-too-long"
        try:
            raise DataError("value too long for type character varying(300)")
        except DataError:
            response = outage.server_error(request)
        assert response.status_code == 400
        text = response.content.decode()
        assert "超出允许的长度或范围" in text and "rid-too-long" in text
