"""The tus 1.0.0 protocol (core, creation, checksum, termination, expiration): headers,
version, metadata and checksums parsed, and the JSON error answers."""

from __future__ import annotations

import base64
import binascii
import io
import logging
from urllib.parse import urlparse

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils import timezone

from liuhen.access.services import authenticate_token
from liuhen.audit import context as audit_context
from liuhen.core.errors import InvalidInput, LiuhenError
from liuhen.evidence.models import UploadSession

log = logging.getLogger(__name__)


TUS_VERSION = "1.0.0"


EXTENSIONS = "creation,creation-with-upload,checksum,termination,expiration"


OFFSET_TYPE = "application/offset+octet-stream"


class TusError(LiuhenError):
    pass


# -- helpers -------------------------------------------------------------------------------
def _response(status: int = 204, body: dict | None = None, **headers) -> HttpResponse:
    if body is not None:
        response = JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})
    else:
        response = HttpResponse(status=status)
    response["Tus-Resumable"] = TUS_VERSION
    response["Cache-Control"] = "no-store"
    for name, value in headers.items():
        response[name.replace("_", "-")] = str(value)
    return response


def _error(exc: LiuhenError, status: int | None = None) -> HttpResponse:
    return _response(status or exc.status, exc.as_dict())


def _authenticate(request):
    """API token first (machine clients, the ingest station), else the browser session."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header.lower().startswith("bearer "):
        user = authenticate_token(header[7:])
        if user is not None:
            audit_context._current.set(
                audit_context.AuditContext(
                    session="token", ip=request.META.get("REMOTE_ADDR", ""), via="api"
                )
            )
        return user
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    # Session + csrf_exempt: a cross-site page must not drive uploads with the user's cookie.
    # Tus-Resumable is a non-simple header (CORS preflight), and a foreign Origin is refused.
    origin = request.META.get("HTTP_ORIGIN")
    if origin and urlparse(origin).netloc != request.get_host():
        return None
    return user


def _parse_metadata(header: str) -> dict[str, str]:
    """``Upload-Metadata: key base64,key2 base64`` → dict of decoded UTF-8 strings."""
    result = {}
    for pair in (header or "").split(","):
        pair = pair.strip()
        if not pair:
            continue
        key, _, value = pair.partition(" ")
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"Upload-Metadata 中 {key} 的值不是有效的 Base64 UTF-8") from exc
        # PostgreSQL cannot store NUL in text or JSON: it is kept visible as ␀ (issue 16).
        result[key] = decoded.replace("\x00", "\u2400")
    return result


def _int_header(request, name: str) -> int | None:
    value = request.META.get("HTTP_" + name.upper().replace("-", "_"))
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        number = -1
    if number < 0:
        raise InvalidInput(f"{name} 应为非负整数")
    return number


def _expired(upload: UploadSession) -> bool:
    return upload.completed_at is None and upload.expires_at <= timezone.now()


# -- views ---------------------------------------------------------------------------------
def _method(request) -> str:
    if request.method == "POST":
        return request.META.get("HTTP_X_HTTP_METHOD_OVERRIDE", "POST").upper()
    return request.method


def _version_ok(request, method: str) -> bool:
    return method == "OPTIONS" or request.META.get("HTTP_TUS_RESUMABLE") == TUS_VERSION


def _options() -> HttpResponse:
    response = _response(
        204,
        Tus_Version=TUS_VERSION,
        Tus_Extension=EXTENSIONS,
        Tus_Checksum_Algorithm="sha256",
        Tus_Max_Size=settings.UPLOAD_MAX_BYTES,
    )
    return response


def _precheck(request, method: str):
    if not _version_ok(request, method):
        return None, _response(
            412, {"code": "tus_version", "message": "仅支持 tus 1.0.0"}, Tus_Version=TUS_VERSION
        )
    user = _authenticate(request)
    if user is None:
        return None, _response(
            401, {"code": "unauthenticated", "message": "请先登录或提供有效的 API 令牌"}
        )
    return user, None


def _result_headers(upload: UploadSession) -> dict:
    rec = upload.recording
    if rec is None:
        return {}
    return stored_headers(rec, duplicate=upload.duplicate)


def stored_headers(rec, *, duplicate: bool) -> dict:
    """The ``Liuhen-*`` headers naming the recording an upload was stored as."""
    return {
        "Liuhen_Recording_Id": rec.pk,
        "Liuhen_Sha256": rec.sha256,
        "Liuhen_Sm3": rec.sm3,
        "Liuhen_Duplicate": "1" if duplicate else "0",
        # The station's receipt shows these (issue 9 item 2: no GET .../result per file, and
        # the capture time as the server read it: the station does not probe the file again).
        "Liuhen_Flags": ",".join(rec.flags),
        "Liuhen_Captured_At": rec.captured_start.isoformat() if rec.captured_start else "",
        "Liuhen_Capture_Time_Source": rec.capture_time_source,
    }


def _parse_checksum(request) -> bytes | None:
    header = request.META.get("HTTP_UPLOAD_CHECKSUM")
    if not header:
        return None
    algorithm, _, value = header.strip().partition(" ")
    if algorithm.lower() != "sha256":
        raise InvalidInput("仅支持 sha256 校验（Tus-Checksum-Algorithm）")
    try:
        digest = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput("Upload-Checksum 的值不是有效的 Base64") from exc
    if len(digest) != 32:
        raise InvalidInput("Upload-Checksum 的 sha256 长度不正确")
    return digest


def _body_stream(request):
    """The raw request body as a stream (never ``request.body``): straight from the socket
    under gunicorn (``_SocketBody``), else through the WSGI input."""
    if request.META.get("CONTENT_LENGTH"):
        if not getattr(request, "_read_started", False):
            fast = _SocketBody.of(request.META.get("wsgi.input"))
            if fast is not None:
                return fast
        return request  # HttpRequest.read(): a LimitedStream over wsgi.input
    return request.META["wsgi.input"]  # chunked transfer: the server de-chunks


class _SocketBody:
    """The body of a request with a Content-Length under gunicorn, read straight from the
    socket into the caller's buffer (``readinto``).

    gunicorn's ``wsgi.input`` hands out each MiB as new ``bytes`` after passing it through
    two ``BytesIO`` buffers and their slices, and Django's stream and the ring copy it once
    more: four copies of every byte besides the kernel's, about a tenth of the server's CPU
    per uploaded byte in a profile (issue 9 item 1). Here the bytes gunicorn already holds
    (read with the headers) are taken first, then ``recv_into`` fills the ring; the length
    left in gunicorn's reader is kept exact, so that gunicorn finds the body consumed and a
    kept-alive connection's next request (any bytes after this body stay in its buffer)
    is parsed as before. Any other server, or a chunked body: the plain stream.
    """

    def __init__(self, reader, held: bytes) -> None:
        self._reader = reader
        self._sock = reader.unreader.sock
        self._held = memoryview(held)

    @classmethod
    def of(cls, wsgi_input):
        reader = getattr(wsgi_input, "reader", None)
        unreader = getattr(reader, "unreader", None)
        if not (
            type(reader).__name__ == "LengthReader"
            and type(unreader).__name__ == "SocketUnreader"
            and isinstance(getattr(reader, "length", None), int)
            and isinstance(getattr(wsgi_input, "buf", None), io.BytesIO)
            and isinstance(getattr(unreader, "buf", None), io.BytesIO)
            and hasattr(getattr(unreader, "sock", None), "recv_into")
        ):
            return None
        # Bytes of the body already taken from the socket: in the body's buffer (counted off
        # the reader's length already), then in the socket reader's (not yet counted).
        held = wsgi_input.buf.getvalue()
        wsgi_input.buf = io.BytesIO()
        buffered = unreader.buf.getvalue()
        mine, rest = buffered[: reader.length], buffered[reader.length :]
        unreader.buf = io.BytesIO()
        unreader.buf.write(rest)  # the next request's, on a kept-alive connection
        reader.length -= len(mine)
        return cls(reader, held + mine)

    def readinto(self, buffer) -> int:
        if self._held:
            count = min(len(buffer), len(self._held))
            buffer[:count] = self._held[:count]
            self._held = self._held[count:]
            return count
        want = min(len(buffer), self._reader.length)
        if want <= 0:
            return 0
        count = self._sock.recv_into(buffer, want)
        self._reader.length -= count
        return count
