"""`liuhen derive`: make the derived media (proxy, poster, thumbnails) of recordings now.

For catching up when the job queue was down at ingest (recordings stay ``pending``), retrying
``failed`` ones after fixing the cause, or one recording by id. Runs the same function as the
background job, in this process; originals are only read (第二十六条 (二)).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from liuhen.evidence.choices import DerivationStatus
from liuhen.evidence.models import Recording
from liuhen.evidence.tasks import derive_recording, enqueue_derivation


class Command(BaseCommand):
    help = "生成音像记录的播放代理、封面和缩略图（派生文件，不改动原始文件）"

    def add_arguments(self, parser):
        parser.add_argument("ids", nargs="*", type=int, help="音像记录编号")
        parser.add_argument("--pending", action="store_true", help="处理全部待处理的记录")
        parser.add_argument("--failed", action="store_true", help="重试全部处理失败的记录")
        parser.add_argument(
            "--queue", action="store_true", help="放入后台任务队列而不是在本进程执行"
        )

    def handle(self, *args, ids, pending, failed, queue, **options):
        statuses = [
            s
            for s, wanted in (
                (DerivationStatus.PENDING, pending),
                (DerivationStatus.FAILED, failed),
            )
            if wanted
        ]
        if not ids and not statuses:
            raise CommandError("请指定记录编号，或 --pending / --failed")
        query = Recording.objects.filter(pk__in=ids) if ids else Recording.objects.none()
        if statuses:
            query = query | Recording.objects.filter(derivation_status__in=statuses)
        counts: dict[str, int] = {}
        for pk in query.order_by("pk").values_list("pk", flat=True).iterator():
            if queue:
                status = "queued" if enqueue_derivation(pk) else "queue_unavailable"
            else:
                status = str(derive_recording(recording_id=pk, force=True))
            counts[status] = counts.get(status, 0) + 1
            self.stdout.write(f"{pk}: {status}")
        summary = "，".join(f"{k} {v}" for k, v in sorted(counts.items())) or "没有需要处理的记录"
        self.stdout.write(f"完成：{summary}")
        if counts.get(DerivationStatus.FAILED) or counts.get("queue_unavailable"):
            raise CommandError("部分记录处理失败，见审计日志（recording.derivation_failed）")
