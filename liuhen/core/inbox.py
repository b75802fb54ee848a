"""What waits for a person (待办, issue 13 item 2): one registry of providers, one page.

Each area that gives a person something to do registers a provider: a function of the user
that answers an ``InboxSection`` (a count, the first items, a link to the full list) or None
when nothing of its kind is for this person. The 待办 page, the count in the navigation and
the dashboard all read the same providers, so what is counted is what is listed.

Register from an app's ``ready()`` (the web app registers the providers that compose several
areas, ``liuhen.web.inbox``)::

    from liuhen.core import inbox
    inbox.register("device_checks", provider, order=60)
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass, field

# How many items a section lists on the page; its count covers all of them.
ITEMS_PER_SECTION = 20


@dataclass(frozen=True)
class InboxItem:
    """One thing to act on: what it is, where to act, and its date (a deadline, a request)."""

    title: str
    url: str
    detail: str = ""
    due: _dt.date | None = None
    overdue: bool = False


@dataclass
class InboxSection:
    """One kind of thing waiting: how many, the first few, and the page with all of them."""

    key: str
    title: str
    count: int
    items: list[InboxItem] = field(default_factory=list)
    url: str = ""
    basis: str = ""  # the article that makes it someone's duty
    overdue: int = 0  # how many of ``count`` are already late


Provider = Callable[[object, int], "InboxSection | None"]
_providers: dict[str, tuple[int, Provider]] = {}


def register(key: str, provider: Provider, *, order: int = 100) -> None:
    """Add (or replace) the provider called ``key``. ``provider(user, limit)`` answers a
    section with at most ``limit`` items, or None when nothing of its kind is for ``user``."""
    _providers[key] = (order, provider)


def unregister(key: str) -> None:
    _providers.pop(key, None)


def providers() -> list[tuple[str, Provider]]:
    return [(key, p) for key, (_, p) in sorted(_providers.items(), key=lambda kv: kv[1][0])]


def sections(user, *, limit: int = ITEMS_PER_SECTION) -> list[InboxSection]:
    """The non-empty sections for ``user``, in the registry's order."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    found = []
    for _key, provider in providers():
        section = provider(user, limit)
        if section is not None and section.count:
            found.append(section)
    return found


def total(user) -> int:
    """How many things wait for ``user`` (the count in the navigation)."""
    return sum(s.count for s in sections(user, limit=0))
