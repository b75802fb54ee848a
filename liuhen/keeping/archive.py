"""Archive package of one case (第十五条; DA/T 70 四性检测): the bound case file PDF/A, the
originals exactly as stored, metadata in JSON and XML, the audit extract of every item, signed
SHA-256 and SM3 manifests and the offline verifier (``liuhen.packaging``, one builder, one
verifier and one key loader for archive and evidence packages: Ed25519 and SM2 side by side),
then the four checks (真实性, 完整性, 可用性, 安全性). A package whose checks do not all pass is
not registered as preserved.

Metadata XML element names (for an archives system's import): ``<案件档案包>`` with
``<档号> <案件编号> <执法行为> <案由> <执法单位> <立案日期> <结案日期> <保管期限>`` and one
``<文件>`` per item: ``<路径> <类型> <题名> <SHA256> <SM3> <大小>`` (and for recordings
``<拍摄时间> <时长> <设备> <执法人员>``). The JSON (``metadata.json``) has the same fields
with the same names.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from xml.etree import ElementTree as ET

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from liuhen.access.querysets import unit_allowed
from liuhen.audit.queries import entries_about
from liuhen.audit.services import record, record_denied
from liuhen.core.errors import Conflict, Forbidden
from liuhen.evidence.models import CaseLink
from liuhen.evidence.storage import get_storage
from liuhen.keeping import burns, casefile, events
from liuhen.keeping.models import ArchivePackage, CaseFile
from liuhen.packaging import (
    PackageBuilder,
    PackagingError,
    read_back,
    verify,
    write_disc_images,
)
from liuhen.packaging.keys import BureauKeys, bureau_keys

CHECKS = {"authenticity": "真实性", "integrity": "完整性", "usability": "可用性",
          "security": "安全性"}


def archive_case(*, actor, case, medium: str | None = None, dest_dir: Path | None = None,
                 keys: BureauKeys | None = None) -> ArchivePackage:
    """The package page's one step (and ``liuhen archive_case``'s): build the package with its
    four checks; with ``medium``, write its disc images, record them in the burn register
    (待刻录) and read them back into the 安全性 check. Signed with the bureau's keys from the
    one loader supply packages use too (``liuhen.packaging.keys``: Ed25519, and SM2 unless
    ``LIUHEN_SM2_SIGNING`` switches it off), the discs' volume indexes as well."""
    keys = keys or bureau_keys()
    dest = Path(dest_dir or settings.ARCHIVE_DIR)
    package = build_package(actor=actor, case=case, dest_dir=dest, keys=keys)
    if medium:
        try:
            images = write_disc_images(package.path, dest / "iso" / package.external_id,
                                       signer=keys.ed25519, sm2_signer=keys.sm2,
                                       medium_name=medium)
        except PackagingError as exc:
            raise Conflict(f"光盘映像未能写成：{exc}") from exc
        burns.record_images(actor=actor, package=package, images=images)
        package = disc_readback(actor=actor, package=package, images=images)
    return package


def _audit_extract(obj) -> list[dict]:
    return [{"seq": e.seq, "at": e.at.isoformat(), "actor": e.actor_name, "action": e.action,
             "outcome": e.outcome, "reason": e.reason, "hash": e.hash}
            for e in entries_about(obj).order_by("seq")]


def _items(case, bound: CaseFile) -> list[dict]:
    """What the package holds: (path, kind, title, row, metadata)."""
    number = bound.archive_number
    items = [{"path": f"卷宗/{number}.pdf", "kind": "case_file", "title": "卷宗（PDF/A）",
              "row": bound, "media_type": "application/pdf"}]
    for doc in (case.documents.filter(is_current=True, disposed_at__isnull=True)
                .exclude(storage_key="")):
        ext = Path(doc.original_name).suffix or ".bin"
        items.append({"path": f"文字记录/{doc.pk:06d}-{doc.get_doc_type_display()}{ext}",
                      "kind": "document", "title": doc.get_doc_type_display(), "row": doc,
                      "media_type": doc.media_type})
    links = (CaseLink.objects.filter(case=case, ended_at__isnull=True,
                                     recording__disposed_at__isnull=True)
             .select_related("recording", "recording__device", "recording__officer"))
    for link in links:
        rec = link.recording
        items.append({"path": f"音像资料/{rec.pk:06d}-{rec.original_name}", "kind": "recording",
                      "title": rec.original_name, "row": rec, "media_type": rec.media_type,
                      "captured": rec.captured_start.isoformat(),
                      "duration": rec.duration_seconds,
                      "device": rec.device.number if rec.device_id else "",
                      "officer": rec.officer.name if rec.officer_id else ""})
    return items


