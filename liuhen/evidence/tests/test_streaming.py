"""HTTP Range streaming of originals and derivatives (streaming.py, views.py).

Range requests must return exactly the stored bytes (a judge compares digests of what was
played or downloaded with the stored SM3/SHA-256, 第二十六条), with correct 206/416 semantics;
playback and downloads are audited (第二十六条 (三)).
"""

from __future__ import annotations

import hashlib

import pytest
from django.test import RequestFactory

from conftest import logged_in as _client
from liuhen.audit.models import AuditEntry
from liuhen.evidence import events
from liuhen.evidence.streaming import (
    ByteRange,
    RangeNotSatisfiable,
    content_disposition,
    parse_range,
    ranged_response,
)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-99", ByteRange(0, 99, 1000)),
        ("bytes=100-", ByteRange(100, 999, 1000)),
        ("bytes=-100", ByteRange(900, 999, 1000)),
        ("bytes=-5000", ByteRange(0, 999, 1000)),
        ("bytes=990-5000", ByteRange(990, 999, 1000)),  # end clipped
        ("bytes=0-0", ByteRange(0, 0, 1000)),
        ("bytes=0-1,5-9", None),  # several ranges: whole file
        ("items=0-1", None),  # other unit: ignored
        ("bytes=9-1", None),  # invalid: ignored
        ("garbage", None),
    ],
)
def test_parse_range(header, expected):
    assert parse_range(header, 1000) == expected


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=5000-6000", "bytes=-0"])
def test_unsatisfiable(header):
    with pytest.raises(RangeNotSatisfiable):
        parse_range(header, 1000)


def test_ranged_response_streams_exact_bytes_in_chunks(tmp_path):
    data = bytes(range(256)) * 20_000  # 5 MB: several 1 MiB chunks
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    factory = RequestFactory()

    def call(**headers):
        request = factory.get("/x", headers=headers)
        return ranged_response(
            request,
            opener=lambda: open(path, "rb"),
            size=len(data),
            content_type="video/mp4",
            filename="执法记录.mp4",
            etag="ab",
        )

    full = call()
    assert full.status_code == 200 and full["Accept-Ranges"] == "bytes"
    chunks = list(full.streaming_content)
    assert len(chunks) > 1 and max(map(len, chunks)) <= 1024 * 1024
    assert b"".join(chunks) == data
    part = call(Range="bytes=1048570-2097160")
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 1048570-2097160/{len(data)}"
    assert b"".join(part.streaming_content) == data[1048570:2097161]
    assert int(part["Content-Length"]) == 2097161 - 1048570
    assert call(Range="bytes=99999999-").status_code == 416
    assert call(Range="bytes=0-9", **{"If-Range": '"other"'}).status_code == 200  # stale
    assert call(**{"If-None-Match": '"ab"'}).status_code == 304


def test_content_disposition_keeps_chinese_names():
    value = content_disposition("执法记录 1.mp4", download=True)
    assert value.startswith("attachment;")
    assert "filename*=UTF-8''%E6%89%A7%E6%B3%95%E8%AE%B0%E5%BD%95%201.mp4" in value
    assert content_disposition("a.mp4", download=False).startswith("inline;")


# -- through the views ---------------------------------------------------------------------


# What a browser's <video> element sends: the server serves content as a view only to the
# player's own fetches (issue 16 item 11, 第十六条).
PLAYER = {"HTTP_SEC_FETCH_DEST": "video"}


def _entries(action, recording):
    return AuditEntry.objects.filter(action=action, object_id=str(recording.pk))


@pytest.mark.django_db
def test_original_range_requests_return_exact_bytes(people, stored_recording, make_media):
    """Ranges of the original equal the file's bytes; 416 past the end; audit once per
    playback (no Range or a range from 0), not per chunk."""
    path = make_media("h264", seconds=2)
    data = path.read_bytes()
    recording = stored_recording(path=path)
    client = _client(people["officer_a"])
    url = f"/recordings/{recording.pk}/original"

    full = client.get(url, **PLAYER)
    assert full.status_code == 200
    assert full["Content-Type"] == "video/mp4"
    assert full["Content-Length"] == str(len(data))
    assert full["Accept-Ranges"] == "bytes"
    assert full["Content-Disposition"].startswith("inline;")
    assert full["Cache-Control"] == "private, no-store"
    body = b"".join(full.streaming_content)
    assert hashlib.sha256(body).hexdigest() == recording.sha256

    for start, end in [(0, 0), (0, 1023), (100, 4099), (len(data) - 10, len(data) - 1)]:
        part = client.get(url, HTTP_RANGE=f"bytes={start}-{end}")
        assert part.status_code == 206
        assert part["Content-Range"] == f"bytes {start}-{end}/{len(data)}"
        assert b"".join(part.streaming_content) == data[start : end + 1]
    suffix = client.get(url, HTTP_RANGE="bytes=-500")
    assert b"".join(suffix.streaming_content) == data[-500:]

    bad = client.get(url, HTTP_RANGE=f"bytes={len(data)}-")
    assert bad.status_code == 416
    assert bad["Content-Range"] == f"bytes */{len(data)}"

    # Audited: the full GET and the three ranges starting at 0 -> 3; not the 3 later chunks.
    streamed = _entries(events.event_recording_streamed, recording)
    assert streamed.count() == 3
    assert streamed.first().actor_id == people["officer_a"].user.pk
    # The uploader plays it by right (第十三条、第十六条), and the entry says so.
    assert streamed.first().detail["right"] == "producer"


