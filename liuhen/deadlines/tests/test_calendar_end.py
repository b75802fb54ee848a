"""Issue 8 item 8: each calendar year keeps its source and 文号; when a deadline runs past the
last year loaded, the case page and `liuhen deadlines` say it cannot be computed and what to do;
an administrator adds a year from a file (`liuhen holidays --load`)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command

from liuhen.audit.models import AuditEntry
from liuhen.deadlines.events import event_calendar_changed
from liuhen.deadlines.models import HolidayYear
from liuhen.deadlines.services import case_deadlines
from liuhen.rules.tests.helpers import penalty_case

pytestmark = pytest.mark.django_db
D = dt.date

YEAR_2027 = """
[[years]]
year = 2027
provisional = false
source = "《国务院办公厅关于2027年部分节假日安排的通知》"
document_number = "国办发明电〔2026〕99号"
days = [
  { date = 2027-01-01, name = "元旦", type = "holiday" },
  { date = 2027-02-05, name = "春节", type = "holiday" },
]
"""


@pytest.fixture(autouse=True)
def qualified_since_2020(people):
    from liuhen.org.models import Officer

    Officer.objects.update(qualification_valid_from=D(2020, 1, 1))


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_each_year_keeps_its_source_and_document_number():
    year = HolidayYear.objects.get(year=2025)
    assert year.document_number == "国办发明电〔2024〕12号"
    assert "2025年部分节假日安排的通知" in year.source
    listing = run("holidays")
    last = HolidayYear.objects.order_by("-year").first().year  # 2027, or later on a shifted clock
    assert "国办发明电〔2024〕12号" in listing and "2027  暂定" in listing
    assert f"工作日历载入 2025–{last} 年，{last}-12-31 之后届满的期限无法计算" in listing


def test_a_deadline_past_the_calendar_says_so_and_a_year_is_added_from_a_file(
    people, client, tmp_path
):
    HolidayYear.objects.filter(year__gte=2027).delete()
    # 60 working days from 2026-11-02 end in 2027: not loaded.
    case = penalty_case(people, opened_on=D(2026, 11, 2))
    d = {x.code: x for x in case_deadlines(case, today=D(2026, 11, 20))}["investigation"]
    assert d.status == "unknown" and d.status_label == "无法计算" and d.due is None
    assert "工作日历只载入至 2026 年" in d.error and "liuhen holidays --load" in d.error

    client.force_login(people["officer_a"].user)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "项期限无法计算" in page and "工作日历只载入至 2026 年" in page

    listing = run("deadlines")
    assert "工作日历载入 2025–2026 年" in listing
    assert "无法计算" in listing and case.number in listing

    bad = tmp_path / "bad.toml"
    bad.write_text("[[years]]\nyear = 2027\nprovisional = false\ndays = []\n", encoding="utf-8")
    with pytest.raises(CommandError, match="正式年度须写明依据"):
        run("holidays", "--load", str(bad))

    good = tmp_path / "2027.toml"
    good.write_text(YEAR_2027, encoding="utf-8")
    out = run("holidays", "--load", str(good))
    assert "已载入 2027 年" in out and "国办发明电〔2026〕99号" in out
    assert AuditEntry.objects.filter(action=event_calendar_changed).exists()
    d = {x.code: x for x in case_deadlines(case, today=D(2026, 11, 20))}["investigation"]
    assert d.status != "unknown" and d.due.year == 2027

    HolidayYear.objects.filter(year=2026).delete()
    d = {x.code: x for x in case_deadlines(case, today=D(2026, 11, 20))}["investigation"]
    assert "工作日历缺少 2026 年" in d.error
    with pytest.raises(CommandError, match="已载入"):
        run("holidays", "--load", str(good))
    assert "已载入 2027 年" in run("holidays", "--load", str(good), "--replace")
