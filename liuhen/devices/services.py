"""Domain rules of devices: registration with the number printed on the device (第二十一条)."""

from __future__ import annotations

from django.db import transaction

from liuhen.access.querysets import unit_allowed
from liuhen.audit.services import record, record_denied
from liuhen.core.errors import Conflict, Forbidden, InvalidInput
from liuhen.devices import events
from liuhen.devices.choices import DeviceKind, DeviceStatus
from liuhen.devices.models import Device


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
    """Register a recording device with the number printed on it (第二十一条)."""
    number = (number or "").strip()
    if not number:
        raise InvalidInput("请填写设备编号")
    if kind not in DeviceKind.values:
        raise InvalidInput("设备类型不正确")
    if status not in DeviceStatus.values:
        raise InvalidInput("设备状态不正确")
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