@pytest.mark.django_db
def test_download_is_a_copy_and_needs_a_grant(people, stored_recording, grant_access):
    """A download is a copy: the role's ``recording.download`` and a copy grant approved by
    the unit head (第十六条); refused and audited without; with them, never the original."""
    recording = stored_recording()
    url = f"/recordings/{recording.pk}/original?download=1"
    officer = _client(people["officer_a"])
    refused = officer.get(url, HTTP_RANGE="bytes=10-20")
    assert refused.status_code == 403
    denied = _entries(events.event_recording_downloaded, recording).get(outcome="denied")
    assert denied.actor_id == people["officer_a"].user.pk and "第十六条" in denied.reason

    # With the grant, the stored file is still not what a copy is (第十六条、第十七条): the
    # request goes to the page that makes a watermarked copy (disclosure/tests/test_use_copies).
    grant_access(people["officer_a"], people["head_a"], recording, ["copy"])
    response = officer.get(url, HTTP_RANGE="bytes=10-20")
    assert response.status_code == 302
    assert response["Location"] == f"/use/copies/new/?target=evidence.recording:{recording.pk}"
    assert not _entries(events.event_recording_downloaded, recording).filter(
        outcome="succeeded").exists()


@pytest.mark.django_db
def test_viewing_is_not_copying(people, stored_recording, grant_access):
    """Issue 16 item 11: a role without ``recording.download`` never gets the original as a
    file, with or without ``?download=1``; with a view grant its player streams it."""
    recording = stored_recording()
    url = f"/recordings/{recording.pk}/original"
    leader = _client(people["leader"])
    # No right yet: the bureau leader sees the record listed but may not view it (第十六条).
    assert leader.get(url, **PLAYER).status_code == 403
    assert _entries(events.event_recording_streamed, recording).get(outcome="denied").actor_id \
        == people["leader"].user.pk

    grant_access(people["leader"], people["head_a"], recording, ["view"])
    played = leader.get(url, HTTP_RANGE="bytes=0-", **PLAYER)
    assert played.status_code == 206 and played["Content-Disposition"].startswith("inline;")
    for attempt in ({}, {"HTTP_SEC_FETCH_DEST": "document"}):  # a plain fetch, a navigation
        assert leader.get(url, **attempt).status_code == 403
    assert leader.get(f"{url}?download=1", **PLAYER).status_code == 403
    denied = _entries(events.event_recording_downloaded, recording).filter(outcome="denied")
    assert denied.count() == 3 and denied.first().reason == "角色无下载权限"


@pytest.mark.django_db
def test_stream_of_other_units_recording_is_404_and_audited(people, stored_recording):
    recording = stored_recording()
    response = _client(people["officer_b"]).get(f"/recordings/{recording.pk}/original")
    assert response.status_code == 404
    denied = AuditEntry.objects.filter(
        outcome="denied", object_id=str(recording.pk), actor_id=people["officer_b"].user.pk
    )
    assert denied.exists()
    assert not _entries(events.event_recording_streamed, recording).exists()


@pytest.mark.django_db
def test_proxy_poster_and_thumbnail_stream(people, stored_recording, vault):
    """The proxy of an HEVC original streams with Range; poster and thumbnails are JPEGs."""
    from liuhen.evidence.tasks import derive_media

    recording = stored_recording("hevc")
    derive_media.call(recording.pk)
    proxy = recording.derivatives.get(kind="proxy")
    with vault.open(proxy.storage_key) as fh:
        stored = fh.read()
    client = _client(people["officer_a"])
    base = f"/recordings/{recording.pk}"
    part = client.get(f"{base}/proxy", HTTP_RANGE="bytes=8-")
    assert part.status_code == 206 and part["Content-Type"] == "video/mp4"
    assert b"".join(part.streaming_content) == stored[8:]
    image = {"HTTP_SEC_FETCH_DEST": "image"}
    poster = client.get(f"{base}/poster", **image)
    assert poster.status_code == 200 and poster["Content-Type"] == "image/jpeg"
    assert client.get(f"{base}/thumbnails/5", **image).status_code == 200
    assert client.get(f"{base}/thumbnails/6", **image).status_code == 404
    head = client.head(f"{base}/proxy", **PLAYER)
    assert head.status_code == 200 and head["Content-Length"] == str(proxy.size)


@pytest.mark.django_db
def test_no_proxy_answers_404(people, stored_recording):
    recording = stored_recording("h264")
    assert _client(people["officer_a"]).get(f"/recordings/{recording.pk}/proxy").status_code == 404


@pytest.mark.django_db
def test_streams_have_no_write_methods(people, stored_recording):
    """No endpoint can modify or delete an original (第二十六条 (二))."""
    recording = stored_recording()
    client = _client(people["keeper_a"])
    for method in ("post", "put", "patch", "delete"):
        response = getattr(client, method)(f"/recordings/{recording.pk}/original")
        assert response.status_code == 405
