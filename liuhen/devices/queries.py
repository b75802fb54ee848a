"""What was true of a device at a given moment: its status, who held it, how far its clock
was off. Recordings are judged by the moment they were captured (第十八条), not by today."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from liuhen.devices.choices import DeviceKind, DeviceStatus, HoldingKind
from liuhen.devices.models import Device, DeviceHolding, MaintenanceRecord

# A pre-use check's clock offset corrects capture times within this distance of the check.
CLOCK_CHECK_REACH = timedelta(days=7)


def status_at(device: Device, at: datetime) -> str:
    """The lifecycle status at ``at``: the last transition before it, or, for a moment before
    the first logged transition (devices registered before the lifecycle existed), the
    status that transition left."""
    last = device.transitions.filter(at__lte=at).order_by("-at", "-id").first()
    if last is not None:
        return last.to_status
    first = device.transitions.order_by("at", "id").first()
    if first is not None and first.from_status:
        return first.from_status
    return device.status


def holder_at(device: Device, at: datetime):
    """The officer who held the device at ``at``: an open check-out first, else the standing
    assignment. A device with no holding history at all falls back to its 配发人员."""
    holdings = DeviceHolding.objects.filter(device=device)
    if not holdings.exists():
        return device.officer
    return _covering_holder(holdings, at)


def _covering_holder(holdings, at: datetime):
    """Of ``holdings`` (a device's, there being at least one), the officer holding it at
    ``at``: an open check-out first, else the standing assignment; None when neither."""
    covering = (holdings.select_related("officer").filter(started_at__lte=at)
                .exclude(ended_at__lte=at))
    for kind in (HoldingKind.CHECKOUT, HoldingKind.STANDING):
        found = covering.filter(kind=kind).order_by("-started_at", "-id").first()
        if found is not None:
            return found.officer
    return None


def clock_offset_at(device: Device, at: datetime) -> int | None:
    """Seconds the device's clock ran ahead (negative: behind) near ``at``, from the nearest
    pre-use check that read the clock within ``CLOCK_CHECK_REACH``; None when unknown."""
    checks = device.checks.filter(clock_offset_seconds__isnull=False,
                                  checked_at__gte=at - CLOCK_CHECK_REACH,
                                  checked_at__lte=at + CLOCK_CHECK_REACH)
    before = checks.filter(checked_at__lte=at).order_by("-checked_at", "-id").first()
    after = checks.filter(checked_at__gt=at).order_by("checked_at", "id").first()
    nearest = min((c for c in (before, after) if c is not None),
                  key=lambda c: abs((c.checked_at - at).total_seconds()), default=None)
    return nearest.clock_offset_seconds if nearest else None


@dataclass(frozen=True)
class CorrectedTime:
    """A capture time as the device recorded it and as corrected by its known clock offset;
    the original value is never rewritten, the correction is shown beside it."""

    original: datetime
    offset_seconds: int
    corrected: datetime


def corrected_capture_time(device: Device | None, captured: datetime) -> CorrectedTime | None:
    """The device-clock correction of ``captured``, or None when no offset is known or it is
    zero. ``captured`` is device time: device time − offset = server (true) time."""
    if device is None:
        return None
    offset = clock_offset_at(device, captured)
    if not offset:
        return None
    return CorrectedTime(captured, offset, captured - timedelta(seconds=offset))


# Reasons a recording's device needs a second look (第十八条); evidence maps them to its flags.
REASON_FAULTY = "faulty"
REASON_RETIRED = "retired"
REASON_UNDER_REPAIR = "under_repair"
REASON_UNASSIGNED = "unassigned"
REASON_HELD_BY_OTHER = "held_by_other"


def capture_reasons(device: Device | None, at: datetime, officer, *,
                    memo: DeviceMemo | None = None) -> list[str]:
    """Why a recording captured at ``at`` by ``device`` for ``officer`` must be looked at:
    the device was faulty, under repair or retired then, held by nobody (a fixed camera is
    held by nobody by design), or held by another officer. ``memo``: answers kept for the
    caller's transaction (see :class:`DeviceMemo`)."""
    if device is None:
        return []
    reasons = []
    status = memo.status_at(device, at) if memo is not None else status_at(device, at)
    if status == DeviceStatus.FAULTY:
        reasons.append(REASON_FAULTY)
    elif status == DeviceStatus.UNDER_REPAIR:
        reasons.append(REASON_UNDER_REPAIR)
    elif status == DeviceStatus.RETIRED:
        reasons.append(REASON_RETIRED)
    if device.kind != DeviceKind.FIXED_CAMERA:
        holder = memo.holder_at(device, at) if memo is not None else holder_at(device, at)
        if holder is None:
            reasons.append(REASON_UNASSIGNED)
        elif officer is not None and holder.pk != officer.pk:
            reasons.append(REASON_HELD_BY_OTHER)
    return reasons


class DeviceMemo:
    """:func:`status_at` and :func:`holder_at` for many moments of a device, inside one
    transaction: the ingest station's group of files (issue 9 item 2), captured minutes apart
    in one shift, asks the same question of the same device for each file.

    Each answer is kept with the span of time over which it cannot differ: a status from one
    logged transition to the next, a holder from one holding event (a start or an end) to the
    next. A moment inside a kept span is answered from memory, with the answer the queries
    would give (第十八条: judged by the moment of capture); one outside costs the queries once
    more. Keep a memo no longer than one transaction: what is logged after it is not seen.
    """

    def __init__(self) -> None:
        self._status: dict[int, list[tuple]] = {}
        self._holder: dict[int, list[tuple]] = {}

    @staticmethod
    def _kept(spans: list[tuple], at: datetime):
        for low, high, value in spans:
            if (low is None or low <= at) and (high is None or at < high):
                return True, value
        return False, None

    def status_at(self, device: Device, at: datetime) -> str:
        """As :func:`status_at`, which it asks on a miss; the status holds from the last
        transition at or before ``at`` to the first one after it."""
        spans = self._status.setdefault(device.pk, [])
        found, status = self._kept(spans, at)
        if found:
            return status
        status = status_at(device, at)
        span = device.transitions.aggregate(low=Max("at", filter=Q(at__lte=at)),
                                            high=Min("at", filter=Q(at__gt=at)))
        spans.append((span["low"], span["high"], status))
        return status

    def holder_at(self, device: Device, at: datetime):
        """As :func:`holder_at`: who held the device at ``at``. The holdings covering a
        moment change only where one starts or ends, so the answer holds from the last such
        event at or before ``at`` to the first one after it."""
        spans = self._holder.setdefault(device.pk, [])
        found, holder = self._kept(spans, at)
        if found:
            return holder
        holdings = DeviceHolding.objects.filter(device=device)
        events = holdings.aggregate(
            count=Count("id"),
            last_start=Max("started_at", filter=Q(started_at__lte=at)),
            last_end=Max("ended_at", filter=Q(ended_at__lte=at)),
            next_start=Min("started_at", filter=Q(started_at__gt=at)),
            next_end=Min("ended_at", filter=Q(ended_at__gt=at)),
        )
        if not events["count"]:
            spans.append((None, None, device.officer))
            return device.officer
        holder = _covering_holder(holdings, at)
        lows = [t for t in (events["last_start"], events["last_end"]) if t is not None]
        highs = [t for t in (events["next_start"], events["next_end"]) if t is not None]
        spans.append((max(lows, default=None), min(highs, default=None), holder))
        return holder


def maintenance_due(device: Device, interval_days: int) -> datetime:
    """When the next 定期维护保养 is due (第二十一条): the last maintenance or repair, else
    registration, plus the interval."""
    last = (MaintenanceRecord.objects.filter(device=device)
            .order_by("-performed_at").values_list("performed_at", flat=True).first())
    return (last or device.registered_at) + timedelta(days=interval_days)


def is_maintenance_overdue(device: Device, interval_days: int) -> bool:
    return (device.status != DeviceStatus.RETIRED
            and maintenance_due(device, interval_days) < timezone.now())
