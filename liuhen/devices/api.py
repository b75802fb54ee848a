"""JSON API of recording devices: list, register (第二十一条), show; thin over the services."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Router, Schema, Status

from liuhen.access.services import get_for, require
from liuhen.core.errors import InvalidInput
from liuhen.devices import events, services
from liuhen.devices.choices import DeviceKind, DeviceStatus
from liuhen.devices.models import Device
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
    number: str
    kind: str = DeviceKind.BODY_CAMERA
    unit_id: int
    officer_id: int | None = None
    status: str = DeviceStatus.IN_SERVICE
    model_name: str = ""
    notes: str = ""


@router.get("/devices", response=list[DeviceOut], summary="设备列表")
def list_devices(request, number: str = "", unit: int | None = None):
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
