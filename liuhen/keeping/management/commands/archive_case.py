"""liuhen archive_case: a case's archive package (第十五条) with its 四性检测, and optionally
its ISO disc images recorded in the burn register and read back (``--medium``). One path with
the package page: both call ``keeping.archive.archive_case``."""

from __future__ import annotations

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from liuhen.cases.models import Case
from liuhen.core.errors import LiuhenError
from liuhen.keeping import archive
from liuhen.packaging import PackagingError
from liuhen.packaging.keys import ed25519_key_path, load_keys, sm2_key_path


class Command(BaseCommand):
    help = "制作案件档案包（第十五条）并做四性检测；--medium 另写光盘映像、登记待刻录并回读校验"

    def add_arguments(self, parser):
        parser.add_argument("case_number", help="案件编号")
        parser.add_argument("--as", dest="username", required=True, help="档案管理人员的登录名")
        parser.add_argument("--key", help="本局 Ed25519 签名私钥（PKCS#8 PEM，权限 0600）；"
                                          "不指定则用设置中的 SIGNING_KEY_FILE")
        parser.add_argument("--sm2-key", help="本局 SM2 签名私钥（权限 0600）；不指定则为 --key "
                                              "同一文件夹下的 signing-sm2.pem，或设置中的位置"
                                              "（LIUHEN_SM2_SIGNING=false 时不用 SM2）")
        parser.add_argument("--dest", help="档案包写入的文件夹；不指定则用设置中的 ARCHIVE_DIR")
        parser.add_argument("--medium", choices=["cd", "dvd", "bd"], help="另写光盘映像")

    def handle(self, *args, **options):
        user = get_user_model().objects.filter(username=options["username"]).first()
        case = Case.objects.filter(number=options["case_number"]).first()
        if user is None or case is None:
            raise CommandError("登录名或案件编号不存在")
        try:
            keys = None
            if options["key"] or options["sm2_key"]:
                ed25519 = Path(options["key"]) if options["key"] else ed25519_key_path()
                sm2 = (Path(options["sm2_key"]) if options["sm2_key"]
                       else sm2_key_path(ed25519 if options["key"] else None))
                keys = load_keys(ed25519, sm2)
            package = archive.archive_case(
                actor=user, case=case, medium=options["medium"], keys=keys,
                dest_dir=Path(options["dest"]) if options["dest"] else None)
        except (LiuhenError, PackagingError) as exc:
            raise CommandError(getattr(exc, "message", str(exc))) from exc
        for key, check in package.checks.items():
            result = {True: "通过", False: "未通过", None: "未检测"}[check["ok"]]
            self.stdout.write(f"{check['name']}（{key}）：{result}")
        for burn in package.disc_burns.order_by("volume"):
            self.stdout.write(f"光盘映像 {burn.image_name} 卷 {burn.volume}/{burn.volumes} "
                              f"SHA-256 {burn.sha256} SM3 {burn.sm3}")
        self.stdout.write(json.dumps({"package": package.external_id, "path": package.path,
                                      "preserved": package.preserved}, ensure_ascii=False))
        if not package.preserved:
            raise CommandError("有检测项未通过，未登记长期保存")
