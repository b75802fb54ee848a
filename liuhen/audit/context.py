"""Who is acting, from where: set once per request, command or job, read by audit.record()."""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class AuditContext:
    session: str = ""
    ip: str = ""
    via: str = "system"


_current: contextvars.ContextVar[AuditContext] = contextvars.ContextVar(
    "liuhen_audit_context", default=AuditContext()  # noqa: B039 (frozen dataclass)
)


def current() -> AuditContext:
    return _current.get()


@contextlib.contextmanager
def using(ctx: AuditContext):
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)


def from_request(request, via: str = "web") -> AuditContext:
    session = getattr(request, "session", None)
    key = session.session_key if session is not None and session.session_key else ""
    # Only a short, non-reversible tag of the session key is kept: the key itself is a credential.
    if key:
        key = hashlib.sha256(key.encode()).hexdigest()[:16]
    ip = request.META.get("REMOTE_ADDR", "") or ""
    return AuditContext(session=key, ip=ip, via=via)
