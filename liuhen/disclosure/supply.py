"""Supply to a review body or a court (第十七条第三款): register, approve or refuse, build, hand
over, and prove later what was given.

第十七条第三款: 行政复议机关、人民法院依法调取执法案卷、声像资料的，应当提供，并复制留存. A supply
names the body (行政复议机关 or 人民法院), the 文号 of its letter (or the case number of the
lawsuit), the day the application or complaint copy arrived (the response deadline is computed
from it by the deadline rules: 行政复议法第四十八条, 行政诉讼法第六十七条) and the records. The
leader in charge (主管负责人) approves it; the registrar never approves their own.

The package is built with the one shared :class:`liuhen.packaging.PackageBuilder`: the case's
latest bound case file (卷宗 PDF/A, keeping.casefile; where none is bound yet the manifest and
the 证据清单 say so, :data:`NOT_BOUND`), the written records in order, the original recordings
unaltered (their digests must match what the vault recorded, or nothing is built), an evidence list (证据清单) PDF, the audit extract of every
item, a manifest with SHA-256 and SM3, size, capture time, device, officer and chain of custody
per file, signed with the bureau's Ed25519 key and beside it with its SM2 key (GB/T 32918), both
from :func:`liuhen.packaging.keys.bureau_keys` (the one loader; archive packages use it too), and
the offline verifier inside, which checks both signatures with the standard library alone. The
package folder and the ZIP handed out are kept read-only under ``settings.SUPPLY_DIR``
(复制留存); the register holds the digests of both and both key fingerprints, so
:func:`check_kept` can prove years later that what is kept is what was given.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import uuid
import zipfile
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from liuhen.access.querysets import unit_allowed
from liuhen.access.services import get_for
from liuhen.audit.queries import entries_about
from liuhen.audit.services import record, record_denied
from liuhen.core.display import action_label
from liuhen.core.errors import Conflict, InvalidInput, NotFound
from liuhen.deadlines.calendar import CalendarRangeError
from liuhen.deadlines.statutory import compute_deadline, get_rule
from liuhen.disclosure import events
from liuhen.disclosure.choices import BodyKind, SupplyStatus
from liuhen.disclosure.decisions import SUPPLY, decide
from liuhen.disclosure.models import Supply
from liuhen.evidence.digests import digest_file
from liuhen.evidence.models import CaseLink, Recording
from liuhen.evidence.storage import get_storage
from liuhen.packaging import PackageBuilder, PackagingError, verify
from liuhen.packaging.keys import bureau_keys
from liuhen.records.pdf import render_pdf

# The deadline rule a supply's response runs under (liuhen.deadlines.statutory).
RESPONSE_RULES = {BodyKind.REVIEW: "review_response", BodyKind.COURT: "litigation_response"}


def response_deadline(body_kind: str, received_on: dt.date) -> tuple[dt.date | None, str]:
    """The day the answer and the evidence are due, and the rule's name and article; no date
    when the holiday calendar does not reach that far (the rule text says so)."""
    rule = get_rule(RESPONSE_RULES[body_kind])
    text = f"{rule.name}（{rule.citation}）"
    try:
        return compute_deadline(rule, received_on).due, text
    except CalendarRangeError:
        return None, text + "；节假日日历未覆盖，须人工计算"


def _case_records(case):
    documents = list(case.documents.filter(is_current=True).exclude(storage_key="")
                     .order_by("date", "pk"))
    linked = set(CaseLink.objects.filter(case=case, ended_at__isnull=True)
                 .values_list("recording_id", flat=True))
    recordings = list(Recording.objects.filter(disposed_at__isnull=True)
                      .filter(pk__in=linked | set(case.recordings.values_list("pk", flat=True)))
                      .order_by("captured_start", "pk"))
    return documents, recordings


def _ids(values) -> set[int]:
    out = set()
    for value in values or []:
        try:
            out.add(int(value))
        except (TypeError, ValueError):
            raise InvalidInput(f"记录编号无效：{str(value)[:20]}", detail={"field": "records"}) \
                from None
    return out


def register_supply(*, actor, case, body_kind: str, body_name: str, letter_number: str,
                    received_on: dt.date, recording_ids=None, document_ids=None,
                    note: str = "") -> Supply:
    """Register a review body's or a court's request for the records of ``case``. Without
    chosen records, every current written record and every linked recording is supplied."""
    if case is None or not unit_allowed(actor, "disclosure.register", case.unit):
        record_denied(actor=actor, action=events.event_supply_registered,
                      target=case if case is not None else ("cases.case", ""),
                      reason="无权登记该案件的复议、诉讼提供")
        raise NotFound()
    if body_kind not in BodyKind.values:
        raise InvalidInput("请选择提供对象（行政复议机关或人民法院）", detail={"field": "body_kind"})
    body_name, letter_number = (body_name or "").strip(), (letter_number or "").strip()
    if not body_name:
        raise InvalidInput("请填写机关名称", detail={"field": "body_name"})
    if not letter_number:
        raise InvalidInput("请填写来函文号或案号", detail={"field": "letter_number"})
    if not isinstance(received_on, dt.date) or isinstance(received_on, dt.datetime):
        raise InvalidInput("请填写收到申请书或起诉状副本的日期", detail={"field": "received_on"})
    if received_on > timezone.localdate():
        raise InvalidInput("收到日期不能晚于今天", detail={"field": "received_on"})
    documents, recordings = _case_records(case)
    want_docs, want_recs = _ids(document_ids), _ids(recording_ids)
    if want_docs or want_recs:
        unknown = (want_docs - {d.pk for d in documents}) | (want_recs - {r.pk for r in recordings})
        if unknown:
            raise InvalidInput("所选记录不属于该案件或已销毁", detail={"field": "records"})
        documents = [d for d in documents if d.pk in want_docs]
        recordings = [r for r in recordings if r.pk in want_recs]
    if not documents and not recordings:
        raise InvalidInput("该案件没有可提供的记录", detail={"field": "records"})
    due, rule_text = response_deadline(body_kind, received_on)
    with transaction.atomic():
        supply = Supply.objects.create(
            number=f"tmp-{uuid.uuid4().hex[:20]}", body_kind=body_kind,
            body_name=body_name[:200], letter_number=letter_number[:100],
            received_on=received_on, response_due=due, response_rule=rule_text[:200],
            case=case, note=(note or "").strip()[:2000], requested_by=actor)
        supply.number = f"提供〔{timezone.localdate().year}〕{supply.pk}号"
        supply.save(update_fields=["number"])
        supply.documents.set(documents)
        supply.recordings.set(recordings)
        record(actor=actor, action=events.event_supply_registered, target=supply,
               detail={"case": case.pk, "body_kind": body_kind, "letter": letter_number[:100],
                       "documents": [d.pk for d in documents],
                       "recordings": [r.pk for r in recordings],
                       "response_due": due.isoformat() if due else None})
    return supply


def get_supply(user, supply_id, *, event: str = events.event_supplies_viewed) -> Supply:
    """The supply ``supply_id`` if ``user`` may see it (``disclosure.view``); else NotFound,
    the refusal audited under ``event`` (pages and the API ask here)."""
    return get_for(user, "disclosure.view", Supply.objects.select_related("case", "case__unit"),
                   supply_id, denied_event=event)


def _visible(actor, supply_id) -> Supply | None:
    return (Supply.objects.restrict(actor, "disclosure.view").select_related("case", "case__unit")
            .filter(pk=supply_id).first())


def _locked(supply_id, status: str) -> Supply:
    supply = Supply.objects.select_for_update().get(pk=supply_id)
    if supply.status != status:
        raise Conflict(f"该登记{supply.get_status_display()}，不能执行此操作")
    return supply


def approve_supply(*, approver, supply_id, note: str = "") -> Supply:
    """The leader in charge approves (第十七条第三款; decisions.decide holds the rule)."""
    return decide(kind=SUPPLY, approver=approver, pk=supply_id, approve=True, note=note)


def refuse_supply(*, approver, supply_id, reason: str) -> Supply:
    """The leader in charge refuses, with the reason (decisions.decide)."""
    return decide(kind=SUPPLY, approver=approver, pk=supply_id, approve=False, note=reason)


def _custody(obj) -> list[dict]:
    """The chain of custody of one item, from the audit log (who did what, when)."""
    return [{"seq": e.seq, "at": timezone.localtime(e.at).isoformat(timespec="seconds"),
             "actor": e.actor_name, "action": e.action, "action_label": action_label(e.action),
             "outcome": e.outcome, "hash": e.hash}
            for e in entries_about(obj).order_by("seq")]


# Said in the manifest and on the 证据清单 when the case has no bound 卷宗 yet (第十二条: the
# records keeper checks and binds it once the act ended): the documents follow one by one.
NOT_BOUND = "卷宗尚未装订：文字记录按日期顺序逐件提供（第十二条）"


def bound_case_file(case):
    """The case's latest bound, current, undisposed 卷宗 (keeping.casefile binds it), or None.
    Read through the case's relation: the keeping app is a sibling, not a layer below."""
    return (case.case_files.filter(is_bound=True, is_current=True, disposed_at__isnull=True)
            .exclude(storage_key="").order_by("-version").first())


