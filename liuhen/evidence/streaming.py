"""HTTP Range streaming of stored evidence (originals, proxies, posters, thumbnails).

A body-camera recording runs to several GiB: it is never read whole into memory but sent in
chunks straight from the vault storage (local files or S3), and browsers seek in it with
``Range: bytes=a-b`` requests (RFC 9110 §14). One range per request is served (206 with
``Content-Range``); several ranges, or a malformed header, are ignored and the whole file is
sent (200), as RFC 9110 allows; an unsatisfiable range answers 416 with ``Content-Range:
bytes */size`` (a zero-length file has no satisfiable range). ``If-Range`` compares strongly,
``If-None-Match`` weakly (RFC 9110 §13.1). The edge cases are tested through the original view
on local and S3 storage (``tests/test_range_edges.py``).

Pure Django, no models: the views pass an ``opener`` that returns a binary file object.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import quote

from django.http import HttpResponse, StreamingHttpResponse

from liuhen.core.files import printable_name

CHUNK_SIZE = 1024 * 1024  # 1 MiB: large enough for throughput, small enough to stay flat in RSS
_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


class RangeNotSatisfiable(Exception):
    """The client asked for bytes the file does not have (answer 416)."""


@dataclass(frozen=True)
class ByteRange:
    """An inclusive byte range ``start``..``end`` of a file of ``size`` bytes."""

    start: int
    end: int
    size: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    @property
    def content_range(self) -> str:
        return f"bytes {self.start}-{self.end}/{self.size}"


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The single range ``header`` asks for in a file of ``size`` bytes, or None for "all".

    ``bytes=0-99`` (first 100 bytes), ``bytes=100-`` (from 100 to the end) and ``bytes=-100``
    (last 100 bytes) are understood; an end past the file is clipped. Several ranges or a
    header in another unit give None (the whole file). Raises :class:`RangeNotSatisfiable`
    when the range starts at or after the end of the file, or asks for a zero-length suffix.
    """
    if not header:
        return None
    match = _RANGE.match(header)
    if match is None:  # other units, several ranges, garbage: serve the representation
        return None
    first, last = match.groups()
    if first == "" and last == "":
        return None
    if first == "":  # suffix range: the last N bytes
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable
        return ByteRange(max(0, size - suffix), size - 1, size)
    start = int(first)
    if last and int(last) < start:  # syntactically invalid: ignored (RFC 9110 §14.1.1)
        return None
    if start >= size:
        raise RangeNotSatisfiable
    end = int(last) if last else size - 1
    return ByteRange(start, min(end, size - 1), size)


def iter_file(
    fh: BinaryIO, start: int, length: int, chunk_size: int = CHUNK_SIZE
) -> Iterator[bytes]:
    """Yield ``length`` bytes of ``fh`` from ``start`` in chunks, then close it.

    The file is closed even when the client goes away half-way (Django closes the generator).
    """
    try:
        if start:
            fh.seek(start)
        remaining = length
        while remaining > 0:
            chunk = fh.read(min(chunk_size, remaining))
            if not chunk:  # the object shrank under us: stop rather than send garbage
                break
            remaining -= len(chunk)
            yield chunk
    finally:
        fh.close()


def content_disposition(filename: str, *, download: bool) -> str:
    """``attachment``/``inline`` with an RFC 6266 UTF-8 file name (Chinese names survive)."""
    kind = "attachment" if download else "inline"
    # A name stored before names were made printable may hold CR/LF: never in a header.
    filename = printable_name(filename)
    ascii_name = "".join(
        c if 0x20 <= ord(c) < 0x7F and c not in '"\\;' else "_" for c in filename
    )
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _none_match(header: str | None, quoted_etag: str) -> bool:
    """If-None-Match (RFC 9110 §13.1.2): ``*`` or a list of ETags, compared weakly."""
    if not header:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in header.split(",")]
    return "*" in tags or quoted_etag in tags


def ranged_response(
    request,
    *,
    opener: Callable[[], BinaryIO],
    size: int,
    content_type: str,
    filename: str,
    download: bool = False,
    etag: str | None = None,
) -> HttpResponse:
    """A streaming 200/206/416 response for a stored file of ``size`` bytes.

    ``opener`` is called only when bytes are actually sent (not for 416 or HEAD). ``etag`` (the
    SHA-256 of immutable content) makes ``If-Range`` and ``If-None-Match`` work, so browsers
    can cache posters and resume downloads safely.
    """
    quoted_etag = f'"{etag}"' if etag else None
    if quoted_etag and _none_match(request.headers.get("If-None-Match"), quoted_etag):
        response = HttpResponse(status=304)
        response["ETag"] = quoted_etag
        return response
    header = request.headers.get("Range")
    if_range = request.headers.get("If-Range")
    if header and if_range and if_range.strip() != quoted_etag:
        # If-Range (RFC 9110 §13.1.5) compares strongly: a stale or weak ETag, or a date
        # (no Last-Modified is sent, so none can match), sends the whole file again.
        header = None
    try:
        byte_range = parse_range(header, size)
    except RangeNotSatisfiable:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        response["Accept-Ranges"] = "bytes"
        return response
    start, length = (byte_range.start, byte_range.length) if byte_range else (0, size)
    if request.method == "HEAD":
        response = HttpResponse(status=206 if byte_range else 200, content_type=content_type)
    else:
        response = StreamingHttpResponse(
            iter_file(opener(), start, length),
            status=206 if byte_range else 200,
            content_type=content_type,
        )
    if byte_range:
        response["Content-Range"] = byte_range.content_range
    response["Content-Length"] = str(length)
    response["Accept-Ranges"] = "bytes"
    response["Content-Disposition"] = content_disposition(filename, download=download)
    if quoted_etag:
        response["ETag"] = quoted_etag
    return response
