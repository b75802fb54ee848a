"""One recording, several cases (第十四条, 第十八条): links with who, when and why; access,
completeness and lists follow every active link; ending a link keeps it."""

from __future__ import annotations

import pytest

from liuhen.audit.models import AuditEntry
from liuhen.cases.models import Case
from liuhen.cases.tests.factories import make_case
from liuhen.core.errors import Conflict, InvalidInput, NotFound
from liuhen.evidence import links
from liuhen.evidence.models import CaseLink, Recording
from liuhen.evidence.services import ingest_recording
from liuhen.rules.services import CASE_FIELDS, gather_facts


@pytest.fixture
def two_cases(bureau, people):
    """A case of team A and one of team B (two employers visited together)."""
    case_a = make_case(actor=people["officer_a"].user, unit=bureau["team_a"],
                       officers=[people["officer_a"], people["officer_a2"]])
    case_b = make_case(actor=people["officer_b"].user, unit=bureau["team_b"],
                       officers=[people["officer_b"], people["officer_b2"]],
                       cause="未依法缴纳社会保险费")
    return case_a, case_b


def _visible(officer, rec) -> bool:
    return Recording.objects.restrict(officer.user, "recording.view").filter(pk=rec.pk).exists()


def test_ingest_with_a_case_makes_the_primary_link(people, stored_recording, two_cases):
    case_a, _ = two_cases
    rec = stored_recording(case=case_a)
    link = CaseLink.objects.get(recording=rec)
    assert (link.case, link.is_primary, link.linked_by) == (case_a, True, people["officer_a"].user)
    assert link.reason == "上传时指定案件" and link.ended_at is None
    assert links.linked_case_ids(rec) == [case_a.pk]


def test_a_second_case_widens_access_and_completeness(people, stored_recording, two_cases):
    case_a, case_b = two_cases
    rec = stored_recording(case=case_a)
    assert not _visible(people["officer_b"], rec)
    head = people["head_detachment"].user
    with pytest.raises(InvalidInput):
        links.add_case_link(actor=head, recording=rec, case=case_b, reason=" ")
    link = links.add_case_link(actor=head, recording=rec, case=case_b,
                               reason="同一次检查涉及两家用人单位")
    assert not link.is_primary
    rec.refresh_from_db()
    assert rec.case == case_a and rec.unit == case_a.unit  # the primary link owns it
    # Team B now sees the evidence of its case; team A still does.
    assert _visible(people["officer_b"], rec) and _visible(people["officer_a"], rec)
    # Children follow the recording: team B sees its submissions too.
    assert rec.submissions.model.objects.restrict(
        people["officer_b"].user, "recording.view").filter(recording=rec).exists()
    # Both cases count the recording (第十条 completeness).
    facts = {f.case_id: f for f in gather_facts(list(
        Case.objects.filter(pk__in=[case_a.pk, case_b.pk]).values(*CASE_FIELDS)))}
    assert [r.id for r in facts[case_a.pk].recordings] == [rec.pk]
    assert [r.id for r in facts[case_b.pk].recordings] == [rec.pk]
    entry = AuditEntry.objects.filter(action="recording.case_linked").latest("seq")
    assert entry.actor_id == head.pk and entry.reason == "同一次检查涉及两家用人单位"
    with pytest.raises(Conflict):
        links.add_case_link(actor=head, recording=rec, case=case_b, reason="again")


def test_officer_cannot_link_to_another_units_case(people, stored_recording, two_cases):
    case_a, case_b = two_cases
    rec = stored_recording(case=case_a)
    with pytest.raises(NotFound):
        links.add_case_link(actor=people["officer_a"].user, recording=rec, case=case_b,
                            reason="试图关联")
    denied = AuditEntry.objects.filter(action="recording.linked", outcome="denied").latest("seq")
    assert denied.actor_id == people["officer_a"].user.pk
    assert not CaseLink.objects.filter(case=case_b).exists()


