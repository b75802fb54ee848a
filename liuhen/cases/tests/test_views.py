"""Case, party and patrol pages (第二条, 第五条, 第十一条, 第二十六条 (三)).

Every protected page gets a pair: refused (404/403 and a denied audit entry) and allowed
(200 and, for reads of a case, a ``case.viewed`` entry). Bad input gives a Chinese error on
the page, never a 500.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from conftest import last_entry, logged_in
from liuhen.cases.choices import CaseKind, PartyKind, Stage
from liuhen.cases.models import Case, Party, Patrol
from liuhen.cases.tests.factories import make_case, make_party, valid_id_card, valid_uscc
from liuhen.core.testing import TEST_TODAY

pytestmark = pytest.mark.django_db


@pytest.fixture
def case_a(people, bureau):
    """A penalty case of team A handled by officer_a and officer_a2, with one person party."""
    party = make_party(
        actor=people["officer_a"].user, unit=bureau["team_a"], kind=PartyKind.PERSON, name="张三丰"
    )
    return make_case(
        actor=people["officer_a"].user,
        unit=bureau["team_a"],
        officers=[people["officer_a"], people["officer_a2"]],
        parties=[party],
    )


def create_payload(bureau, people, **overrides):
    data = {
        "unit": bureau["team_a"].pk,
        "kind": CaseKind.PENALTY,
        "source": "complaint",
        "cause": "拖欠三名劳动者工资",
        "summary": "",
        "opened_on": TEST_TODAY.isoformat(),
        "complaint_received_on": "",
        "officers": [people["officer_a"].pk, people["officer_a2"].pk],
        "new_party_kind": "",
        "new_party_name": "",
        "new_party_id_number": "",
    }
    data.update(overrides)
    return data


# --- case detail: the pair ---------------------------------------------------------------


def test_case_detail_forbidden_answers_404_and_is_audited(people, case_a):
    """第二十六条 (三): an officer of another team gets the same 404 as for a missing case,
    and the attempt is in the audit log as denied."""
    response = logged_in(people["officer_b"]).get(reverse("case_detail", args=[case_a.pk]))
    assert response.status_code == 404
    assert case_a.number not in response.content.decode()
    assert "对象不存在或无权访问" in response.content.decode()
    entry = last_entry("case.viewed")
    assert entry.outcome == "denied"
    assert entry.actor_id == people["officer_b"].user.pk
    assert entry.object_id == str(case_a.pk)


def test_case_detail_allowed_shows_facts_timeline_and_is_audited(people, case_a):
    """第二十六条 (三): the read of a case is recorded with who read it."""
    response = logged_in(people["officer_a"]).get(reverse("case_detail", args=[case_a.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert case_a.number in html and "拖欠劳动者工资" in html
    assert "程序启动" in html and "立案" in html  # the stage timeline
    assert "张三丰" in html  # the handling unit sees the party unmasked
    entry = last_entry("case.viewed")
    assert entry.outcome == "succeeded"
    assert entry.actor_id == people["officer_a"].user.pk
    assert entry.object_id == str(case_a.pk)


def test_case_detail_masks_parties_outside_the_handling_unit(people, case_a):
    """The legal office supervises bureau-wide but sees persons' names and ID masked."""
    html = (
        logged_in(people["legal"]).get(reverse("case_detail", args=[case_a.pk])).content.decode()
    )
    party = case_a.parties.get()
    assert "张**" in html and "张三丰" not in html
    assert party.id_number not in html and party.masked_id_number in html


# --- case list ---------------------------------------------------------------------------


def test_case_list_is_scoped_filtered_and_masked(people, bureau, case_a):
    other = make_case(
        actor=people["officer_b"].user,
        unit=bureau["team_b"],
        officers=[people["officer_b"], people["officer_b2"]],
        cause="未签劳动合同",
    )
    client = logged_in(people["officer_a"])
    html = client.get(reverse("case_list")).content.decode()
    assert case_a.number in html and other.number not in html
    assert "张**" in html and "张三丰" not in html
    html = (
        logged_in(people["head_detachment"])
        .get(reverse("case_list"), {"q": "未签", "unit": bureau["team_b"].pk})
        .content.decode()
    )
    assert other.number in html and case_a.number not in html
    html = (
        logged_in(people["head_detachment"])
        .get(
            reverse("case_list"),
            {
                "party": "张三丰",
                "officer": people["officer_a"].pk,
                "stage": Stage.INITIATION,
                "kind": CaseKind.PENALTY,
            },
        )
        .content.decode()
    )
    assert case_a.number in html and other.number not in html