def _metadata(case, bound, items) -> dict:
    return {
        "档号": bound.archive_number, "案件编号": case.number,
        "执法行为": case.get_kind_display(), "案由": case.cause, "执法单位": case.unit.name,
        "立案日期": case.opened_on.isoformat(),
        "结案日期": case.closed_on.isoformat() if case.closed_on else "",
        "保管期限": bound.retention_label,
        "文件": [{"路径": i["path"], "类型": i["kind"], "题名": i["title"],
                "SHA256": i["row"].sha256, "SM3": i["row"].sm3, "大小": i["row"].size,
                **({"拍摄时间": i["captured"], "时长": i["duration"], "设备": i["device"],
                    "执法人员": i["officer"]} if i["kind"] == "recording" else {})}
               for i in items],
    }


def metadata_xml(meta: dict) -> bytes:
    root = ET.Element("案件档案包")
    for key, value in meta.items():
        if key == "文件":
            continue
        ET.SubElement(root, key).text = str(value)
    for item in meta["文件"]:
        node = ET.SubElement(root, "文件")
        for key, value in item.items():
            ET.SubElement(node, key).text = "" if value is None else str(value)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def build_package(*, actor, case, dest_dir: Path, keys: BureauKeys) -> ArchivePackage:
    """Write the case's archive package under ``dest_dir``, run the four checks, and register
    it (preserved only when every check passed). Needs a bound case file (第十二条)."""
    if not unit_allowed(actor, "casefile.bind", case.unit):
        record_denied(actor=actor, action=events.event_package_refused, target=case,
                      reason="无权制作档案包")
        raise Forbidden("档案包由档案管理人员制作")
    bound = case.case_files.filter(is_bound=True, is_current=True,
                                   disposed_at__isnull=True).first()
    if bound is None:
        raise Conflict("卷宗检查装订后方可制作档案包")
    now = timezone.now()
    # 档号-P<time to the second>; a second package of the case within the same second (a rebuild
    # after a failed check, two keepers at once) gets -2, -3 …, never the first one's number.
    stem = f"{bound.archive_number}-P{now:%Y%m%d%H%M%S}"
    external_id, n = stem, 1
    while (ArchivePackage.objects.filter(external_id=external_id).exists()
           or (Path(dest_dir) / external_id).exists()):
        n += 1
        external_id = f"{stem}-{n}"
    items = _items(case, bound)
    meta = _metadata(case, bound, items)
    storage = get_storage()
    target = Path(dest_dir) / external_id
    with PackageBuilder(target, title=f"{case.number} {case.cause} 档案包",
                        organization=case.unit.name, external_id=external_id,
                        signer=keys.ed25519, sm2_signer=keys.sm2,
                        created_at=timezone.localtime(now),
                        metadata={"档号": bound.archive_number, "案件编号": case.number}) as b:
        for item in items:
            row = item["row"]
            # A recording's original is read at its pinned S3 version (issue 14 item 5).
            b.add_stream(item["path"], lambda row=row: storage.open(
                             row.storage_key, getattr(row, "storage_version", "")),
                         row.size,
                         expected=row, metadata={"kind": item["kind"], "title": item["title"]})
        b.add_bytes("metadata.json", json.dumps(meta, ensure_ascii=False, indent=2).encode())
        b.add_bytes("metadata.xml", metadata_xml(meta))
        b.add_bytes("audit.json", json.dumps(
            {i["path"]: _audit_extract(i["row"]) for i in items} | {"案件": _audit_extract(case)},
            ensure_ascii=False, indent=2).encode())
        result = b.finish()
    checks = four_checks(result.path, items, fingerprint=result.key_fingerprint,
                         sm2_fingerprint=result.sm2_key_fingerprint or None)
    preserved = all(c["ok"] for c in checks.values() if c["ok"] is not None)
    with transaction.atomic():
        package = ArchivePackage.objects.create(
            case=case, case_file=bound, external_id=external_id, path=str(result.path),
            manifest_sha256=result.manifest_sha256, manifest_sm3=result.manifest_sm3,
            payload_bytes=result.payload_bytes, checks=checks, preserved=preserved,
            key_fingerprint=result.key_fingerprint,
            sm2_key_fingerprint=result.sm2_key_fingerprint, created_by=actor, created_at=now)
        record(actor=actor, action=events.event_package_built, target=package,
               outcome="succeeded" if preserved else "failed",
               detail={"case": case.pk, "external_id": external_id,
                       "manifest_sha256": result.manifest_sha256,
                       "key_fingerprint": result.key_fingerprint,
                       "sm2_key_fingerprint": result.sm2_key_fingerprint,
                       "checks": {k: c["ok"] for k, c in checks.items()}})
    return package


