"""Pages of the devices area: the list (status, holder, maintenance due) and a device's page
with its whole history and the lifecycle's actions (第二十一条, 第二十二条). Thin: each action
parses the form and calls one service."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET, require_POST

from liuhen.access.querysets import unit_allowed
from liuhen.access.services import get_for, require
from liuhen.audit.queries import entries_about
from liuhen.core.errors import InvalidInput, LiuhenError, NotFound
from liuhen.devices import events, queries, services
from liuhen.devices.choices import DeviceStatus, HoldingKind
from liuhen.devices.models import Device, DeviceHolding
from liuhen.org.models import Officer

LIST_LIMIT = 500


def _error(request, exc: LiuhenError):
    template = "404.html" if isinstance(exc, NotFound) else "core/error.html"
    return render(request, template, {"error": exc.message, "code": exc.code}, status=exc.status)


@login_required
@require_GET
def device_list(request):
    """Devices the user may see, with status, holder and the next maintenance (第二十一条)."""
    try:
        require(request.user, "device.view", event=events.event_device_listed)
    except LiuhenError as exc:
        return _error(request, exc)
    qs = (Device.objects.restrict(request.user, "device.view")
          .select_related("unit", "officer")
          .annotate(recording_count=Count("recordings")))
    status = request.GET.get("status", "")
    if status in DeviceStatus.values:
        qs = qs.filter(status=status)
    number = request.GET.get("q", "").strip()
    if number:
        qs = qs.filter(Q(number__icontains=number) | Q(model_name__icontains=number))
    devices = list(qs[:LIST_LIMIT])
    out = {h.device_id: h for h in DeviceHolding.objects.filter(
        device__in=devices, kind=HoldingKind.CHECKOUT, ended_at__isnull=True
    ).select_related("officer")}
    for device in devices:
        device.checked_out = out.get(device.pk)
        device.maintenance_due = queries.maintenance_due(
            device, services.maintenance_interval(device))
        device.maintenance_overdue = (device.status != DeviceStatus.RETIRED
                                      and device.maintenance_due < timezone.now())
    counts = dict(Device.objects.restrict(request.user, "device.view")
                  .values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    return render(request, "devices/device_list.html", {
        "devices": devices,
        "statuses": DeviceStatus.choices,
        "status": status,
        "q": number,
        "counts": [(label, counts.get(code, 0), code) for code, label in DeviceStatus.choices],
        "truncated": len(devices) >= LIST_LIMIT,
    })


def _detail_context(request, device: Device) -> dict:
    user = request.user
    interval = services.maintenance_interval(device)
    holdings = list(device.holdings.select_related("officer").order_by("-started_at", "-id"))
    officers = Officer.objects.filter(unit__path__startswith=device.unit.path).order_by("name")
    usage = (device.recordings.values("officer__name")
             .annotate(n=Count("id")).order_by("-n")[:20])
    return {
        "device": device,
        "transitions": device.transitions.select_related("actor").order_by("-at", "-id"),
        "holdings": holdings,
        "open_checkout": next((h for h in holdings if h.kind == HoldingKind.CHECKOUT
                               and h.ended_at is None), None),
        "checks": device.checks.select_related("officer").order_by("-checked_at", "-id")[:50],
        "faults": device.faults.select_related("reported_by").order_by("-reported_at")[:50],
        "maintenance": device.maintenance.order_by("-performed_at", "-id")[:50],
        "maintenance_due": queries.maintenance_due(device, interval),
        "interval": interval,
        "recording_count": device.recordings.count(),
        "usage": usage,
        "trail": entries_about(device).order_by("-seq")[:50],
        "can_manage": unit_allowed(user, "device.manage", device.unit),
        "can_use": unit_allowed(user, "device.use", device.unit)
        or unit_allowed(user, "device.manage", device.unit),
        "available": services.available_for_checkout(
            Device.objects.filter(pk=device.pk)).exists(),
        "officers": officers,
        "me": services.user_officer(user),
        "thresholds": {
            "battery": services.MIN_BATTERY_PERCENT,
            "storage": services.MIN_FREE_STORAGE_MB,
            "clock": services.MAX_CLOCK_OFFSET_SECONDS,
        },
        "S": DeviceStatus,
        "default_interval": settings.DEVICE_MAINTENANCE_DAYS,
    }


@login_required
@require_GET
def device_detail(request, pk: int):
    """A device's page: status, holder, checks, faults, repairs, maintenance, usage, audit."""
    try:
        device = get_for(request.user, "device.view",
                         Device.objects.select_related("unit", "officer"), pk,
                         read_event=events.event_device_viewed)
    except LiuhenError as exc:
        return _error(request, exc)
    return render(request, "devices/device_detail.html", _detail_context(request, device))


