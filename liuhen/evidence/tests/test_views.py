"""Vault pages: recording page with player and marks, list, upload page, late report.

Every protected page is tested in pairs: without permission (404/403 and a denied audit
entry) and with permission (200 and an audit entry saying who read what, 第二十六条 (三)).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import logged_in as _client
from liuhen.audit.models import AuditEntry
from liuhen.evidence import events
from liuhen.evidence.models import Mark
from liuhen.evidence.tasks import derive_media

pytestmark = pytest.mark.django_db


def _audited(action, officer, outcome="succeeded", **filters):
    return AuditEntry.objects.filter(
        action=action, actor_id=officer.user.pk, outcome=outcome, **filters
    ).exists()


def test_recording_page_shows_player_metadata_and_is_audited(
    people, stored_recording, make_device, bureau
):
    """The page plays the proxy of an HEVC original, shows both digests, provenance and the
    audit trail, and its reading is audited (recording.viewed)."""
    device = make_device(bureau["team_a"], people["officer_a"], number="DSJ-A-001")
    recording = stored_recording(
        "hevc", device=device, officer=people["officer_a"], location="某区某路1号"
    )
    derive_media.call(recording.pk)
    response = _client(people["officer_a"]).get(f"/recordings/{recording.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'src="/recordings/{recording.pk}/proxy"' in html
    assert f'poster="/recordings/{recording.pk}/poster"' in html
    assert recording.sha256 in html and recording.sm3 in html
    assert "DSJ-A-001" in html and "某区某路1号" in html and "媒体元数据" in html
    assert "首次存储" in html and "播放代理" in html
    assert "recording.stored" in html  # the audit trail lists the ingest
    assert 'style="' not in html  # CSP: no inline styles
    assert _audited(events.event_recording_viewed, people["officer_a"], object_id=str(recording.pk))


def test_recording_page_plays_original_when_playable(people, stored_recording):
    recording = stored_recording("h264")
    html = _client(people["officer_a"]).get(f"/recordings/{recording.pk}/").content.decode()
    assert f'src="/recordings/{recording.pk}/original"' in html


def test_recording_page_of_other_unit_is_404_and_audited(people, stored_recording):
    recording = stored_recording()
    response = _client(people["officer_b"]).get(f"/recordings/{recording.pk}/")
    assert response.status_code == 404
    assert _audited(
        events.event_recording_viewed,
        people["officer_b"],
        outcome="denied",
        object_id=str(recording.pk),
    )
    # The detachment head sees team A's recordings (sub-unit).
    assert _client(people["head_detachment"]).get(f"/recordings/{recording.pk}/").status_code == 200


def test_add_mark_via_htmx(people, stored_recording, make_media):
    """A mark from the regulation's list (第六条: credentials shown) is added and shown."""
    recording = stored_recording(path=make_media(seconds=2))
    client = _client(people["officer_a"])
    response = client.post(
        f"/recordings/{recording.pk}/marks/",
        {"offset_seconds": "1.5", "label": "credentials_shown", "note": "出示"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith('<section id="marks"') and "表明身份出示证件" in html
    assert 'data-seek="1.500"' in html
    mark = Mark.objects.get(recording=recording)
    assert (mark.label, mark.offset_seconds, mark.created_by) == (
        "credentials_shown",
        1.5,
        people["officer_a"].user,
    )
    assert _audited(events.event_recording_marked, people["officer_a"], object_id=str(recording.pk))


def test_add_mark_errors_are_shown_not_500(people, stored_recording):
    recording = stored_recording()
    client = _client(people["officer_a"])
    past_end = client.post(
        f"/recordings/{recording.pk}/marks/",
        {"offset_seconds": "99", "label": "credentials_shown"},
        HTTP_HX_REQUEST="true",
    )
    assert past_end.status_code == 200 and "超出记录时长" in past_end.content.decode()
    other = client.post(
        f"/recordings/{recording.pk}/marks/", {"offset_seconds": "0.5", "label": "other"}
    )
    assert other.status_code == 400 and "请填写说明" in other.content.decode()
    assert not Mark.objects.exists()


def test_add_mark_without_permission_is_404_and_audited(people, stored_recording):
    recording = stored_recording()
    # The bureau leader may view but not mark; officer_b may not even see it.
    for who in ("leader", "officer_b"):
        response = _client(people[who]).post(
            f"/recordings/{recording.pk}/marks/",
            {"offset_seconds": "0", "label": "other", "note": "x"},
        )
        assert response.status_code == 404
        assert _audited(
            "recording.mark", people[who], outcome="denied", object_id=str(recording.pk)
        )
    assert not Mark.objects.exists()


def test_list_shows_only_visible_recordings_and_is_audited(people, stored_recording):
    mine = stored_recording()
    theirs = stored_recording(actor=people["officer_b"])
    response = _client(people["officer_a"]).get("/recordings/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f"/recordings/{mine.pk}/" in html and f"/recordings/{theirs.pk}/" not in html
    assert _audited(events.event_recording_listed, people["officer_a"])


def test_list_filters(people, stored_recording, make_device, bureau):
    device = make_device(bureau["team_a"], number="DSJ-F-7")
    with_device = stored_recording(device=device)
    photo = stored_recording("jpeg")
    client = _client(people["keeper_a"])
    html = client.get("/recordings/", {"device": "DSJ-F"}).content.decode()
    assert f"/recordings/{with_device.pk}/" in html and f"/recordings/{photo.pk}/" not in html
    html = client.get("/recordings/", {"kind": "photo"}).content.decode()
    assert f"/recordings/{photo.pk}/" in html and f"/recordings/{with_device.pk}/" not in html
    bad = client.get("/recordings/", {"start": "2026-02-01", "end": "2026-01-01"})
    assert bad.status_code == 200 and "开始日期不能晚于结束日期" in bad.content.decode()


def test_list_filter_selects_keep_the_choice(people, stored_recording, bureau):
    """The unit and officer pick lists (written by QuickSelect) keep what was chosen."""
    mine = stored_recording()
    client = _client(people["keeper_a"])
    html = client.get("/recordings/", {"unit": bureau["team_a"].pk,
                                       "officer": people["officer_a"].pk}).content.decode()
    assert f'<option value="{bureau["team_a"].pk}" selected>' in html
    assert f'<option value="{people["officer_a"].pk}" selected>' in html
    assert html.count(" selected>") == 3  # unit, officer, and the kind select's 全部
    assert f'href="/recordings/{mine.pk}/"' in html
    html = client.get("/recordings/").content.decode()
    assert '<select name="officer" id="id_officer"><option value="" selected>全部</option>' in html


def test_list_without_permission_is_403_and_audited(people):
    response = _client(people["device_keeper"]).get("/recordings/")
    assert response.status_code == 403
    assert _audited(events.event_recording_listed, people["device_keeper"], outcome="denied")


def test_upload_page(people):
    response = _client(people["officer_a"]).get("/recordings/upload/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/liuhen/vendor/tus.min.js" in html and "evidence/upload.js" in html
    assert 'data-endpoint="/api/uploads/"' in html and "csrfmiddlewaretoken" in html
    assert "<script>" not in html  # CSP: no inline scripts
    denied = _client(people["leader"]).get("/recordings/upload/")
    assert denied.status_code == 403
    assert _audited(events.event_upload_page_viewed, people["leader"], outcome="denied")


def test_upload_result_is_private_to_the_uploader(people, stored_recording):
    from liuhen.evidence.models import UploadSession

    recording = stored_recording()
    upload = UploadSession.objects.create(
        user=people["officer_a"].user,
        length=recording.size,
        offset=recording.size,
        recording=recording,
        completed_at=timezone.now(),
        expires_at=timezone.now() + timedelta(hours=1),
    )
    body = _client(people["officer_a"]).get(f"/recordings/uploads/{upload.pk}/").json()
    assert body["recording"]["sha256"] == recording.sha256
    assert body["recording"]["url"] == f"/recordings/{recording.pk}/"
    other = _client(people["officer_a2"]).get(f"/recordings/uploads/{upload.pk}/")
    assert other.status_code == 404


def test_late_report(people, stored_recording):
    """第十三条: a recording stored after its deadline is listed with how late and by whom."""
    captured = timezone.now() - timedelta(days=5)
    late = stored_recording(captured=captured)
    on_time = stored_recording()
    assert late.is_late and not on_time.is_late
    response = _client(people["keeper_a"]).get("/recordings/late/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f"/recordings/{late.pk}/" in html and f"/recordings/{on_time.pk}/" not in html
    assert people["officer_a"].name in html and "监察一大队" in html
    assert _audited(events.event_recording_late_report_viewed, people["keeper_a"])

    legal = _client(people["legal"]).get("/recordings/late/")
    assert legal.status_code == 200 and f"/recordings/{late.pk}/" in legal.content.decode()
    denied = _client(people["officer_a"]).get("/recordings/late/")
    assert denied.status_code == 403
    assert _audited(
        events.event_recording_late_report_viewed, people["officer_a"], outcome="denied"
    )


def test_nav_links(people):
    html = _client(people["keeper_a"]).get("/recordings/").content.decode()
    assert 'href="/recordings/upload/"' in html and 'href="/recordings/late/"' in html
    html = _client(people["leader"]).get("/recordings/").content.decode()
    assert 'href="/recordings/upload/"' not in html


def test_list_masks_the_names_of_persons(people, stored_recording, bureau):
    """Parties are masked in lists (issue 2, as on the case list); the audited recording page,
    a protected read, shows the full name."""
    from liuhen.cases.choices import PartyKind
    from liuhen.cases.tests.factories import make_party

    actor = people["officer_a"].user
    person = make_party(actor=actor, unit=bureau["team_a"], kind=PartyKind.PERSON, name="张三丰")
    company = make_party(actor=actor, unit=bureau["team_a"], name="某某建筑有限公司")
    with_person = stored_recording(party=person)
    stored_recording(party=company)
    html = _client(people["keeper_a"]).get("/recordings/").content.decode()
    assert "张**" in html and "张三丰" not in html
    assert "某某建筑有限公司" in html  # organisations are not masked
    detail = _client(people["keeper_a"]).get(f"/recordings/{with_person.pk}/").content.decode()
    assert "张三丰" in detail


def test_link_a_recording_to_its_case_on_the_page(people, bureau, stored_recording):
    """第十八条: an officer uploads first and links the recording to its case later, on the
    recording page; a changed link needs a reason; errors in Chinese, nothing changed."""
    from liuhen.cases.choices import PartyKind
    from liuhen.cases.tests.factories import make_case, make_party

    actor = people["officer_a"].user
    rec = stored_recording(officer=people["officer_a"])
    party = make_party(actor=actor, unit=bureau["team_a"], kind=PartyKind.PERSON, name="李四")
    officers = [people["officer_a"], people["officer_a2"]]
    case = make_case(actor=actor, unit=bureau["team_a"], officers=officers, parties=[party])
    other = make_case(actor=actor, unit=bureau["team_a"], officers=officers)
    theirs = make_case(actor=people["officer_b"].user, unit=bureau["team_b"],
                       officers=[people["officer_b"], people["officer_b2"]])
    client = _client(people["officer_a"])
    url = f"/recordings/{rec.pk}/links/"
    page = client.get(f"/recordings/{rec.pk}/").content.decode()
    assert f'action="{url}"' in page and "关联案件或当事人" in page

    response = client.post(url, {"case_number": case.number})
    assert response.status_code == 302 and response["Location"] == f"/recordings/{rec.pk}/"
    rec.refresh_from_db()
    assert rec.case == case and rec.unit == case.unit
    assert _audited("recording.linked", people["officer_a"], object_id=str(rec.pk))
    # Now the party select offers the case's parties, masked.
    page = client.get(f"/recordings/{rec.pk}/").content.decode()
    assert f'<option value="{party.pk}">李*</option>' in page
    assert client.post(url, {"party": party.pk}).status_code == 302
    rec.refresh_from_db()
    assert rec.party == party

    for data, message in [
        ({"case_number": theirs.number}, "没有这个案件编号，或无权关联到该案件"),
        ({"case_number": "不存在〔2026〕1号"}, "没有这个案件编号"),
        ({}, "请填写案件编号或选择当事人"),
    ]:
        response = client.post(url, data)
        assert response.status_code == 400 and message in response.content.decode()
    # Moving it to another case: refused while that case lacks the party, then without a
    # reason; accepted with one.
    response = client.post(url, {"case_number": other.number})
    assert response.status_code == 400 and "该当事人不属于所选案件" in response.content.decode()
    other.parties.add(party)
    response = client.post(url, {"case_number": other.number})
    assert response.status_code == 400 and "更改关联须填写理由" in response.content.decode()
    rec.refresh_from_db()
    assert rec.case == case
    assert client.post(url, {"case_number": other.number, "reason": "编号填错更正"}).status_code == 302
    rec.refresh_from_db()
    assert rec.case == other

    # Another team's officer: 404 like a missing recording, and the attempt audited.
    denied = _client(people["officer_b"]).post(url, {"case_number": theirs.number})
    assert denied.status_code == 404
    assert _audited("recording.link", people["officer_b"], outcome="denied")