def _usable(path: Path, media_type: str) -> tuple[bool, str]:
    """Each file's format identified and decodable (PyAV for media, pypdf for PDFs)."""
    try:
        if media_type == "application/pdf" or path.suffix.lower() == ".pdf":
            from pypdf import PdfReader  # loaded when checking

            return len(PdfReader(str(path)).pages) > 0, "PDF"
        if media_type.startswith(("video/", "audio/", "image/")):
            import av  # heavy; loaded when checking

            with av.open(str(path)) as container:
                stream = container.streams[0]
                next(container.decode(stream))
                return True, f"{container.format.name}/{stream.codec_context.name}"
        return True, media_type or "未识别"
    except Exception as exc:  # a file that cannot be decoded is the finding, recorded
        return False, f"无法解码：{exc}"[:200]


def verify_kept(package: ArchivePackage):
    """The offline verifier over the package as kept, against its recorded key fingerprints
    (both signatures where it was signed with SM2 too)."""
    return verify(package.path, **burns.package_fingerprints(package))


def four_checks(package_dir: Path, items: list[dict], *, fingerprint: str,
                sm2_fingerprint: str | None = None) -> dict:
    """DA/T 70 四性检测 of a package: each check with its result and findings (真实性: the
    Ed25519 signature, the SM2 one where the package carries it, the SHA-256/SM3 manifests)."""
    report = verify(str(package_dir), fingerprint=fingerprint, sm2_fingerprint=sm2_fingerprint)
    signed = "Ed25519 与 SM2 签名" if sm2_fingerprint else "签名"
    authenticity = {"name": CHECKS["authenticity"], "ok": report.ok,
                    "detail": f"{signed}与SHA-256/SM3清单校验" + ("通过" if report.ok else "未通过"),
                    "failures": [f"{f.code} {f.path or ''}" for f in report.failures]}
    manifest = json.loads((package_dir / "manifest.json").read_bytes())
    present = {f["path"].removeprefix("data/") for f in manifest["files"]}
    missing = [i["path"] for i in items if i["path"] not in present]
    integrity = {"name": CHECKS["integrity"], "ok": not missing and "metadata.json" in present,
                 "detail": f"应有 {len(items)} 件，缺 {len(missing)} 件", "missing": missing}
    usable = []
    for item in items:
        ok, what = _usable(package_dir / "data" / item["path"], item["media_type"])
        usable.append({"path": item["path"], "ok": ok, "format": what})
    usability = {"name": CHECKS["usability"], "ok": all(u["ok"] for u in usable),
                 "files": usable}
    security = {"name": CHECKS["security"], **_virus_scan(package_dir)}
    return {"authenticity": authenticity, "integrity": integrity, "usability": usability,
            "security": security}


# ClamAV's signature database files (``--database`` loads a folder of them).
SIGNATURE_SUFFIXES = (".cvd", ".cld", ".cud", ".hdb", ".hsb", ".mdb", ".msb", ".ndb", ".ldb",
                      ".cdb", ".yar", ".yara")
CLAMSCAN_MAX_BYTES = 4000 * 1024 * 1024  # clamscan's ceiling for --max-filesize/--max-scansize


def signature_databases(folder: Path | None = None) -> list[Path]:
    """The signature files ClamAV would load from the bureau's database folder."""
    folder = Path(folder or settings.CLAMAV_DATABASE_DIR)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and p.suffix.lower() in SIGNATURE_SUFFIXES)


