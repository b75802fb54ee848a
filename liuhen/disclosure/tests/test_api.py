"""API of party copies (第十七条第二款) and supplies (第十七条第三款): register, the leader in
charge's decision (the registrar never approves, a unit head never does), the plan, make or
build, hand over, download what was given; another team sees nothing. The same services as the
pages: the audit entries prove it."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone

from liuhen.audit.models import AuditEntry
from liuhen.disclosure import events
from liuhen.disclosure.models import PartyCopy, Supply
from liuhen.disclosure.supply import kept_zip
from liuhen.evidence.digests import digest_file

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
    download = officer.get(f"/api/disclosure/copies/{copy_id}/download")
    assert download.status_code == 200
    got = hashlib.sha256(b"".join(download.streaming_content)).hexdigest()
    assert got == made.json()["copy_sha256"] != recording.sha256  # the copy, never the original
    assert AuditEntry.objects.filter(action=events.event_copy_downloaded, outcome="succeeded",
                                     actor_id=people["officer_a"].user.pk).exists()
    assert api(people["officer_b"]).get(
        f"/api/disclosure/copies/{copy_id}/download").status_code == 404
    handed = officer.post(f"/api/disclosure/copies/{copy_id}/hand-over")
    assert handed.json()["status"] == "handed_over"
    assert [c["id"] for c in officer.get("/api/disclosure/copies").json()] == [copy_id]
    assert PartyCopy.objects.get().copy_sha256 == made.json()["copy_sha256"]
    assert officer.get("/api/disclosure/supplies").json() == []


def test_supply_through_the_api(people, filed_case, key, sm2_key, api):
    """第十七条第三款 through the API: registered by the legal affairs office, refused to a unit
    head and to the registrar, approved by the leader in charge, built, checked, downloaded
    (the bytes the register describes), handed over."""
    legal, leader = api(people["legal"]), api(people["leader"])
    received = timezone.localdate() - timedelta(days=2)
    body = {"case_id": filed_case.pk, "body_kind": "court", "body_name": "某市某区人民法院",
            "letter_number": "（2026）冀0102行初15号", "received_on": received.isoformat()}
    assert api(people["officer_b"]).post("/api/disclosure/supplies", body).status_code == 404
    assert legal.post("/api/disclosure/supplies", body | {"letter_number": " "}).status_code == 400
    created = legal.post("/api/disclosure/supplies", body)
    assert created.status_code == 201, created.content
    row = created.json()
    supply_id = row["id"]
    assert row["status"] == "requested" and "第六十七条" in row["response_rule"]
    assert len(row["document_ids"]) == 2 and len(row["recording_ids"]) == 2
    assert legal.post(f"/api/disclosure/supplies/{supply_id}/build").status_code == 409
    for refused in (legal, api(people["head_a"])):  # the registrar, a unit head
        answer = refused.post(f"/api/disclosure/supplies/{supply_id}/decision",
                              {"decision": "approve"})
        assert answer.status_code in (403, 404), answer.content
    assert leader.post(f"/api/disclosure/supplies/{supply_id}/decision",
                       {"decision": "refuse"}).status_code == 400  # a refusal gives a reason
    decided = leader.post(f"/api/disclosure/supplies/{supply_id}/decision",
                          {"decision": "approve", "note": "同意提供"})
    assert decided.status_code == 200 and decided.json()["status"] == "approved"
    assert decided.json()["decided_by_id"] == people["leader"].user.pk
    assert api(people["officer_b"]).get(
        f"/api/disclosure/supplies/{supply_id}").status_code == 404
    assert legal.get(f"/api/disclosure/supplies/{supply_id}/package").status_code == 404
    built = legal.post(f"/api/disclosure/supplies/{supply_id}/build")
    assert built.status_code == 200, built.content
    assert built.json()["status"] == "built" and built.json()["key_fingerprint"] == key.fingerprint
    assert built.json()["sm2_key_fingerprint"] == sm2_key.fingerprint  # GB/T 32918, beside it
    checked = legal.post(f"/api/disclosure/supplies/{supply_id}/check")
    assert checked.json() == {"zip_ok": True, "package_ok": True, "failures": []}
    package = legal.get(f"/api/disclosure/supplies/{supply_id}/package")
    assert package.status_code == 200
    data = b"".join(package.streaming_content)
    kept = Supply.objects.get(pk=supply_id)
    assert hashlib.sha256(data).hexdigest() == kept.zip_sha256 == built.json()["zip_sha256"]
    assert digest_file(kept_zip(kept)).sha256 == kept.zip_sha256
    assert legal.post(f"/api/disclosure/supplies/{supply_id}/supplied",
                      {"how": " "}).status_code == 400
    handed = legal.post(f"/api/disclosure/supplies/{supply_id}/supplied", {"how": "当面递交书记员"})
    assert handed.json()["status"] == "supplied" and handed.json()["supplied_how"]
    assert [s["id"] for s in legal.get("/api/disclosure/supplies").json()] == [supply_id]
    actions = list(AuditEntry.objects.filter(object_type="disclosure.supply",
                                             object_id=str(supply_id), outcome="succeeded")
                   .order_by("seq").values_list("action", flat=True))
    assert actions == [events.event_supply_registered, events.event_supply_approved,
                       events.event_supply_built, events.event_supply_checked,
                       events.event_supply_downloaded, events.event_supply_supplied]
    assert AuditEntry.objects.filter(action=events.event_supply_approved, outcome="denied",
                                     actor_id=people["head_a"].user.pk).exists()
