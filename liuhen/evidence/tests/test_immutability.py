"""第二十六条 (二): no code path modifies or deletes an original. Every URL that touches
recordings refuses PUT/PATCH/DELETE; the database refuses it too; storage offers no way."""

from __future__ import annotations

import re

import pytest
from django.contrib.admin.sites import site
from django.db import DatabaseError, transaction
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver

from liuhen.audit.models import AuditEntry
from liuhen.evidence.models import Recording


def _routes(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _routes(entry, route)
        elif isinstance(entry, URLPattern):
            yield route


def _concrete(route: str, rec: Recording) -> str:
    path = route.lstrip("^").rstrip("$").replace("\\Z", "").replace("\\", "")
    path = re.sub(r"<(?:\w+:)?(sha256)>", rec.sha256, path)
    path = re.sub(r"<(?:\w+:)?\w+>", str(rec.pk), path)
    path = re.sub(r"\{\w+\}", str(rec.pk), path)
    return "/" + path


def _recording_routes(rec):
    # /admin/ is covered by test_admin_is_read_only_for_recordings.
    routes = sorted(
        {_concrete(r, rec) for r in _routes() if "recording" in r and not r.startswith("admin/")}
    )
    assert len(routes) >= 6, routes  # the API and the pages both have recording URLs
    return routes


def test_every_recording_url_refuses_modification(api, people, stored_recording, vault):
    rec = stored_recording()
    before = {f.name: getattr(rec, f.attname) for f in Recording._meta.concrete_fields}
    stored_bytes = vault.path(rec.storage_key).read_bytes()
    client = api(people["officer_a"])
    refused = 0
    for path in _recording_routes(rec):
        for method in ("put", "patch", "delete"):
            response = client._call(method, path, {"sha256": "0" * 64, "size": 1})
            assert response.status_code in (403, 404, 405), (method, path, response.status_code)
            if path.startswith("/api/"):
                assert response.json()["code"], (method, path)
                refused += 1
    rec.refresh_from_db()
    assert {f.name: getattr(rec, f.attname) for f in Recording._meta.concrete_fields} == before
    assert vault.path(rec.storage_key).read_bytes() == stored_bytes
    denied = AuditEntry.objects.filter(action="recording.modification_refused", outcome="denied")
    assert denied.count() == refused and refused >= 15
    assert {e.detail["method"] for e in denied} == {"PUT", "PATCH", "DELETE"}


def test_api_refusal_is_json_405(api, people, stored_recording):
    rec = stored_recording()
    response = api(people["legal"]).delete(f"/api/recordings/{rec.pk}")
    assert response.status_code == 405
    assert response.json()["code"] == "original_immutable"
    assert "第二十六条" in response.json()["message"]


def test_database_refuses_changes_to_the_original(stored_recording):
    rec = stored_recording()
    for change in (
        {"sha256": "0" * 64},
        {"sm3": "0" * 64},
        {"size": 1},
        {"storage_key": "elsewhere"},
        {"original_name": "x.mp4"},
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            Recording.objects.filter(pk=rec.pk).update(**change)
    with pytest.raises(DatabaseError), transaction.atomic():
        Recording.objects.filter(pk=rec.pk).delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM evidence_recording")
    # What may change: derived-media status and the audited links.
    Recording.objects.filter(pk=rec.pk).update(derivation_status="done", location="某路1号")
    assert Recording.objects.get(pk=rec.pk).derivation_status == "done"


def test_storage_offers_no_way_to_rewrite_or_delete(stored_recording, vault, tmp_path):
    rec = stored_recording()
    assert not hasattr(vault, "delete") and not hasattr(vault, "save")
    other = tmp_path / "other.bin"
    other.write_bytes(b"forged")
    with pytest.raises(ValueError):
        vault.put_file(rec.storage_key, other)
    assert vault.path(rec.storage_key).stat().st_mode & 0o222 == 0


def test_admin_is_read_only_for_recordings(people, stored_recording):
    rec = stored_recording()
    request = RequestFactory().get("/admin/")
    request.user = people["admin"].user
    model_admin = site._registry[Recording]
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, rec)
    assert not model_admin.has_delete_permission(request, rec)
    assert model_admin.get_actions(request) == {}
