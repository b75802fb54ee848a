"""Domain events: the one way a lower app tells the apps above it that something happened.

The layers (``docs/architecture.md``, checked by ``lint-imports``) let an app import only the
apps below it. When a fact of a case changes, the rules (completeness) and the deadlines above
``cases`` must recompute; ``cases`` cannot import them. So the lower app declares an event in
its ``events.py`` and publishes it; each higher app subscribes a handler in its
``AppConfig.ready()``:

    # liuhen/cases/events.py                 # liuhen/rules/apps.py, ready()
    case_changed = DomainEvent("...")          case_events.case_changed.subscribe(on_case_changed)

    # liuhen/cases/services.py, inside the service's transaction
    case_events.case_changed.publish(case=case, actor=actor)

Handlers run at once, in the publisher's transaction and in subscription order (the order of
``INSTALLED_APPS``), so the recomputed rows commit or roll back with the change that caused
them, exactly as a direct call would. A handler may refuse by raising a ``LiuhenError`` (the
archive gate of the rules app does): the publisher's change is then not made. This is not
Django's model signals: nothing fires on ``save()``, only an explicit ``publish()`` in a
service, so ``QuerySet.update()`` cannot skip it silently and a reader finds every publisher
by searching for the event's name.
"""

from __future__ import annotations

from collections.abc import Callable


class DomainEvent:
    """Something that happened in one app that apps above it may react to."""

    def __init__(self, name: str):
        self.name = name
        self._handlers: list[Callable[..., None]] = []

    def __repr__(self) -> str:
        return f"DomainEvent({self.name!r})"

    def subscribe(self, handler: Callable[..., None]) -> None:
        """Call ``handler(**payload)`` on every publish (once, however often subscribed)."""
        if handler not in self._handlers:
            self._handlers.append(handler)

    def publish(self, **payload) -> None:
        """Run every handler now, in the caller's transaction; an exception propagates."""
        for handler in list(self._handlers):
            handler(**payload)

    @property
    def handlers(self) -> tuple[Callable[..., None], ...]:
        return tuple(self._handlers)
