"""The inspection ledger (检查台帐, 第二十三条): every check, reviewer, item, finding,
rectification and result as rows, filterable, exported as XLSX (openpyxl) and PDF."""

from __future__ import annotations

import io
from dataclasses import dataclass

from django.template.loader import render_to_string
from django.utils import timezone

from liuhen.core.display import object_type_label
from liuhen.core.exports import safe_row
from liuhen.records.pdf import render_pdf
from liuhen.supervision.choices import RectificationStatus, ReviewResult
from liuhen.supervision.models import SpotCheckItem
from liuhen.supervision.spot_checks import criteria

COLUMNS = ["抽查", "期间", "序号", "对象", "单位", "评查人", "评查时间", "得分", "结论",
           "发现的问题", "整改要求", "整改期限", "整改状态"]


@dataclass
class LedgerFilter:
    spot_check: int | None = None
    unit: int | None = None
    result: str = ""


def _minutes(seconds) -> str:
    if seconds is None:
        return ""
    seconds = int(seconds)
    return f"{seconds // 60:02d}:{seconds % 60:02d} "


def rows(filters: LedgerFilter) -> list[list[str]]:
    """One row per reviewed or pending item, findings and rectifications joined in."""
    qs = (SpotCheckItem.objects.select_related("spot_check", "unit", "reviewer__officer")
          .prefetch_related("findings", "rectifications")
          .order_by("-spot_check__opened_at", "spot_check_id", "position"))
    if filters.spot_check:
        qs = qs.filter(spot_check_id=filters.spot_check)
    if filters.unit:
        qs = qs.filter(unit_id=filters.unit)
    if filters.result in ReviewResult.values:
        qs = qs.filter(result=filters.result)
    names = {key: c["title"] for key, c in criteria().items()}
    out = []
    for item in qs[:5000]:
        check = item.spot_check
        reviewer = item.reviewer
        rects = list(item.rectifications.all())
        out.append([
            check.title,
            f"{check.period_start:%Y-%m-%d}至{check.period_end:%Y-%m-%d}",
            str(item.position),
            f"{object_type_label(item.object_type)} {item.object_id} 号",
            item.unit.name,
            (reviewer.officer.name if reviewer and hasattr(reviewer, "officer")
             else reviewer.get_username() if reviewer else ""),
            timezone.localtime(item.reviewed_at).strftime("%Y-%m-%d %H:%M")
            if item.reviewed_at else "",
            str(sum(item.scores.values())) if item.scores else "",
            item.get_result_display() if item.result else "待评查",
            "；".join(f"{_minutes(f.offset_seconds)}{names.get(f.criterion, f.criterion)}："
                     f"{f.note}" for f in item.findings.all()),
            "；".join(r.request for r in rects),
            "；".join(f"{r.deadline:%Y-%m-%d}" for r in rects),
            "；".join(RectificationStatus(r.status).label for r in rects),
        ])
    return out


def to_xlsx(table: list[list[str]]) -> bytes:
    import openpyxl  # heavy; only the export needs it

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "检查台帐"
    sheet.append(COLUMNS)
    for row in table:
        sheet.append(safe_row(row))  # notes typed as formulas stay text (issue 16 item 13)
    for column, width in zip("ABCDEFGHIJKLM", (24, 22, 6, 22, 18, 10, 16, 6, 8, 40, 30, 12, 10),
                             strict=True):
        sheet.column_dimensions[column].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def to_pdf(table: list[list[str]]) -> bytes:
    html = render_to_string("supervision/ledger_pdf.html", {
        "columns": COLUMNS, "rows": table, "made_at": timezone.localtime()})
    return render_pdf(html)
