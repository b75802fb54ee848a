"""`liuhen storage check [--sample N] [--pin]`: the evidence store's set-up and every stored
original against the database (issue 14 item 5, 第二十六条 (二))."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from liuhen.evidence.storage_check import LABELS, check_storage


class Command(BaseCommand):
    help = ("检查证据存储：存储桶的版本控制与对象锁定，每个原件的固定版本、大小与摘要，"
            "报告缺失、改变和存储键上的新版本")
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["check"], help="check：检查")
        parser.add_argument("--sample", type=int, default=10,
                            help="随机抽取 N 个原件重新读取并计算摘要（默认 10，0 不抽样）")
        parser.add_argument("--pin", action="store_true",
                            help="为固定版本之前存储、只有一个版本的原件固定版本（先重算摘要）")

    def handle(self, *args, action, sample, pin, **options):
        if sample < 0:
            raise CommandError("--sample 应为非负整数")

        def progress(problem: dict) -> None:
            detail = "，".join(f"{k}={v}" for k, v in problem["detail"].items())
            self.stderr.write(f"[{LABELS[problem['problem']]}] {problem['kind']} {problem['id']} "
                              f"{problem['key']} {detail}")

        report = check_storage(sample=sample, pin=pin, progress=progress)
        if report.storage == "s3":
            setup = report.setup
            retention = setup.get("default_retention")
            self.stdout.write(
                f"存储桶 {setup['bucket']}：版本控制 {setup['versioning']}，对象锁定 "
                f"{'已启用' if setup['object_lock'] else '未启用'}，默认保留 "
                + (f"{retention.get('Mode')} {retention.get('Days') or retention.get('Years')}"
                   f"{'天' if retention.get('Days') else '年'}" if retention
                   else "无（每个原件写入时单独设定保留期限）"))
        else:
            self.stdout.write(f"本地存储 {report.setup.get('root')}：文件夹不保留对象版本")
        for line in report.setup_problems:
            self.stderr.write(f"[存储设置] {line}")
        self.stdout.write(report.summary())
        if report.failed:
            self.stderr.write("存储检查发现问题（抽样校验已记录在固定值校验记录和审计日志中）")
            sys.exit(1)
