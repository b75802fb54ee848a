"""Every URL and API operation that returns record content consults ``check_use`` (第十六条).

The test walks the whole URL tree (pages, API, admin), calls every GET route with the ids of a
real recording (with proxy, poster and thumbnails) and a document with a file, first as a
person who may see them listed but has no right to use them, then as one who has that right
by the by-right table. Known bytes of each stored file are looked for in every answer: none
may reach the first person, and exactly the known content routes give them to the second
(so a new route that serves content without the check fails here).
"""

from __future__ import annotations

import re
import uuid

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from liuhen.audit.models import AuditEntry
from liuhen.cases.tests.factories import make_case
from liuhen.evidence.tasks import derive_media
from liuhen.records import services as records_services

pytestmark = pytest.mark.django_db

CONTENT_ROUTES = {"recording_original", "recording_proxy", "recording_poster",
                  "recording_thumbnail", "case_document_file"}
PLAYER = {"HTTP_SEC_FETCH_DEST": "video"}


def _routes(resolver=None, prefix=""):
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.name


def _fill(route: str, ids: dict) -> str | None:
    """A concrete path for ``route`` with the fixture's ids, or None for regex routes."""
    if route.startswith("^"):
        return None

    def value(match):
        name = match.group("name")
        if name == "pk":
            return str(ids["recording"] if route.startswith("recordings/") else
                       ids["case"] if route.startswith("cases/") else
                       ids.get("use_copy", 1) if route.startswith("use/copies/") else
                       ids.get("use_export", 1) if route.startswith("use/exports/") else 1)
        return str(ids.get(name, 1))

    return "/" + re.sub(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>", value, route)


def _body(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


@pytest.fixture
def stored(people, bureau, stored_recording, vault, tmp_path):
    """A recording of team A with its derivatives, in a case of team A that has a document
    with a file; the known bytes of each stored file."""
    case = make_case(actor=people["officer_a"].user, unit=bureau["team_a"],
                     officers=[people["officer_a"], people["officer_a2"]])
    recording = stored_recording("hevc", case=case)
    derive_media.call(recording.pk)
    text = tmp_path / "询问笔录.txt"
    text.write_text("询问笔录 " + uuid.uuid4().hex * 8, encoding="utf-8")
    document = records_services.add_document(
        actor=people["officer_a"].user, case=case, doc_type="inquiry_record",
        file_path=text, number="询-1")
    files = {"original": recording.storage_key, "document": document.storage_key}
    for derivative in recording.derivatives.all():
        files[f"{derivative.kind}:{derivative.storage_key}"] = derivative.storage_key
    signatures = {}
    for name, key in files.items():
        with vault.open(key) as fh:
            data = fh.read()
        middle = len(data) // 2
        signatures[name] = data[middle:middle + 32]
    ids = {"recording": recording.pk, "recording_id": recording.pk, "case": case.pk,
           "case_id": case.pk, "doc_id": document.pk, "index": 0, "sha256": recording.sha256,
           "object_id": recording.pk, "upload_id": uuid.uuid4(), "doc_type": "inquiry_record"}
    return {"recording": recording, "document": document, "ids": ids,
            "signatures": signatures}


def _leaks(client, stored) -> dict[str, set[str]]:
    """Route name → the stored files whose bytes its GET answer contains."""
    found = {}
    for route, name in _routes():
        path = _fill(route, stored["ids"])
        if path is None or "logout" in route:
            continue
        body = _body(client.get(path, **PLAYER))
        hits = {file for file, sig in stored["signatures"].items() if sig in body}
        if hits:
            found[name or route] = hits
    return found


def test_every_content_route_consults_check_use(people, stored):
    leader = people["leader"]  # sees every unit's records listed; no right to use them
    leader.user.is_staff = True  # the admin is walked too
    leader.user.save(update_fields=["is_staff"])
    # A route walked with an id that does not exist may fail inside a third-party view
    # (django-otp's admin device config raises DoesNotExist for an unknown pk, seen on
    # PostgreSQL where ids run on between tests): that answer carries no record bytes,
    # which is all this walk is about.
    client = Client(raise_request_exception=False)
    client.force_login(leader.user)
    assert _leaks(client, stored) == {}
    recording, document = stored["recording"], stored["document"]
    for name in CONTENT_ROUTES:
        denied = AuditEntry.objects.filter(actor_id=leader.user.pk, outcome="denied")
        target = document if name == "case_document_file" else recording
        assert denied.filter(object_id=str(target.pk)).exists(), name

    # The control: the unit head (by right, 第十六条) gets the bytes from exactly those routes,
    # so the search above could have found them.
    head = Client()
    head.force_login(people["head_a"].user)
    leaks = _leaks(head, stored)
    assert set(leaks) == CONTENT_ROUTES
    assert leaks["case_document_file"] == {"document"}
    assert leaks["recording_original"] == {"original"}


def test_the_recording_page_offers_a_request_then_plays_with_a_watermark(
        people, stored, grant_access):
    recording = stored["recording"]
    client = Client()
    client.force_login(people["leader"].user)
    page = client.get(f"/recordings/{recording.pk}/").content.decode()
    assert "查阅须经批准" in page and 'id="player"' not in page
    assert f"/access/requests/new/?target=evidence.recording:{recording.pk}" in page

    grant = grant_access(people["leader"], people["head_a"], recording, ["view"])
    page = client.get(f"/recordings/{recording.pk}/").content.decode()
    assert 'id="player"' in page and 'class="watermark"' in page
    assert grant.number in page and people["leader"].name in page
    played = client.get(f"/recordings/{recording.pk}/proxy", HTTP_RANGE="bytes=0-", **PLAYER)
    assert played.status_code == 206
    entry = AuditEntry.objects.filter(action="recording.streamed",
                                      outcome="succeeded").order_by("seq").last()
    assert entry.actor_id == people["leader"].user.pk and entry.detail["grant"] == grant.number


def test_document_file_is_a_view_under_check_use(people, stored, grant_access):
    document = stored["document"]
    url = f"/cases/{document.case_id}/records/documents/{document.pk}/file/"
    officer = Client()
    officer.force_login(people["officer_a"].user)
    shown = officer.get(url)
    assert shown.status_code == 200 and shown["Content-Disposition"].startswith("inline")
    entry = AuditEntry.objects.get(action="document.downloaded", outcome="succeeded")
    assert entry.detail["right"] == "case_officer"

    leader = Client()
    leader.force_login(people["leader"].user)
    assert leader.get(url).status_code == 403
    grant = grant_access(people["leader"], people["head_a"], document.case, ["view"])
    assert leader.get(url).status_code == 200
    assert AuditEntry.objects.filter(action="document.downloaded",
                                     outcome="succeeded").order_by("seq").last().detail["grant"] == grant.number


def test_copies_and_exports_serve_only_watermarked_files_to_their_holder(
        people, stored, grant_access, settings, tmp_path, vault):
    """第十六条: a copy or an export under a grant is a watermarked derived file, reached only by
    its holder through its own routes; no route gives anyone else its bytes."""
    from django.core.management import call_command

    from liuhen.disclosure import copies, exports

    settings.SIGNING_KEY_FILE = tmp_path / "keys" / "signing.pem"
    settings.EXPORT_DIR = tmp_path / "exported"
    call_command("signing_key", stdout=open(tmp_path / "key.log", "w"))  # noqa: SIM115
    holder = people["officer_b"]
    recording, case = stored["recording"], stored["document"].case
    grant_access(holder, people["head_a"], recording, ["copy"])
    grant = grant_access(holder, people["head_a"], case, ["export"])
    copy = copies.request_copy(actor=holder.user, target_type="evidence.recording",
                               target_id=recording.pk)
    export = exports.request_export(actor=holder.user, grant_id=grant.pk,
                                    recording_ids=[recording.pk])
    assert copy.status == export.status == "made"
    with vault.open(copy.copy_key) as fh:
        data = fh.read()
    zipped = exports.kept_zip(export).read_bytes()
    signatures = dict(stored["signatures"], copy=data[len(data) // 2:len(data) // 2 + 32],
                      export=zipped[len(zipped) // 2:len(zipped) // 2 + 32])
    walked = dict(stored, signatures=signatures,
                  ids=dict(stored["ids"], use_copy=copy.pk, use_export=export.pk,
                           copy_id=copy.pk, export_id=export.pk))

    for other in ("leader", "head_a", "officer_a"):
        client = Client(raise_request_exception=False)
        client.force_login(people[other].user)
        leaks = _leaks(client, walked)
        assert not any({"copy", "export"} & files for files in leaks.values()), (other, leaks)

    client = Client(raise_request_exception=False)
    client.force_login(holder.user)
    leaks = _leaks(client, walked)
    # A copy re-encodes the picture; its AAC sound passes through unchanged (docs/redaction.md),
    # so bytes of the original's sound may be in it: the copy's own bytes are what is checked.
    assert leaks["use_copy_download"] - {"original"} == {"copy"}
    assert leaks["use_export_download"] - {"original"} == {"export"}
    # The page routes and the API's (named by their path) and nothing else.
    copying = {name for name, files in leaks.items() if "copy" in files}
    exporting = {name for name, files in leaks.items() if "export" in files}
    assert {n for n in copying if n != "use_copy_download"} <= {"copy_download"} | {
        n for n in copying if "use/copies/" in n and n.endswith("/download")}, copying
    assert {n for n in exporting if n != "use_export_download"} <= {"export_package"} | {
        n for n in exporting if "use/exports/" in n and n.endswith("/package")}, exporting
    for name in copying | exporting:  # never another stored file (the document, a proxy)
        assert leaks[name] <= {"copy", "export", "original"}, (name, leaks[name])
