"""The devices area's pages and API: scoped like every device view (device.view), actions
through the services, refusals as a Chinese message or a JSON {code, message}."""

from __future__ import annotations

import pytest
from django.test import Client

from conftest import logged_in as _client
from liuhen.audit.models import AuditEntry
from liuhen.devices.tests.conftest import earlier

pytestmark = pytest.mark.django_db


def test_list_and_detail_are_scoped(people, device):
    own = _client(people["officer_a"]).get("/devices/")
    assert own.status_code == 200 and "DSJ-A-001" in own.content.decode()
    other = _client(people["officer_b"])
    assert "DSJ-A-001" not in other.get("/devices/").content.decode()
    assert other.get(f"/devices/{device.pk}/").status_code == 404
    assert AuditEntry.objects.filter(action="device.viewed", outcome="denied",
                                     actor_id=people["officer_b"].user.pk).exists()
    page = _client(people["officer_a"]).get(f"/devices/{device.pk}/")
    assert page.status_code == 200 and "使用前检查" in page.content.decode()
    assert Client().get("/devices/").status_code == 302  # login first


def test_fault_and_repair_through_the_page(people, device, frozen_clock):
    frozen_clock.move_to(earlier(seconds=0))
    officer, keeper = _client(people["officer_a"]), _client(people["device_keeper"])
    response = officer.post(f"/devices/{device.pk}/fault/", {"description": "镜头进水"},
                            follow=True)
    assert "已报告故障" in response.content.decode()
    device.refresh_from_db()
    assert device.status == "faulty"
    page = officer.get(f"/devices/{device.pk}/").content.decode()
    assert "领用设备" not in page and "镜头进水" in page
    # Refused: the message is Chinese, the page answers 200 after the redirect, never 500.
    response = keeper.post(f"/devices/{device.pk}/repair_start/", {"repairer": ""},
                           follow=True)
    assert response.status_code == 200 and "专业人员维修" in response.content.decode()
    keeper.post(f"/devices/{device.pk}/repair_start/",
                {"repairer": "张工", "organisation": "某电子设备维修中心"})
    keeper.post(f"/devices/{device.pk}/repair_finish/", {"done": "更换镜头模组"})
    device.refresh_from_db()
    assert device.status == "in_service"
    history = keeper.get(f"/devices/{device.pk}/").content.decode()
    assert "张工" in history and "更换镜头模组" in history and "维修中" in history
    assert keeper.post(f"/devices/{device.pk}/nonsense/").status_code == 404
    response = officer.post(f"/devices/{device.pk}/check/",
                            {"battery_percent": "abc", "free_storage_mb": "1"}, follow=True)
    assert "请填写电量" in response.content.decode()


def test_api_lifecycle(people, device, api, frozen_clock):
    frozen_clock.move_to(earlier(seconds=0))
    officer, keeper = api(people["officer_a"]), api(people["device_keeper"])
    assert officer.post(f"/api/devices/{device.pk}/checkout", {}).status_code == 201
    response = officer.post(f"/api/devices/{device.pk}/faults", {"description": "死机"})
    assert response.status_code == 201 and response.json()["description"] == "死机"
    refused = api(people["officer_a2"]).post(f"/api/devices/{device.pk}/checkout", {})
    assert refused.status_code == 409 and refused.json()["code"] == "illegal_transition"
    assert "故障" in refused.json()["message"]
    selfish = keeper.post(f"/api/devices/{device.pk}/repair",
                          {"repairer": people["officer_a"].name, "organisation": "装备室"})
    assert selfish.status_code == 400 and "第二十二条" in selfish.json()["message"]
    assert keeper.post(f"/api/devices/{device.pk}/repair",
                       {"repairer": "张工", "organisation": "维修中心"}).status_code == 200
    assert keeper.post(f"/api/devices/{device.pk}/repair/done",
                       {"done": "重装固件"}).status_code == 200
    check = officer.post(f"/api/devices/{device.pk}/checks",
                         {"battery_percent": 80, "free_storage_mb": 4096})
    assert check.status_code == 201 and check.json()["passed"] is True
    history = officer.get(f"/api/devices/{device.pk}/history").json()
    assert [t["to_status"] for t in history["transitions"]] == [
        "in_service", "faulty", "under_repair", "in_service"]
    assert history["faults"][0]["repair_done"] == "重装固件"
    assert history["holdings"][0]["ended_at"] is not None
    assert api(people["officer_b"]).get(f"/api/devices/{device.pk}/history").status_code == 404