def case_file_facts(case_file) -> dict | str:
    """What the manifest says of the 卷宗 supplied, or that there is none (NOT_BOUND)."""
    if case_file is None:
        return NOT_BOUND
    return {"档号": case_file.archive_number, "版本": case_file.version,
            "页数": case_file.page_count, "保管期限": case_file.retention_label,
            "装订时间": timezone.localtime(case_file.checked_at).isoformat(timespec="seconds")
            if case_file.checked_at else "",
            "SHA-256": case_file.sha256, "SM3": case_file.sm3, "大小": case_file.size}


def case_file_line(supply: Supply) -> str:
    """The supply page's line on the 卷宗: for a built package what its signed manifest says
    was supplied, before that what the build would take now."""
    facts = case_file_facts(bound_case_file(supply.case))
    if supply.package_path:
        try:
            manifest = json.loads((Path(supply.package_path) / "manifest.json").read_bytes())
            facts = manifest["package"]["metadata"].get("卷宗", NOT_BOUND)
        except (OSError, ValueError, KeyError):
            return "证据包的清单无法读取，请核对留存"
        prefix = "已提供"
    else:
        prefix = "制作证据包时附入"
    if isinstance(facts, str):
        return facts
    return f"{prefix}卷宗：档号 {facts['档号']}，第{facts['版本']}版，{facts['页数']} 页"


