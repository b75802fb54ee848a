"""光盘刻录登记 (第十五条: records kept long-term "by burning discs or on removable media"):
which disc holds which archive package, and the read-back check of a kept disc (DA/T 70
安全性).

* :func:`record_images`: the disc images written for a package (``packaging.write_disc_images``)
  become rows, each with its own size, SHA-256 and SM3 (computed while it was written and
  confirmed by its read-back); they are then 待刻录.
* :func:`register_burn`: the records keeper registers the disc burnt from an image: its label,
  the medium, the date, who burnt it (the keeper) and who checked it (someone else), and where
  it is kept. Only an image of a package registered as preserved (all four checks passed) is
  registered as burnt.
* :func:`check_disc`: a disc (mounted folder) or image is read back with ``pycdlib`` and
  compared with the register: the image's own digests and every file against the signed
  manifest. The result is kept on the row and audited; a failure is an alert.

Every step is audited (第二十六条); the register exports as CSV.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from liuhen.access.querysets import unit_allowed
from liuhen.audit.services import record, record_denied
from liuhen.core.errors import Conflict, Forbidden, InvalidInput
from liuhen.core.exports import safe_row
from liuhen.keeping import events
from liuhen.keeping.models import ArchivePackage, DiscBurn
from liuhen.packaging import PackagingError, read_back
from liuhen.packaging.keys import bureau_keys

PERMISSION = "casefile.bind"  # the records keeper (档案管理人员), as for binding a case file
MEDIA = {"cd": "CD-R 700 MB", "dvd": "DVD±R 4.7 GB", "bd": "BD-R 25 GB"}


def _require(actor, package: ArchivePackage, what: str) -> None:
    if not unit_allowed(actor, PERMISSION, package.case.unit):
        record_denied(actor=actor, action=events.event_burn_refused, target=package,
                      reason=f"无权{what}")
        raise Forbidden(f"光盘刻录登记由档案管理人员办理（无权{what}）")


def record_images(*, actor, package: ArchivePackage, images) -> list[DiscBurn]:
    """Rows for the disc images just written for ``package`` (``DiscImage`` objects)."""
    _require(actor, package, "登记光盘映像")
    rows = []
    with transaction.atomic():
        for image in images:
            row = DiscBurn.objects.create(
                package=package, archive_number=package.case_file.archive_number,
                volume=image.volume, volumes=image.volumes, medium=image.medium,
                volume_label=image.label, image_name=Path(image.path).name,
                image_path=str(image.path), size=image.size, sha256=image.sha256,
                sm3=image.sm3)
            record(actor=actor, action=events.event_burn_image_recorded, target=row,
                   detail={"package": package.external_id, "volume": image.volume,
                           "volumes": image.volumes, "size": image.size,
                           "sha256": image.sha256, "sm3": image.sm3})
            rows.append(row)
    return rows


def register_burn(*, actor, burn: DiscBurn, disc_label: str, burned_on: dt.date | str,
                  checker, location: str) -> DiscBurn:
    """The disc burnt from ``burn``'s image: label, date, operator (``actor``), checker (another
    person), where it is kept."""
    package = burn.package
    _require(actor, package, "登记光盘刻录")
    if burn.burned_on is not None:
        raise Conflict("该光盘已登记刻录")
    if not package.preserved:
        raise Conflict("档案包四性检测未全部通过，不能登记为长期保存的光盘（第十五条）")
    disc_label, location = (disc_label or "").strip(), (location or "").strip()
    if not disc_label or not location:
        raise InvalidInput("请填写光盘标签和存放位置")
    if isinstance(burned_on, str):
        try:
            burned_on = dt.date.fromisoformat(burned_on.strip())
        except ValueError:
            raise InvalidInput("刻录日期格式应为 年-月-日") from None
    if burned_on is None or burned_on > timezone.localdate():
        raise InvalidInput("刻录日期不能为空或晚于今天")
    if burned_on < timezone.localtime(burn.written_at).date():
        raise InvalidInput("刻录日期不能早于写入映像的日期")
    if checker is None or checker.pk == actor.pk:
        raise InvalidInput("检查人须为刻录人以外的另一人")
    with transaction.atomic():
        locked = DiscBurn.objects.select_for_update().get(pk=burn.pk)
        if locked.burned_on is not None:
            raise Conflict("该光盘已登记刻录")
        locked.disc_label, locked.burned_on = disc_label[:120], burned_on
        locked.operator, locked.checker, locked.location = actor, checker, location[:200]
        locked.registered_at = timezone.now()
        locked.save()
        record(actor=actor, action=events.event_burn_registered, target=locked,
               detail={"package": package.external_id, "disc_label": locked.disc_label,
                       "medium": locked.medium, "burned_on": burned_on.isoformat(),
                       "checker": checker.pk, "location": locked.location,
                       "sha256": locked.sha256, "sm3": locked.sm3})
    return locked


def package_fingerprints(package: ArchivePackage) -> dict:
    """The key fingerprints a kept package (or a disc of it) is checked against: those
    recorded when it was signed, SM2's included; for a package made before they were
    recorded, the bureau's Ed25519 key now."""
    if package.key_fingerprint:
        return {"fingerprint": package.key_fingerprint,
                "sm2_fingerprint": package.sm2_key_fingerprint or None}
    return {"fingerprint": bureau_keys().fingerprint, "sm2_fingerprint": None}