def _officer(value, device: Device):
    if not value:
        return None
    try:
        return Officer.objects.select_related("unit").get(
            pk=int(value), unit__path__startswith=device.unit.path)
    except (ValueError, Officer.DoesNotExist):
        raise InvalidInput("执法人员不存在或不属于设备所属单位")


def _int(value, label: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"请填写{label}（整数）")


def _datetime(value) -> datetime | None:
    if not value:
        return None
    parsed = parse_datetime(value)
    if parsed is None:
        raise InvalidInput("时间格式不正确，应为 YYYY-MM-DD HH:MM[:SS]")
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


def _checkout(request, device):
    services.check_out(actor=request.user, device=device,
                       officer=_officer(request.POST.get("officer"), device)
                       or services.user_officer(request.user))
    return "设备已领用"


def _check(request, device):
    check = services.record_check(
        actor=request.user, device=device,
        battery_percent=_int(request.POST.get("battery_percent"), "电量"),
        free_storage_mb=_int(request.POST.get("free_storage_mb"), "剩余存储"),
        device_clock=_datetime(request.POST.get("device_clock")),
    )
    return "检查通过" if check.passed else "检查未通过：" + "；".join(check.problems)


def _in_service(request, device):
    services.put_in_service(actor=request.user, device=device)
    return "设备已投入使用"


def _fault(request, device):
    services.report_fault(actor=request.user, device=device,
                          description=request.POST.get("description", ""))
    return "已报告故障，设备停止使用（第二十二条）"


def _repair_start(request, device):
    services.start_repair(actor=request.user, device=device,
                          repairer=request.POST.get("repairer", ""),
                          organisation=request.POST.get("organisation", ""))
    return "设备已送修"


def _repair_finish(request, device):
    services.finish_repair(actor=request.user, device=device, done=request.POST.get("done", ""))
    return "设备已修复并恢复使用"


def _retire(request, device):
    services.retire(actor=request.user, device=device, reason=request.POST.get("reason", ""))
    return "设备已报废"


def _return(request, device):
    services.return_device(actor=request.user, device=device)
    return "设备已归还"


def _assign(request, device):
    services.assign(actor=request.user, device=device,
                    officer=_officer(request.POST.get("officer"), device))
    return "配发已更新"


def _maintenance(request, device):
    services.record_maintenance(
        actor=request.user, device=device,
        performed_by=request.POST.get("performed_by", ""),
        organisation=request.POST.get("organisation", ""),
        description=request.POST.get("description", ""),
        performed_at=_datetime(request.POST.get("performed_at")),
    )
    return "已登记维护保养"


# One service per action; each returns the message that says what happened.
ACTIONS = {
    "in_service": _in_service,
    "fault": _fault,
    "repair_start": _repair_start,
    "repair_finish": _repair_finish,
    "retire": _retire,
    "checkout": _checkout,
    "return": _return,
    "assign": _assign,
    "check": _check,
    "maintenance": _maintenance,
}


@login_required
@require_POST
def device_action(request, pk: int, action: str):
    """One lifecycle action from the device page; refusals come back as a Chinese message."""
    if action not in ACTIONS:
        return _error(request, NotFound())
    try:
        device = get_for(request.user, "device.view",
                         Device.objects.select_related("unit", "officer"), pk)
        message = ACTIONS[action](request, device)
    except NotFound as exc:
        return _error(request, exc)
    except LiuhenError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, message)
    return redirect("device_detail", pk=pk)

