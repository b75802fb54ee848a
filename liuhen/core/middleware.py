"""Security headers and a request id on every response (per-role TOTP enforcement:
liuhen/access/middleware.py)."""

from __future__ import annotations

import re
import uuid

from django.shortcuts import render

from liuhen.core import limits

# A request id a proxy in front may pass on (nginx's $request_id: 32 hex digits), else ours.
_GOOD_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


def request_id(request) -> str:
    """The id of ``request`` shown on error pages and in JSON errors (``X-Request-ID``), so a
    clerk can quote it and the administrator find the log line."""
    return getattr(request, "request_id", "") if request is not None else ""


def wants_json(request) -> bool:
    """API and tus clients (everything under /api/) get JSON; browsers get the page."""
    return request.path.startswith("/api/") or "Tus-Resumable" in request.headers


class RequestIdMiddleware:
    """Gives every request an id: the proxy's ``X-Request-ID`` when well-formed, else a new
    one; answered in the ``X-Request-ID`` header and shown on the error pages (issue 13 item 7)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get("X-Request-ID", "")
        request.request_id = given if _GOOD_ID.fullmatch(given) else uuid.uuid4().hex[:16]
        response = self.get_response(request)
        response.headers.setdefault("X-Request-ID", request.request_id)
        return response

class MultipartBoundaryMiddleware:
    """A form upload whose ``Content-Type: multipart/form-data`` names no usable boundary (a
    hand-made client, a proxy that rewrote the header) is refused 400 here, before anything
    reads the body: Django's parser would raise MultiPartParserError at the first read of
    ``request.POST`` (the CSRF check), answer its generic 400 and log a traceback that pages an
    operator for the client's mistake. The check is Django's own (``MultiPartParser``'s
    boundary rule), so what passes here parses there."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        content_type = request.META.get("CONTENT_TYPE", "")
        if content_type.lower().startswith("multipart/"):
            from django.http.multipartparser import MultiPartParser
            from django.utils.http import parse_header_parameters

            _, params = parse_header_parameters(content_type)
            boundary = params.get("boundary", "")
            if not boundary or not MultiPartParser.boundary_re.match(boundary):
                return _malformed(request, "请求内容无法解析：multipart 表单缺少有效的 boundary")
        return self.get_response(request)


def _malformed(request, message: str):
    from django.http import JsonResponse

    if wants_json(request):
        return JsonResponse({"code": "invalid_input", "message": message,
                             "request_id": request_id(request)},
                            status=400, json_dumps_params={"ensure_ascii": False})
    return render(request, "core/error.html", {"error": message, "code": "invalid_input"},
                  status=400)


# No inline scripts or styles anywhere: every asset is served by the app itself (intranet).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if request.user.is_authenticated if hasattr(request, "user") else False:
            response.headers.setdefault("Cache-Control", "no-store")
        return response


class InputLimitMiddleware:
    """The net behind the forms (issue 13 item 4): a page's POST with a text field longer than
    ``limits.MAX_FIELD_CHARS`` is answered 400 with the error card before any view reads it.
    The API has its own (``web.api.LiuhenParser``, JSON with code ``too_long``); uploads go
    there too, so no file is read here beyond what the CSRF check already parsed."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "POST" and not request.path.startswith("/api/"):
            longest = max((len(v) for _, values in request.POST.lists() for v in values),
                          default=0)
            if longest > limits.MAX_FIELD_CHARS:
                message = limits.TOO_LONG_MESSAGE.format(
                    field="提交的内容", limit=limits.MAX_FIELD_CHARS, length=longest)
                return render(request, "core/error.html",
                              {"error": message, "code": "too_long"}, status=400)
        return self.get_response(request)
