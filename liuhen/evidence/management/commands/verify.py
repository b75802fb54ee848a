"""`liuhen verify [--all | --since DATE | --sample N]`: fixity check of stored originals."""

from __future__ import annotations

import sys
from datetime import datetime, time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from liuhen.evidence.fixity import scheduled_fixity, verify_recordings


class Command(BaseCommand):
    help = ("重新读取已存储的原件（音像记录及文字记录扫描件），重新计算 SHA-256 与 SM3，"
            "报告不一致、缺失和孤立对象")
    # The system checks import every URLconf, API and view (django-ninja schemas, PyAV,
    # Pillow): half of the command's start-up, for nothing a fixity check uses.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--all", action="store_true", help="校验全部原件（默认）")
        group.add_argument("--since", help="只校验此日期（YYYY-MM-DD 或 ISO 时间）之后存储的原件")
        group.add_argument("--sample", type=int, help="随机抽取 N 个原件校验")
        parser.add_argument("--no-orphans", action="store_true", help="不检查孤立对象")
        parser.add_argument(
            "--schedule",
            type=int,
            metavar="HOURS",
            help="不立即校验，而是把每 HOURS 小时一次的校验任务放入后台队列",
        )

    def handle(self, *args, **options):
        if options["schedule"]:
            if options["schedule"] < 1:
                raise CommandError("--schedule 应为正整数（小时）")
            scheduled_fixity.enqueue(sample=options["sample"], every_hours=options["schedule"])
            self.stdout.write(f"已安排每 {options['schedule']} 小时一次的固定值校验任务")
            return
        scope, since = "all", None
        if options["since"]:
            scope, since = "since", self._parse_since(options["since"])
        elif options["sample"] is not None:
            if options["sample"] < 1:
                raise CommandError("--sample 应为正整数")
            scope = "sample"

        def progress(item, check):
            kind = check.get_object_kind_display()
            if check.outcome != "ok":
                self.stderr.write(
                    f"[{check.get_outcome_display()}] {kind} {item.pk} "
                    f"{getattr(item, 'original_name', None) or item} {check.storage_key} "
                    f"应为 {check.expected_sha256} 实为 {check.found_sha256 or '—'}"
                )
            elif options["verbosity"] >= 2:
                self.stdout.write(f"[一致] {kind} {item.pk} {item.sha256}")

        report = verify_recordings(
            scope=scope,
            since=since,
            sample=options["sample"],
            orphans=not options["no_orphans"],
            progress=progress,
        )
        for key in report.orphans:
            self.stderr.write(f"[孤立对象] {key}：存储中有对象但没有对应的音像记录或文字记录")
        self.stdout.write(report.summary())
        if report.failed:
            self.stderr.write("固定值校验发现问题，已记录告警（审计日志与固定值校验记录）")
            sys.exit(1)

    @staticmethod
    def _parse_since(value: str) -> datetime:
        moment = parse_datetime(value)
        if moment is None:
            day = parse_date(value)
            if day is None:
                raise CommandError(f"无法识别的日期：{value}（应为 YYYY-MM-DD）")
            moment = datetime.combine(day, time.min)
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        return moment
