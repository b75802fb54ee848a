"""Unusual use of records, listed for the legal affairs office (第二十六条第三项: 私自复制、保存、
传播 are prohibited; what could be a first sign of them is recorded and queryable here; the
supervision app turns a confirmed one into a violation).

Read from the audit log only (every use is audited with its right or grant, every refusal too):

- bursts: one person downloading, copying or exporting at least ``BURST_COUNT`` times within
  ``BURST_MINUTES`` minutes;
- off hours: a download, copy or export outside 08:00–18:00 Beijing time or on a day that is
  not a working day (the holiday calendar; weekends where the calendar does not reach);
- refusals: uses refused for want of a right or a grant (第十六条), each marked when the same
  person held a grant for that record that had expired or been revoked by then (use outside
  the grant's period).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.utils import timezone

from liuhen.access.models import Grant
from liuhen.access.use import event_use_refused
from liuhen.audit.models import AuditEntry
from liuhen.core.display import action_label
from liuhen.deadlines.calendar import CalendarRangeError, default_calendar

BURST_COUNT = 10
BURST_MINUTES = 60
WORK_START, WORK_END = dt.time(8, 0), dt.time(18, 0)
# What takes record content out of the system (a copy in someone's hands).
COPY_ACTIONS = (
    "recording.downloaded", "document.downloaded", "casefile.downloaded",
    "party_copy.downloaded", "party_copy.made", "supply.downloaded", "supply.built",
    "audit.exported", "supply.register_exported", "spotcheck.ledger_exported",
)


def _working(day: dt.date, calendar) -> bool:
    try:
        return calendar.is_working_day(day)
    except CalendarRangeError:
        return day.weekday() < 5


def _row(entry, **extra) -> dict:
    return {"at": timezone.localtime(entry.at), "actor": entry.actor_name,
            "actor_id": entry.actor_id, "action": action_label(entry.action),
            "object": entry.object_repr or f"{entry.object_type} {entry.object_id}".strip(),
            "seq": entry.seq, **extra}


def bursts(entries: list) -> list[dict]:
    """Per person, each window of ``BURST_MINUTES`` holding ``BURST_COUNT`` copies or more
    (windows that overlap are merged into one row)."""
    by_actor = defaultdict(list)
    for entry in entries:
        by_actor[entry.actor_id].append(entry)
    window = dt.timedelta(minutes=BURST_MINUTES)
    found = []
    for items in by_actor.values():
        items.sort(key=lambda e: e.at)
        start, current = 0, None
        for end in range(len(items)):
            while items[end].at - items[start].at > window:
                start += 1
            if end - start + 1 >= BURST_COUNT:
                if current is not None and items[start].at <= current["last"]:
                    current["last"], current["count"] = items[end].at, current["count"] + 1
                else:
                    current = {"first": items[start].at, "last": items[end].at,
                               "count": end - start + 1, "actor": items[end].actor_name,
                               "actor_id": items[end].actor_id}
                    found.append(current)
    for row in found:
        row["first"], row["last"] = timezone.localtime(row["first"]), \
            timezone.localtime(row["last"])
    return sorted(found, key=lambda r: r["first"], reverse=True)


def off_hours(entries: list) -> list[dict]:
    calendar = default_calendar()
    rows = []
    for entry in entries:
        local = timezone.localtime(entry.at)
        if not (WORK_START <= local.time() < WORK_END) or not _working(local.date(), calendar):
            rows.append(_row(entry))
    return rows


def refusals(since: dt.datetime) -> list[dict]:
    rows = []
    for entry in (AuditEntry.objects.filter(at__gte=since, outcome="denied",
                                            action=event_use_refused)
                  .order_by("-at")[:2000]):
        lapsed = False
        if entry.actor_id and entry.object_type:
            grants = Grant.objects.filter(user_id=entry.actor_id, valid_from__lte=entry.at)
            same = grants.filter(target_type=entry.object_type, target_id=entry.object_id)
            lapsed = (same.filter(valid_until__lt=entry.at).exists()
                      or same.filter(revoked_at__lt=entry.at).exists())
        rows.append(_row(entry, reason=entry.reason, lapsed=lapsed))
    return rows


def listing(*, days: int = 30, now: dt.datetime | None = None) -> dict[str, list[dict]]:
    """The three lists over the last ``days`` days."""
    since = (now or timezone.now()) - dt.timedelta(days=days)
    copies = list(AuditEntry.objects.filter(at__gte=since, outcome="succeeded",
                                            action__in=COPY_ACTIONS).order_by("at")[:50000])
    return {"bursts": bursts(copies), "off_hours": off_hours(copies)[-1000:][::-1],
            "refusals": refusals(since)}
