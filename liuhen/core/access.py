"""Fetching one protected object: found and allowed, or NotFound with a denied audit entry."""

from __future__ import annotations

from liuhen.audit.services import record, record_denied
from liuhen.core.errors import Forbidden, NotFound
from liuhen.core.querysets import allows


def get_for(user, action: str, queryset, pk, *, read_event: str | None = None,
            denied_event: str | None = None):
    """The object with ``pk`` if ``user`` may do ``action`` on it.

    A forbidden object answers exactly like a missing one (404), and the attempt is audited.
    When ``read_event`` is given the successful read is audited too (第二十六条 (三)).
    ``denied_event`` names the refusal when the lookup guards a write (e.g. a transition).
    """
    model = queryset.model
    meta = model._meta
    try:
        obj = queryset.restrict(user, action).filter(pk=pk).first()
    except (ValueError, TypeError):
        obj = None
    if obj is None:
        record_denied(actor=user, action=denied_event or read_event or action,
                      target=(f"{meta.app_label}.{meta.model_name}", str(pk)[:64]),
                      reason="对象不存在或无权访问")
        raise NotFound()
    if read_event:
        record(actor=user, action=read_event, target=obj)
    return obj


def require(user, action: str, *, target=None, event: str | None = None) -> None:
    """Refuse (403, audited) a user whose role may not do ``action`` anywhere."""
    if not allows(user, action):
        record_denied(actor=user, action=event or action, target=target,
                      reason=f"角色无权执行：{action}")
        raise Forbidden()
