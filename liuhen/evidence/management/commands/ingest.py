"""`liuhen ingest DIR --device NUMBER [--officer ID] [--server URL --token T]`: the ingest
station (采集站) empties a body camera's dump folder into the vault. Never deletes anything."""

from __future__ import annotations

import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from liuhen.audit import context
from liuhen.devices.models import Device
from liuhen.evidence import station
from liuhen.org.models import Officer


class Command(BaseCommand):
    help = "采集站：把执法记录仪导出目录中的文件存入系统，核对固定值，生成回执（CSV 和 JSON）"
    # Only the project's own checks (file-name patterns, retention table, requirements data:
    # what an ingest relies on). Django's URL checks import every view and API module, half
    # a second of each station run (issue 9 item 2); ``liuhen check`` and start-up run them.
    requires_system_checks = ["liuhen"]

    def add_arguments(self, parser):
        parser.add_argument("folder", help="执法记录仪导出目录")
        parser.add_argument("--device", required=True, help="设备编号（设备上印的编号）")
        parser.add_argument(
            "--officer", default="", help="执法人员（编号或执法证号）；默认取设备配发人员"
        )
        parser.add_argument(
            "--server", default="", help="远程服务器地址（经 tus 上传）；不填则在本机直接存储"
        )
        parser.add_argument("--token", default="", help="远程上传用的 API 令牌")
        parser.add_argument("--user", default="", help="本机存储时的操作人登录名")
        parser.add_argument("--receipt-dir", default=".", help="回执保存目录（默认当前目录）")
        parser.add_argument("--chunk-mib", type=int, default=16, help="tus 分块大小（MiB）")

    def handle(
        self, *args, folder, device, officer, server, token, user, receipt_dir, chunk_mib, **options
    ):
        from tqdm import tqdm  # the console progress bar only, not for the library use

        source = Path(folder)
        if not source.is_dir():
            raise CommandError(f"目录不存在：{folder}")
        receipts = Path(receipt_dir)
        if server:
            if not token:
                raise CommandError("远程上传需要 --token（API 令牌）")
            if not 1 <= chunk_mib <= 1024:
                raise CommandError("--chunk-mib 应在 1 到 1024 之间")
            target = station.RemoteTarget(
                server=server,
                token=token,
                device=device,
                officer=officer,
                state_file=receipts / ".liuhen-tus-state.json",
                chunk_size=chunk_mib << 20,
            )
        else:
            target = self._local_target(device, officer, user)
        files = station.dump_files(source)
        # Over tus each file is hashed, then sent; directly, both happen in one pass.
        passes = 1 if getattr(target, "one_pass", False) else 2
        total = sum(p.stat().st_size for p in files) * passes
        receipt = station.Receipt(
            device=device, officer=officer, server=server, folder=str(source.resolve())
        )
        with tqdm(
            total=total,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            desc=f"采集 {device}",
            file=sys.stderr,
            disable=options["verbosity"] == 0,
        ) as bar:
            station.run(folder=source, target=_Progress(target, bar), receipt=receipt, bar=None)
        csv_path, json_path = receipt.write(receipts)
        totals = receipt.totals()
        for item in receipt.items:
            if item.status == station.FAILED:
                self.stderr.write(f"[失败] {item.file}：{item.message}")
        self.stdout.write(
            f"共 {len(receipt.items)} 个文件：新存储 {totals['stored']}，已存在 {totals['duplicate']}，"
            f"失败 {totals['failed']}。回执：{csv_path} {json_path}"
        )
        if receipt.failed:
            self.stderr.write("有文件未能存储，请勿清除这些文件，排除问题后重新运行")
            sys.exit(1)

    def _local_target(self, device_number, officer_ref, username):
        if not username:
            raise CommandError(
                "本机存储需要 --user（操作人登录名），远程上传请用 --server 和 --token"
            )
        actor = get_user_model().objects.filter(username=username, is_active=True).first()
        if actor is None:
            raise CommandError(f"用户不存在或已停用：{username}")
        device = Device.objects.filter(number=device_number).first()
        if device is None:
            raise CommandError(f"设备 {device_number} 未登记，请先登记设备（第二十一条）")
        officer = None
        if officer_ref:
            query = Officer.objects.filter(credential_number=officer_ref)
            if officer_ref.isdigit():
                query = Officer.objects.filter(pk=int(officer_ref)) | query
            officer = query.first()
            if officer is None:
                raise CommandError(f"执法人员不存在：{officer_ref}")

        context._current.set(context.AuditContext(session="station", via="station"))
        return station.LocalTarget(actor=actor, device=device, officer=officer)


class _Progress:
    """Wraps a target so that hashing and sending both move the one progress bar."""

    def __init__(self, target, bar) -> None:
        self.target, self.bar = target, bar

    def known(self, digests):
        self.bar.update(digests.size)  # the hashing pass
        known = self.target.known(digests)
        if known is not None:
            self.bar.update(digests.size)  # nothing to send
        return known

    def store(self, path, digests, progress):
        return self.target.store(path, digests, self.bar.update)

    @property
    def one_pass(self) -> bool:
        return getattr(self.target, "one_pass", False)

    @property
    def workers(self) -> int:
        return getattr(self.target, "workers", 1)

    @property
    def prepare(self):
        """The target's (direct mode: copy, hash and probe ahead on a pool), or None."""
        return getattr(self.target, "prepare", None)

    def ingest(self, path, progress, **kwargs):
        return self.target.ingest(path, self.bar.update, **kwargs)

    def ingest_group(self, batch, progress):
        return self.target.ingest_group(batch, self.bar.update)
