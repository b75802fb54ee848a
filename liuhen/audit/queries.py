"""Filtering the audit log (shared by the audit page, its CSV export and the API)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from liuhen.audit.models import AuditEntry
from liuhen.core.errors import InvalidInput

# Entries name their object by app and model ("cases.document"). Issue 15 moved these models to
# other apps; the entries written before keep the old name (rewriting them would break the hash
# chain), so every look-up by object type also finds the other names of the same model.
RENAMED_OBJECT_TYPES = {
    "org.apitoken": "access.apitoken",
    "cases.document": "records.document",
    "cases.approval": "records.approval",
    "cases.service": "records.service",
    "evidence.device": "devices.device",
    "rules.holidayyear": "deadlines.holidayyear",
    "rules.holiday": "deadlines.holiday",
    "rules.casedeadlineentry": "deadlines.casedeadlineentry",
}


def object_type_names(object_type: str) -> list[str]:
    """Every name entries may use for the model ``object_type`` names, old or new: the current
    name first, then the names it had before it moved app."""
    current = RENAMED_OBJECT_TYPES.get(object_type, object_type)
    return [current, *(old for old, new in RENAMED_OBJECT_TYPES.items() if new == current)]


def filter_object_type(queryset, object_type: str):
    """``queryset`` narrowed to entries about objects of that model, under any of its names."""
    names = object_type_names(object_type)
    if len(names) == 1:
        return queryset.filter(object_type=names[0])
    return queryset.filter(object_type__in=names)


def entries_about(obj):
    """The audit trail of one object, whichever name its model had when each entry was written."""
    meta = obj._meta
    return filter_object_type(AuditEntry.objects.filter(object_id=str(obj.pk)),
                              f"{meta.app_label}.{meta.model_name}")


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
        qs = filter_object_type(qs, filters.object_type.strip())
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
