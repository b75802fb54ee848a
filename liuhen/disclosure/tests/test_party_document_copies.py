"""Party copies of case documents (第十七条第二款): a party may ask for copies of the case's
文书 too. Registered like a recording's copy, approved by the leader in charge, made as a PDF
with the recipient, the time and the register number over every page (watermark_pdf), recorded
with its own SHA-256 and SM3 beside the original's; the original is untouched; refused for
国家秘密 and, since the text cannot be redacted here, for the other marks (第十七条第四款)."""

from __future__ import annotations

import hashlib

import pytest

from conftest import logged_in
from liuhen.audit.models import AuditEntry
from liuhen.core.errors import Conflict, Forbidden
from liuhen.disclosure import decisions, events, marks, services
from liuhen.disclosure.models import PartyCopy
from liuhen.disclosure.tests.marked import pdf_text, stored_sha256
from liuhen.evidence.storage import get_storage
from liuhen.records import pdf as record_pdf
from liuhen.records import services as record_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(handled_case):
    return handled_case


@pytest.fixture
def decision(people, case):
    return record_pdf.generate_document(actor=people["officer_a"].user, case=case,
                                        doc_type="penalty_decision", store=True).document


def _register(people, document):
    return services.register_party_copy(
        actor=people["officer_a"].user, document=document, recipient_name="张三",
        recipient_number="130102199001011234", identity_check="id_card",
        reason="申请行政复议需要")


def test_a_document_copy_is_registered_approved_and_made_as_a_watermarked_pdf(
        people, case, decision):
    before = stored_sha256(decision.storage_key)
    page = logged_in(people["officer_a"]).get(f"/cases/{case.pk}/").content.decode()
    assert f"/disclosure/copies/new/?document={decision.pk}" in page
    form = logged_in(people["officer_a"]).get(f"/disclosure/copies/new/?document={decision.pk}")
    assert form.status_code == 200 and 'name="document"' in form.content.decode()
    registered = logged_in(people["officer_a"]).post("/disclosure/copies/new/", {
        "document": decision.pk, "recipient_name": "张三", "identity_check": "id_card",
        "reason": "申请行政复议需要"})
    assert registered.status_code == 302
    copy = PartyCopy.objects.get()
    assert copy.document == decision and copy.recording is None
    assert copy.unit == case.unit
    with pytest.raises(Forbidden):  # the registrar never approves their own
        decisions.decide(kind=decisions.PARTY_COPY, approver=people["officer_a"].user,
                         pk=copy.pk, approve=True)
    decisions.decide(kind=decisions.PARTY_COPY, approver=people["leader"].user, pk=copy.pk,
                     approve=True)
    made = services.make_party_copy(actor=people["officer_a"].user, copy_id=copy.pk)
    assert made.status == "made" and made.copy_key.endswith(".pdf")
    with get_storage().open(made.copy_key) as fh:
        data = fh.read()
    assert hashlib.sha256(data).hexdigest() == made.copy_sha256 != decision.sha256
    for text in pdf_text(data):  # every page carries the recipient and the register number
        assert made.number in text and "张三" in text and "不得外传" in text, text
    entry = AuditEntry.objects.get(action=events.event_copy_made, outcome="succeeded")
    assert entry.actor_id == people["officer_a"].user.pk
    assert entry.detail["sm3"] == made.copy_sm3 and entry.detail["source_sha256"] == \
        decision.sha256
    assert stored_sha256(decision.storage_key) == before == decision.sha256

    shown = logged_in(people["officer_a"]).get(f"/disclosure/copies/{copy.pk}/").content.decode()
    assert made.copy_sha256 in shown and "文字记录" in shown
    got = logged_in(people["officer_a"]).get(f"/disclosure/copies/{copy.pk}/download")
    assert got.status_code == 200 and b"".join(got.streaming_content) == data
    listed = logged_in(people["leader"]).get("/disclosure/").content.decode()
    assert copy.number in listed


def test_the_api_registers_a_document_copy(people, decision, api):
    created = api(people["officer_a"]).post("/api/disclosure/copies", {
        "document_id": decision.pk, "recipient_name": "张三", "identity_check": "id_card",
        "reason": "申请行政复议需要"})
    assert created.status_code == 201, created.content
    assert created.json()["document_id"] == decision.pk
    assert created.json()["recording_id"] is None
    both = api(people["officer_a"]).post("/api/disclosure/copies", {
        "recipient_name": "张三", "identity_check": "id_card", "reason": "申请"})
    assert both.status_code == 400
    outsider = api(people["officer_b"]).post("/api/disclosure/copies", {
        "document_id": decision.pk, "recipient_name": "张三", "identity_check": "id_card",
        "reason": "申请行政复议需要"})
    assert outsider.status_code == 404
    assert AuditEntry.objects.filter(action=events.event_copy_registered, outcome="denied",
                                     actor_id=people["officer_b"].user.pk).exists()


def test_marks_refuse_document_copies(people, case, decision):
    """第十七条第四款: 国家秘密 at registration; a privacy mark at making (no redaction of text)."""
    copy = _register(people, decision)
    decisions.decide(kind=decisions.PARTY_COPY, approver=people["leader"].user, pk=copy.pk,
                     approve=True)
    marks.set_mark(actor=people["head_a"].user, target=case, level="privacy",
                   reason="含他人个人信息")
    with pytest.raises(Conflict, match="不能遮挡文书内容"):
        services.make_party_copy(actor=people["officer_a"].user, copy_id=copy.pk)
    marks.set_mark(actor=people["head_a"].user, target=case, level="state_secret",
                   reason="涉及国家秘密")
    with pytest.raises(Conflict, match="国家秘密"):
        _register(people, decision)
    denied = AuditEntry.objects.filter(action=events.event_copy_registered, outcome="denied",
                                       object_type="records.document",
                                       object_id=str(decision.pk)).get()
    assert denied.actor_id == people["officer_a"].user.pk


def test_a_document_without_a_markable_file_is_refused(people, case, tmp_path):
    text = tmp_path / "笔录.txt"
    text.write_text("询问笔录", encoding="utf-8")
    document = record_services.add_document(actor=people["officer_a"].user, case=case,
                                            doc_type="inquiry_record", file_path=text)
    with pytest.raises(Conflict, match="不能加水印"):
        _register(people, document)
    assert not PartyCopy.objects.exists()
