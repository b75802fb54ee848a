"""Import of the social-insurance core platform's records (第七条) and of fee bills (第九条).

The platform (社会保险操作系统核心平台) is an external system: its export (CSV or Excel .xlsx)
is read row by row, each row matched to a case by case number or by the payer's unified
social credit code, and stored as a text record (``levy_platform_record`` / ``fee_receipt``)
with the row's fields. Rows that cannot be matched are reported with the reason; nothing is
guessed. Importing the same file twice adds nothing (rows are keyed by their serial number).
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.db import transaction

from liuhen.access.querysets import unit_allowed
from liuhen.audit.services import record
from liuhen.cases import dates
from liuhen.cases.choices import CaseKind, Stage
from liuhen.cases.models import Case
from liuhen.core import limits
from liuhen.core.errors import InvalidInput, LiuhenError
from liuhen.records import events
from liuhen.records import services as records_services
from liuhen.records.choices import DocumentType, SignatureStatus
from liuhen.records.models import Document

# Column headers as the platform exports them, with the aliases seen in practice.
COLUMNS = {
    "case_number": ("案件编号", "案号", "case_number"),
    "uscc": ("统一社会信用代码", "单位社会信用代码", "信用代码", "uscc"),
    "payer": ("单位名称", "参保单位", "缴费单位", "payer"),
    "serial": ("业务流水号", "流水号", "单据号", "serial"),
    "period": ("费款所属期", "所属期", "period"),
    "insurance": ("险种", "险种类型", "insurance"),
    "amount_due": ("应缴金额", "应缴", "amount_due"),
    "amount": ("实缴金额", "金额", "缴费金额", "amount"),
    "paid_on": ("到账日期", "缴费日期", "开票日期", "paid_on"),
    "bill_number": ("票据号码", "票据号", "非税票据号", "bill_number"),
    "sealed": ("签字盖章", "已盖章", "sealed"),
}
KIND_CONFIG = {
    CaseKind.LEVY: {
        "doc_type": DocumentType.LEVY_PLATFORM_RECORD,
        "key": "serial",
        "required": ("serial",),
        "label": "社保核心平台记录",
    },
    CaseKind.FEE: {
        "doc_type": DocumentType.FEE_RECEIPT,
        "key": "bill_number",
        "required": ("bill_number", "amount"),
        "label": "收费票据",
    },
}
MAX_ROWS = 50_000


@dataclass
class ImportReport:
    """What an import did: rows linked, rows skipped as already imported, rows unmatched."""

    kind: str
    file_name: str
    sha256: str
    rows: int = 0
    imported: list = field(default_factory=list)
    duplicates: list = field(default_factory=list)
    unmatched: list = field(default_factory=list)
    dry_run: bool = False
    early_date_reason: str = ""
    early_dated: int = 0  # rows dated before their case began, imported with the reason

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "file": self.file_name,
            "sha256": self.sha256,
            "rows": self.rows,
            "imported": self.imported,
            "duplicates": self.duplicates,
            "unmatched": self.unmatched,
            "dry_run": self.dry_run,
            "early_date_reason": self.early_date_reason,
            "early_dated": self.early_dated,
        }


def _read_rows(path: Path, name: str) -> list[dict]:
    """Rows as dicts keyed by our column names; CSV in UTF-8 (with or without BOM) or GBK."""
    suffix = Path(name).suffix.lower()
    if suffix == ".xlsx":
        import openpyxl  # heavy; only spreadsheet imports need it

        try:
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a bad file
            raise InvalidInput(f"无法读取Excel文件：{exc.__class__.__name__}") from None
        sheet = book.worksheets[0]
        raw = [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)]
        book.close()
    elif suffix == ".csv":
        data = path.read_bytes()
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise InvalidInput("CSV文件编码无法识别（请使用UTF-8或GBK）")
        raw = list(csv.reader(io.StringIO(text)))
    else:
        raise InvalidInput("仅支持CSV或Excel（.xlsx）文件")
    raw = [r for r in raw if any(str(v).strip() for v in r)]
    if not raw:
        raise InvalidInput("文件没有内容")
    header = [str(h).strip() for h in raw[0]]
    index = {}
    for key, aliases in COLUMNS.items():
        for i, h in enumerate(header):
            if h in aliases:
                index[key] = i
                break
    if "case_number" not in index and "uscc" not in index:
        raise InvalidInput("表头缺少「案件编号」或「统一社会信用代码」列，无法匹配案件")
    if len(raw) - 1 > MAX_ROWS:
        raise InvalidInput(f"单次最多导入{MAX_ROWS}行")
    rows = []
    for values in raw[1:]:
        row = {}
        for key, i in index.items():
            value = values[i] if i < len(values) else ""
            if isinstance(value, datetime):
                value = value.date().isoformat()
            elif isinstance(value, date):
                value = value.isoformat()
            row[key] = str(value).strip()
        rows.append(row)
    return rows


def _amount(value: str) -> str | None:
    try:
        return str(Decimal(value.replace(",", "")).quantize(Decimal("0.01")))
    except (InvalidOperation, ValueError):
        return None


def _match(row: dict, kind: str, cache: dict) -> tuple[Case | None, str]:
    """The one open case of ``kind`` the row belongs to, or the reason there is none."""
    number = row.get("case_number", "")
    if number:
        case = Case.objects.select_related("unit").filter(number=number).first()
        if case is None:
            return None, f"案件编号 {number} 不存在"
        if case.kind != kind:
            return None, f"案件 {number} 不是{CaseKind(kind).label}案件"
        return case, ""
    uscc = row.get("uscc", "").upper()
    if not uscc:
        return None, "缺少案件编号和统一社会信用代码"
    if uscc not in cache:
        cache[uscc] = list(
            Case.objects.select_related("unit")
            .filter(kind=kind, parties__id_number=uscc)
            .exclude(stage=Stage.ARCHIVING)
            .distinct()
        )
    cases = cache[uscc]
    if not cases:
        return None, f"未找到统一社会信用代码 {uscc} 的未归档{CaseKind(kind).label}案件"
    if len(cases) > 1:
        numbers = "、".join(c.number for c in cases[:5])
        return None, f"统一社会信用代码 {uscc} 对应多个案件（{numbers}），请在文件中填写案件编号"
    return cases[0], ""


def import_records(
    *, actor, kind: str, file_path, file_name: str = "", dry_run: bool = False,
    early_date_reason: str = "",
) -> ImportReport:
    """Import a platform export for levy (第七条) or fee (第九条) cases; return the report.

    A row dated before its case began is unmatched (with the reason why) unless
    ``early_date_reason`` explains it for the whole import (issue 13 item 3: a payment that
    preceded the levy case); each such row's document and the import's audit entry keep it."""
    if kind not in KIND_CONFIG:
        raise InvalidInput("只能导入行政征收或行政收费记录")
    config = KIND_CONFIG[kind]
    path = Path(file_path)
    file_name = file_name or path.name
    sha = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            sha.update(chunk)
    early_date_reason = (early_date_reason or "").strip()[:limits.REASON]
    report = ImportReport(kind=kind, file_name=file_name, sha256=sha.hexdigest(), dry_run=dry_run,
                          early_date_reason=early_date_reason)
    rows = _read_rows(path, file_name)
    report.rows = len(rows)
    cache: dict = {}
    seen: set = set()
    for line, row in enumerate(rows, start=2):

        def miss(reason, row=row, line=line):
            report.unmatched.append({"line": line, "reason": reason, "row": row})

        case, reason = _row_case(actor, row, kind, cache)
        if case is None:
            miss(reason)
            continue
        key = row[config["key"]]
        if (case.pk, key) in seen or Document.objects.filter(
            case=case, doc_type=config["doc_type"], **{f"extra__{config['key']}": key}
        ).exists():
            report.duplicates.append({"line": line, "case": case.number, "key": key})
            continue
        seen.add((case.pk, key))
        day = _date(row.get("paid_on", ""))
        if day is not None and day < dates.case_began(case):
            if not early_date_reason:
                miss(f"缴费日期（{day:%Y-%m-%d}）早于本案开始（{dates.case_began(case):%Y-%m-%d}）："
                     "如属实，请在导入时填写“日期早于本案开始的理由”")
                continue
            report.early_dated += 1
        extra = {k: v for k, v in row.items() if v}
        if "amount" in extra:
            extra["amount"] = _amount(extra["amount"])
        extra.update(source_file=file_name, source_sha256=report.sha256, source_line=line)
        report.imported.append({"line": line, "case": case.number, "key": key})
        if dry_run:
            continue
        try:
            records_services.add_document(
                actor=actor,
                case=case,
                doc_type=config["doc_type"],
                number=key[:80],
                date=day,
                signature=_signature(kind, row),
                extra=extra,
                note=f"自{file_name}第{line}行导入",
                early_date_reason=early_date_reason,
            )
        except LiuhenError as exc:
            report.imported.pop()
            miss(exc.message)
    _audit(actor, report)
    return report


def _row_case(actor, row: dict, kind: str, cache: dict):
    """The case a row belongs to, or (None, why not): required columns, a valid amount, a
    matching case the actor may add records to, not archived."""
    config = KIND_CONFIG[kind]
    missing = [COLUMNS[k][0] for k in config["required"] if not row.get(k)]
    if missing:
        return None, f"缺少{'、'.join(missing)}"
    if "amount" in row and row["amount"] and _amount(row["amount"]) is None:
        return None, f"金额无效：{row['amount']}"
    case, reason = _match(row, kind, cache)
    if case is None:
        return None, reason
    if not unit_allowed(actor, "document.create", case.unit):
        return None, f"无权为案件 {case.number} 添加记录"
    if case.archived_at:
        return None, f"案件 {case.number} 已归档"
    return case, ""


def _signature(kind: str, row: dict) -> str:
    # A fee bill is "signed" when the platform says it was sealed (第九条); levy records are
    # platform data with no party present.
    if kind != CaseKind.FEE:
        return SignatureStatus.NOT_PRESENT
    sealed = row.get("sealed") in ("是", "已盖章", "1", "Y")
    return SignatureStatus.SIGNED if sealed else SignatureStatus.PENDING


def _audit(actor, report: ImportReport) -> None:
    with transaction.atomic():
        record(
            actor=actor,
            action=events.event_levy_imported,
            target=None,
            detail={
                "kind": report.kind,
                "file": report.file_name,
                "sha256": report.sha256,
                "rows": report.rows,
                "imported": len(report.imported),
                "duplicates": len(report.duplicates),
                "unmatched": len(report.unmatched),
                "dry_run": report.dry_run,
                **({"early_date_reason": report.early_date_reason,
                    "early_dated": report.early_dated} if report.early_dated else {}),
            },
        )


def _date(value: str) -> date | None:
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d"):
        try:
            return datetime.strptime(value[:10], fmt).date()
        except ValueError:
            continue
    return None
