"""liuhen archive_case: a case's archive package (第十五条) with its 四性检测, and optionally
its ISO disc images read back (``--medium``)."""

from __future__ import annotations

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from liuhen.cases.models import Case
from liuhen.core.errors import LiuhenError
from liuhen.keeping import archive, burns
from liuhen.packaging import PackagingError, SigningKey, write_disc_images


class Command(BaseCommand):
    help = "制作案件档案包（第十五条）并做四性检测；--medium 另写光盘映像并回读校验"

    def add_arguments(self, parser):
        parser.add_argument("case_number", help="案件编号")
        parser.add_argument("--as", dest="username", required=True, help="档案管理人员的登录名")
        parser.add_argument("--key", required=True, help="本局签名私钥（PKCS#8 PEM，权限 0600）")
        parser.add_argument("--dest", required=True, help="档案包写入的文件夹")
        parser.add_argument("--medium", choices=["cd", "dvd", "bd"], help="另写光盘映像")

    def handle(self, *args, **options):
        user = get_user_model().objects.filter(username=options["username"]).first()
        case = Case.objects.filter(number=options["case_number"]).first()
        if user is None or case is None:
            raise CommandError("登录名或案件编号不存在")
        try:
            signer = SigningKey.load(options["key"])
            package = archive.build_package(actor=user, case=case,
                                            dest_dir=Path(options["dest"]), signer=signer)
            images = []
            if options["medium"]:
                images = write_disc_images(package.path, Path(options["dest"]) / "iso",
                                           signer=signer, medium_name=options["medium"])
                # 光盘刻录登记 (待刻录) and the disc read-back of the 安全性 check (DA/T 70).
                burns.record_images(actor=user, package=package, images=images)
                package = archive.disc_readback(actor=user, package=package, images=images,
                                                fingerprint=signer.fingerprint)
        except (LiuhenError, PackagingError) as exc:
            raise CommandError(getattr(exc, "message", str(exc))) from exc
        for key, check in package.checks.items():
            result = {True: "通过", False: "未通过", None: "未检测"}[check["ok"]]
            self.stdout.write(f"{check['name']}（{key}）：{result}")
        for image in images:
            self.stdout.write(f"光盘映像 {image.path.name} 卷 {image.volume}/{image.volumes} "
                              f"SHA-256 {image.sha256} SM3 {image.sm3}")
        self.stdout.write(json.dumps({"package": package.external_id, "path": package.path,
                                      "preserved": package.preserved}, ensure_ascii=False))
        if not package.preserved:
            raise CommandError("有检测项未通过，未登记长期保存")
