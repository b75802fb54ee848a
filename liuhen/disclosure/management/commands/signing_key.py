"""liuhen signing_key: create the bureau's signing keys if none exist — Ed25519, and SM2
(GB/T 32918) beside it unless switched off (第十七条第三款: what is supplied to a review body or a
court is signed, and the receiver checks it offline) — and print their fingerprints."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from liuhen.packaging import PackagingError, SigningKey, SM2SigningKey
from liuhen.packaging.keys import sm2_key_path


class Command(BaseCommand):
    help = "生成本局签名密钥（Ed25519 与 SM2，已有则不覆盖）并显示公钥指纹（第十七条第三款）"

    def add_arguments(self, parser):
        parser.add_argument("--path", help="Ed25519 密钥文件位置（默认 LIUHEN_SIGNING_KEY_FILE）")
        parser.add_argument(
            "--sm2-path",
            help="SM2 密钥文件位置（默认 LIUHEN_SM2_SIGNING_KEY_FILE，"
            "未设则为 Ed25519 密钥同一文件夹下的 signing-sm2.pem）",
        )
        parser.add_argument("--public", action="store_true", help="另输出公钥 PEM")

    def handle(self, *args, **options):
        path = Path(options["path"] or settings.SIGNING_KEY_FILE)
        # None where LIUHEN_SM2_SIGNING=false
        sm2_path = (Path(options["sm2_path"]) if options["sm2_path"]
                    else sm2_key_path(path if options["path"] else None))
        keys = [("", SigningKey, path)]
        if sm2_path is not None:
            keys.append(("SM2 ", SM2SigningKey, sm2_path))
        for label, kind, where in keys:
            existed = where.exists()
            try:
                key = kind.load_or_create(where)
            except PackagingError as exc:
                raise CommandError(
                    getattr(exc, "message", str(exc)) + (f"（{exc.detail}）" if exc.detail else "")
                ) from exc
            self.stdout.write(f"{'已有' if existed else '已生成'}{label}签名密钥：{where}")
            self.stdout.write(f"{label or 'Ed25519 '}公钥指纹（SHA-256）：{key.fingerprint}")
            if options["public"]:
                self.stdout.write(key.public_key_pem.decode())
        self.stdout.write("请将公钥指纹书面告知接收证据包的机关，供其核验。")
