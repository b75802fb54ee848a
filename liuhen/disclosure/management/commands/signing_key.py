"""liuhen signing_key: create the bureau's Ed25519 signing key if none exists (第十七条第三款:
what is supplied to a review body or a court is signed), and print its fingerprint."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from liuhen.packaging import PackagingError, SigningKey


class Command(BaseCommand):
    help = "生成本局签名密钥（Ed25519，已有则不覆盖）并显示公钥指纹（第十七条第三款）"

    def add_arguments(self, parser):
        parser.add_argument("--path", help="密钥文件位置（默认 LIUHEN_SIGNING_KEY_FILE）")
        parser.add_argument("--public", action="store_true", help="另输出公钥 PEM")

    def handle(self, *args, **options):
        path = Path(options["path"] or settings.SIGNING_KEY_FILE)
        existed = path.exists()
        try:
            key = SigningKey.load_or_create(path)
        except PackagingError as exc:
            raise CommandError(getattr(exc, "message", str(exc))) from exc
        self.stdout.write(f"{'已有' if existed else '已生成'}签名密钥：{path}")
        self.stdout.write(f"公钥指纹（SHA-256）：{key.fingerprint}")
        self.stdout.write("请将公钥指纹书面告知接收证据包的机关，供其核验。")
        if options["public"]:
            self.stdout.write(key.public_key_pem.decode())