def _items(supply: Supply, case_file=None) -> list[dict]:
    """What the package holds, in order: the bound 卷宗 (when there is one; 第十七条第三款 names
    the 执法案卷 first), the written records in date order, the recordings by capture time."""
    items = []
    if case_file is not None:
        items.append({"path": f"卷宗/{case_file.archive_number}.pdf", "kind": "case_file",
                      "title": f"卷宗（第{case_file.version}版，{case_file.page_count} 页）",
                      "row": case_file, "number": case_file.archive_number,
                      "date": timezone.localdate(case_file.checked_at).isoformat()
                      if case_file.checked_at else "",
                      "source": f"{case_file.archive_number}.pdf"})
    for n, doc in enumerate(supply.documents.order_by("date", "pk"), 1):
        ext = Path(doc.original_name).suffix or ".bin"
        items.append({"path": f"文字记录/{n:03d}-{doc.get_doc_type_display()}{ext}",
                      "kind": "document", "title": doc.get_doc_type_display(), "row": doc,
                      "number": doc.number, "date": doc.date.isoformat() if doc.date else "",
                      "source": doc.original_name})
    recordings = (supply.recordings.select_related("device", "officer")
                  .order_by("captured_start", "pk"))
    for rec in recordings:
        items.append({"path": f"音像资料/{rec.pk:06d}-{rec.original_name}", "kind": "recording",
                      "title": rec.get_kind_display(), "row": rec, "source": rec.original_name,
                      "captured_at": timezone.localtime(rec.captured_start)
                      .isoformat(timespec="seconds"),
                      "device": rec.device.number if rec.device_id else "",
                      "officer": rec.officer.name if rec.officer_id else ""})
    return items


