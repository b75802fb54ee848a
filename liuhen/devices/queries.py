"""What was true of a device at a given moment: its status, who held it, how far its clock
was off. Recordings are judged by the moment they were captured (第十八条), not by today."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

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
    holdings = DeviceHolding.objects.filter(device=device).select_related("officer")
    if not holdings.exists():
        return device.officer
    covering = holdings.filter(started_at__lte=at).exclude(ended_at__lte=at)
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


def capture_reasons(device: Device | None, at: datetime, officer) -> list[str]:
    """Why a recording captured at ``at`` by ``device`` for ``officer`` must be looked at:
    the device was faulty, under repair or retired then, held by nobody (a fixed camera is
    held by nobody by design), or held by another officer."""
    if device is None:
        return []
    reasons = []
    status = status_at(device, at)
    if status == DeviceStatus.FAULTY:
        reasons.append(REASON_FAULTY)
    elif status == DeviceStatus.UNDER_REPAIR:
        reasons.append(REASON_UNDER_REPAIR)
    elif status == DeviceStatus.RETIRED:
        reasons.append(REASON_RETIRED)
    if device.kind != DeviceKind.FIXED_CAMERA:
        holder = holder_at(device, at)
        if holder is None:
            reasons.append(REASON_UNASSIGNED)
        elif officer is not None and holder.pk != officer.pk:
            reasons.append(REASON_HELD_BY_OTHER)
    return reasons


def maintenance_due(device: Device, interval_days: int) -> datetime:
    """When the next 定期维护保养 is due (第二十一条): the last maintenance or repair, else
    registration, plus the interval."""
    last = (MaintenanceRecord.objects.filter(device=device)
            .order_by("-performed_at").values_list("performed_at", flat=True).first())
    return (last or device.registered_at) + timedelta(days=interval_days)


def is_maintenance_overdue(device: Device, interval_days: int) -> bool:
    return (device.status != DeviceStatus.RETIRED
            and maintenance_due(device, interval_days) < timezone.now())
