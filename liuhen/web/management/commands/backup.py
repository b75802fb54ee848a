"""`liuhen backup DEST`: an online backup of this installation (issue 16 item 5)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from liuhen.core.errors import LiuhenError
from liuhen.web.backup import make_backup


class Command(BaseCommand):
    help = "备份数据库、音像原件（本地存储时）、审计锚点和密钥到一个新的文件夹，附 SHA-256 清单"

    def add_arguments(self, parser):
        parser.add_argument("dest", type=Path, help="备份目标文件夹（新的或空的）")

    def handle(self, *args, dest, **options):
        try:
            result = make_backup(dest)
        except LiuhenError as exc:
            raise CommandError(exc.message) from None
        head = result.audit_head
        self.stdout.write(f"备份完成：{result.folder}，{result.files} 个文件，{result.bytes} 字节；"
                          f"审计日志链头 #{head['seq']} {head['hash']}")
        self.stdout.write("请把备份复制到本机以外的地方（另一台服务器或离线介质）。")
