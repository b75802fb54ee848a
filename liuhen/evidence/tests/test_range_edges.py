"""HTTP Range edge cases of the original's stream, on local and on S3 storage (issue 16 item
21; RFC 9110 §13.1 and §14). What a player or a resuming download is sent must be exactly the
stored bytes (第二十六条: a court compares their digests), or a clear refusal — never a wrong
slice, and never a partial answer built on a stale validator."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory

from liuhen.evidence.streaming import ranged_response

PLAYER = {"HTTP_SEC_FETCH_DEST": "video"}


@pytest.fixture(params=["local", "s3"])
def original(request, people, stored_recording, make_media):
    """(client, url, data, etag) of one original stored on the parametrised storage."""
    if request.param == "s3":
        request.getfixturevalue("s3")()
    path = make_media("h264", seconds=1)
    data = path.read_bytes()
    recording = stored_recording(path=path)
    client = Client()
    client.force_login(people["officer_a"].user)
    return client, f"/recordings/{recording.pk}/original", data, f'"{recording.sha256}"'


def _get(client, url, method="get", **headers):
    return getattr(client, method)(url, **PLAYER, **{
        "HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()})


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.django_db
def test_suffix_open_and_clipped_ranges(original):
    client, url, data, _ = original
    n = len(data)
    for header, start, end in [
        ("bytes=-500", n - 500, n - 1),  # the last 500 bytes
        (f"bytes=-{n + 10}", 0, n - 1),  # a suffix longer than the file: all of it
        ("bytes=100-", 100, n - 1),  # open range: to the end
        (f"bytes={n - 3}-{n + 1000}", n - 3, n - 1),  # an end past the file is clipped
        (f"bytes={n - 1}-{n - 1}", n - 1, n - 1),  # the last byte alone
    ]:
        response = _get(client, url, Range=header)
        assert response.status_code == 206, header
        assert response["Content-Range"] == f"bytes {start}-{end}/{n}", header
        assert response["Content-Length"] == str(end - start + 1)
        assert _body(response) == data[start:end + 1], header


@pytest.mark.django_db
def test_several_ranges_or_a_malformed_one_send_the_whole_file(original):
    client, url, data, _ = original
    for header in ("bytes=0-1,5-9", "bytes=0-1, -5", "bytes=9-1", "bytes=a-b", "lines=0-1"):
        response = _get(client, url, Range=header)
        assert response.status_code == 200, header
        assert not response.has_header("Content-Range")
        assert _body(response) == data


@pytest.mark.django_db
def test_unsatisfiable_ranges_are_416_with_the_size(original):
    client, url, data, _ = original
    n = len(data)
    for method in ("get", "head"):
        for header in (f"bytes={n}-", f"bytes={n + 5}-{n + 10}", "bytes=-0",
                       f"bytes={2**70}-"):
            response = _get(client, url, method, Range=header)
            assert response.status_code == 416, (method, header)
            assert response["Content-Range"] == f"bytes */{n}"
            assert _body(response) == b""


@pytest.mark.django_db
def test_if_range_sends_a_part_only_for_the_same_representation(original):
    client, url, data, etag = original
    n = len(data)
    same = _get(client, url, Range="bytes=10-19", **{"If-Range": etag})
    assert same.status_code == 206 and _body(same) == data[10:20]
    assert same["ETag"] == etag
    # A stale validator, a weak one (If-Range compares strongly) and a date (no Last-Modified
    # is sent): the whole file, as 200, so a resumed download is never spliced.
    for validator in ('"0000"', f"W/{etag}", "Thu, 03 Dec 2026 10:00:00 GMT"):
        response = _get(client, url, Range="bytes=10-19", **{"If-Range": validator})
        assert response.status_code == 200, validator
        assert response["Content-Length"] == str(n)
        assert _body(response) == data
    # A stale validator with an unsatisfiable range: the whole file, not 416.
    response = _get(client, url, Range=f"bytes={n}-", **{"If-Range": '"0000"'})
    assert response.status_code == 200


@pytest.mark.django_db
def test_if_none_match_lists_weak_tags_and_star(original):
    client, url, _, etag = original
    for header in (etag, f'"other", {etag}', f"W/{etag}", "*"):
        response = _get(client, url, **{"If-None-Match": header})
        assert response.status_code == 304, header
        assert response["ETag"] == etag and _body(response) == b""
    assert _get(client, url, **{"If-None-Match": '"other"'}).status_code == 200


@pytest.mark.django_db
def test_head_answers_the_headers_of_the_get(original):
    client, url, data, etag = original
    n = len(data)
    whole = _get(client, url, "head")
    assert whole.status_code == 200 and whole["Content-Length"] == str(n)
    assert whole["Accept-Ranges"] == "bytes" and whole["ETag"] == etag
    part = _get(client, url, "head", Range="bytes=-100")
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes {n - 100}-{n - 1}/{n}"
    assert part["Content-Length"] == "100"
    assert _body(part) == b""


def test_a_zero_length_file_has_no_satisfiable_range():
    """RFC 9110 §14.1.1: every range of an empty representation is unsatisfiable."""
    factory = RequestFactory()
    opened = []

    def opener():
        import io

        opened.append(1)
        return io.BytesIO(b"")

    def call(**headers):
        return ranged_response(factory.get("/x", headers=headers), opener=opener, size=0,
                               content_type="application/octet-stream", filename="空.bin",
                               etag="e3b0")

    whole = call()
    assert whole.status_code == 200 and whole["Content-Length"] == "0"
    assert b"".join(whole.streaming_content) == b""
    for header in ("bytes=0-", "bytes=0-0", "bytes=-1", "bytes=-0"):
        response = call(Range=header)
        assert response.status_code == 416, header
        assert response["Content-Range"] == "bytes */0"
    assert len(opened) == 1  # the 416s open nothing
