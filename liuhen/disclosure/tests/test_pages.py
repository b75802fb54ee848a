"""Pages of 第十七条: party copies (register, approve, make, download the watermarked copy),
supplies with their register and exports, confidentiality marks (第十七条第四款) refusing
copies and exports, redaction plans, and the unusual-use listing (第二十六条第三项)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from types import SimpleNamespace

import pytest
from django.utils import timezone
from pypdf import PdfReader

from conftest import logged_in
from liuhen.access import grants
from liuhen.access.use import check_use
from liuhen.audit.models import AuditEntry
from liuhen.core import inbox
from liuhen.core.errors import Conflict, Forbidden, InvalidInput
from liuhen.disclosure import events, marks, services, unusual
from liuhen.disclosure.models import PartyCopy, Supply
from liuhen.disclosure.supply import register_supply

pytestmark = pytest.mark.django_db


@pytest.fixture
def recording(stored_recording):
    return stored_recording()


def test_party_copy_through_the_pages(people, recording):
    officer, leader = logged_in(people["officer_a"].user), logged_in(people["leader"].user)
    assert officer.get("/disclosure/").status_code == 200
    page = officer.get(f"/disclosure/copies/new/?recording={recording.pk}")
    assert page.status_code == 200 and "身份核验方式" in page.content.decode()
    response = officer.post("/disclosure/copies/new/", {
        "recording": recording.pk, "recipient_name": "王某", "recipient_number": "",
        "identity_check": "id_card", "reason": "申请行政复议"})
    copy = PartyCopy.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/disclosure/copies/{copy.pk}/"
    # 待办: it waits for the leader in charge, not for the officer who registered it.
    waiting = {s.key: s for s in inbox.sections(people["leader"].user)}
    assert waiting["disclosure_approvals"].count == 1
    assert waiting["disclosure_approvals"].items[0].url == f"/disclosure/copies/{copy.pk}/"
    assert "disclosure_approvals" not in {s.key for s in inbox.sections(people["officer_a"].user)}
    # The officer cannot approve; the leader in charge can, on the page.
    officer.post(f"/disclosure/copies/{copy.pk}/approve/", {"note": ""})
    assert PartyCopy.objects.get().status == "registered"
    page = leader.get(f"/disclosure/copies/{copy.pk}/").content.decode()
    assert "批准" in page and "不予批准" in page
    leader.post(f"/disclosure/copies/{copy.pk}/approve/", {"note": "同意"})
    assert PartyCopy.objects.get().status == "approved"
    assert officer.get(f"/disclosure/copies/{copy.pk}/download").status_code == 404  # not made
    officer.post(f"/disclosure/copies/{copy.pk}/make/")
    copy.refresh_from_db()
    assert copy.status == "made"
    download = officer.get(f"/disclosure/copies/{copy.pk}/download")
    assert download.status_code == 200
    body = b"".join(download.streaming_content)
    assert hashlib.sha256(body).hexdigest() == copy.copy_sha256 != recording.sha256
    assert AuditEntry.objects.filter(action=events.event_copy_downloaded,
                                     outcome="succeeded").exists()
    # Another team's officer sees nothing of it.
    other = logged_in(people["officer_b"].user)
    assert other.get(f"/disclosure/copies/{copy.pk}/").status_code == 404
    assert other.get(f"/disclosure/copies/{copy.pk}/download").status_code == 404
    officer.post(f"/disclosure/copies/{copy.pk}/hand-over/")
    assert PartyCopy.objects.get().status == "handed_over"
    # Bad input never 500s.
    assert officer.get("/disclosure/copies/new/?recording=abc").status_code == 200
    assert officer.post("/disclosure/copies/new/", {"recording": "x"}).status_code == 400
    assert officer.post(f"/disclosure/copies/{copy.pk}/nonsense/").status_code == 404
    assert officer.get(f"/disclosure/copies/{copy.pk}/preview.jpg?t=x").status_code == 400


def test_redaction_preview_is_a_view_of_the_original_checked_and_audited(people, recording):
    """A still of the original is record content (第十六条): the officer who registered the
    party's request and the leader in charge see it while the request waits (第十七条第二款、
    第四款); the legal affairs office, which may read the copy register bureau-wide, may not
    without a right or a grant (it could before: 200, and no audit entry at all). Every
    preview, allowed or refused, is in the audit log against the recording (第二十六条第三项)."""
    officer, leader, legal = (people[k].user for k in ("officer_a", "leader", "legal"))
    copy = services.register_party_copy(actor=officer, recording=recording,
                                        recipient_name="王某", identity_check="id_card",
                                        reason="复议")
    url = f"/disclosure/copies/{copy.pk}/preview.jpg?t=0.4"
    assert logged_in(legal).get(f"/disclosure/copies/{copy.pk}/").status_code == 200
    refused = logged_in(legal).get(url)
    assert refused.status_code == 403 and refused.content[:2] != b"\xff\xd8"
    denied = AuditEntry.objects.get(action=events.event_copy_previewed, outcome="denied")
    assert (denied.actor_id, denied.object_type, denied.object_id) == (
        legal.pk, "evidence.recording", str(recording.pk))
    for who in (officer, leader):
        answer = logged_in(who).get(url)
        assert answer.status_code == 200 and answer.content[:2] == b"\xff\xd8"
    seen = AuditEntry.objects.filter(action=events.event_copy_previewed,
                                     outcome="succeeded").order_by("seq")
    assert [(e.actor_id, e.object_type, e.object_id, e.detail["right"], e.detail["copy"],
             e.detail["preview_at"]) for e in seen] == [
        (who.pk, "evidence.recording", str(recording.pk), "party_copy", copy.number, 0.4)
        for who in (officer, leader)]
    # Once the request is decided and refused, handling it is over: the leader, who has no
    # right to view this team's recording, no longer sees its stills.
    services.refuse_party_copy(approver=leader, copy_id=copy.pk, reason="不符合条件")
    assert logged_in(leader).get(url).status_code == 403
    # The audit page reads the entry in words.
    page = logged_in(legal).get("/audit/?action=" + events.event_copy_previewed).content.decode()
    assert "办理当事人复制申请（登记人、审批人）" in page and "预览画面的时间点（秒）" in page


def test_supply_pages_register_and_exports(people, filed_case, settings, tmp_path):
    from django.core.management import call_command

    settings.SIGNING_KEY_FILE = tmp_path / "key.pem"
    settings.SUPPLY_DIR = tmp_path / "supplied"
    call_command("signing_key", stdout=io.StringIO())
    legal, leader = logged_in(people["legal"].user), logged_in(people["leader"].user)
    form = legal.get(f"/disclosure/supplies/new/?case_number={filed_case.number}")
    assert form.status_code == 200 and "来函文号" in form.content.decode()
    received = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    bad = legal.post("/disclosure/supplies/new/", {"case_number": filed_case.number,
                                                    "body_kind": "court", "body_name": "法院",
                                                    "letter_number": "x", "received_on": "昨天"})
    assert bad.status_code == 400 and "年-月-日" in bad.content.decode()
    legal.post("/disclosure/supplies/new/", {
        "case_number": filed_case.number, "body_kind": "review", "body_name": "某市人民政府",
        "letter_number": "某政复〔2026〕9号", "received_on": received})
    supply = Supply.objects.get()
    due = {s.key: s for s in inbox.sections(people["legal"].user)}["disclosure_supplies"]
    assert due.count == 1 and due.items[0].due == supply.response_due
    leader.post(f"/disclosure/supplies/{supply.pk}/approve/", {"note": "同意"})
    legal.post(f"/disclosure/supplies/{supply.pk}/build/")
    supply.refresh_from_db()
    assert supply.status == "built"
    zipped = legal.get(f"/disclosure/supplies/{supply.pk}/download")
    assert hashlib.sha256(b"".join(zipped.streaming_content)).hexdigest() == supply.zip_sha256
    legal.post(f"/disclosure/supplies/{supply.pk}/check/")
    page = legal.get(f"/disclosure/supplies/{supply.pk}/").content.decode()
    assert "与登记一致" in page and "校验通过" in page
    register = legal.get("/disclosure/supplies/").content.decode()
    assert supply.number in register and "某政复〔2026〕9号" in register
    xlsx = legal.get("/disclosure/supplies/export.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    import openpyxl

    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    assert [c.value for c in sheet[2]][:4] == [supply.number, "行政复议机关", "某市人民政府",
                                              "某政复〔2026〕9号"]
    pdf = legal.get("/disclosure/supplies/export.pdf")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "提供登记" in text.replace(" ", "")
    assert legal.get("/disclosure/supplies/export.doc").status_code == 404
    assert logged_in(people["officer_b"].user).get(
        f"/disclosure/supplies/{supply.pk}/").status_code == 404
    assert AuditEntry.objects.filter(action=events.event_supplies_exported).count() == 2


def test_marks_refuse_copies_unless_redacted(people, recording):
    head, officer = people["head_a"].user, people["officer_a"].user
    with pytest.raises(Forbidden):  # an officer does not set marks
        marks.set_mark(actor=officer, target=recording, level="privacy", reason="x")
    with pytest.raises(InvalidInput):  # never without a reason
        marks.set_mark(actor=head, target=recording, level="privacy", reason=" ")
    response = logged_in(head).post("/disclosure/marks/", {
        "recording_id": recording.pk, "level": "privacy", "reason": "画面中有未成年人"})
    assert response.status_code == 302
    assert marks.effective_mark(recording) == "privacy"
    copy = services.register_party_copy(actor=officer, recording=recording,
                                        recipient_name="王某", identity_check="id_card",
                                        reason="复议")
    services.approve_party_copy(approver=people["leader"].user, copy_id=copy.pk)
    page = logged_in(officer).get(f"/disclosure/copies/{copy.pk}/").content.decode()
    assert "个人隐私" in page and "遮挡方案" in page
    with pytest.raises(Conflict, match="遮挡方案"):
        services.make_party_copy(actor=officer, copy_id=copy.pk)
    with pytest.raises(InvalidInput, match="第 1 行"):
        services.set_redaction_plan(actor=officer, copy_id=copy.pk, text="静音 5 1")
    services.set_redaction_plan(actor=officer, copy_id=copy.pk, text="静音 0 0.5 第三人姓名")
    copy.refresh_from_db()
    assert copy.status == "registered"  # a changed plan goes back to the leader
    preview = logged_in(people["leader"].user).get(f"/disclosure/copies/{copy.pk}/preview.jpg")
    assert preview.status_code == 200 and preview.content[:2] == b"\xff\xd8"
    services.approve_party_copy(approver=people["leader"].user, copy_id=copy.pk)
    made = services.make_party_copy(actor=officer, copy_id=copy.pk)
    assert made.copy_description  # redacted copy made, with its own digests
    assert made.copy_sha256 and made.copy_sha256 != recording.sha256

    # 国家秘密: no party copy at all, no copy or export even with a grant.
    marks.set_mark(actor=people["legal"].user, target=recording, level="state_secret",
                   reason="经保密部门确定")
    with pytest.raises(Conflict, match="保密渠道"):
        services.register_party_copy(actor=officer, recording=recording, recipient_name="王某",
                                     identity_check="id_card", reason="复议")
    asked = grants.create_request(
        requester=people["officer_a2"].user, target_type="evidence.recording",
        target_id=recording.pk, actions=["view", "copy"], reason="复核",
        wanted_until=timezone.localdate() + dt.timedelta(days=3))
    grants.approve_request(approver=head, request_id=asked.pk)
    assert check_use(people["officer_a2"].user, recording, "view").grant is not None
    with pytest.raises(Forbidden, match="国家秘密"):
        check_use(people["officer_a2"].user, recording, "copy")
    assert AuditEntry.objects.filter(outcome="denied", reason__contains="国家秘密").exists()
    assert len(marks.history(recording)) == 2


def test_unusual_use_listing(people):
    base = timezone.make_aware(dt.datetime(2026, 12, 2, 21, 0))
    entries = [SimpleNamespace(at=base + dt.timedelta(minutes=3 * n), actor_id=7,
                               actor_name="执法员甲", action="recording.downloaded",
                               object_repr="DSJ.mp4", object_type="evidence.recording",
                               object_id=str(n), seq=n) for n in range(12)]
    found = unusual.bursts(entries)
    assert len(found) == 1 and found[0]["count"] == 12 and found[0]["actor"] == "执法员甲"
    assert unusual.bursts(entries[:unusual.DEFAULTS.burst_count - 1]) == []
    assert len(unusual.off_hours(entries)) == 12  # 21:00 Beijing time
    day = [SimpleNamespace(**{**e.__dict__, "at": e.at - dt.timedelta(hours=11)})
           for e in entries]  # 10:00 on a Wednesday
    assert unusual.off_hours(day) == []

    legal = logged_in(people["legal"].user)
    page = legal.get("/disclosure/unusual/?days=abc")
    assert page.status_code == 200 and "异常使用" in page.content.decode()
    assert logged_in(people["officer_a"].user).get("/disclosure/unusual/").status_code == 403


def test_unusual_use_thresholds_are_the_bureaus_with_a_reason(people):
    """The thresholds are data (第二十六条第三项): the legal affairs office changes them on the
    page, always with a reason; each change is a new row and an audit entry with the values
    before and after; the listing applies what is in force; nobody else may change them."""
    base = timezone.make_aware(dt.datetime(2026, 12, 2, 16, 0))  # a Wednesday, 16:00
    entries = [SimpleNamespace(at=base + dt.timedelta(minutes=10 * n), actor_id=7,
                               actor_name="执法员甲", action="recording.downloaded",
                               object_repr="DSJ.mp4", object_type="evidence.recording",
                               object_id=str(n), seq=n) for n in range(5)]
    assert unusual.current() == unusual.DEFAULTS
    assert unusual.bursts(entries, unusual.current()) == []
    assert unusual.off_hours(entries, unusual.current()) == []

    legal = logged_in(people["legal"].user)
    form = {"burst_count": "5", "burst_minutes": "45", "work_start": "08:30",
            "work_end": "16:30", "reason": "依局务会决定从严"}
    refused = legal.post("/disclosure/unusual/", form | {"reason": " "})
    assert refused.status_code == 400 and "须说明理由" in refused.content.decode()
    assert legal.post("/disclosure/unusual/", form | {"work_end": "08:00"}).status_code == 400
    assert legal.post("/disclosure/unusual/", form | {"burst_count": "1"}).status_code == 400
    assert logged_in(people["officer_a"].user).post("/disclosure/unusual/", form) \
        .status_code == 403
    assert AuditEntry.objects.filter(action=events.event_unusual_thresholds_set,
                                     outcome="denied").count() == 1
    assert legal.post("/disclosure/unusual/", form).status_code == 302

    now = unusual.current()
    assert (now.burst_count, now.burst_minutes) == (5, 45)
    assert (now.work_start, now.work_end) == (dt.time(8, 30), dt.time(16, 30))
    assert len(unusual.bursts(entries, now)) == 1  # five in forty minutes
    assert [r["seq"] for r in unusual.off_hours(entries, now)] == [3, 4]  # 16:30 and 16:40
    entry = AuditEntry.objects.get(action=events.event_unusual_thresholds_set,
                                   outcome="succeeded")
    assert entry.reason == "依局务会决定从严" and entry.actor_id == people["legal"].user.pk
    assert entry.detail["before"]["burst_count"] == 10
    assert entry.detail["after"] == {"burst_count": 5, "burst_minutes": 45,
                                     "work_start": "08:30", "work_end": "16:30"}
    page = legal.get("/disclosure/unusual/").content.decode()
    assert "45 分钟内不少于 5 次" in page and "依局务会决定从严" in page
    unusual.set_thresholds(actor=people["legal"].user, burst_count=20, burst_minutes=60,
                           work_start="08:00", work_end="18:00", reason="恢复")
    assert [h.reason for h in unusual.history()] == ["恢复", "依局务会决定从严"]  # kept


def test_document_viewer_with_watermark(people, filed_case, make_officer, bureau):
    officer = people["officer_a"]
    pdf = filed_case.documents.get(doc_type="penalty_decision")
    scan = filed_case.documents.get(doc_type="filing_approval")
    client = logged_in(officer.user)
    records = client.get(f"/cases/{filed_case.pk}/records/").content.decode()
    assert f"/documents/{pdf.pk}/view/" in records  # reachable from the case's records
    page = client.get(f"/documents/{pdf.pk}/view/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'class="watermark"' in html and officer.name in html and "依职权" in html
    assert f"/documents/{pdf.pk}/view/1.png" in html
    png = client.get(f"/documents/{pdf.pk}/view/1.png")
    assert png.status_code == 200 and png.content[:4] == b"\x89PNG"
    assert client.get(f"/documents/{scan.pk}/view/1.png").content[:4] == b"\x89PNG"
    assert client.get(f"/documents/{scan.pk}/view/2.png").status_code == 404
    entry = AuditEntry.objects.get(action=events.event_document_viewer_opened,
                                   outcome="succeeded")
    assert entry.detail["right"] == "case_officer"
    # In scope but not on the case and without a grant: refused and audited, no bytes.
    stranger = logged_in(make_officer(bureau["team_a"]).user)
    assert stranger.get(f"/documents/{pdf.pk}/view/").status_code == 403
    assert stranger.get(f"/documents/{pdf.pk}/view/1.png").status_code == 403
    assert AuditEntry.objects.filter(action=events.event_document_viewer_opened,
                                     outcome="denied").count() == 2
    assert logged_in(people["officer_b"].user).get(f"/documents/{pdf.pk}/view/").status_code == 404


def test_use_after_the_grant_ran_out_is_listed(people, recording, frozen_clock):
    """第二十六条第三项: a download refused after the grant expired is listed as 授权期外."""
    asker = people["officer_a2"].user
    asked = grants.create_request(
        requester=asker, target_type="evidence.recording", target_id=recording.pk,
        actions=["view"], reason="复核", wanted_until=timezone.localdate())
    grants.approve_request(approver=people["head_a"].user, request_id=asked.pk)
    assert check_use(asker, recording, "view").grant is not None
    frozen_clock.shift(dt.timedelta(days=2))
    with pytest.raises(Forbidden):
        check_use(asker, recording, "view")
    with pytest.raises(Forbidden):  # never held a grant: refused, not 授权期外
        check_use(people["officer_b"].user, recording, "view")
    rows = unusual.listing(days=7)["refusals"]
    by_actor = {r["actor_id"]: r for r in rows}
    assert by_actor[asker.pk]["lapsed"] is True
    assert by_actor[people["officer_b"].user.pk]["lapsed"] is False
    page = logged_in(people["legal"].user).get("/disclosure/unusual/").content.decode()
    assert "授权期外" in page and "是" in page


def test_recording_and_case_pages_show_the_mark_and_the_ways_on(people, filed_case):
    """第十七条第四款 on the pages themselves: the mark in force with who set it and why, on the
    recording page (a case's mark reaches its recordings) and on the case page; the links to
    register a party copy or a supply, ask for a copy grant or change the mark only for who
    may; 国家秘密 takes the copy link away and shows the secrecy notice."""
    recording = filed_case.recording_links.filter(ended_at__isnull=True).first().recording
    officer, head = logged_in(people["officer_a"].user), logged_in(people["head_a"].user)
    page = officer.get(f"/recordings/{recording.pk}/").content.decode()
    assert "没有保密标记" in page and f"/disclosure/copies/new/?recording={recording.pk}" in page
    assert "/disclosure/marks/" not in page  # an officer does not set marks

    marks.set_mark(actor=people["legal"].user, target=filed_case, level="privacy",
                   reason="涉及未成年劳动者")
    legal_name = str(people["legal"].user)
    for who in (officer, head):
        page = who.get(f"/recordings/{recording.pk}/").content.decode()
        assert 'id="confidentiality">个人隐私' in page
        assert "涉及未成年劳动者" in page and legal_name in page and filed_case.number in page
        assert "须先制定遮挡方案" in page
        assert f"/disclosure/copies/new/?recording={recording.pk}" in page
    page = head.get(f"/recordings/{recording.pk}/").content.decode()
    assert f"/disclosure/marks/?recording_id={recording.pk}" in page
    marks_form = head.get(f"/disclosure/marks/?recording_id={recording.pk}").content.decode()
    assert f'name="recording_id" inputmode="numeric" value="{recording.pk}"' in marks_form

    case_page = officer.get(f"/cases/{filed_case.pk}/").content.decode()
    assert 'id="confidentiality">个人隐私' in case_page and "涉及未成年劳动者" in case_page
    assert f"/disclosure/supplies/new/?case_number={filed_case.number}" in case_page
    s = register_supply(actor=people["legal"].user, case=filed_case, body_kind="court",
                        body_name="某市某区人民法院", letter_number="（2026）冀0102行初9号",
                        received_on=timezone.localdate())
    assert s.number in officer.get(f"/cases/{filed_case.pk}/").content.decode()
    assert logged_in(people["officer_b"].user).get(f"/cases/{filed_case.pk}/").status_code == 404

    marks.set_mark(actor=people["legal"].user, target=recording, level="state_secret",
                   reason="经保密部门确定")
    page = officer.get(f"/recordings/{recording.pk}/").content.decode()
    assert 'id="confidentiality">国家秘密' in page and "保密渠道" in page
    assert "/disclosure/copies/new/" not in page and "request-copy-grant" not in page
    assert "经保密部门确定" in page and "涉及未成年劳动者" in page  # both marks, each with why

