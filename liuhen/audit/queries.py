"""Filtering the audit log (shared by the audit page, its CSV export and the API)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from liuhen.audit.models import AuditEntry
from liuhen.core.errors import InvalidInput


@dataclass
class AuditFilter:
    actor: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    action: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def search_entries(filters: AuditFilter):
    if filters.since and filters.until and filters.since > filters.until:
        raise InvalidInput("起始时间不能晚于截止时间")
    qs = AuditEntry.objects.all()
    if filters.actor:
        term = filters.actor.strip()
        qs = qs.filter(actor_id=int(term)) if term.isdigit() else qs.filter(actor_name__contains=term)
    if filters.object_type:
        qs = qs.filter(object_type=filters.object_type.strip())
    if filters.object_id:
        qs = qs.filter(object_id=filters.object_id.strip())
    if filters.action:
        qs = qs.filter(action__startswith=filters.action.strip())
    if filters.outcome:
        qs = qs.filter(outcome=filters.outcome)
    if filters.since:
        qs = qs.filter(at__gte=filters.since)
    if filters.until:
        qs = qs.filter(at__lte=filters.until)
    return qs.order_by("-seq")


CSV_COLUMNS = ["seq", "uuid", "at", "actor_id", "actor_name", "actor_role", "session", "ip",
               "via", "action", "object_type", "object_id", "object_repr", "outcome", "reason",
               "detail", "prev_hash", "hash"]
