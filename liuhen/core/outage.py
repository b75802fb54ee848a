"""Answering an outage honestly (issue 16 item 4): when the database cannot be reached or the
disk is full, every request used to end in Django's generic 500 HTML page, to API and tus
clients too. Now the answer is 503 Service Unavailable with ``Retry-After``: the JSON error
``{code, message}`` for the API and the tus server (a client waits and retries; tus-js and tuspy
resume from the server's offset, and partial uploads are kept), a Chinese page saying the
system is temporarily unavailable and nothing was lost for the pages, and one log line naming
the cause. Nothing is lost because every write happens in one transaction with its audit entry
(第二十六条): a request that fails on an outage leaves no half record behind.

``server_error`` is the project's ``handler500``: Django calls it for any exception a view or a
middleware did not handle, inside the ``except`` block, so the exception is at hand.
"""

from __future__ import annotations

import errno
import json
import logging
import sys

from django.db import DatabaseError, DataError, InterfaceError, OperationalError
from django.http import HttpResponse
from django.template import loader

from liuhen.core.middleware import request_id, wants_json

log = logging.getLogger("liuhen.outage")

RETRY_AFTER_SECONDS = 30
_DISK_ERRNOS = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}

MESSAGES = {
    "database_unavailable": "数据库暂时无法连接，系统暂时不可用。已保存的数据未丢失，请稍后重试。",
    "disk_full": "服务器存储空间已满，系统暂时不可用。已保存的数据未丢失，请稍后重试并通知系统管理员。",
}


def outage_cause(exc: BaseException | None) -> str | None:
    """``database_unavailable``, ``disk_full`` or None (not an outage: a real 500)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in _DISK_ERRNOS:
            return "disk_full"
        if isinstance(exc, DatabaseError):
            text = str(exc).lower()
            # SQLite's SQLITE_FULL: "database or disk is full".
            if "disk is full" in text or "no space left" in text:
                return "disk_full"
            if isinstance(exc, (OperationalError, InterfaceError)):
                return "database_unavailable"
        exc = exc.__cause__ or exc.__context__
    return None


def outage_response(request, cause: str, exc: BaseException | None = None) -> HttpResponse:
    """The 503 answer for ``cause``, and the log line naming it."""
    detail = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}" \
        if exc is not None else ""
    rid = request_id(request)
    log.error("outage: %s (%s) answering 503 to %s %s request_id=%s", cause, detail,
              request.method, request.path, rid)
    message = MESSAGES[cause]
    if wants_json(request):
        response = HttpResponse(json.dumps({"code": cause, "message": message, "request_id": rid},
                                           ensure_ascii=False),
                                status=503, content_type="application/json")
        if request.path.startswith("/api/uploads"):
            response["Tus-Resumable"] = "1.0.0"
    else:
        # No request context: the context processors (the menu, the user) need the database.
        body = loader.get_template("503.html").render({"message": message, "request_id": rid})
        response = HttpResponse(body, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def server_error(request, template_name: str = "500.html"):
    """``handler500``: an outage answers 503 (above); anything else is a 500, as JSON with a
    code for the API and as the error page otherwise, both with the request id that the log
    line below names (Django's own log line has the traceback)."""
    exc = sys.exc_info()[1]
    cause = outage_cause(exc)
    if cause is not None:
        return outage_response(request, cause, exc)
    rid = request_id(request)
    if isinstance(exc, DataError):
        # A text longer than its column, a number out of range (PostgreSQL): the input's fault,
        # answered 400 with the card (issue 13 item 4); the transaction was rolled back.
        log.warning("input out of range answering 400 to %s %s request_id=%s: %s",
                    request.method, request.path, rid, str(exc).strip().splitlines()[:1])
        message = "输入的内容超出允许的长度或范围，未保存任何内容"
        if wants_json(request):
            return HttpResponse(json.dumps({"code": "too_long", "message": message,
                                            "request_id": rid}, ensure_ascii=False),
                                status=400, content_type="application/json")
        body = loader.get_template("core/_error_shell.html").render({
            "heading": "输入内容过长", "what": message, "request_id": rid,
            "todo": "请返回上一页，精简填写的内容后重新提交。"})
        return HttpResponse(body, status=400, content_type="text/html; charset=utf-8")
    log.error("server error answering 500 to %s %s request_id=%s", request.method,
              request.path, rid)
    if wants_json(request):
        return HttpResponse(json.dumps({"code": "server_error", "message": "服务器内部错误，请求未完成，未保存任何内容",
                                        "request_id": rid}, ensure_ascii=False),
                            status=500, content_type="application/json")
    body = loader.get_template(template_name).render({"request_id": rid})
    return HttpResponse(body, status=500, content_type="text/html; charset=utf-8")
