"""Training (第二十五条): sessions with topic, date, hours, trainer and materials; attendance
with the hours credited; each officer's record; the required hours per year are data, and
officers short of them are listed for their unit head (his units only)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from liuhen.audit.models import AuditEntry
from liuhen.core.errors import Forbidden, InvalidInput
from liuhen.supervision import training
from liuhen.supervision.models import TrainingAttendance

pytestmark = pytest.mark.django_db


def _required() -> Decimal:
    return training.rule()["hours_by_role"]["officer"]


def _session(people, hours=None, days_ago=3, **kw):
    held = timezone.localdate() - timedelta(days=days_ago)
    return training.add_session(actor=people["legal"].user, topic=kw.get("topic", "执法记录仪使用"),
                                held_on=held, hours=hours or _required(), trainer="李法制",
                                materials="第十八条至第二十二条讲义")


def test_rule_is_data_with_its_article():
    assert training.rule()["article"] == "第二十五条"
    assert set(training.rule()["hours_by_role"]) == {"officer", "unit_head"}


def test_session_and_attendance_make_the_record(people):
    session = _session(people, hours=Decimal("4"))
    assert training.record_attendance(actor=people["legal"].user, session=session,
                                      officer_ids=[people["officer_a"].pk,
                                                   people["officer_b"].pk]) == 2
    # Again with one more: the two already recorded are left alone.
    assert training.record_attendance(actor=people["legal"].user, session=session,
                                      officer_ids=[people["officer_a"].pk,
                                                   people["officer_a2"].pk], hours="2") == 1
    record = list(training.officer_record(people["officer_a2"]))
    assert [(a.session.topic, a.hours) for a in record] == [("执法记录仪使用", Decimal("2.0"))]
    assert TrainingAttendance.objects.count() == 3
    assert AuditEntry.objects.filter(action="training.attendance_recorded").count() == 2
    with pytest.raises(InvalidInput):  # more than the session had
        training.record_attendance(actor=people["legal"].user, session=session,
                                   officer_ids=[people["officer_b2"].pk], hours="5")
    with pytest.raises(InvalidInput):
        training.record_attendance(actor=people["legal"].user, session=session,
                                   officer_ids=[999999])


def test_officers_short_of_the_hours_are_listed_for_their_unit_head(people):
    year = timezone.localdate().year
    full = _session(people, days_ago=0)
    training.record_attendance(actor=people["legal"].user, session=full,
                               officer_ids=[people["officer_a"].pk])
    last_year = training.add_session(actor=people["legal"].user, topic="去年的培训",
                                     held_on=date(year - 1, 6, 1), hours=_required(),
                                     trainer="李法制")
    training.record_attendance(actor=people["legal"].user, session=last_year,
                               officer_ids=[people["officer_a2"].pk])
    short = {s.officer.pk: s for s in training.standings(people["head_a"].user, year,
                                                         only_short=True)}
    # Team A's head sees his officers only: officer_a done, officer_a2 trained last year only.
    assert people["officer_a"].pk not in short and people["officer_a2"].pk in short
    assert short[people["officer_a2"].pk].short == _required()
    assert people["officer_b"].pk not in short  # team B is not his
    everyone = {s.officer.pk for s in training.standings(people["legal"].user, year)}
    assert {people["officer_b"].pk, people["head_a"].pk} <= everyone
    assert people["legal"].pk not in everyone  # no requirement for the legal office's role
    mine = training.standings(people["officer_a2"].user, year)
    assert [s.officer.pk for s in mine] == [people["officer_a2"].pk]
    assert [s.officer.pk for s in training.standings(people["officer_a2"].user, year - 1,
                                                     only_short=True)] == []


def test_only_the_legal_office_registers(people):
    with pytest.raises(Forbidden):
        training.add_session(actor=people["head_a"].user, topic="x",
                             held_on=timezone.localdate(), hours=2, trainer="y")
    assert AuditEntry.objects.filter(action="training.session_added",
                                     outcome="denied").exists()
    for bad in ("0", "abc", "1e9", "NaN"):
        with pytest.raises(InvalidInput):
            training.add_session(actor=people["legal"].user, topic="x",
                                 held_on=timezone.localdate(), hours=bad, trainer="y")


def test_pages(people):
    legal = Client()
    legal.force_login(people["legal"].user)
    today = timezone.localdate()
    assert legal.get("/supervision/training/").status_code == 200
    for bad in ({"topic": "x", "held_on": "2026-02-30", "hours": "2", "trainer": "y"},
                {"topic": "x", "held_on": (today + timedelta(days=1)).isoformat(),
                 "hours": "2", "trainer": "y"},
                {"topic": "x", "held_on": today.isoformat(), "hours": "-1", "trainer": "y"}):
        assert legal.post("/supervision/training/", bad).status_code == 400
    made = legal.post("/supervision/training/", {"topic": "事先告知与全程记录",
                                                 "held_on": today.isoformat(), "hours": "3",
                                                 "trainer": "王老师"})
    assert made.status_code == 302
    url = made["Location"]
    assert legal.post(url, {"officers": ["x"]}).status_code == 400
    assert legal.post(url, {"officers": [people["officer_a"].pk,
                                         people["officer_b"].pk]}).status_code == 302
    assert "事先告知与全程记录" in legal.get(url).content.decode()
    assert legal.get("/supervision/training/?year=abc").status_code == 400
    head = Client()
    head.force_login(people["head_a"].user)
    page = head.get("/supervision/training/?short=1").content.decode()
    assert people["officer_a2"].name in page and people["officer_b"].name not in page
    detail = head.get(url).content.decode()
    assert people["officer_a"].name in detail and people["officer_b"].name not in detail
    assert head.post(url, {"officers": [people["officer_a2"].pk]}).status_code == 403
    officer = Client()
    officer.force_login(people["officer_a"].user)
    own = officer.get(f"/supervision/training/officers/{people['officer_a'].pk}/")
    assert own.status_code == 200 and "事先告知与全程记录" in own.content.decode()
    other = officer.get(f"/supervision/training/officers/{people['officer_a2'].pk}/")
    assert other.status_code == 404
    viewed = AuditEntry.objects.filter(action="training.record_viewed")
    assert viewed.filter(outcome="succeeded").count() == 1
    # the other officer's record was hidden, and the refusal names whose (第二十六条 (三))
    assert viewed.filter(outcome="denied", actor_id=people["officer_a"].user.pk,
                         object_type="org.officer",
                         object_id=str(people["officer_a2"].pk)).count() == 1
