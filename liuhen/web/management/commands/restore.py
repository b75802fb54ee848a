"""`liuhen restore SRC`: restore a backup into an empty data folder (issue 16 item 5)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from liuhen.core.errors import LiuhenError
from liuhen.web.backup import restore_backup


class Command(BaseCommand):
    help = "把备份恢复到空的数据文件夹（和空数据库）；先逐个核对清单中的 SHA-256"

    def add_arguments(self, parser):
        parser.add_argument("src", type=Path, help="备份文件夹（含 manifest.json）")

    def handle(self, *args, src, **options):
        try:
            manifest = restore_backup(src)
        except LiuhenError as exc:
            raise CommandError(exc.message) from None
        head = manifest["audit_head"]
        self.stdout.write(f"已恢复 {len(manifest['files'])} 个文件；备份时的审计日志链头 "
                          f"#{head['seq']} {head['hash']}")
        for note in manifest.get("notes", []):
            self.stdout.write(note)
        self.stdout.write("请运行 liuhen audit verify 和 liuhen verify --all 核对。")
