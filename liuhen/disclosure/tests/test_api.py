"""API of party copies (第十七条第二款): register, the leader's decision, the plan, make, hand
over; the registrar never approves; another team sees nothing; the supply register lists."""

from __future__ import annotations

import pytest

from liuhen.disclosure.models import PartyCopy

pytestmark = pytest.mark.django_db


def test_party_copy_through_the_api(people, stored_recording, api):
    recording = stored_recording()
    officer, leader = api(people["officer_a"]), api(people["leader"])
    created = officer.post("/api/disclosure/copies", {
        "recording_id": recording.pk, "recipient_name": "李某", "identity_check": "id_card",
        "reason": "提起行政诉讼"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "registered" and body["confidentiality"] == "none"
    copy_id = body["id"]
    assert officer.post(f"/api/disclosure/copies/{copy_id}/decision",
                        {"decision": "approve"}).status_code == 403
    assert api(people["officer_b"]).get(
        f"/api/disclosure/copies/{copy_id}").status_code == 404
    plan = officer.post(f"/api/disclosure/copies/{copy_id}/plan", {"plan": "静音 0 0.3 电话号码"})
    assert plan.status_code == 200 and plan.json()["redaction_plan"]["mutes"][0]["end"] == 0.3
    assert officer.post(f"/api/disclosure/copies/{copy_id}/plan",
                        {"plan": "模糊 全部"}).status_code == 400
    decided = leader.post(f"/api/disclosure/copies/{copy_id}/decision",
                          {"decision": "approve", "note": "同意"})
    assert decided.status_code == 200 and decided.json()["status"] == "approved"
    made = officer.post(f"/api/disclosure/copies/{copy_id}/make")
    assert made.status_code == 200 and made.json()["copy_sha256"]
    handed = officer.post(f"/api/disclosure/copies/{copy_id}/hand-over")
    assert handed.json()["status"] == "handed_over"
    assert [c["id"] for c in officer.get("/api/disclosure/copies").json()] == [copy_id]
    assert PartyCopy.objects.get().copy_sha256 == made.json()["copy_sha256"]
    assert officer.get("/api/disclosure/supplies").json() == []
