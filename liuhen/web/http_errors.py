"""The HTTP server's own refusals as the API's JSON error (what Schemathesis found, issue 16).

gunicorn answers a request it cannot even parse before Django sees it: a request line longer
than its limit (414, ``limit_request_line``, 4094 bytes), headers too large (431), a malformed
request line or header (400). It wrote them as an HTML page, so an API client asking with a long
query got an answer the OpenAPI document did not describe. ``install()`` (called by `liuhen
serve` before gunicorn forks its workers) makes gunicorn write the same ``{code, message,
detail}`` JSON object as every other error, and ``web.openapi`` declares 414 and 431 on every
operation. The limits themselves stay: they bound what one request may make the server hold.
"""

from __future__ import annotations

import json

from liuhen.core.errors import LiuhenError

CODES = {
    400: ("bad_request", "请求格式有误，服务器无法解析"),
    403: ("forbidden", "请求被拒绝"),
    414: ("uri_too_long", "请求地址过长（含查询参数），请缩短后重试"),
    417: ("expectation_failed", "不支持请求的 Expect 头"),
    431: ("headers_too_large", "请求头过大，请缩短后重试"),
    501: ("not_implemented", "不支持请求的传输编码"),
}


def error_response(status: int, reason: str, mesg: str) -> bytes:
    """The raw HTTP response gunicorn sends for its own refusal: JSON, connection closed."""
    code, message = CODES.get(status, ("server_error", "服务器无法处理该请求"))
    detail = {"reason": mesg[:200]} if mesg else None
    body = LiuhenError(message, code=code, status=status, detail=detail).as_dict()
    payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
    head = (
        f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
        "Content-Type: application/json\r\nX-Content-Type-Options: nosniff\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n"
    )
    return head.encode("latin-1") + payload


def install() -> None:
    """Make gunicorn write its refusals through :func:`error_response`."""
    from gunicorn import util

    def write_error(sock, status_int, reason, mesg):
        util.write_nonblock(sock, error_response(int(status_int), reason, mesg))

    util.write_error = write_error