def test_ending_the_primary_link_promotes_the_next(people, stored_recording, two_cases):
    case_a, case_b = two_cases
    head = people["head_detachment"].user
    rec = stored_recording(case=case_a)
    links.add_case_link(actor=head, recording=rec, case=case_b, reason="也是B案证据")
    primary = CaseLink.objects.get(recording=rec, is_primary=True)
    with pytest.raises(InvalidInput):
        links.end_case_link(actor=head, link=primary, reason="")
    links.end_case_link(actor=head, link=primary, reason="关联错误：与A案无关")
    rec.refresh_from_db()
    assert rec.case == case_b and rec.unit == case_b.unit
    primary.refresh_from_db()
    assert primary.ended_by == head and primary.end_reason == "关联错误：与A案无关"
    assert CaseLink.objects.filter(recording=rec).count() == 2  # nothing deleted
    assert links.linked_case_ids(rec) == [case_b.pk]
    assert not _visible(people["officer_a"], rec) and _visible(people["officer_b"], rec)
    with pytest.raises(Conflict):
        links.end_case_link(actor=head, link=primary, reason="再次解除")


def test_changing_the_primary_case_keeps_the_old_link(people, stored_recording, two_cases):
    case_a, case_b = two_cases
    head = people["head_detachment"].user
    rec = stored_recording(case=case_a)
    with pytest.raises(Conflict):
        links.link_recording(actor=head, recording=rec, case=case_b)
    links.link_recording(actor=head, recording=rec, case=case_b, reason="录入时选错案件")
    old = CaseLink.objects.get(recording=rec, case=case_a)
    assert old.ended_at is not None and old.end_reason == "录入时选错案件"
    new = CaseLink.objects.get(recording=rec, case=case_b)
    assert new.is_primary and new.ended_at is None


def test_duplicate_for_another_case_adds_a_link(people, make_media, two_cases, bureau):
    case_a, _ = two_cases
    other = make_case(actor=people["officer_a"].user, unit=bureau["team_a"],
                      officers=[people["officer_a"], people["officer_a2"]], cause="未签劳动合同")
    path = make_media("h264")
    actor = people["officer_a"].user
    first = ingest_recording(source_path=path, original_name=path.name, actor=actor,
                             channel="web", case=case_a).recording
    again = ingest_recording(source_path=path, original_name=path.name, actor=actor,
                             channel="web", case=other)
    assert again.duplicate and again.recording.pk == first.pk
    assert links.linked_case_ids(first) == [case_a.pk, other.pk]
    link = CaseLink.objects.get(recording=first, case=other)
    assert link.reason == "再次提交同一文件时指定了该案件" and not link.is_primary


def test_case_filter_finds_secondary_links(people, stored_recording, two_cases):
    from liuhen.evidence.queries import recording_page

    case_a, case_b = two_cases
    rec = stored_recording(case=case_a)
    links.add_case_link(actor=people["head_detachment"].user, recording=rec, case=case_b,
                        reason="也是B案证据")
    for user in (people["officer_b"].user, people["head_detachment"].user):
        page = recording_page(user=user, filters={"case": case_b.number})
        assert [r.pk for r in page.rows] == [rec.pk]
        assert page.rows[0].linked_case_ids == [case_a.pk, case_b.pk]
    # A unit head's list merged unit by unit still shows the linked recording.
    head_b = people["officer_b"]
    assert rec.pk in [r.pk for r in recording_page(user=head_b.user, filters={}).rows]


