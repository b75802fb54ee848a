"""Answers kept for the length of one reading request (issue 9 item 3).

A unit head's page asks ``RestrictedQuerySet.restrict`` several times (the record itself, may
they mark it, may they link it, the cases they may link it to, the filter form's choices),
and each asked the database again for the same three facts: the ids of the units below
theirs, their grants in force (第十六条) and the recordings other units linked to cases of
theirs. Read once per request, the answers stay what "checked at every request" means: a
new grant, link or unit counts from the next request on.

Only GET and HEAD requests keep anything (they change nothing these answers depend on; a POST
that adds a link and then renders the page must see it), and nothing is kept outside a request
(services, commands, jobs and tests calling functions directly compute every time).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

T = TypeVar("T")

_memo: ContextVar[dict | None] = ContextVar("liuhen_per_request", default=None)

SAFE_METHODS = frozenset({"GET", "HEAD"})


def remembered(key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()``, computed once per reading request for ``key``; every time elsewhere.

    Callers must not change what they get back (the next caller of the request gets it too):
    return tuples, frozensets or values that are not mutated."""
    memo = _memo.get()
    if memo is None:
        return compute()
    try:
        return memo[key]
    except KeyError:
        value = memo[key] = compute()
        return value


def remembering_now() -> bool:
    """Whether a reading request's memo is open (``remembered`` keeps answers only then)."""
    return _memo.get() is not None


@contextmanager
def remembering() -> Iterator[None]:
    """Keep answers of ``remembered`` until the block ends (one request)."""
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


class PerRequestMiddleware:
    """Opens the memo of ``remembered`` for a GET or HEAD request, closed with its response
    (a streamed body produced afterwards computes afresh)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in SAFE_METHODS:
            return self.get_response(request)
        with remembering():
            return self.get_response(request)
