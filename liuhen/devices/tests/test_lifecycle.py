"""The device lifecycle (第二十一条, 第二十二条) and what it means for recordings (第十八条):
a faulty device stops being offered, a recording from it is flagged, repair by a named
professional returns it to service, and the history is complete and audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from liuhen.audit.models import AuditEntry
from liuhen.core.errors import Forbidden, IllegalTransition, InvalidInput
from liuhen.devices import queries, services
from liuhen.devices.choices import DeviceStatus
from liuhen.devices.models import Device
from liuhen.devices.tests.conftest import earlier

pytestmark = pytest.mark.django_db


def _available(device) -> bool:
    return services.available_for_checkout(Device.objects.filter(pk=device.pk)).exists()


def test_fault_takes_it_out_of_service_and_repair_returns_it(
    people, device, frozen_clock, ingest
):
    keeper, officer = people["device_keeper"].user, people["officer_a"]
    frozen_clock.move_to(earlier(hours=5))
    services.check_out(actor=officer.user, device=device, officer=officer)
    assert not _available(device)  # out with officer_a
    frozen_clock.move_to(earlier(hours=4))
    fault = services.report_fault(actor=officer.user, device=device, description="无法开机")
    device.refresh_from_db()
    assert device.status == DeviceStatus.FAULTY and not _available(device)
    assert not device.holdings.filter(ended_at__isnull=True, kind="checkout").exists()
    with pytest.raises(IllegalTransition):
        services.check_out(actor=people["officer_a2"].user, device=device,
                           officer=people["officer_a2"])
    # 第二十二条: the officer who used it may not repair it himself, nor may he send it off.
    with pytest.raises(InvalidInput, match="第二十二条"):
        services.start_repair(actor=keeper, device=device, repairer=officer.name,
                              organisation="支队装备室")
    with pytest.raises(Forbidden):
        services.start_repair(actor=officer.user, device=device, repairer="张工",
                              organisation="某电子设备维修中心")
    frozen_clock.move_to(earlier(hours=3))
    services.start_repair(actor=keeper, device=device, repairer="张工",
                          organisation="某电子设备维修中心")
    frozen_clock.move_to(earlier(hours=2))
    services.finish_repair(actor=keeper, device=device, done="更换电池模块")
    device.refresh_from_db()
    fault.refresh_from_db()
    assert device.status == DeviceStatus.IN_SERVICE and _available(device)
    assert fault.repairer == "张工" and fault.repair_done == "更换电池模块" and fault.repaired_at
    assert device.maintenance.get().kind == "repair"

    moves = list(device.transitions.values_list("from_status", "to_status"))
    assert moves == [("", "in_service"), ("in_service", "faulty"), ("faulty", "under_repair"),
                     ("under_repair", "in_service")]
    trail = list(AuditEntry.objects.filter(object_type="devices.device",
                                           object_id=str(device.pk)).order_by("seq")
                 .values_list("action", "outcome"))
    assert trail == [
        ("device.registered", "succeeded"), ("device.checked_out", "succeeded"),
        ("device.fault_reported", "succeeded"), ("device.repair_started", "denied"),
        ("device.repair_started", "succeeded"), ("device.repaired", "succeeded"),
    ]

    # 第十八条: recordings are judged by the moment of capture.
    frozen_clock.move_to(earlier(seconds=0))
    held = ingest(device, earlier(hours=4, minutes=30))
    broken = ingest(device, earlier(hours=3, minutes=30))
    repaired = ingest(device, earlier(hours=1))
    assert held.flags == []
    assert broken.flags == ["device_faulty", "device_unassigned"] and broken.is_flagged
    assert repaired.flags == ["device_unassigned"]


def test_a_device_held_by_someone_else_is_flagged(people, device, frozen_clock, ingest):
    frozen_clock.move_to(earlier(hours=5))
    services.assign(actor=people["device_keeper"].user, device=device,
                    officer=people["officer_a"])
    frozen_clock.move_to(earlier(hours=4))
    services.check_out(actor=people["officer_a2"].user, device=device,
                       officer=people["officer_a2"])
    frozen_clock.move_to(earlier(hours=3))
    services.return_device(actor=people["officer_a2"].user, device=device)
    frozen_clock.move_to(earlier(seconds=0))
    # While officer_a2 had it out, a recording credited to officer_a is someone else's device.
    assert ingest(device, earlier(hours=3, minutes=30)).flags == ["device_held_by_other"]
    # Before and after, officer_a's standing assignment covers him.
    assert ingest(device, earlier(hours=4, minutes=30)).flags == []
    assert ingest(device, earlier(hours=2)).flags == []
    assert queries.holder_at(device, earlier(hours=3, minutes=30)) == people["officer_a2"]


@pytest.mark.parametrize("start", ["retired", "in_service"])
def test_transitions_not_allowed_are_refused(people, device, start):
    keeper = people["device_keeper"].user
    if start == "retired":
        services.retire(actor=keeper, device=device, reason="外壳破裂，无法修复")
        with pytest.raises(IllegalTransition, match="报废"):
            services.report_fault(actor=keeper, device=device, description="再次故障")
        with pytest.raises(IllegalTransition):
            services.check_out(actor=keeper, device=device, officer=people["officer_a"])
    else:
        with pytest.raises(IllegalTransition):
            services.put_in_service(actor=keeper, device=device)
        with pytest.raises(IllegalTransition):
            services.finish_repair(actor=keeper, device=device, done="无")
    device.refresh_from_db()
    assert device.status == start


def test_registration_statuses(people, bureau):
    keeper = people["device_keeper"].user
    with pytest.raises(InvalidInput):
        services.register_device(actor=keeper, number="X-1", kind="camera",
                                 unit=bureau["team_a"], status="faulty")
    new = services.register_device(actor=keeper, number="X-2", kind="camera",
                                   unit=bureau["team_a"], status="registered",
                                   officer=people["officer_a"])
    assert not _available(new)
    services.put_in_service(actor=keeper, device=new)
    assert _available(new)
    assert new.holdings.get().kind == "standing"


def test_an_officer_of_another_unit_cannot_take_the_device(people, device):
    outsider = people["officer_b"]
    with pytest.raises(Forbidden):
        services.check_out(actor=outsider.user, device=device, officer=outsider)
    denied = AuditEntry.objects.get(action="device.checked_out", outcome="denied")
    assert denied.actor_id == outsider.user.pk
    # An officer checks out for himself only.
    with pytest.raises(Forbidden):
        services.check_out(actor=people["officer_a"].user, device=device,
                           officer=people["officer_a2"])


def test_pre_use_check_and_clock_correction(people, device, frozen_clock, ingest):
    """第二十一条: battery, storage and clock are checked before use; a known clock offset
    corrects the capture time, shown beside the original (第十八条)."""
    officer = people["officer_a"]
    frozen_clock.move_to(earlier(hours=5))
    good = services.record_check(actor=officer.user, device=device, battery_percent=90,
                                 free_storage_mb=20000,
                                 device_clock=timezone.now() + timedelta(seconds=2))
    assert good.passed and good.problems == [] and good.clock_offset_seconds == 2
    bad = services.record_check(actor=officer.user, device=device, battery_percent=12,
                                free_storage_mb=300,
                                device_clock=timezone.now() + timedelta(seconds=125))
    assert not bad.passed and bad.clock_offset_seconds == 125
    assert [p[:4] for p in bad.problems] == ["电量不足", "剩余存储", "设备时钟"]
    with pytest.raises(InvalidInput):
        services.record_check(actor=officer.user, device=device, battery_percent=140,
                              free_storage_mb=1)
    # Another team's officer is refused before the figures are read, and audited, whatever
    # they held (第二十六条): a malformed check was an unaudited 400 before.
    with pytest.raises(Forbidden):
        services.record_check(actor=people["officer_b"].user, device=device,
                              battery_percent=140, free_storage_mb=-1)
    denied = AuditEntry.objects.get(action="device.checked", outcome="denied")
    assert denied.actor_id == people["officer_b"].user.pk
    services.assign(actor=people["device_keeper"].user, device=device, officer=officer)
    frozen_clock.move_to(earlier(seconds=0))
    captured = earlier(hours=4)
    recording = ingest(device, captured)
    assert recording.captured_start == captured  # the original value is never rewritten
    correction = queries.corrected_capture_time(device, recording.captured_start)
    assert correction.offset_seconds == 125
    assert correction.corrected == captured - timedelta(seconds=125)
    client = Client()
    client.force_login(officer.user)
    page = client.get(f"/recordings/{recording.pk}/").content.decode()
    local = timezone.localtime
    assert f"校正后：{local(correction.corrected):%Y-%m-%d %H:%M:%S}" in page
    assert f"{local(captured):%Y-%m-%d %H:%M:%S}" in page and "偏差 125 秒" in page
    # A device nobody checked has no correction.
    other = services.register_device(actor=people["device_keeper"].user, number="DSJ-A-002",
                                      kind="body_camera", unit=device.unit)
    assert queries.corrected_capture_time(other, captured) is None


def test_maintenance_schedule(people, device, frozen_clock, settings):
    keeper = people["device_keeper"].user
    settings.DEVICE_MAINTENANCE_DAYS = 90
    interval = services.maintenance_interval(device)
    assert queries.maintenance_due(device, interval) == device.registered_at + timedelta(days=90)
    frozen_clock.move_to(device.registered_at + timedelta(days=100))
    assert queries.is_maintenance_overdue(device, interval)
    entry = services.record_maintenance(actor=keeper, device=device, performed_by="李工",
                                        description="清洁镜头，校准时钟，检查电池")
    assert queries.maintenance_due(device, interval) == entry.performed_at + timedelta(days=90)
    assert not queries.is_maintenance_overdue(device, interval)
    with pytest.raises(Forbidden):
        services.record_maintenance(actor=people["officer_a"].user, device=device,
                                    performed_by="自己", description="擦拭")