def test_api_pair_for_case_links(api, people, stored_recording, two_cases):
    case_a, case_b = two_cases
    rec = stored_recording(case=case_a)
    url = f"/api/recordings/{rec.pk}/case-links"
    refused = api(people["officer_b"]).post(url, {"case_id": case_b.pk, "reason": "x"})
    assert refused.status_code == 404 and refused.json()["code"] == "not_found"
    denied = AuditEntry.objects.filter(action="recording.case_linked", outcome="denied")
    assert denied.filter(actor_id=people["officer_b"].user.pk).exists()

    head = api(people["head_detachment"])
    created = head.post(url, {"case_id": case_b.pk, "reason": "同一次检查涉及两家用人单位"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["case_number"] == case_b.number and body["is_primary"] is False
    assert AuditEntry.objects.filter(action="recording.case_linked", outcome="succeeded",
                                     actor_id=people["head_detachment"].user.pk).exists()
    detail = api(people["officer_b"]).get(f"/api/recordings/{rec.pk}").json()
    assert detail["case_id"] == case_a.pk and detail["case_ids"] == [case_a.pk, case_b.pk]
    assert [link["case_id"] for link in detail["case_links"]] == [case_a.pk, case_b.pk]
    listed = api(people["officer_b"]).get("/api/recordings").json()["items"]
    assert [i["case_ids"] for i in listed if i["id"] == rec.pk] == [[case_a.pk, case_b.pk]]

    ended = head.post(f"{url}/{body['id']}/end", {"reason": ""})
    assert ended.status_code == 400 and ended.json()["code"] == "invalid_input"
    ended = head.post(f"{url}/{body['id']}/end", {"reason": "不是B案证据"})
    assert ended.status_code == 200 and ended.json()["end_reason"] == "不是B案证据"
    assert api(people["officer_b"]).get(f"/api/recordings/{rec.pk}").status_code == 404


def test_recording_page_adds_and_ends_links(client, people, stored_recording, two_cases):
    case_a, case_b = two_cases
    rec = stored_recording(case=case_a)
    client.force_login(people["head_detachment"].user)
    page = client.get(f"/recordings/{rec.pk}/")
    assert "关联到另一案件" in page.content.decode()
    response = client.post(f"/recordings/{rec.pk}/case-links/",
                           {"case_number": "不存在的编号", "reason": "x"}, follow=True)
    assert "没有这个案件编号" in response.content.decode()
    response = client.post(f"/recordings/{rec.pk}/case-links/",
                           {"case_number": case_b.number, "reason": "同一次检查"}, follow=True)
    text = response.content.decode()
    assert f"已关联到案件 {case_b.number}" in text and "证据关联" in text
    link = CaseLink.objects.get(recording=rec, case=case_b)
    response = client.post(f"/recordings/{rec.pk}/case-links/{link.pk}/end/", {"reason": ""},
                           follow=True)
    assert "解除关联须填写理由" in response.content.decode()
    # Team B sees it now; it may end the link to its own case, never team A's primary one.
    client.force_login(people["officer_b"].user)
    assert client.get(f"/recordings/{rec.pk}/").status_code == 200
    primary = CaseLink.objects.get(recording=rec, case=case_a)
    response = client.post(f"/recordings/{rec.pk}/case-links/{primary.pk}/end/",
                           {"reason": "试图解除"})
    assert response.status_code == 404
    assert CaseLink.objects.get(pk=primary.pk).ended_at is None


def test_linked_recording_ids_names_a_recording_once(people, stored_recording, two_cases,
                                                     bureau):
    """A recording of team A that is evidence in two cases of team B is one id in team B's
    scope (the query has no DISTINCT since issue 9 item 3: duplicates are dropped in Python),
    and none in team A's own scope (it owns the recording)."""
    from liuhen.evidence.models import linked_recording_ids

    case_a, case_b = two_cases
    case_b2 = make_case(actor=people["officer_b"].user, unit=bureau["team_b"],
                        officers=[people["officer_b"], people["officer_b2"]],
                        cause="拖欠劳动者工资")
    rec = stored_recording(case=case_a)
    head = people["head_detachment"].user
    for case in (case_b, case_b2):
        links.add_case_link(actor=head, recording=rec, case=case, reason="同一次检查")
    assert linked_recording_ids([bureau["team_b"].pk]) == [rec.pk]
    assert linked_recording_ids([bureau["team_a"].pk]) == []
    assert _visible(people["officer_b"], rec)


def test_the_page_lists_active_links_before_ended_ones(client, people, stored_recording,
                                                       two_cases):
    """The recording page's link table: the active links first (primary first), then the ended
    ones. Ordered by ended_at ascending, PostgreSQL put the ended link first (NULL sorts last
    there, first on SQLite); the suite runs on both. Fails before on PostgreSQL."""
    case_a, case_b = two_cases
    head = people["head_detachment"].user
    rec = stored_recording(case=case_a)
    links.link_recording(actor=head, recording=rec, case=case_b, reason="录入时选错案件")
    links.add_case_link(actor=head, recording=rec, case=case_a, reason="也是A案证据")
    client.force_login(head)
    page = client.get(f"/recordings/{rec.pk}/")
    rows = [link.case.number + ("（已解除）" if link.ended_at else "")
            for link in page.context["case_links"]]
    assert rows == [case_b.number, case_a.number, f"{case_a.number}（已解除）"]