def evidence_list_pdf(supply: Supply, items: list[dict], made_at: dt.datetime, *,
                      sm2: bool = False, case_file=None) -> bytes:
    """证据清单: every item with its source, capture time, device, officer and digests, and
    whether the bound 卷宗 is among them or not yet bound (NOT_BOUND)."""
    html = render_to_string("disclosure/pdf/evidence_list.html", {
        "supply": supply, "items": items, "made_at": timezone.localtime(made_at), "sm2": sm2,
        "case_file": case_file, "not_bound": NOT_BOUND})
    return render_pdf(html)


def _readonly(path: Path) -> None:
    """Keep what was supplied unchangeable by accident: files 0444, folders 0555."""
    for dirpath, _dirnames, filenames in os.walk(path, topdown=False):
        for name in filenames:
            os.chmod(Path(dirpath) / name, stat.S_IRUSR | stat.S_IRGRP)
        os.chmod(dirpath, stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP)


def _zip(folder: Path, target: Path, when: dt.datetime) -> None:
    """The package as one ZIP (stored, not compressed: media are already compressed), every
    entry under the package's folder name, dated with the package's time, in name order: the
    same package always gives the same bytes."""
    stamp = timezone.localtime(when).timetuple()[:6]
    stamp = (max(stamp[0], 1980), *stamp[1:])
    with zipfile.ZipFile(target, "x", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(f"{folder.name}/{path.relative_to(folder).as_posix()}",
                                   date_time=stamp)
            info.external_attr = 0o444 << 16
            info.flag_bits |= 0x800  # UTF-8 names (Chinese file names read right on Windows)
            with open(path, "rb") as src, zf.open(info, "w", force_zip64=True) as dst:
                for chunk in iter(lambda src=src: src.read(1 << 20), b""):
                    dst.write(chunk)


def build_supply(*, actor, supply_id) -> Supply:
    """Build the approved supply's signed package and keep it as supplied (复制留存)."""
    supply = _visible(actor, supply_id)
    if supply is None or not unit_allowed(actor, "disclosure.register", supply.case.unit):
        record_denied(actor=actor, action=events.event_supply_built,
                      target=("disclosure.supply", str(supply_id)), reason="无权制作该证据包")
        raise NotFound()
    if supply.status != SupplyStatus.APPROVED:
        raise Conflict("经主管负责人批准后方可制作证据包（第十七条第三款）")
    keys = bureau_keys()
    signer, sm2_signer = keys.ed25519, keys.sm2
    now = timezone.now()
    package_id = f"SUPPLY-{supply.pk:06d}-{timezone.localtime(now):%Y%m%d%H%M%S}"
    case_file = bound_case_file(supply.case)
    items = _items(supply, case_file)
    storage = get_storage()
    root = Path(settings.SUPPLY_DIR)
    target = root / package_id
    case = supply.case
    meta = {"提供登记编号": supply.number, "提供对象": supply.get_body_kind_display(),
            "机关名称": supply.body_name, "来函文号": supply.letter_number,
            "收到日期": supply.received_on.isoformat(),
            "答复期限": supply.response_due.isoformat() if supply.response_due else "",
            "案件编号": case.number, "案由": case.cause, "执法单位": case.unit.name,
            "批准人": str(supply.decided_by), "依据": "《人力资源社会保障行政执法全过程记录制度》第十七条第三款",
            "卷宗": case_file_facts(case_file)}
    try:
        with PackageBuilder(target, title=f"{case.number} 向{supply.body_name}提供的证据材料",
                            organization=case.unit.name, external_id=package_id, signer=signer,
                            sm2_signer=sm2_signer, created_at=timezone.localtime(now),
                            metadata=meta) as builder:
            for item in items:
                row = item["row"]
                custody = _custody(row)
                item["custody"] = custody
                extra = {k: item[k] for k in ("number", "date", "captured_at", "device",
                                              "officer") if item.get(k)}
                builder.add_stream(
                    item["path"], lambda key=row.storage_key: storage.open(key), row.size,
                    expected=row, metadata={"kind": item["kind"], "title": item["title"],
                                            "source_name": item["source"], **extra,
                                            "custody": custody})
            builder.add_bytes("证据清单.pdf",
                              evidence_list_pdf(supply, items, now, sm2=sm2_signer is not None,
                                                case_file=case_file),
                              metadata={"kind": "evidence_list"})
            builder.add_bytes("audit.json", json.dumps(
                {i["path"]: i["custody"] for i in items} | {"案件": _custody(case)},
                ensure_ascii=False, indent=2).encode(), metadata={"kind": "audit_extract"})
            result = builder.finish()
    except PackagingError as exc:
        record(actor=actor, action=events.event_supply_built, target=supply, outcome="failed",
               reason=str(getattr(exc, "message", exc))[:500])
        raise Conflict(f"证据包未生成：{getattr(exc, 'message', exc)}") from exc
    archive = root / f"{package_id}.zip"
    _zip(result.path, archive, now)
    digests = digest_file(archive)
    _readonly(result.path)
    os.chmod(archive, stat.S_IRUSR | stat.S_IRGRP)
    with transaction.atomic():
        supply = _locked(supply_id, SupplyStatus.APPROVED)
        supply.status, supply.built_by, supply.built_at = SupplyStatus.BUILT, actor, now
        supply.package_id, supply.package_path = package_id, str(result.path)
        supply.manifest_sha256, supply.manifest_sm3 = result.manifest_sha256, result.manifest_sm3
        supply.zip_sha256, supply.zip_sm3, supply.zip_size = (digests.sha256, digests.sm3,
                                                              digests.size)
        supply.file_count, supply.payload_bytes = len(result.files), result.payload_bytes
        supply.key_fingerprint = result.key_fingerprint
        supply.sm2_key_fingerprint = result.sm2_key_fingerprint
        supply.save()
        record(actor=actor, action=events.event_supply_built, target=supply,
               detail={"package": package_id, "manifest_sha256": result.manifest_sha256,
                       "zip_sha256": digests.sha256, "zip_sm3": digests.sm3,
                       "files": len(result.files), "key_fingerprint": result.key_fingerprint,
                       "case_file": {"id": case_file.pk, "archive_number": case_file.archive_number,
                                     "version": case_file.version, "sha256": case_file.sha256}
                       if case_file is not None else None,
                       "sm2_key_fingerprint": result.sm2_key_fingerprint})
    return supply


def mark_supplied(*, actor, supply_id, how: str) -> Supply:
    """Record that the package was handed to the body (when, how: 当面递交, 邮寄 with number…)."""
    how = (how or "").strip()
    if not how:
        raise InvalidInput("请填写提供方式（如当面递交、邮寄及单号）", detail={"field": "how"})
    supply = _visible(actor, supply_id)
    if supply is None or not unit_allowed(actor, "disclosure.register", supply.case.unit):
        record_denied(actor=actor, action=events.event_supply_supplied,
                      target=("disclosure.supply", str(supply_id)), reason="无权登记提供")
        raise NotFound()
    with transaction.atomic():
        supply = _locked(supply_id, SupplyStatus.BUILT)
        supply.status, supply.supplied_at = SupplyStatus.SUPPLIED, timezone.now()
        supply.supplied_how = how[:200]
        supply.save(update_fields=["status", "supplied_at", "supplied_how"])
        record(actor=actor, action=events.event_supply_supplied, target=supply,
               detail={"how": how[:200], "zip_sha256": supply.zip_sha256})
    return supply


def package_for_download(*, actor, supply_id, request=None) -> Path:
    """The kept ZIP of a built supply, audited as downloaded: the same bytes the register's
    digests describe. Only who may register supplies for the case's unit gets it."""
    supply = _visible(actor, supply_id)
    if supply is None or not supply.package_id \
            or not unit_allowed(actor, "disclosure.register", supply.case.unit):
        record_denied(actor=actor, action=events.event_supply_downloaded,
                      target=("disclosure.supply", str(supply_id)), reason="无权下载该证据包")
        raise NotFound()
    path = kept_zip(supply)
    if not path.is_file():
        raise NotFound()
    record(actor=actor, action=events.event_supply_downloaded, target=supply, request=request,
           detail={"zip_sha256": supply.zip_sha256})
    return path


def check_supply(*, actor, supply_id, request=None) -> dict:
    """Check what is kept against what was supplied (:func:`check_kept`), audited with its
    outcome, failures included."""
    supply = _visible(actor, supply_id)
    if supply is None:
        record_denied(actor=actor, action=events.event_supply_checked,
                      target=("disclosure.supply", str(supply_id)), reason="无权核验该证据包")
        raise NotFound()
    result = check_kept(supply)
    record(actor=actor, action=events.event_supply_checked, target=supply, request=request,
           outcome="succeeded" if result["zip_ok"] and result["package_ok"] else "failed",
           detail=result)
    return result


def kept_zip(supply: Supply) -> Path:
    return Path(settings.SUPPLY_DIR) / f"{supply.package_id}.zip"


def check_kept(supply: Supply) -> dict:
    """Whether what is kept is what was supplied: the ZIP's digests against the register, and
    the kept folder through the offline verifier (manifest, signature, every file)."""
    if not supply.package_id:
        raise Conflict("该登记尚未制作证据包")
    archive = kept_zip(supply)
    zip_ok = archive.is_file() and digest_file(archive).sha256 == supply.zip_sha256
    report = verify(supply.package_path, fingerprint=supply.key_fingerprint,
                    sm2_fingerprint=supply.sm2_key_fingerprint or None)
    return {"zip_ok": zip_ok, "package_ok": report.ok,
            # in words, as the page shows them (issue 13 item 1), not the verifier's codes
            "failures": [f"{f.zh} {f.path or ''}".strip() for f in report.failures]}


def visible_supplies(user):
    return (Supply.objects.restrict(user, "disclosure.view")
            .select_related("case", "requested_by", "decided_by"))


REGISTER_COLUMNS = ["登记编号", "提供对象", "机关名称", "来函文号/案号", "收到日期", "答复期限",
                    "案件编号", "文字记录", "音像记录", "状态", "登记人", "批准人", "制作时间",
                    "提供时间", "提供方式", "压缩包的 SHA-256 摘要"]


def register_rows(supplies) -> list[list[str]]:
    """提供登记 as table rows (page, XLSX, PDF)."""
    def when(value):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""

    rows = []
    for s in supplies:
        rows.append([s.number, s.get_body_kind_display(), s.body_name, s.letter_number,
                     s.received_on.isoformat(),
                     s.response_due.isoformat() if s.response_due else "未计算",
                     s.case.number, str(s.documents.count()), str(s.recordings.count()),
                     s.get_status_display(), str(s.requested_by),
                     str(s.decided_by) if s.decided_by_id else "", when(s.built_at),
                     when(s.supplied_at), s.supplied_how, s.zip_sha256])
    return rows
