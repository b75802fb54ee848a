"""`liuhen completeness [--unit U] [--format table|json|csv]`: every case's completeness.

Re-evaluates the cases in bulk against what 第五条–第十条 require and prints one line per
case. The table is for people (Chinese names of kinds, stages and requirements, each with its
article); JSON and CSV are for programs and spreadsheets and nothing else is written to stdout
(messages go to stderr), so ``liuhen completeness --format json | python -m json.tool`` works.
Exit status 0 whether or not cases have gaps; 2 for bad arguments.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from liuhen.core.exports import safe_row
from liuhen.org.models import Unit
from liuhen.rules import engine
from liuhen.rules.summary import Summary, completeness_summary

CSV_HEADER = ["案件编号", "执法单位", "执法行为", "环节", "完整率", "已具备", "缺失", "已豁免",
              "适用项", "缺失项（依据）"]


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, width: int) -> str:
    return text + " " * max(0, width - display_width(text))


class Command(BaseCommand):
    help = "批量评估案件记录完整性（第五条至第十条）：--unit 单位（含下级），--format table|json|csv"
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument("--unit", help="单位编号或名称（含下级单位）")
        parser.add_argument("--format", choices=["table", "json", "csv"], default="table",
                            help="table：表格（中文）；json、csv：供程序和表格软件读取")

    def handle(self, *args, unit=None, format="table", **options):
        engine.reload()
        try:
            engine.load_rules()
        except engine.RuleDataError as exc:
            raise CommandError(f"规则数据文件有误：{exc}") from None
        if "cases_case" not in connection.introspection.table_names():
            raise CommandError("数据库尚未迁移，请先运行 liuhen migrate")
        summary = completeness_summary(unit=self._unit(unit))
        {"json": self._json, "csv": self._csv, "table": self._table}[format](summary)

    @staticmethod
    def _unit(value: str | None):
        if not value:
            return None
        found = (Unit.objects.filter(pk=int(value)).first() if value.isdigit()
                 else Unit.objects.filter(name=value).first())
        if found is None:
            raise CommandError(f"单位不存在：{value}")
        return found

    def _json(self, summary: Summary) -> None:
        body = {"cases": summary.cases, "rules": summary.rules, "complete": summary.complete,
                "items": [row.as_dict() for row in summary.rows]}
        self.stdout.write(json.dumps(body, ensure_ascii=False, indent=1))

    def _csv(self, summary: Summary) -> None:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(CSV_HEADER)
        for r in summary.rows:
            writer.writerow(safe_row([r.number, r.unit, r.kind_label, r.stage_label,
                                      f"{r.ratio:.4f}", r.met, r.missing_count, r.waived,
                                      r.applicable, r.missing_text()]))
        self.stdout.write(buffer.getvalue(), ending="")

    def _table(self, summary: Summary) -> None:
        out = self.stdout
        widths = (26, 10, 10, 8)
        head = ("案件编号", "执法行为", "环节", "完整率")
        out.write("".join(pad(h, w) for h, w in zip(head, widths, strict=True)) + "缺失项（依据）")
        for r in summary.rows:
            cells = (r.number, r.kind_label, r.stage_label, f"{r.ratio:.0%}")
            line = "".join(pad(c, w) for c, w in zip(cells, widths, strict=True))
            out.write(line + (r.missing_text("；") or "—"))
        out.write(f"共评估 {summary.cases} 件案件（{summary.rules} 条规则），"
                  f"记录完整 {summary.complete} 件。")
