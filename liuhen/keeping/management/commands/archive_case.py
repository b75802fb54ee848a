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
from liuhen.packaging import PackagingError, SigningKey


class Command(BaseCommand):
    help = "制作案件档案包（第十五条）并做四性检测；--medium 另写光盘映像、登记待刻录并回读校验"

    def add_arguments(self, parser):
        parser.add_argument("case_number", help="案件编号")
        parser.add_argument("--as", dest="username", required=True, help="档案管理人员的登录名")
        parser.add_argument("--key", help="本局签名私钥（PKCS#8 PEM，权限 0600）；"
                                          "不指定则用设置中的 SIGNING_KEY_FILE")
        parser.add_argument("--dest", help="档案包写入的文件夹；不指定则用设置中的 ARCHIVE_DIR")
        parser.add_argument("--medium", choices=["cd", "dvd", "bd"], help="另写光盘映像")

    def handle(self, *args, **options):
        user = get_user_model().objects.filter(username=options["username"]).first()
        case = Case.objects.filter(number=options["case_number"]).first()
        if user is None or case is None:
            raise CommandError("登录名或案件编号不存在")
        try:
            signer = SigningKey.load(options["key"]) if options["key"] else None
            package = archive.archive_case(
                actor=user, case=case, medium=options["medium"], signer=signer,
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
