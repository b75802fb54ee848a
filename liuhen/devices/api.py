"""JSON API of recording devices: list, register (第二十一条), show, the history and the
lifecycle's actions (第二十一条, 第二十二条); thin over the services."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Router, Schema, Status

from liuhen.access.services import get_for, require
from liuhen.core.errors import InvalidInput
from liuhen.core.schemas import Code, Id, Name, Reason, Short
from liuhen.devices import events, services
from liuhen.devices.choices import DeviceKind, DeviceStatus
from liuhen.devices.models import Device
from liuhen.devices.queries import maintenance_due
from liuhen.org.models import Officer, Unit

# The same tag as the vault's router: the API groups them as it did before issue 15.
router = Router(tags=["音像记录"])


class DeviceOut(Schema):
    id: int
    number: str
    kind: str
    kind_label: str = Field(..., alias="get_kind_display")
    unit_id: int
    officer_id: int | None
    status: str
    status_label: str = Field(..., alias="get_status_display")
    model_name: str
    notes: str
    registered_at: datetime


class DeviceIn(Schema):
    number: Code
    kind: Code = DeviceKind.BODY_CAMERA
    unit_id: int
    officer_id: int | None = None
    status: Code = DeviceStatus.IN_SERVICE
    model_name: Short = ""
    notes: Reason = ""


@router.get("/devices", response=list[DeviceOut], summary="设备列表")
def list_devices(request, number: Code = "", unit: Id | None = None):
    require(request.user, "device.view", event=events.event_device_listed)
    qs = Device.objects.restrict(request.user, "device.view").select_related("unit")
    if number.strip():
        qs = qs.filter(number__istartswith=number.strip())
    if unit:
        qs = qs.filter(unit_id=unit)
    return list(qs[:500])


@router.post("/devices", response={201: DeviceOut}, summary="登记设备（第二十一条）")
def register_device(request, payload: DeviceIn):
    require(request.user, "device.manage", event=events.event_device_registered)
    unit = Unit.objects.filter(pk=payload.unit_id).first()
    if unit is None:
        raise InvalidInput("执法单位不存在", detail={"field": "unit_id"})
    officer = None
    if payload.officer_id:
        officer = Officer.objects.filter(pk=payload.officer_id).first()
        if officer is None:
            raise InvalidInput("执法人员不存在", detail={"field": "officer_id"})
    device = services.register_device(
        actor=request.user,
        number=payload.number,
        kind=payload.kind,
        unit=unit,
        officer=officer,
        status=payload.status,
        model_name=payload.model_name,
        notes=payload.notes,
    )
    return Status(201, device)


@router.get("/devices/{device_id}", response=DeviceOut, summary="设备详情")
def show_device(request, device_id: int):
    return get_for(
        request.user,
        "device.view",
        Device.objects,
        device_id,
        read_event=events.event_device_viewed,
    )


# --- history and lifecycle (第二十一条, 第二十二条) -------------------------------------------


class TransitionOut(Schema):
    from_status: str
    to_status: str
    at: datetime
    actor_id: int
    reason: str


class HoldingOut(Schema):
    officer_id: int
    kind: str
    started_at: datetime
    ended_at: datetime | None


class CheckOut(Schema):
    checked_at: datetime
    officer_id: int | None
    battery_percent: int
    free_storage_mb: int
    device_clock: datetime | None
    clock_offset_seconds: int | None
    passed: bool
    problems: list[str]
    source: str


class FaultOut(Schema):
    id: int
    reported_at: datetime
    reported_by_id: int
    description: str
    repairer: str
    repairer_organisation: str
    repair_started_at: datetime | None
    repaired_at: datetime | None
    repair_done: str


class MaintenanceOut(Schema):
    kind: str
    performed_at: datetime
    performed_by: str
    organisation: str
    description: str


class HistoryOut(Schema):
    device: DeviceOut
    maintenance_due: datetime
    transitions: list[TransitionOut]
    holdings: list[HoldingOut]
    checks: list[CheckOut]
    faults: list[FaultOut]
    maintenance: list[MaintenanceOut]


class FaultIn(Schema):
    description: Reason


class RepairIn(Schema):
    repairer: Short
    organisation: Name


class RepairDoneIn(Schema):
    done: Reason


class ReasonIn(Schema):
    reason: Reason = ""


class OfficerIn(Schema):
    officer_id: int | None = None


class CheckIn(Schema):
    battery_percent: int
    free_storage_mb: int
    device_clock: datetime | None = None


class MaintenanceIn(Schema):
    performed_by: Short
    description: Reason
    organisation: Name = ""
    performed_at: datetime | None = None


def _device(request, device_id: int) -> Device:
    return get_for(request.user, "device.view", Device.objects.select_related("unit"), device_id)


def _officer_of(device: Device, officer_id: int | None):
    if officer_id is None:
        return None
    officer = Officer.objects.filter(pk=officer_id,
                                     unit__path__startswith=device.unit.path).first()
    if officer is None:
        raise InvalidInput("执法人员不存在或不属于设备所属单位", detail={"field": "officer_id"})
    return officer


@router.get("/devices/{device_id}/history", response=HistoryOut, summary="设备履历")
def device_history(request, device_id: int):
    device = get_for(request.user, "device.view", Device.objects, device_id,
                     read_event=events.event_device_viewed)
    return {
        "device": device,
        "maintenance_due": maintenance_due(device, services.maintenance_interval(device)),
        "transitions": list(device.transitions.order_by("at", "id")),
        "holdings": list(device.holdings.order_by("started_at", "id")),
        "checks": list(device.checks.order_by("checked_at", "id")),
        "faults": list(device.faults.order_by("reported_at", "id")),
        "maintenance": list(device.maintenance.order_by("performed_at", "id")),
    }


@router.post("/devices/{device_id}/in-service", response=DeviceOut, summary="投入使用")
def device_put_in_service(request, device_id: int, payload: ReasonIn):
    device = _device(request, device_id)
    return services.put_in_service(actor=request.user, device=device, reason=payload.reason)


@router.post("/devices/{device_id}/faults", response={201: FaultOut},
             summary="报告故障，立即停止使用（第二十二条）")
def device_report_fault(request, device_id: int, payload: FaultIn):
    device = _device(request, device_id)
    return Status(201, services.report_fault(actor=request.user, device=device,
                                             description=payload.description))


@router.post("/devices/{device_id}/repair", response=FaultOut,
             summary="送修：专业人员维修（第二十二条）")
def device_start_repair(request, device_id: int, payload: RepairIn):
    device = _device(request, device_id)
    return services.start_repair(actor=request.user, device=device, repairer=payload.repairer,
                                 organisation=payload.organisation)


@router.post("/devices/{device_id}/repair/done", response=MaintenanceOut,
             summary="修复，恢复使用")
def device_finish_repair(request, device_id: int, payload: RepairDoneIn):
    device = _device(request, device_id)
    return services.finish_repair(actor=request.user, device=device, done=payload.done)


@router.post("/devices/{device_id}/retire", response=DeviceOut, summary="报废")
def device_retire(request, device_id: int, payload: ReasonIn):
    device = _device(request, device_id)
    return services.retire(actor=request.user, device=device, reason=payload.reason)


@router.post("/devices/{device_id}/checkout", response={201: HoldingOut}, summary="领用")
def device_check_out(request, device_id: int, payload: OfficerIn):
    device = _device(request, device_id)
    officer = _officer_of(device, payload.officer_id) or services.user_officer(request.user)
    return Status(201, services.check_out(actor=request.user, device=device, officer=officer))


@router.post("/devices/{device_id}/return", response=HoldingOut, summary="归还")
def device_return(request, device_id: int):
    device = _device(request, device_id)
    return services.return_device(actor=request.user, device=device)


@router.post("/devices/{device_id}/assignment", response=DeviceOut, summary="配发或收回")
def device_assign(request, device_id: int, payload: OfficerIn):
    device = _device(request, device_id)
    services.assign(actor=request.user, device=device,
                    officer=_officer_of(device, payload.officer_id))
    return device


@router.post("/devices/{device_id}/checks", response={201: CheckOut},
             summary="使用前检查（第二十一条）")
def device_check(request, device_id: int, payload: CheckIn):
    device = _device(request, device_id)
    return Status(201, services.record_check(
        actor=request.user, device=device, battery_percent=payload.battery_percent,
        free_storage_mb=payload.free_storage_mb, device_clock=payload.device_clock))


@router.post("/devices/{device_id}/maintenance", response={201: MaintenanceOut},
             summary="登记维护保养（第二十一条）")
def device_maintain(request, device_id: int, payload: MaintenanceIn):
    device = _device(request, device_id)
    return Status(201, services.record_maintenance(
        actor=request.user, device=device, performed_by=payload.performed_by,
        description=payload.description, organisation=payload.organisation,
        performed_at=payload.performed_at))
