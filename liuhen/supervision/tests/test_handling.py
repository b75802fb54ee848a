"""Handling violations (第二十六条): detection raises each finding once, the legal affairs
office confirms or dismisses with a reason, a confirmed one gets a measure (限期整改 with a
deadline) and is closed; units and officers see their own judged ones; every step audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from liuhen.audit.models import AuditEntry
from liuhen.audit.services import record_denied
from liuhen.core.errors import Forbidden, IllegalTransition, InvalidInput
from liuhen.supervision import services
from liuhen.supervision.models import Violation
from liuhen.supervision.tests.factories import make_recording

pytestmark = pytest.mark.django_db


def _detect_two(people, at_local):
    """A night recording of officer_a (五) and refused reads by officer_b (三)."""
    make_recording(officer=people["officer_a"], captured=at_local(1, 23, 30))
    for i in range(3):
        record_denied(actor=people["officer_b"].user, action="recording.viewed",
                      target=("evidence.recording", str(i), "x"), reason="无权查看")
    return services.detect_violations(actor=people["legal"].user)


def test_detection_raises_each_finding_once(people, at_local):
    assert _detect_two(people, at_local) == {"findings": 2, "created": 2, "refreshed": 0}
    again = services.detect_violations()
    assert again == {"findings": 2, "created": 0, "refreshed": 0}
    assert Violation.objects.count() == 2
    night = Violation.objects.get(detector="outside_duty")
    services.dismiss(actor=people["legal"].user, violation=night, reason="夜间突击检查，已报备")
    services.detect_violations()
    assert Violation.objects.get(pk=night.pk).status == "dismissed"  # not raised again
    assert AuditEntry.objects.filter(action="violation.detected").count() == 3


def test_confirm_measure_close(people, at_local):
    _detect_two(people, at_local)
    legal = people["legal"].user
    v = Violation.objects.get(detector="access_refused")
    assert v.officer == people["officer_b"] and v.item == 3
    with pytest.raises(InvalidInput):
        services.confirm(actor=legal, violation=v, reason=" ")
    with pytest.raises(Forbidden):
        services.confirm(actor=people["head_a"].user, violation=v, reason="属实")
    v = services.confirm(actor=legal, violation=v, reason="多次查看他人案件的音像记录，属实")
    with pytest.raises(IllegalTransition):
        services.dismiss(actor=legal, violation=v, reason="改判")
    with pytest.raises(InvalidInput, match="期限"):
        services.take_measure(actor=legal, violation=v, measure="rectification")
    with pytest.raises(InvalidInput, match="晚于今天"):
        services.take_measure(actor=legal, violation=v, measure="rectification",
                              deadline=timezone.localdate())
    due = timezone.localdate() + timedelta(days=15)
    v = services.take_measure(actor=legal, violation=v, measure="rectification",
                              deadline=due, note="组织学习第十六条")
    assert v.status == "measure_taken" and v.measure_deadline == due
    v = services.close(actor=legal, violation=v, note="已整改并提交书面说明")
    assert v.status == "closed" and v.closed_at is not None
    assert [s.to_status for s in v.steps.all()] == ["open", "confirmed", "measure_taken",
                                                     "closed"]
    actions = list(AuditEntry.objects.filter(object_type="supervision.violation",
                                             object_id=str(v.pk)).order_by("seq")
                   .values_list("action", "outcome"))
    assert actions == [("violation.confirmed", "denied"), ("violation.confirmed", "succeeded"),
                       ("violation.measure_taken", "succeeded"),
                       ("violation.closed", "succeeded")]


def test_manual_entry_of_item_six(people, bureau):
    v = services.report_violation(actor=people["legal"].user, unit=bureau["team_a"],
                                  officer=people["officer_a"],
                                  description="执法时未佩戴执法记录仪")
    assert v.item == 6 and v.status == "open" and v.reported_by == people["legal"].user
    with pytest.raises(Forbidden):
        services.report_violation(actor=people["head_a"].user, unit=bureau["team_a"],
                                  description="x")
    with pytest.raises(InvalidInput):
        services.report_violation(actor=people["legal"].user, unit=bureau["team_b"],
                                  officer=people["officer_a"], description="x")


def test_units_and_officers_see_their_own_judged_ones(people, bureau, at_local):
    _detect_two(people, at_local)
    legal = people["legal"].user
    night = Violation.objects.get(detector="outside_duty")  # officer_a, team A
    reads = Violation.objects.get(detector="access_refused")  # officer_b, team B
    services.confirm(actor=legal, violation=night, reason="属实")
    services.confirm(actor=legal, violation=reads, reason="属实")
    extra = services.report_violation(actor=legal, unit=bureau["team_a"],
                                      officer=people["officer_a2"], description="未检查电量")
    services.confirm(actor=legal, violation=extra, reason="属实")

    def seen(officer):
        return set(services.visible_violations(officer.user).values_list("pk", flat=True))

    assert seen(people["legal"]) == {night.pk, reads.pk, extra.pk}
    assert seen(people["head_a"]) == {night.pk, extra.pk}
    assert seen(people["officer_a"]) == {night.pk}
    assert seen(people["officer_b"]) == {reads.pk}
    open_one = services.report_violation(actor=legal, unit=bureau["team_a"],
                                         officer=people["officer_a"], description="待核查")
    assert open_one.pk not in seen(people["officer_a"])  # not yet judged


def test_pages(people, at_local):
    _detect_two(people, at_local)
    legal = Client()
    legal.force_login(people["legal"].user)
    page = legal.get("/supervision/violations/").content.decode()
    assert "在执勤时段以外拍摄" in page and "立即检测" in page
    v = Violation.objects.get(detector="outside_duty")
    detail = legal.get(f"/supervision/violations/{v.pk}/").content.decode()
    assert "第二十六条（五）" in detail and f"/recordings/{v.evidence['recordings'][0]}/" in detail
    response = legal.post(f"/supervision/violations/{v.pk}/confirm/", {"reason": ""},
                          follow=True)
    assert "请填写确认理由" in response.content.decode()
    legal.post(f"/supervision/violations/{v.pk}/confirm/", {"reason": "属实"})
    response = legal.post(f"/supervision/violations/{v.pk}/measure/",
                          {"measure": "rectification", "deadline": "不是日期"}, follow=True)
    assert "格式不正确" in response.content.decode()
    officer = Client()
    officer.force_login(people["officer_a"].user)
    assert officer.get(f"/supervision/violations/{v.pk}/").status_code == 200
    assert "立即检测" not in officer.get("/supervision/violations/").content.decode()
    assert officer.post("/supervision/violations/detect/", follow=True).status_code == 200
    other = Client()
    other.force_login(people["officer_b"].user)
    assert other.get(f"/supervision/violations/{v.pk}/").status_code == 404


def test_api(people, bureau, api, at_local):
    _detect_two(people, at_local)
    legal = api(people["legal"])
    listed = legal.get("/api/violations", item=5).json()
    assert [v["detector"] for v in listed] == ["outside_duty"]
    vid = listed[0]["id"]
    assert legal.post(f"/api/violations/{vid}/confirm", {"reason": "属实"}).status_code == 200
    bad = legal.post(f"/api/violations/{vid}/measure", {"measure": "rectification"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_input"
    due = (timezone.localdate() + timedelta(days=10)).isoformat()
    done = legal.post(f"/api/violations/{vid}/measure",
                      {"measure": "rectification", "deadline": due})
    assert done.status_code == 200 and done.json()["measure_deadline"] == due
    refused = api(people["officer_a"]).post(f"/api/violations/{vid}/close", {"note": "x"})
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    created = legal.post("/api/violations", {"unit_id": bureau["team_a"].pk,
                                             "description": "擅自将执法记录仪带回家"})
    assert created.status_code == 201 and created.json()["item"] == 6
    assert api(people["officer_b"]).get(f"/api/violations/{vid}").status_code == 404
    assert legal.post("/api/violations/detect").json()["created"] == 0
