"""`liuhen holidays`: the working-day calendar's years with their source and 文号; `--load FILE`
adds a year from the State Council's notice (issue 8 item 8)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from liuhen.audit.services import record
from liuhen.deadlines.calendar import CalendarDataError
from liuhen.deadlines.events import event_calendar_changed
from liuhen.deadlines.holidays import current_calendar, load_years
from liuhen.deadlines.models import HolidayYear
from liuhen.deadlines.services import calendar_coverage, refresh_open_deadlines


class Command(BaseCommand):
    help = (
        "列出工作日历已载入的年度（依据、文号、是否暂定）；--load 文件 按国务院办公厅通知载入年度"
        "（格式同 deadlines/data/holidays.toml），--replace 替换已载入的年度。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--load", metavar="FILE", help="载入该文件中的年度")
        parser.add_argument("--replace", action="store_true", help="替换已载入的同一年度")

    def handle(self, *args, load=None, replace=False, **options):
        if load:
            try:
                with transaction.atomic():
                    years = load_years(load, replace=replace)
                    for year in HolidayYear.objects.filter(year__in=years):
                        record(
                            actor=None,
                            actor_name="liuhen holidays",
                            action=event_calendar_changed,
                            target=year,
                            detail={"year": year.year, "file": str(load)[:300],
                                    "provisional": year.provisional, "replaced": replace},
                        )
            except CalendarDataError as exc:
                raise CommandError(f"未载入：{exc}") from None
            n = refresh_open_deadlines()
            self.stdout.write(
                f"已载入 {'、'.join(map(str, years))} 年；已重新计算 {n} 件在办案件的法定期限"
            )
        for year in HolidayYear.objects.order_by("year"):
            self.stdout.write(
                f"{year.year}  {'暂定' if year.provisional else '正式'}  "
                f"{year.source or '（未写明依据）'}  {year.document_number or '（文号待核对）'}  "
                f"{year.days.count()} 天"
            )
        self.stdout.write(calendar_coverage(current_calendar()))
