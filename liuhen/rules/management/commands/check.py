"""`liuhen check`: Django's system checks, the rules data files, then every case's completeness.

Extends Django's own ``check`` (same options, same exit status for system checks) so that
one command checks the installation and re-evaluates the cases in bulk (第十条). It prints
per-case figures as a table, JSON or CSV and exits 0 when the checks pass, gaps or not.
"""

from __future__ import annotations

import csv
import io
import json

from django.core.management.base import CommandError
from django.core.management.commands.check import Command as DjangoCheck
from django.db import connection

from liuhen.cases.models import Case
from liuhen.org.models import Unit
from liuhen.rules import engine
from liuhen.rules.models import CaseCompleteness
from liuhen.rules.services import default_workers, evaluate_cases, record_check


class Command(DjangoCheck):
    help = "系统检查、规则数据检查，并批量评估案件记录完整性（--unit 单位，--format 输出格式）"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--unit", help="单位编号或名称（含下级单位）")
        parser.add_argument("--format", choices=["table", "json", "csv"], default="table")
        parser.add_argument("--no-cases", action="store_true", help="只做系统与规则数据检查")

    def handle(self, *app_labels, **options):
        # Django's checks first (raises SystemCheckError on failures, as `check` always did).
        super().handle(*app_labels, **options)
        engine.reload()
        try:
            rules = engine.load_rules()
        except engine.RuleDataError as exc:
            raise CommandError(f"规则数据文件有误：{exc}") from None
        if options["no_cases"] or options["list_tags"]:
            return

        if "cases_case" not in connection.introspection.table_names():
            self.stderr.write("数据库尚未迁移，跳过案件评估（先运行 liuhen migrate）")
            return

        cases = Case.objects.all()
        unit = None
        if options["unit"]:
            value = options["unit"]
            unit = (
                Unit.objects.filter(pk=value).first()
                if value.isdigit()
                else Unit.objects.filter(name=value).first()
            )
            if unit is None:
                raise CommandError(f"单位不存在：{value}")
            cases = cases.filter(unit__path__startswith=unit.path)
        count = evaluate_cases(cases, workers=default_workers())
        # One audit entry per run (the console has no signed-in actor): what was re-evaluated.
        record_check(actor=None, unit=unit, count=count)
        rows = (
            CaseCompleteness.objects.filter(case__in=cases)
            .order_by("case__number")
            .values_list(
                "case__number",
                "case__kind",
                "case__stage",
                "ratio",
                "met",
                "missing_count",
                "waived",
                "applicable",
                "missing",
            )
        )
        self._print(rows, options["format"], count, sum(len(r) for r in rules.values()))

    def _print(self, rows, fmt, count, rule_count):
        out = self.stdout
        if fmt == "json":
            data = [
                {
                    "case": r[0],
                    "kind": r[1],
                    "stage": r[2],
                    "completeness": round(r[3], 4),
                    "met": r[4],
                    "missing": r[5],
                    "waived": r[6],
                    "applicable": r[7],
                    "missing_rules": r[8],
                }
                for r in rows.iterator()
            ]
            out.write(
                json.dumps(
                    {"cases": count, "rules": rule_count, "items": data},
                    ensure_ascii=False,
                    indent=1,
                )
            )
            return
        if fmt == "csv":
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            writer.writerow(
                [
                    "案件编号",
                    "执法行为",
                    "环节",
                    "完整率",
                    "已具备",
                    "缺失",
                    "已豁免",
                    "适用项",
                    "缺失项",
                ]
            )
            for r in rows.iterator():
                writer.writerow(
                    [r[0], r[1], r[2], f"{r[3]:.4f}", r[4], r[5], r[6], r[7], ";".join(r[8])]
                )
            out.write(buffer.getvalue(), ending="")
            return
        complete = 0
        out.write(f"{'案件编号':<24}{'执法行为':<12}{'环节':<14}{'完整率':>8}  缺失项")
        for r in rows.iterator():
            complete += r[5] == 0
            out.write(f"{r[0]:<28}{r[1]:<14}{r[2]:<16}{r[3]:>7.0%}  {'、'.join(r[8]) or '—'}")
        out.write(f"共评估 {count} 件案件（{rule_count} 条规则），记录完整 {complete} 件。")
