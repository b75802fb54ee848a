"""`liuhen audit verify`: walk the hash chain and report the first entry that breaks it."""

import os
import time

from django.core.management.base import BaseCommand, CommandError

from liuhen.audit import events
from liuhen.audit.choices import Outcome
from liuhen.audit.services import record, verify


class Command(BaseCommand):
    help = "审计日志工具：verify 校验哈希链（第二十六条）"

    def add_arguments(self, parser):
        parser.add_argument("subcommand", choices=["verify"])
        parser.add_argument("--quiet", action="store_true", help="不写入本次校验的审计条目")
        parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                            help="并行校验的进程数（默认为CPU核数；5万条以下不并行）")

    def handle(self, *args, subcommand, quiet, workers, **options):
        if not 1 <= workers <= 64:
            raise CommandError("--workers 应在 1 到 64 之间")
        started = time.perf_counter()
        result = verify(workers=workers)
        seconds = time.perf_counter() - started
        rate = result.checked / seconds if seconds > 0 else 0
        if not quiet:
            record(actor=None, actor_name="liuhen audit verify", action=events.event_audit_verified,
                   outcome=Outcome.SUCCEEDED if result.ok else Outcome.FAILED,
                   reason=result.problem,
                   detail={"checked": result.checked, "first_bad_seq": result.first_bad_seq})
        if result.ok:
            self.stdout.write(
                f"审计日志完整：共 {result.checked} 条，链头 #{result.head_seq} {result.head_hash}"
                f"（{seconds:.2f} 秒，{rate:,.0f} 条/秒）")
            return
        raise CommandError(
            f"审计日志在第 {result.first_bad_seq} 条处断裂：{result.problem}"
            f"（此前 {result.checked} 条完好）", returncode=1)
