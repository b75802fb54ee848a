"""`liuhen deadlines`: list due-soon and overdue statutory deadlines, or refresh them."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from liuhen.deadlines.holidays import current_calendar
from liuhen.deadlines.models import CaseDeadlineEntry
from liuhen.deadlines.services import (
    calendar_coverage,
    refresh_open_deadlines,
    uncomputable_deadlines,
)
from liuhen.org.models import Unit


class Command(BaseCommand):
    help = "列出即将到期/已逾期的法定期限；--refresh 重新计算所有在办案件的期限（修改节假日后）。"

    def add_arguments(self, parser):
        parser.add_argument("--refresh", action="store_true", help="重新计算所有在办案件的期限")
        parser.add_argument("--unit", type=int, help="只列出该单位（含下级）的案件")
        parser.add_argument("--format", choices=("table", "json"), default="table")

    def handle(self, *args, refresh=False, unit=None, format="table", **options):
        if refresh:
            n = refresh_open_deadlines()
            self.stdout.write(f"已重新计算 {n} 件在办案件的法定期限")
            return
        today = timezone.localdate()
        target = None
        entries = CaseDeadlineEntry.objects.filter(warn_from__lte=today).select_related("case")
        if unit is not None:
            target = Unit.objects.filter(pk=unit).first()
            if target is None:
                raise CommandError(f"单位 {unit} 不存在")
            entries = entries.filter(case__unit__path__startswith=target.path)
        rows = [
            {
                "case": e.case.number,
                "deadline": e.name,
                "citation": e.citation,
                "due": e.due.isoformat(),
                "status": e.status_on(today),
            }
            for e in entries.order_by("due", "case_id")
        ]
        # Deadlines the calendar cannot count (its last year has passed): listed, never hidden.
        unknown = [
            {
                "case": case.number,
                "deadline": d.name,
                "citation": d.citation,
                "due": None,
                "status": "unknown",
                "reason": d.error,
            }
            for case, d in uncomputable_deadlines(unit=target)
        ]
        rows += unknown
        if format == "json":
            self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=1))
            return
        self.stdout.write(calendar_coverage(current_calendar()))
        for r in rows:
            if r["status"] == "unknown":
                continue
            mark = "逾期" if r["status"] == "overdue" else "将到期"
            self.stdout.write(f"{r['due']}  {mark}  {r['case']}  {r['deadline']}  {r['citation']}")
        if unknown:
            self.stdout.write(f"无法计算（工作日历未载入相应年度）{len(unknown)} 项：")
            for r in unknown:
                self.stdout.write(f"  无法计算  {r['case']}  {r['deadline']}  {r['reason']}")
        self.stdout.write(f"共 {len(rows)} 项")