def _virus_scan(folder: Path) -> dict:
    """The virus scan of the 安全性 check: ClamAV's ``clamscan`` over the whole package with
    the bureau's signature databases (``CLAMAV_DATABASE_DIR``). Said honestly when it cannot
    be done (no clamscan, no signature database: ``ok`` None, "未检测", never "clean"); a found
    signature or a scan error fails the check (a failed check keeps the package from being
    registered as preserved). Files over ClamAV's 4000 MB limit are listed as not scanned."""
    clamscan = shutil.which("clamscan")
    if clamscan is None:
        return {"ok": None, "detail": "未安装 ClamAV（clamscan），未做病毒检测"}
    db_dir = Path(settings.CLAMAV_DATABASE_DIR)
    databases = signature_databases(db_dir)
    if not databases:
        return {"ok": None, "detail": f"未检测：没有病毒特征库（{db_dir} 中无 main.cvd、"
                                      "daily.cvd 等特征库文件，见 docs/keeping.md）"}
    too_big = sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                     if p.is_file() and p.stat().st_size > CLAMSCAN_MAX_BYTES)
    done = subprocess.run(
        [clamscan, "-r", "-i", "--no-summary", f"--database={db_dir}",
         f"--max-filesize={CLAMSCAN_MAX_BYTES // (1024 * 1024)}M",
         f"--max-scansize={CLAMSCAN_MAX_BYTES // (1024 * 1024)}M", str(folder)],
        capture_output=True, text=True, timeout=3600)
    version = subprocess.run([clamscan, f"--database={db_dir}", "--version"],
                             capture_output=True, text=True, timeout=60).stdout.strip()
    found = [line.removeprefix(f"{folder}/") for line in done.stdout.splitlines()
             if line.endswith(" FOUND")]
    result = {"engine": version[:200], "databases": [p.name for p in databases],
              "infected": found[:200], "not_scanned": too_big}
    if done.returncode == 0:
        detail = "未发现病毒" + (f"；{len(too_big)} 个文件超过 4000 MB，未扫描" if too_big else "")
        return {"ok": True, "detail": f"ClamAV 扫描：{detail}", **result}
    if done.returncode == 1:
        return {"ok": False, "detail": f"ClamAV 扫描发现 {len(found)} 个感染文件：" + "；".join(
            found)[:1500], **result}
    return {"ok": False, "detail": f"ClamAV 扫描出错（返回码 {done.returncode}）："
                                   f"{(done.stderr or done.stdout)[-1000:]}", **result}


def disc_readback(*, actor, package: ArchivePackage, images) -> ArchivePackage:
    """The medium's read-back check of DA/T 70 安全性: every disc image written for the package
    is read back with ``pycdlib`` and must give the size, SHA-256 and SM3 recorded for it (the
    burn register's) and every file the manifest's SHA-256, names intact. The result joins the
    security check; a failed read-back unregisters the package as preserved."""
    results = []
    for image in images:
        try:
            report = read_back(image.path, expected=image, sm3="skip",
                                **burns.package_fingerprints(package))
            ok = report.ok
            detail = (f"回读通过：{report.files_checked} 个文件，映像 SHA-256/SM3 与登记一致"
                      if ok else "；".join(f.zh for f in report.failures)[:1000])
        except PackagingError as exc:
            ok, detail = False, f"无法读取：{exc}"[:1000]
        results.append({"image": Path(image.path).name, "volume": image.volume,
                        "sha256": image.sha256, "sm3": image.sm3, "ok": ok, "detail": detail})
    with transaction.atomic():
        locked = ArchivePackage.objects.select_for_update().get(pk=package.pk)
        checks = dict(locked.checks)
        security = dict(checks.get("security") or {"name": CHECKS["security"]})
        virus = security.get("virus_ok", security.get("ok"))
        security["virus_ok"] = virus
        security["disc"] = results
        disc_ok = all(r["ok"] for r in results)
        security["ok"] = disc_ok if virus is None else bool(virus) and disc_ok
        security["disc_detail"] = (f"光盘映像回读 {len(results)} 张："
                                   + ("全部通过" if disc_ok else "有未通过"))
        checks["security"] = security
        locked.checks = checks
        locked.preserved = all(c["ok"] for c in checks.values() if c["ok"] is not None)
        locked.save(update_fields=["checks", "preserved"])
        record(actor=actor, action=events.event_package_disc_checked, target=locked,
               outcome="succeeded" if disc_ok else "failed",
               detail={"images": [{k: r[k] for k in ("image", "ok", "sha256")}
                                  for r in results], "preserved": locked.preserved})
    return locked


def report_json(package: ArchivePackage) -> bytes:
    """The 四性检测 report as JSON (what the archives system imports)."""
    return json.dumps({"package": package.external_id, "case": package.case.number,
                       "manifest_sha256": package.manifest_sha256,
                       "manifest_sm3": package.manifest_sm3,
                       "checked_at": timezone.localtime(package.created_at).isoformat(),
                       "preserved": package.preserved, "checks": package.checks},
                      ensure_ascii=False, indent=2).encode()


def report_pdf(package: ArchivePackage) -> bytes:
    """The 四性检测 report as PDF/A: each check with its result and findings."""
    html = render_to_string("keeping/pdf/four_checks.html", {
        "package": package, "checks": [package.checks[k] for k in CHECKS]})
    return casefile.render_html(html)
