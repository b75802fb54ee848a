"""The working-day calendar is data the administrator edits (国务院办公厅 annual notice):
seeded from holidays.toml, edited in Django admin, audited, and every open deadline moves
with it (行政处罚法 第八十五条: 日 counted as working days)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from liuhen.audit.models import AuditEntry
from liuhen.deadlines.calendar import default_calendar
from liuhen.deadlines.events import event_calendar_changed
from liuhen.deadlines.holidays import current_calendar
from liuhen.deadlines.models import CaseDeadlineEntry, DayKind, Holiday, HolidayYear
from liuhen.rules.tests.helpers import penalty_case

pytestmark = pytest.mark.django_db
D = dt.date


def change_form_data(year: HolidayYear, extra_rows=()) -> dict:
    """The admin change form of a year as a browser would post it, plus ``extra_rows``."""
    days = list(year.days.order_by("date"))
    data = {
        "year": year.year,
        "provisional": "on" if year.provisional else "",
        "source": year.source,
        "days-TOTAL_FORMS": len(days) + len(extra_rows),
        "days-INITIAL_FORMS": len(days),
        "days-MIN_NUM_FORMS": 0,
        "days-MAX_NUM_FORMS": 1000,
    }
    rows = [
        {
            "id": d.pk,
            "calendar_year": year.pk,
            "date": d.date.isoformat(),
            "name": d.name,
            "kind": d.kind,
        }
        for d in days
    ]
    rows += [{"calendar_year": year.pk, **row} for row in extra_rows]
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"days-{i}-{key}"] = value
    return data


def test_seeded_from_toml_and_same_calendar():
    """The data migration copied holidays.toml: 2025 Spring Festival and its workdays."""
    assert set(HolidayYear.objects.values_list("year", flat=True)) >= {2025, 2026, 2027}
    assert Holiday.objects.get(date=D(2025, 1, 28)).kind == DayKind.HOLIDAY
    assert Holiday.objects.get(date=D(2025, 1, 26)).kind == DayKind.WORKDAY
    cal, toml = current_calendar(), default_calendar()
    day = D(2025, 1, 1)
    while day < D(2026, 1, 1):
        assert cal.is_working_day(day) == toml.is_working_day(day), day
        day += dt.timedelta(days=1)


def test_admin_edit_moves_open_deadlines_and_is_audited(
    client, people, superuser, django_capture_on_commit_callbacks
):
    """Declaring 2025-09-26 a holiday moves the decision deadline that ended on it (60 working
    days, 劳动保障监察条例第十七条) to 09-28, the Sunday worked before National Day."""
    from liuhen.org.models import Officer

    Officer.objects.update(qualification_valid_from=D(2020, 1, 1))
    case = penalty_case(people, opened_on=D(2025, 7, 4))  # 60 working days → 09-26
    entry = CaseDeadlineEntry.objects.get(case=case, code="penalty_decision")
    assert entry.due == D(2025, 9, 26)

    year = HolidayYear.objects.get(year=2025)
    client.force_login(superuser)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(
            reverse("admin:deadlines_holidayyear_change", args=[year.pk]),
            change_form_data(year, [{"date": "2025-09-26", "name": "国庆节", "kind": "holiday"}]),
        )
    assert len(callbacks) == 1  # the refresh job is queued after the commit
    assert response.status_code == 302, response.content.decode()[:2000]
    assert current_calendar().is_rest_day(D(2025, 9, 26))
    entry = CaseDeadlineEntry.objects.get(case=case, code="penalty_decision")
    assert entry.due == D(2025, 9, 28)
    audit = AuditEntry.objects.filter(action=event_calendar_changed).latest("seq")
    assert audit.actor_id == superuser.pk and "2025-09-26 国庆节 holiday" in audit.detail["changed"]


def test_admin_refuses_a_weekday_workday(client, superuser):
    """调休上班日 must be a Saturday or Sunday: a Monday 'workday' is refused with a reason."""
    year = HolidayYear.objects.get(year=2026)
    client.force_login(superuser)
    before = Holiday.objects.count()
    response = client.post(
        reverse("admin:deadlines_holidayyear_change", args=[year.pk]),
        change_form_data(year, [{"date": "2026-03-02", "name": "调休", "kind": "workday"}]),
    )
    assert response.status_code == 200
    assert "调休上班日必须是周六或周日" in response.content.decode()
    assert Holiday.objects.count() == before


def test_officers_cannot_edit_the_calendar(client, people):
    client.force_login(people["officer_a"].user)
    year = HolidayYear.objects.get(year=2025)
    response = client.get(reverse("admin:deadlines_holidayyear_change", args=[year.pk]))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_empty_admin_tables_fall_back_to_toml():
    Holiday.objects.all().delete()
    HolidayYear.objects.all().delete()
    assert current_calendar() is default_calendar()