def check_disc(*, actor, burn: DiscBurn, location: str | Path | None = None,
               fingerprint: str | None = None):
    """Read the disc (a mounted folder) or its image back and compare with the register: the
    image's own size, SHA-256 and SM3, and every file against the signed manifest, both
    signatures against the package's recorded fingerprints. Returns the verifier's report;
    the result is kept on the row and audited."""
    _require(actor, burn.package, "回读校验光盘")
    where = Path(location or burn.image_path)
    if not where.exists():
        raise InvalidInput(f"找不到光盘或映像：{where}")
    try:
        keys = ({"fingerprint": fingerprint, "sm2_fingerprint": None} if fingerprint
                else package_fingerprints(burn.package))
        report = read_back(where, expected=None if where.is_dir() else burn, **keys)
        ok = report.ok
        detail = "；".join(f.zh for f in report.failures)[:2000] if not ok else (
            f"回读通过：{report.files_checked} 个文件，映像 SHA-256/SM3 与登记一致")
    except PackagingError as exc:
        report, ok, detail = None, False, f"无法读取：{exc}"[:2000]
    now = timezone.now()
    DiscBurn.objects.filter(pk=burn.pk).update(checked_at=now, check_ok=ok, check_detail=detail)
    record(actor=actor, action=events.event_burn_checked, target=burn,
           outcome="succeeded" if ok else "failed", reason="" if ok else detail[:500],
           detail={"location": str(where), "ok": ok, "sha256": burn.sha256})
    burn.refresh_from_db()
    return report


COLUMNS = ["档号", "档案包", "卷", "介质", "卷标", "光盘标签", "刻录日期", "刻录人", "检查人",
           "存放位置", "映像大小（字节）", "映像的 SHA-256 摘要", "映像的 SM3 摘要", "最近回读校验",
           "校验结果"]


def export_csv(rows) -> bytes:
    """The register as CSV (UTF-8 with BOM, for Excel); a label or location typed as a formula
    stays text (issue 16 item 13)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for b in rows:
        writer.writerow(safe_row([
            b.archive_number, b.package.external_id, f"{b.volume}/{b.volumes}",
            MEDIA.get(b.medium, b.medium), b.volume_label, b.disc_label,
            b.burned_on.isoformat() if b.burned_on else "待刻录",
            str(b.operator or ""), str(b.checker or ""), b.location, b.size, b.sha256, b.sm3,
            timezone.localtime(b.checked_at).strftime("%Y-%m-%d %H:%M") if b.checked_at else "",
            {True: "通过", False: "未通过", None: ""}[b.check_ok],
        ]))
    return ("\ufeff" + out.getvalue()).encode("utf-8")
