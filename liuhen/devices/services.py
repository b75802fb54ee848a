"""Domain rules of devices: registration with the number printed on the device (第二十一条)
and the lifecycle as an explicit state machine (registered → in service → faulty → under
repair → in service, or retired: 第二十一条, 第二十二条), with who holds it, pre-use checks and
maintenance. Each function checks what it may do, writes its row and its audit entry in one
transaction, and raises a clear error when the move is not allowed."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from liuhen.access.querysets import unit_allowed
from liuhen.audit.services import record, record_denied
from liuhen.core.errors import Conflict, Forbidden, IllegalTransition, InvalidInput
from liuhen.devices import events
from liuhen.devices.choices import DeviceKind, DeviceStatus, HoldingKind, MaintenanceKind
from liuhen.devices.models import (
    Device,
    DeviceHolding,
    DeviceTransition,
    FaultReport,
    MaintenanceRecord,
    PreUseCheck,
)

S = DeviceStatus

# The lifecycle (第二十一条, 第二十二条): which status may follow which. Retiring is allowed
# from every state but retired; a faulty device goes back to service only through a repair.
ALLOWED: dict[str, frozenset[str]] = {
    S.REGISTERED: frozenset({S.IN_SERVICE, S.FAULTY, S.RETIRED}),
    S.IN_SERVICE: frozenset({S.FAULTY, S.RETIRED}),
    S.FAULTY: frozenset({S.UNDER_REPAIR, S.RETIRED}),
    S.UNDER_REPAIR: frozenset({S.IN_SERVICE, S.FAULTY, S.RETIRED}),
    S.RETIRED: frozenset(),
}

# 第二十一条 使用前检查: the least battery and free storage a device may go out with, and the
# largest clock offset accepted without a problem (a recording's time is evidence).
MIN_BATTERY_PERCENT = 30
MIN_FREE_STORAGE_MB = 1024
MAX_CLOCK_OFFSET_SECONDS = 60


def user_officer(user):
    """The officer behind a login (None for a superuser without one)."""
    return getattr(user, "officer", None) if user is not None else None


def maintenance_interval(device: Device) -> int:
    """Days between two maintenances (第二十一条 定期维护保养)."""
    return device.maintenance_interval_days or settings.DEVICE_MAINTENANCE_DAYS


def _refuse(actor, event: str, target, reason: str):
    record_denied(actor=actor, action=event, target=target, reason=reason)
    raise Forbidden(reason)


def _require_manage(actor, device: Device, event: str) -> None:
    if not unit_allowed(actor, "device.manage", device.unit):
        _refuse(actor, event, device, "无权管理该设备")


def _require_use(actor, device: Device, event: str) -> None:
    """A device keeper of its unit, or an officer of its unit with device.use."""
    if unit_allowed(actor, "device.manage", device.unit):
        return
    if not unit_allowed(actor, "device.use", device.unit):
        _refuse(actor, event, device, "无权使用该设备")


def _move(device: Device, to: str, *, actor, event: str, reason: str = "",
          detail: dict | None = None) -> Device:
    """One transition: checked against ``ALLOWED``, logged, audited (caller's transaction)."""
    locked = Device.objects.select_for_update().get(pk=device.pk)
    if to not in ALLOWED[locked.status]:
        raise IllegalTransition(
            f"设备当前状态为“{locked.get_status_display()}”，不能变更为“{S(to).label}”",
            detail={"status": locked.status, "to": to},
        )
    DeviceTransition.objects.create(
        device=locked, from_status=locked.status, to_status=to, actor=actor, reason=reason
    )
    record(
        actor=actor,
        action=event,
        target=locked,
        reason=reason,
        detail={"from": locked.status, "to": to, **(detail or {})},
    )
    locked.status = to
    locked.save(update_fields=["status"])
    device.status = to
    return locked


def register_device(
    *,
    actor,
    number: str,
    kind: str,
    unit,
    officer=None,
    status: str = DeviceStatus.IN_SERVICE,
    model_name: str = "",
    notes: str = "",
) -> Device:
    """Register a recording device with the number printed on it (第二十一条); the first
    transition and, for a device issued to an officer, the standing assignment are logged."""
    number = (number or "").strip()
    if not number:
        raise InvalidInput("请填写设备编号")
    if kind not in DeviceKind.values:
        raise InvalidInput("设备类型不正确")
    if status not in (S.REGISTERED, S.IN_SERVICE):
        raise InvalidInput("新登记的设备状态只能是“已登记”或“在用”")
    if not unit_allowed(actor, "device.manage", unit):
        record_denied(
            actor=actor,
            action=events.event_device_registered,
            target=("org.unit", str(unit.pk), str(unit)),
            reason="无权为该单位登记设备",
        )
        raise Forbidden("无权为该单位登记设备")
    if officer is not None and officer.unit_id != unit.pk:
        raise InvalidInput("配发人员不属于该单位")
    if Device.objects.filter(number=number).exists():
        raise Conflict(f"设备编号 {number} 已登记")
    with transaction.atomic():
        device = Device.objects.create(
            number=number,
            kind=kind,
            unit=unit,
            officer=officer,
            status=status,
            model_name=model_name.strip()[:100],
            notes=notes.strip(),
        )
        DeviceTransition.objects.create(device=device, from_status="", to_status=status,
                                        actor=actor, at=device.registered_at, reason="登记")
        if officer is not None:
            DeviceHolding.objects.create(device=device, officer=officer,
                                         kind=HoldingKind.STANDING,
                                         started_at=device.registered_at, started_by=actor)
        record(
            actor=actor,
            action=events.event_device_registered,
            target=device,
            detail={
                "number": number,
                "kind": kind,
                "unit": unit.pk,
                "officer": officer.pk if officer else None,
                "status": status,
            },
        )
    return device


# --- the lifecycle, one function per transition --------------------------------------------


def put_in_service(*, actor, device: Device, reason: str = "") -> Device:
    """已登记 → 在用: the device keeper releases a registered device for use (第二十一条)."""
    _require_manage(actor, device, events.event_device_put_in_service)
    if device.status != S.REGISTERED:
        raise IllegalTransition("只有“已登记”的设备可以投入使用；维修后的设备请登记修复")
    with transaction.atomic():
        return _move(device, S.IN_SERVICE, actor=actor,
                     event=events.event_device_put_in_service, reason=reason or "投入使用")


def report_fault(*, actor, device: Device, description: str) -> FaultReport:
    """第二十二条: a faulty device stops being used at once. The report takes it out of
    service and ends its check-out (the device comes back to the keeper)."""
    description = (description or "").strip()
    if not description:
        raise InvalidInput("请说明故障情况")
    _require_use(actor, device, events.event_device_fault_reported)
    with transaction.atomic():
        _move(device, S.FAULTY, actor=actor, event=events.event_device_fault_reported,
              reason=description)
        fault = FaultReport.objects.create(device=device, reported_by=actor,
                                           description=description)
        _end_holdings(device, actor=actor, kinds=[HoldingKind.CHECKOUT])
    return fault


def _open_fault(device: Device) -> FaultReport | None:
    return device.faults.filter(repaired_at__isnull=True).order_by("-reported_at", "-id").first()


def _people_of(device: Device, fault: FaultReport | None) -> set[str]:
    """Names of the people who use the device or reported its fault: none of them may repair
    it (第二十二条: 不得自行维修)."""
    names = {h.officer.name for h in device.holdings.select_related("officer")
             if h.ended_at is None or (fault and h.ended_at >= fault.reported_at)}
    if device.officer_id:
        names.add(device.officer.name)
    if fault is not None:
        reporter = user_officer(fault.reported_by)
        names.add(reporter.name if reporter else fault.reported_by.get_username())
    return {n.strip() for n in names if n}


def start_repair(*, actor, device: Device, repairer: str, organisation: str) -> FaultReport:
    """故障 → 维修中: handed to a named professional (第二十二条), never repaired by the
    officer who uses it or reported the fault."""
    repairer, organisation = (repairer or "").strip(), (organisation or "").strip()
    if not repairer or not organisation:
        raise InvalidInput("第二十二条：须由专业人员维修，请填写维修人员及维修单位")
    _require_manage(actor, device, events.event_device_repair_started)
    fault = _open_fault(device)
    actor_officer = user_officer(actor)
    if repairer in _people_of(device, fault) or (
        actor_officer is not None and repairer == actor_officer.name
        and actor_officer.pk == device.officer_id
    ):
        raise InvalidInput("第二十二条：设备使用人或故障报告人不得自行维修，须交专业人员维修",
                           detail={"field": "repairer"})
    with transaction.atomic():
        _move(device, S.UNDER_REPAIR, actor=actor, event=events.event_device_repair_started,
              reason=f"送修：{repairer}（{organisation}）",
              detail={"repairer": repairer, "organisation": organisation})
        if fault is None:  # faulty since before fault reports existed
            fault = FaultReport.objects.create(device=device, reported_by=actor,
                                               description="（未登记故障情况）")
        fault.repairer, fault.repairer_organisation = repairer, organisation
        fault.repair_started_at = timezone.now()
        fault.save(update_fields=["repairer", "repairer_organisation", "repair_started_at"])
    return fault


def finish_repair(*, actor, device: Device, done: str) -> MaintenanceRecord:
    """维修中 → 在用: the repairer's work is written down and the device returns to service."""
    done = (done or "").strip()
    if not done:
        raise InvalidInput("请填写维修内容")
    _require_manage(actor, device, events.event_device_repaired)
    with transaction.atomic():
        _move(device, S.IN_SERVICE, actor=actor, event=events.event_device_repaired,
              reason=done)
        fault = _open_fault(device)
        now = timezone.now()
        if fault is not None:
            fault.repaired_at, fault.repair_done = now, done
            fault.save(update_fields=["repaired_at", "repair_done"])
        return MaintenanceRecord.objects.create(
            device=device, kind=MaintenanceKind.REPAIR, performed_at=now,
            performed_by=(fault.repairer if fault else "") or "—",
            organisation=fault.repairer_organisation if fault else "",
            description=done, fault=fault, actor=actor,
        )


def retire(*, actor, device: Device, reason: str) -> Device:
    """→ 报废: the device leaves the bureau's use for good; its holdings end."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("请说明报废原因")
    _require_manage(actor, device, events.event_device_retired)
    with transaction.atomic():
        moved = _move(device, S.RETIRED, actor=actor, event=events.event_device_retired,
                      reason=reason)
        _end_holdings(device, actor=actor, kinds=[HoldingKind.CHECKOUT, HoldingKind.STANDING])
        if moved.officer_id:
            Device.objects.filter(pk=device.pk).update(officer=None)
            device.officer = None
    return device


# --- who holds it ---------------------------------------------------------------------------


def _end_holdings(device: Device, *, actor, kinds) -> int:
    return DeviceHolding.objects.filter(device=device, kind__in=kinds,
                                        ended_at__isnull=True).update(
        ended_at=timezone.now(), ended_by=actor)


def available_for_checkout(queryset):
    """Devices that may be checked out now: in service and not already out (第二十二条: a
    faulty device is never offered)."""
    out = DeviceHolding.objects.filter(kind=HoldingKind.CHECKOUT, ended_at__isnull=True)
    return queryset.filter(status=S.IN_SERVICE).exclude(pk__in=out.values("device_id"))


def _check_officer(device: Device, officer) -> None:
    if officer is None:
        raise InvalidInput("请选择执法人员")
    if not officer.unit.path.startswith(device.unit.path):
        raise InvalidInput("执法人员不属于设备所属单位")


def check_out(*, actor, device: Device, officer) -> DeviceHolding:
    """领用: an officer takes an in-service device for a shift. An officer checks out for
    himself; a device keeper for anyone of the device's unit."""
    me = user_officer(actor)
    if not unit_allowed(actor, "device.manage", device.unit):
        _require_use(actor, device, events.event_device_checked_out)
        if me is None or officer is None or me.pk != officer.pk:
            _refuse(actor, events.event_device_checked_out, device, "只能为本人领用设备")
    _check_officer(device, officer)
    with transaction.atomic():
        locked = Device.objects.select_for_update().get(pk=device.pk)
        if not available_for_checkout(Device.objects.filter(pk=locked.pk)).exists():
            if locked.status != S.IN_SERVICE:
                raise IllegalTransition(
                    f"设备状态为“{locked.get_status_display()}”，不能领用（第二十二条）")
            raise Conflict("设备已被领用，尚未归还")
        holding = DeviceHolding.objects.create(device=locked, officer=officer,
                                               kind=HoldingKind.CHECKOUT, started_by=actor)
        record(actor=actor, action=events.event_device_checked_out, target=locked,
               detail={"officer": officer.pk, "officer_name": officer.name})
    return holding


def return_device(*, actor, device: Device) -> DeviceHolding:
    """归还: ends the open check-out. The permission is checked before the device's state, so
    a role that may not use the device learns nothing of its check-outs (issue 16 item 17)."""
    manager = unit_allowed(actor, "device.manage", device.unit)
    if not manager:
        _require_use(actor, device, events.event_device_returned)
    holding = device.holdings.filter(kind=HoldingKind.CHECKOUT, ended_at__isnull=True).first()
    if holding is None:
        raise Conflict("该设备没有未归还的领用记录")
    me = user_officer(actor)
    if not manager:
        if me is None or me.pk != holding.officer_id:
            _refuse(actor, events.event_device_returned, device, "只能归还本人领用的设备")
    with transaction.atomic():
        holding.ended_at, holding.ended_by = timezone.now(), actor
        holding.save(update_fields=["ended_at", "ended_by"])
        record(actor=actor, action=events.event_device_returned, target=device,
               detail={"officer": holding.officer_id, "holding": holding.pk})
    return holding


def assign(*, actor, device: Device, officer=None) -> DeviceHolding | None:
    """配发 (a standing assignment) to ``officer``, or withdraw it (``officer=None``)."""
    _require_manage(actor, device, events.event_device_assigned)
    if officer is not None:
        _check_officer(device, officer)
        if device.status == S.RETIRED:
            raise IllegalTransition("已报废的设备不能配发")
    with transaction.atomic():
        _end_holdings(device, actor=actor, kinds=[HoldingKind.STANDING])
        holding = None
        if officer is not None:
            holding = DeviceHolding.objects.create(device=device, officer=officer,
                                                   kind=HoldingKind.STANDING, started_by=actor)
        Device.objects.filter(pk=device.pk).update(officer=officer)
        device.officer = officer
        record(actor=actor, action=events.event_device_assigned, target=device,
               detail={"officer": officer.pk if officer else None})
    return holding


# --- checks and upkeep ----------------------------------------------------------------------


def record_check(
    *,
    actor,
    device: Device,
    battery_percent: int,
    free_storage_mb: int,
    device_clock: datetime | None = None,
    officer=None,
    source: str = "officer",
) -> PreUseCheck:
    """使用前检查 (第二十一条): battery, free storage and the device's clock against the
    server's; a check below the thresholds is kept as failed, with its problems named."""
    # Who may check comes first: a refused attempt is audited whatever the form held (第二十六条).
    _require_use(actor, device, events.event_device_checked)
    if not 0 <= int(battery_percent) <= 100:
        raise InvalidInput("电量应在 0–100 之间", detail={"field": "battery_percent"})
    if int(free_storage_mb) < 0:
        raise InvalidInput("剩余存储不能为负数", detail={"field": "free_storage_mb"})
    now = timezone.now()
    offset = None
    if device_clock is not None:
        if timezone.is_naive(device_clock):
            device_clock = timezone.make_aware(device_clock)
        offset = round((device_clock - now).total_seconds())
    problems = []
    if battery_percent < MIN_BATTERY_PERCENT:
        problems.append(f"电量不足 {MIN_BATTERY_PERCENT}%")
    if free_storage_mb < MIN_FREE_STORAGE_MB:
        problems.append(f"剩余存储不足 {MIN_FREE_STORAGE_MB} MB")
    if offset is not None and abs(offset) > MAX_CLOCK_OFFSET_SECONDS:
        problems.append(f"设备时钟偏差 {offset} 秒（超过 {MAX_CLOCK_OFFSET_SECONDS} 秒）")
    with transaction.atomic():
        check = PreUseCheck.objects.create(
            device=device, officer=officer or user_officer(actor), checked_at=now,
            battery_percent=battery_percent, free_storage_mb=free_storage_mb,
            device_clock=device_clock, clock_offset_seconds=offset,
            passed=not problems, problems=problems, source=source, actor=actor,
        )
        record(actor=actor, action=events.event_device_checked, target=device,
               detail={"battery_percent": battery_percent, "free_storage_mb": free_storage_mb,
                       "clock_offset_seconds": offset, "problems": problems})
    return check


def record_maintenance(*, actor, device: Device, performed_by: str, description: str,
                       organisation: str = "", performed_at=None) -> MaintenanceRecord:
    """定期维护保养 (第二十一条): when, by whom, what was done."""
    performed_by, description = (performed_by or "").strip(), (description or "").strip()
    if not performed_by or not description:
        raise InvalidInput("请填写维护人员和维护内容")
    _require_manage(actor, device, events.event_device_maintained)
    if device.status == S.RETIRED:
        raise IllegalTransition("已报废的设备无需维护")
    performed_at = performed_at or timezone.now()
    if performed_at > timezone.now() + timedelta(minutes=5):
        raise InvalidInput("维护时间不能晚于当前时间")
    with transaction.atomic():
        entry = MaintenanceRecord.objects.create(
            device=device, kind=MaintenanceKind.MAINTENANCE, performed_at=performed_at,
            performed_by=performed_by[:100], organisation=organisation.strip()[:200],
            description=description, actor=actor,
        )
        record(actor=actor, action=events.event_device_maintained, target=device,
               detail={"performed_by": performed_by, "at": performed_at.isoformat()})
    return entry
