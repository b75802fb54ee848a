"""`liuhen import_records FILE --kind levy|fee --user U`: import the core platform's records
(第七条) or fee bills (第九条) and print the match report; exit 0 even with unmatched rows."""

from __future__ import annotations

import json

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from liuhen.core.errors import LiuhenError
from liuhen.records.imports import import_records


class Command(BaseCommand):
    help = "导入社保核心平台记录（第七条）或收费票据（第九条），输出未能匹配的行及原因"

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--kind", choices=["levy", "fee"], default="levy")
        parser.add_argument("--user", required=True, help="以哪个用户的名义导入（须有权限）")
        parser.add_argument("--dry-run", action="store_true")
        parser.add_argument("--early-date-reason", default="",
                            help="缴费日期早于本案开始的行也导入，并记录此理由（否则列为未匹配）")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **options):
        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"用户不存在：{options['user']}")
        try:
            report = import_records(
                actor=user,
                kind=options["kind"],
                file_path=options["file"],
                dry_run=options["dry_run"],
                early_date_reason=options["early_date_reason"],
            )
        except (LiuhenError, FileNotFoundError) as exc:
            raise CommandError(getattr(exc, "message", str(exc))) from None
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=1))
            return
        self.stdout.write(
            f"{report.file_name}：共 {report.rows} 行，已关联 {len(report.imported)}"
            f" 行，重复 {len(report.duplicates)} 行，未能匹配 {len(report.unmatched)} 行"
            + ("（试导入，未保存）" if report.dry_run else "")
        )
        for u in report.unmatched:
            self.stdout.write(f"  第{u['line']}行：{u['reason']}")
