"""Unusual use of records, listed for the legal affairs office (第二十六条第三项: 私自复制、保存、
传播 are prohibited; what could be a first sign of them is recorded and queryable here; the
supervision app turns a confirmed one into a violation).

Read from the audit log only (every use is audited with its right or grant, every refusal too):

- bursts: one person downloading, copying or exporting at least ``burst_count`` times within
  ``burst_minutes`` minutes;
- off hours: a download, copy or export outside the working hours (Beijing time) or on a day
  that is not a working day (the holiday calendar; weekends where the calendar does not reach);
- refusals: uses refused for want of a right or a grant (第十六条), each marked when the same
  person held a grant for that record that had expired or been revoked by then (use outside
  the grant's period).

The thresholds are data the bureau sets (``UnusualUseThresholds``: each change a new row with
its reason, audited, :func:`set_thresholds`); until it first does, :data:`DEFAULTS` apply.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from liuhen.access.models import Grant
from liuhen.access.services import require
from liuhen.access.use import event_use_refused
from liuhen.audit.models import AuditEntry
from liuhen.audit.services import record
from liuhen.core.display import action_label
from liuhen.core.errors import InvalidInput
from liuhen.deadlines.calendar import CalendarRangeError, default_calendar
from liuhen.disclosure import events
from liuhen.disclosure.models import UnusualUseThresholds


@dataclass(frozen=True)
class Thresholds:
    """What counts as unusual: ``burst_count`` uses within ``burst_minutes``; uses outside
    ``work_start``–``work_end`` (Beijing time) or on a day off."""

    burst_count: int
    burst_minutes: int
    work_start: dt.time
    work_end: dt.time
    reason: str = ""
    set_by: str = ""
    set_at: dt.datetime | None = None


# Until the bureau sets its own: ten in an hour, the working day 08:00–18:00.
DEFAULTS = Thresholds(10, 60, dt.time(8, 0), dt.time(18, 0), reason="系统默认值")
# Bounds that keep the listing meaningful (a window of a day at most, at least two uses).
COUNT_RANGE, MINUTES_RANGE = (2, 1000), (1, 1440)
# What takes record content out of the system (a copy in someone's hands).
COPY_ACTIONS = (
    "recording.downloaded", "document.downloaded", "casefile.downloaded",
    "party_copy.downloaded", "party_copy.made", "supply.downloaded", "supply.built",
    "audit.exported", "supply.register_exported", "spotcheck.ledger_exported",
    # 第十六条: copies and exports under a grant (the package once, not each file in it)
    events.event_record_copied, events.event_copy_file_downloaded, events.event_export_made,
    events.event_export_downloaded,
)
# Refusals of a use for want of a grant (or past it): the access layer's, and those of
# copying and exporting under a grant.
REFUSED_ACTIONS = (event_use_refused, events.event_record_copied, events.event_copy_file_downloaded,
                   events.event_record_exported, events.event_export_downloaded)


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


def current() -> Thresholds:
    """The thresholds in force: the bureau's newest row, or :data:`DEFAULTS`."""
    row = UnusualUseThresholds.objects.select_related("set_by").first()
    if row is None:
        return DEFAULTS
    return Thresholds(row.burst_count, row.burst_minutes, row.work_start, row.work_end,
                      reason=row.reason, set_by=str(row.set_by), set_at=row.set_at)


def _int_in(value, bounds: tuple[int, int], field: str, what: str) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        number = None
    if number is None or not bounds[0] <= number <= bounds[1]:
        raise InvalidInput(f"{what}应为 {bounds[0]} 至 {bounds[1]} 的整数", detail={"field": field})
    return number


def _time(value, field: str) -> dt.time:
    if isinstance(value, dt.time):
        return value
    try:
        return dt.time.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidInput("时间格式应为 时:分，如 08:30", detail={"field": field}) from None


