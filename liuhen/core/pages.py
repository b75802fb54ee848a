"""Helpers shared by the server-rendered pages: turning service errors into Chinese pages.

A service raises a ``LiuhenError`` with a stable code and a Chinese message; a page shows that
message with the error's status and never lets it become a 500. A forbidden object answers
exactly like a missing one (404) so its existence is not revealed (STYLE.md, Access).
"""

from __future__ import annotations

import functools

from django.http import JsonResponse
from django.shortcuts import render

from liuhen.core.errors import Forbidden, LiuhenError, NotFound
from liuhen.core.middleware import request_id, wants_json


def error_page(request, exc: LiuhenError):
    """Render ``exc`` as a page with its own status (404 and 403 have their own templates)."""
    if isinstance(exc, NotFound):
        template = "404.html"
    elif isinstance(exc, Forbidden):
        template = "403.html"
    else:
        template = "core/error.html"
    return render(request, template, {"error": exc.message, "code": exc.code},
                  status=exc.status)


def handles_errors(view):
    """Any LiuhenError a view does not handle itself becomes an error page, not a 500."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except LiuhenError as exc:
            return error_page(request, exc)

    return wrapped


def first_error(form, default: str = "输入有误") -> str:
    """The first of an invalid form's errors as one line, “字段：错误” (for a form answered by
    a redirect and a message: the real reason, not a guess)."""
    for name, errors in form.errors.items():
        if errors:
            label = form.fields[name].label if name in form.fields else ""
            return f"{label}：{errors[0]}" if label else str(errors[0])
    return default


def form_error(form, exc: LiuhenError) -> None:
    """Attach a service error to the form field it names (detail.field), else to the form."""
    field = (exc.detail or {}).get("field")
    aliases = {"officer_ids": "officers", "party_ids": "parties", "unit_id": "unit"}
    field = aliases.get(field, field)
    form.add_error(field if field in form.fields else None, exc.message)


# The project's handler400/403/404 (issue 13 item 7): one look for the pages, JSON with a
# stable code for the API (a path that matches no route, a CSRF or permission refusal).
_HANDLED = {
    400: ("400.html", "bad_request", "请求有误"),
    403: ("403.html", "forbidden", "无权执行此操作"),
    404: ("404.html", "not_found", "对象不存在或无权访问"),
}


def _handler(status: int):
    template, code, message = _HANDLED[status]

    def view(request, exception=None):
        if wants_json(request):
            return JsonResponse({"code": code, "message": message,
                                 "request_id": request_id(request)},
                                status=status, json_dumps_params={"ensure_ascii": False})
        return render(request, template, status=status)

    view.__name__ = f"error_{status}"
    return view


bad_request = _handler(400)
permission_denied = _handler(403)
page_not_found = _handler(404)


def csrf_failure(request, reason: str = ""):
    """CSRF_FAILURE_VIEW: Django's renders its template without the request (no menu, no
    request id); this one is the same card as every other error."""
    if wants_json(request):
        return JsonResponse({"code": "csrf_failed", "message": "请求已失效（CSRF 校验失败），请刷新后重试",
                             "request_id": request_id(request)},
                            status=403, json_dumps_params={"ensure_ascii": False})
    return render(request, "403_csrf.html", status=403)
