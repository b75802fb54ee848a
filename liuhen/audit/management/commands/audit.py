"""`liuhen audit verify`: walk the hash chain and report the first entry that breaks it, then
check the anchors; `liuhen audit anchor`: write an anchor of the chain's head."""

import os
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from liuhen.audit import anchors as anchoring
from liuhen.audit import events
from liuhen.audit.choices import Outcome
from liuhen.audit.services import record, verify


class Command(BaseCommand):
    help = "审计日志工具：verify 校验哈希链和锚点，anchor 记下链头锚点（第二十六条）"

    def add_arguments(self, parser):
        parser.add_argument("subcommand", choices=["verify", "anchor"])
        parser.add_argument("--anchors", nargs="*", type=Path, default=None,
                            help="verify：要核对的锚点文件或目录（默认为 LIUHEN_AUDIT_ANCHOR_DIR）")
        parser.add_argument("--out", type=Path, default=None,
                            help="anchor：锚点文件写入的目录（默认为 LIUHEN_AUDIT_ANCHOR_DIR）")
        parser.add_argument("--quiet", action="store_true", help="不写入本次校验的审计条目")
        parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                            help="并行校验的进程数（默认为CPU核数；5万条以下不并行）")

    def handle(self, *args, subcommand, quiet, workers, anchors, out, **options):
        if subcommand == "anchor":
            try:
                made = anchoring.make_anchor(out)
            except OSError as exc:
                raise CommandError(f"无法写入锚点文件：{exc}") from exc
            if made is None:
                raise CommandError("审计日志为空，没有可记下的链头")
            anchor, path = made
            self.stdout.write(anchor.line())
            self.stdout.write(f"已写入 {path}；请把这个文件或上面这一行另行保存（打印、刻盘或存到其他服务器）")
            return
        if not 1 <= workers <= 64:
            raise CommandError("--workers 应在 1 到 64 之间")
        missing = [str(path) for path in anchors or () if not path.exists()]
        if missing:  # a mistyped path must not pass as "no anchors to check"
            raise CommandError("找不到锚点文件或目录：" + "、".join(missing))
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
            files = anchoring.anchor_files(anchors)
            # Issue 14 item 3: the anchors every node wrote to the evidence store, unless
            # particular files were named.
            stored = anchoring.stored_anchors() if anchors is None else []
            problems = anchoring.check_anchors(files, stored)
            if problems:
                if not quiet:
                    record(actor=None, actor_name="liuhen audit verify",
                           action=events.event_audit_verified, outcome=Outcome.FAILED,
                           reason="锚点不符", detail={"anchors": problems[:20]})
                raise CommandError("审计日志与锚点不符：\n" + "\n".join(problems), returncode=1)
            where = "、".join(str(p) for p in anchors) if anchors else str(anchoring.anchor_dir())
            if files or stored:
                stores = "、".join(store.label for store in anchoring.anchor_stores())
                # One anchor kept in both places counts once; each copy was checked.
                distinct = {p.name for p in files} | {
                    name.split("?", 1)[0].rsplit("/", 1)[-1] for name, _ in stored}
                self.stdout.write(
                    f"锚点 {len(distinct)} 个均相符（{where} 中 {len(files)} 个"
                    + (f"，{stores}中 {len(stored)} 个" if anchors is None and stores else "")
                    + "）")
            else:
                # Issue 14 item 3: a node that found no anchor must say so, not pass in silence.
                self.stdout.write(f"未核对任何锚点：{where} 中没有锚点文件"
                                  + ("，证据存储中也没有" if anchors is None else ""))
            return
        raise CommandError(
            f"审计日志在第 {result.first_bad_seq} 条处断裂：{result.problem}"
            f"（此前 {result.checked} 条完好）", returncode=1)