def set_thresholds(*, actor, burst_count, burst_minutes, work_start, work_end,
                   reason: str) -> UnusualUseThresholds:
    """Change the thresholds (who holds ``use.unusual``: the legal affairs office), always with
    a reason; the old values stay as history and go into the audit entry."""
    require(actor, "use.unusual", event=events.event_unusual_thresholds_set)
    count = _int_in(burst_count, COUNT_RANGE, "burst_count", "次数")
    minutes = _int_in(burst_minutes, MINUTES_RANGE, "burst_minutes", "时间窗（分钟）")
    start, end = _time(work_start, "work_start"), _time(work_end, "work_end")
    if start >= end:
        raise InvalidInput("工作时间的起点应早于终点", detail={"field": "work_end"})
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("调整异常使用阈值须说明理由", detail={"field": "reason"})
    with transaction.atomic():
        before = current()
        row = UnusualUseThresholds.objects.create(
            burst_count=count, burst_minutes=minutes, work_start=start, work_end=end,
            reason=reason[:2000], set_by=actor)
        record(actor=actor, action=events.event_unusual_thresholds_set, target=row,
               reason=reason[:500], detail={
                   "before": _plain(before), "after": _plain(current())})
    return row


def _plain(t: Thresholds) -> dict:
    return {"burst_count": t.burst_count, "burst_minutes": t.burst_minutes,
            "work_start": t.work_start.strftime("%H:%M"),
            "work_end": t.work_end.strftime("%H:%M")}


def history():
    return UnusualUseThresholds.objects.select_related("set_by")[:50]


def bursts(entries: list, thresholds: Thresholds = DEFAULTS) -> list[dict]:
    """Per person, each window of ``burst_minutes`` holding ``burst_count`` copies or more
    (windows that overlap are merged into one row)."""
    by_actor = defaultdict(list)
    for entry in entries:
        by_actor[entry.actor_id].append(entry)
    window = dt.timedelta(minutes=thresholds.burst_minutes)
    found = []
    for items in by_actor.values():
        items.sort(key=lambda e: e.at)
        start, current = 0, None
        for end in range(len(items)):
            while items[end].at - items[start].at > window:
                start += 1
            if end - start + 1 >= thresholds.burst_count:
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


def off_hours(entries: list, thresholds: Thresholds = DEFAULTS) -> list[dict]:
    calendar = default_calendar()
    start, end = thresholds.work_start, thresholds.work_end
    rows = []
    for entry in entries:
        local = timezone.localtime(entry.at)
        if not (start <= local.time() < end) or not _working(local.date(), calendar):
            rows.append(_row(entry))
    return rows


def refusals(since: dt.datetime) -> list[dict]:
    rows = []
    for entry in (AuditEntry.objects.filter(at__gte=since, outcome="denied",
                                            action__in=REFUSED_ACTIONS)
                  .order_by("-at")[:2000]):
        lapsed = False
        if entry.actor_id and entry.object_type:
            grants = Grant.objects.filter(user_id=entry.actor_id, valid_from__lte=entry.at)
            same = grants.filter(target_type=entry.object_type, target_id=entry.object_id)
            lapsed = (same.filter(valid_until__lt=entry.at).exists()
                      or same.filter(revoked_at__lt=entry.at).exists())
        rows.append(_row(entry, reason=entry.reason, lapsed=lapsed))
    return rows


def listing(*, days: int = 30, now: dt.datetime | None = None,
            thresholds: Thresholds | None = None) -> dict[str, list[dict]]:
    """The three lists over the last ``days`` days, under the thresholds in force."""
    thresholds = thresholds or current()
    since = (now or timezone.now()) - dt.timedelta(days=days)
    copies = list(AuditEntry.objects.filter(at__gte=since, outcome="succeeded",
                                            action__in=COPY_ACTIONS).order_by("at")[:50000])
    return {"bursts": bursts(copies, thresholds),
            "off_hours": off_hours(copies, thresholds)[-1000:][::-1],
            "refusals": refusals(since)}