def test_case_list_refused_for_a_role_without_case_view(people):
    response = logged_in(people["device_keeper"]).get(reverse("case_list"))
    assert response.status_code == 403
    assert last_entry("case.listed").outcome == "denied"


def test_case_list_bad_filters_give_chinese_errors(people, bureau, case_a):
    client = logged_in(people["officer_a"])
    response = client.get(
        reverse("case_list"),
        {"opened_from": "2026-13-45", "kind": "bogus", "unit": bureau["levy"].pk},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "有效的日期" in html  # Django's Chinese message for an invalid date
    assert "选择一个有效的选项" in html  # unknown kind, foreign unit
    response = client.get(
        reverse("case_list"), {"opened_from": "2026-05-02", "opened_to": "2026-05-01"}
    )
    assert "截止日期不能早于起始日期" in response.content.decode()


def test_case_list_queries_do_not_grow_with_rows(people, bureau, django_assert_max_num_queries):
    """No N+1: a page of 30 cases costs a handful of queries, whatever is on it."""
    for i in range(30):
        make_case(
            actor=people["officer_a"].user,
            unit=bureau["team_a"],
            officers=[people["officer_a"], people["officer_a2"]],
            cause=f"案由{i}",
        )
    client = logged_in(people["officer_a"])
    client.get(reverse("case_list"))  # warm the session and caches
    with django_assert_max_num_queries(14):
        response = client.get(reverse("case_list"))
    assert response.content.decode().count("/cases/") >= 30


def test_case_list_paginates(people, bureau, monkeypatch):
    from liuhen.cases import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    for i in range(3):
        make_case(
            actor=people["officer_a"].user,
            unit=bureau["team_a"],
            officers=[people["officer_a"], people["officer_a2"]],
            cause=f"分页{i}",
        )
    client = logged_in(people["officer_a"])
    html = client.get(reverse("case_list"), {"q": "分页"}).content.decode()
    assert "共 3 条" in html and "第 1 / 2 页" in html and "下一页" in html
    html = client.get(reverse("case_list"), {"q": "分页", "page": "2"}).content.decode()
    assert "分页0" in html and "分页2" not in html
    assert client.get(reverse("case_list"), {"page": "x"}).status_code == 200


# --- create ------------------------------------------------------------------------------


def test_create_case_with_a_new_party(people, bureau):
    """第二条: a case is opened with a generated number, its officers and a new party."""
    number = valid_uscc()
    response = logged_in(people["officer_a"]).post(
        reverse("case_create"),
        create_payload(
            bureau,
            people,
            new_party_kind=PartyKind.ORGANISATION,
            new_party_name="某某建筑公司",
            new_party_id_number=number.lower(),
        ),
    )
    assert response.status_code == 302
    case = Case.objects.get()
    assert response["Location"] == reverse("case_detail", args=[case.pk])
    assert case.number.startswith("冀人社监〔")
    assert list(case.parties.values_list("id_number", flat=True)) == [number]
    assert last_entry("case.created").actor_id == people["officer_a"].user.pk


def test_create_case_refuses_unqualified_officer_with_article_11(people, bureau, make_officer):
    """第十一条: an officer whose qualification expired is listed but refused, by article."""
    expired = make_officer(
        bureau["team_a"], qualification_valid_to=TEST_TODAY - timedelta(days=1)
    )
    client = logged_in(people["officer_a"])
    form = client.get(reverse("case_create")).content.decode()
    assert expired.name in form and "过期" in form
    response = client.post(
        reverse("case_create"),
        create_payload(bureau, people, officers=[people["officer_a"].pk, expired.pk]),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "第十一条" in html and expired.name in html
    assert not Case.objects.exists()
    assert last_entry("officer.refused_unqualified").outcome == "denied"


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"opened_on": "2026-02-30"}, "有效的日期"),
        ({"opened_on": (TEST_TODAY + timedelta(days=3)).isoformat()}, "立案日期不能晚于今天"),
        (
            {
                "new_party_kind": "person",
                "new_party_name": "李四",
                "new_party_id_number": "130102198001011234",
            },
            "身份证号码",
        ),
        ({"officers": ["999999"]}, "选择一个有效的选项"),
        ({"officers": []}, "这个字段是必填项"),
        ({"cause": ""}, "这个字段是必填项"),
        ({"kind": "penalty", "officers": "__one__"}, "不少于2名"),
    ],
)
def test_create_case_bad_input_shows_chinese_error(people, bureau, overrides, message):
    if overrides.get("officers") == "__one__":
        overrides["officers"] = [people["officer_a"].pk]
    response = logged_in(people["officer_a"]).post(
        reverse("case_create"), create_payload(bureau, people, **overrides)
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Case.objects.exists()


def test_create_case_in_a_foreign_unit_is_refused(people, bureau):
    """An officer of team A may not open a case for team B (unit not in the pick list)."""
    response = logged_in(people["officer_a"]).post(
        reverse("case_create"),
        create_payload(
            bureau,
            people,
            unit=bureau["team_b"].pk,
            officers=[people["officer_b"].pk, people["officer_b2"].pk],
        ),
    )
    assert response.status_code == 200
    assert "选择一个有效的选项" in response.content.decode()
    assert not Case.objects.exists()


def test_create_case_page_refused_for_role_without_create(people):
    response = logged_in(people["legal"]).get(reverse("case_create"))
    assert response.status_code == 403
    assert last_entry("case.created").outcome == "denied"


def test_people_picker_follows_the_chosen_unit(people, bureau):
    """htmx partial: a unit head of the detachment picks team B and sees team B's officers."""
    response = logged_in(people["head_detachment"]).get(
        reverse("case_form_people"), {"unit": bureau["team_b"].pk}
    )
    html = response.content.decode()
    assert people["officer_b"].name in html and people["officer_a"].name not in html
    # A unit the user may not open cases in falls back to one it may: no foreign names leak.
    html = (
        logged_in(people["officer_a"])
        .get(reverse("case_form_people"), {"unit": bureau["team_b"].pk})
        .content.decode()
    )
    assert people["officer_a"].name in html and people["officer_b"].name not in html


# --- stage changes and facts -------------------------------------------------------------


def test_move_stage_by_assigned_officer(people, case_a):
    """第二条: 程序启动 → 调查取证 through the page; the log and audit record it."""
    client = logged_in(people["officer_a"])
    html = client.get(reverse("case_detail", args=[case_a.pk])).content.decode()
    assert "转入「调查取证」" in html
    response = client.post(
        reverse("case_move", args=[case_a.pk]), {"to": Stage.INVESTIGATION, "note": "现场检查完毕"}
    )
    assert response.status_code == 302
    case_a.refresh_from_db()
    assert case_a.stage == Stage.INVESTIGATION
    html = client.get(reverse("case_detail", args=[case_a.pk])).content.decode()
    assert "现场检查完毕" in html and "案件已转入「调查取证」环节" in html
    assert last_entry("case.stage_changed").outcome == "succeeded"


def test_illegal_stage_move_shows_chinese_error(people, case_a):
    client = logged_in(people["officer_a"])
    response = client.post(
        reverse("case_move", args=[case_a.pk]), {"to": Stage.DECISION}, follow=True
    )
    assert response.status_code == 200
    assert "不能转入「审查决定」" in response.content.decode()
    response = client.post(
        reverse("case_move", args=[case_a.pk]), {"to": Stage.ARCHIVING}, follow=True
    )
    assert "无权将案件转入「归档管理」环节" in response.content.decode()
    case_a.refresh_from_db()
    assert case_a.stage == Stage.INITIATION
    response = client.post(reverse("case_move", args=[case_a.pk]), {"to": "nonsense"}, follow=True)
    assert "请选择要转入的环节" in response.content.decode()


def test_move_stage_of_foreign_case_is_404_and_audited(people, case_a):
    response = logged_in(people["officer_b"]).post(
        reverse("case_move", args=[case_a.pk]), {"to": Stage.INVESTIGATION}
    )
    assert response.status_code == 404
    case_a.refresh_from_db()
    assert case_a.stage == Stage.INITIATION
    assert last_entry("case.view").outcome == "denied"


def test_move_stage_needs_csrf(people, case_a):
    client = Client(enforce_csrf_checks=True)
    client.force_login(people["officer_a"].user)
    response = client.post(reverse("case_move", args=[case_a.pk]), {"to": Stage.INVESTIGATION})
    assert response.status_code == 403
    case_a.refresh_from_db()
    assert case_a.stage == Stage.INITIATION


def test_edit_facts_sets_hearing_and_article_5_flags(people, case_a):
    client = logged_in(people["officer_a"])
    response = client.post(
        reverse("case_edit", args=[case_a.pk]),
        {
            "cause": case_a.cause,
            "summary": "",
            "hearing_requested": "on",
            "is_disputed": "on",
            "complaint_received_on": "",
            "decided_on": "",
            "closed_on": "",
        },
    )
    assert response.status_code == 302
    case_a.refresh_from_db()
    assert case_a.hearing_requested and case_a.is_disputed
    entry = last_entry("case.changed")
    assert entry.detail["after"] == {"hearing_requested": True, "is_disputed": True}
    response = client.post(
        reverse("case_edit", args=[case_a.pk]),
        {"cause": case_a.cause, "decided_on": "2026-05-05", "closed_on": "2026-05-01"},
    )
    # issue 13 item 3: the case is not concluded; the message names the date
    assert "还不能填写结案日期（2026-05-01）" in response.content.decode()
    response = logged_in(people["officer_b"]).get(reverse("case_edit", args=[case_a.pk]))
    assert response.status_code == 404


# --- parties and patrols -----------------------------------------------------------------


def test_register_party_validates_checksum(people, bureau):
    client = logged_in(people["officer_a"])
    good = valid_id_card()  # once: two calls give two cards, and the "bad" one could be valid
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    response = client.post(
        reverse("party_create"),
        {"unit": bureau["team_a"].pk, "kind": PartyKind.PERSON, "name": "王五", "id_number": bad},
    )
    assert response.status_code == 200
    assert "校验位错误" in response.content.decode()
    good = valid_id_card()
    response = client.post(
        reverse("party_create"),
        {"unit": bureau["team_a"].pk, "kind": PartyKind.PERSON, "name": "王五", "id_number": good},
    )
    assert response.status_code == 302
    assert Party.objects.get(id_number=good).name == "王五"
    html = client.get(reverse("party_list")).content.decode()
    assert "王*" in html and good not in html


def test_patrol_create_and_open_case_from_it(people, bureau):
    """第五条: a violation found on patrol opens a case with the patrol's officers."""
    client = logged_in(people["officer_a"])
    response = client.post(
        reverse("patrol_create"),
        {
            "unit": bureau["team_a"].pk,
            "date": TEST_TODAY.isoformat(),
            "area": "开发区",
            "officers": [people["officer_a"].pk, people["officer_a2"].pk],
            "notes": "",
        },
    )
    assert response.status_code == 302
    patrol = Patrol.objects.get()
    assert "开发区" in client.get(reverse("patrol_list")).content.decode()
    party = make_party(actor=people["officer_a"].user, unit=bureau["team_a"])
    response = client.post(
        reverse("patrol_open_case", args=[patrol.pk]),
        {"kind": CaseKind.PENALTY, "cause": "未依法缴纳社会保险", "parties": [party.pk]},
    )
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.patrol == patrol and case.source == "patrol"
    assert list(case.parties.all()) == [party]
    assert set(case.officers.all()) == {people["officer_a"], people["officer_a2"]}
    assert (
        logged_in(people["officer_b"])
        .get(reverse("patrol_open_case", args=[patrol.pk]))
        .status_code
        == 404
    )


def test_narrow_search_needs_no_count_query(people, bureau, case_a):
    """A first page that is not full is its own count: one scan of the table, not two."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = logged_in(people["officer_a"])
    with CaptureQueriesContext(connection) as queries:
        html = client.get(reverse("case_list"), {"q": "拖欠"}).content.decode()
    assert "共 1 条" in html
    assert not [q for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]


@pytest.mark.parametrize("form", [{}, {"to": "nonsense"}, {"to": Stage.INVESTIGATION,
                                                         "note": "长" * 5000}])
def test_a_malformed_stage_move_by_someone_who_may_not_move_is_refused_and_audited(
    people, case_a, form
):
    """第二十六条: who may move the case is asked before the form is read. The legal affairs
    office may read every case but move none; a form naming no stage (or a note too long) was
    answered 「请选择要转入的环节」 and left no trace. Now refused (403) and audited; the
    handling officer still gets the form's own error. Fails before."""
    response = logged_in(people["legal"]).post(reverse("case_move", args=[case_a.pk]), form)
    assert response.status_code == 403
    entry = last_entry("case.transition_refused")
    assert (entry.outcome, entry.actor_id, entry.object_id) == (
        "denied", people["legal"].user.pk, str(case_a.pk))
    case_a.refresh_from_db()
    assert case_a.stage == Stage.INITIATION
    mine = logged_in(people["officer_a"]).post(reverse("case_move", args=[case_a.pk]), form,
                                               follow=True)
    assert mine.status_code == 200 and "无权" not in mine.content.decode()
