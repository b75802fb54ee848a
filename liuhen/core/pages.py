"""Helpers shared by the server-rendered pages: turning service errors into Chinese pages.

A service raises a ``LiuhenError`` with a stable code and a Chinese message; a page shows that
message with the error's status and never lets it become a 500. A forbidden object answers
exactly like a missing one (404) so its existence is not revealed (STYLE.md, Access).
"""

from __future__ import annotations

import functools

from django.shortcuts import render

from liuhen.core.errors import Forbidden, LiuhenError, NotFound


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


def form_error(form, exc: LiuhenError) -> None:
    """Attach a service error to the form field it names (detail.field), else to the form."""
    field = (exc.detail or {}).get("field")
    aliases = {"officer_ids": "officers", "party_ids": "parties", "unit_id": "unit"}
    field = aliases.get(field, field)
    form.add_error(field if field in form.fields else None, exc.message)
