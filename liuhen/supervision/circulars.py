"""Circulars and performance scores (通报与绩效, 第二十四条): the legal affairs office reports
regularly on how each unit keeps the whole-process record and puts it into performance
evaluation.

A unit's score comes from data: its inputs for the period are read with grouped queries
(completeness of the cases opened, recordings stored within 24 hours (第十三条), review scores
of its spot-checked items (第二十三条), confirmed violations (第二十六条), rectifications past
their deadline), and the formula is ``data/scoring.toml``. A circular keeps the formula and
every unit's inputs as they were, so ``explain`` recomputes any score and shows how it was made.
The PDF has the ranked table, the breakdown and two charts (matplotlib, SVG)."""

from __future__ import annotations

import base64
import hashlib
import io
import tomllib
from datetime import date, datetime, time, timedelta
from functools import cache
from pathlib import Path

from django.db import IntegrityError, transaction
from django.db.models import Avg, Count, Q
from django.template.loader import render_to_string
from django.utils import timezone

from liuhen.access.choices import Role
from liuhen.access.querysets import allows
from liuhen.audit.services import record, record_denied
from liuhen.cases.models import Case
from liuhen.core.errors import Forbidden, IllegalTransition, InvalidInput
from liuhen.core.exports import safe_row
from liuhen.evidence.models import Recording
from liuhen.org.models import Unit
from liuhen.records.pdf import render_pdf
from liuhen.supervision import events
from liuhen.supervision.choices import (
    CircularStatus,
    PeriodKind,
    RectificationStatus,
    ViolationStatus,
)
from liuhen.supervision.models import Circular, Rectification, SpotCheckItem, Violation
from liuhen.supervision.spot_checks import criteria

DATA = Path(__file__).resolve().parent / "data" / "scoring.toml"
# A unit is scored when it has enforcement officers (not the legal affairs office itself).
ENFORCEMENT_ROLES = [Role.OFFICER, Role.UNIT_HEAD]
JUDGED = [ViolationStatus.CONFIRMED, ViolationStatus.MEASURE_TAKEN, ViolationStatus.CLOSED]


@cache
def formula() -> dict:
    """The scoring formula as data (第二十四条); the weights add up to 1."""
    with open(DATA, "rb") as fh:
        data = tomllib.load(fh)
    total = sum(c["weight"] for c in data["component"])
    if abs(total - 1) > 1e-9:
        raise ValueError(f"{DATA.name}: weights add up to {total}, not 1")
    return data


def period_bounds(kind: str, day: date) -> tuple[date, date]:
    """The month, quarter or year that contains ``day``: its first and last date."""
    if kind == PeriodKind.MONTH:
        start = day.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    elif kind == PeriodKind.QUARTER:
        start = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
        end = (start + timedelta(days=95)).replace(day=1) - timedelta(days=1)
    elif kind == PeriodKind.YEAR:
        start, end = date(day.year, 1, 1), date(day.year, 12, 31)
    else:
        raise InvalidInput("请选择通报周期（月、季度、年）")
    return start, end


def period_name(kind: str, start: date) -> str:
    if kind == PeriodKind.MONTH:
        return f"{start.year}年{start.month}月"
    if kind == PeriodKind.QUARTER:
        return f"{start.year}年第{(start.month - 1) // 3 + 1}季度"
    return f"{start.year}年度"


def _moment(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def gather_inputs(start: date, end: date, *, as_of: date | None = None) -> dict[int, dict]:
    """Each enforcement unit's figures for ``start``–``end`` (a unit with enforcement officers), from a
    handful of grouped queries whatever the number of recordings."""
    as_of = as_of or timezone.localdate()
    lo, hi = _moment(start), _moment(end + timedelta(days=1))
    units = (Unit.objects.filter(officers__role__in=ENFORCEMENT_ROLES).distinct()
             .order_by("path").values_list("pk", "name"))
    inputs = {pk: {"unit": name, "cases": 0, "completeness": None, "recordings": 0, "late": 0,
                   "reviewed": 0, "review_score": None, "findings": 0, "violations": 0,
                   "rectifications": 0, "overdue": 0} for pk, name in units}

    def into(unit_id, **values):
        if unit_id in inputs:
            inputs[unit_id].update(values)

    for row in (Case.objects.filter(opened_on__gte=start, opened_on__lte=end)
                .values("unit_id").annotate(n=Count("id"), ratio=Avg("completeness__ratio"))
                .order_by()):
        into(row["unit_id"], cases=row["n"],
             completeness=None if row["ratio"] is None else round(row["ratio"], 4))
    for row in (Recording.objects.filter(captured_start__gte=lo, captured_start__lt=hi)
                .values("unit_id").annotate(n=Count("id"), late=Count("id", filter=Q(is_late=True)))
                .order_by()):
        into(row["unit_id"], recordings=row["n"], late=row["late"])
    maxima = {key: c["max"] for key, c in criteria().items()}
    reviews: dict[int, list[float]] = {}
    findings: dict[int, int] = {}
    for unit_id, scores, n in (SpotCheckItem.objects
                               .filter(reviewed_at__gte=lo, reviewed_at__lt=hi)
                               .annotate(n=Count("findings")).values_list("unit_id", "scores", "n")):
        full = sum(maxima.get(key, 0) for key in scores)
        if full:
            reviews.setdefault(unit_id, []).append(sum(scores.values()) / full)
        findings[unit_id] = findings.get(unit_id, 0) + n
    for unit_id, values in reviews.items():
        into(unit_id, reviewed=len(values), review_score=round(sum(values) / len(values), 4))
    for unit_id, n in findings.items():
        into(unit_id, findings=n)
    for row in (Violation.objects.filter(detected_at__gte=lo, detected_at__lt=hi,
                                         status__in=JUDGED)
                .values("unit_id").annotate(n=Count("id")).order_by()):
        into(row["unit_id"], violations=row["n"])
    overdue = ~Q(status=RectificationStatus.VERIFIED) & Q(deadline__lt=as_of)
    for row in (Rectification.objects.filter(requested_at__gte=lo, requested_at__lt=hi)
                .values("unit_id").annotate(n=Count("id"), overdue=Count("id", filter=overdue))
                .order_by()):
        into(row["unit_id"], rectifications=row["n"], overdue=row["overdue"])
    return inputs


def _component(c: dict, i: dict) -> tuple[float | None, str]:
    """One component's score 0–100 from a unit's inputs, and how it was reached, in words."""
    cid = c["id"]
    if cid == "completeness":
        if i["completeness"] is None:
            return None, "本期无立案案件"
        return 100 * i["completeness"], f"{i['cases']} 件案件平均完整率 {i['completeness']:.1%}"
    if cid == "timeliness":
        if not i["recordings"]:
            return None, "本期无音像记录"
        rate = (i["recordings"] - i["late"]) / i["recordings"]
        return 100 * rate, f"{i['recordings']} 条中逾期存储 {i['late']} 条"
    if cid == "review":
        if i["review_score"] is None:
            return None, "本期未被抽查评查"
        return (100 * i["review_score"],
                f"评查 {i['reviewed']} 项，平均得分率 {i['review_score']:.1%}，发现问题 "
                f"{i['findings']} 个")
    if cid == "violations":
        return (max(0.0, 100 - c["penalty"] * i["violations"]),
                f"已确认 {i['violations']} 件，每件扣 {c['penalty']} 分")
    if cid == "rectification":
        if not i["rectifications"]:
            return None, "本期无限期整改"
        return (max(0.0, 100 - c["penalty"] * i["overdue"]),
                f"整改 {i['rectifications']} 项，逾期未完成 {i['overdue']} 项，每项扣 "
                f"{c['penalty']} 分")
    raise ValueError(f"unknown scoring component {cid!r}")


def explain(inputs: dict, rule: dict) -> dict:
    """A unit's score under ``rule`` from its kept ``inputs``: each component with its weight,
    score, weighted points and basis, and the total."""
    parts = []
    for c in rule["component"]:
        value, basis = _component(c, inputs)
        if value is None:
            value, basis = float(c["no_data"]), f"{basis}，按 {c['no_data']} 分计"
        parts.append({"id": c["id"], "title": c["title"], "article": c["article"],
                      "weight": c["weight"], "score": round(value, 1),
                      "points": round(c["weight"] * value, 2), "basis": basis})
    return {"components": parts, "total": round(sum(p["points"] for p in parts), 1)}


def score_units(inputs: dict[int, dict], rule: dict) -> list[dict]:
    """Every unit's breakdown, ranked by total (ties share a rank; then by the unit's order)."""
    rows = [{"unit_id": pk, "unit": i["unit"], "inputs": i, **explain(i, rule)}
            for pk, i in inputs.items()]
    rows.sort(key=lambda r: -r["total"])
    rank, last = 0, None
    for n, row in enumerate(rows, start=1):
        if row["total"] != last:
            rank, last = n, row["total"]
        row["rank"] = rank
    return rows


# --- charts and documents ---------------------------------------------------------------


def _svg(fig) -> str:
    fig.savefig(buffer := io.StringIO(), format="svg", bbox_inches="tight",
                metadata={"Date": None, "Creator": None})
    return buffer.getvalue()


def charts(rows: list[dict]) -> list[tuple[str, str]]:
    """(title, SVG) of the two charts: total scores ranked, and the component scores."""
    import matplotlib  # heavy; only the circular needs it

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.figure import Figure

    plt.rcParams["svg.fonttype"] = "path"  # text as outlines: the SVG needs no font
    plt.rcParams["font.sans-serif"] = ["Noto Sans CJK SC", "Noto Sans CJK JP", "DejaVu Sans"]
    plt.rcParams["axes.unicode_minus"] = False
    names = [r["unit"] for r in rows] or ["（无单位）"]
    height = max(2.2, 0.45 * len(names) + 1)
    out = []
    fig = Figure(figsize=(7, height))
    ax = fig.subplots()
    totals = [r["total"] for r in rows] or [0]
    bars = ax.barh(names[::-1], totals[::-1], color="#2f6fab")
    ax.bar_label(bars, fmt="%.1f", padding=3, fontsize=8)
    ax.set_xlim(0, 105)
    ax.set_xlabel("总分")
    ax.tick_params(labelsize=8)
    out.append(("各单位总分排名", _svg(fig)))
    fig = Figure(figsize=(7, height + 0.6))
    ax = fig.subplots()
    parts = rows[0]["components"] if rows else []
    width = 0.8 / max(1, len(parts))
    colors = ["#2f6fab", "#4caf50", "#ff9800", "#c62828", "#7b1fa2"]
    for k, part in enumerate(parts):
        ys = [len(names) - 1 - n + (k - len(parts) / 2) * width + width / 2
              for n in range(len(names))]
        ax.barh(ys, [r["components"][k]["score"] for r in rows], height=width,
                color=colors[k % len(colors)], label=part["title"])
    ax.set_yticks(range(len(names)), names[::-1])
    ax.set_xlim(0, 105)
    ax.set_xlabel("得分")
    ax.tick_params(labelsize=8)
    if parts:
        ax.legend(fontsize=7, loc="lower left", bbox_to_anchor=(0, 1.01), ncol=len(parts),
                  frameon=False)
    out.append(("各单位分项得分", _svg(fig)))
    return out


def chart_images(rows: list[dict]) -> list[tuple[str, str]]:
    """The charts as data: URLs (pages and the PDF fetch nothing else)."""
    return [(title, "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode())
            for title, svg in charts(rows)]


def to_pdf(circular) -> bytes:
    html = render_to_string("supervision/circular_pdf.html", {
        "c": circular, "rows": circular.rows, "rule": circular.formula,
        "charts": chart_images(circular.rows)})
    return render_pdf(html)


XLSX_COLUMNS = ["名次", "单位", "总分", "记录完整率", "立案案件", "音像记录", "逾期存储",
                "评查项", "平均得分率", "发现问题", "已确认违规", "限期整改", "逾期未整改"]


def to_xlsx(circular) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "排名"
    parts = circular.formula["component"]
    sheet.append(XLSX_COLUMNS + [f"{c['title']}（权重{c['weight']:.0%}）" for c in parts])
    for r in circular.rows:
        i = r["inputs"]
        # A unit's name is typed by the admin: as a formula it would run (issue 16 item 13).
        sheet.append(safe_row([
            r["rank"], r["unit"], r["total"],
            "" if i["completeness"] is None else round(i["completeness"], 4),
            i["cases"], i["recordings"], i["late"], i["reviewed"],
            "" if i["review_score"] is None else round(i["review_score"], 4),
            i["findings"], i["violations"], i["rectifications"], i["overdue"],
            *[p["score"] for p in r["components"]],
        ]))
    rules = book.create_sheet("评分办法")
    rules.append(["项目", "依据", "权重", "说明"])
    for c in parts:
        rules.append([c["title"], c["article"], c["weight"],
                      f"扣分 {c['penalty']} 分/件" if "penalty" in c else ""])
    rules.append([circular.formula.get("title", ""), circular.formula.get("article", ""),
                  1, f"版本 {circular.formula.get('version', '')}"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- the circular's life: made (draft), published (PDF kept), read by the units ---------------


def _require(actor, action: str, event: str, target=None) -> None:
    if not allows(actor, action):
        record_denied(actor=actor, action=event, target=target, reason=f"角色无权执行：{action}")
        raise Forbidden("只有法制机构可以制作和发布通报（第二十四条）")


def create_circular(*, actor, kind: str, day: date, text: str = "", title: str = "",
                    as_of: date | None = None) -> Circular:
    """A draft circular of the period (``kind``) containing ``day``, its scores computed from
    the data now and kept with the formula."""
    _require(actor, "circular.manage", events.event_circular_created)
    start, end = period_bounds(kind, day)
    as_of = as_of or timezone.localdate()
    if start > as_of:
        raise InvalidInput("通报期间尚未开始")
    rule = formula()
    rows = score_units(gather_inputs(start, end, as_of=as_of), rule)
    title = (title or "").strip() or f"{period_name(kind, start)}执法全过程记录情况通报"
    with transaction.atomic():
        circular = Circular.objects.create(
            title=title[:200], period_kind=kind, period_start=start, period_end=end,
            text=(text or "").strip(), formula=rule, rows=rows, as_of=as_of, created_by=actor)
        record(actor=actor, action=events.event_circular_created, target=circular,
               detail={"period": f"{start}..{end}", "units": len(rows),
                       "formula_version": rule.get("version")})
    return circular


def draft_last_month(*, today: date | None = None) -> Circular | None:
    """The scheduler's monthly job (第二十四条 定期通报): last month's circular as a draft, its
    scores computed from the data now and kept with the formula, for the legal affairs office
    to write its text and publish (never published here). Nothing when a circular of that
    month exists already, made by the office or by an earlier run of this job."""
    today = today or timezone.localdate()
    start, end = period_bounds(PeriodKind.MONTH, today.replace(day=1) - timedelta(days=1))
    if Circular.objects.filter(period_kind=PeriodKind.MONTH, period_start=start).exists():
        return None
    rule = formula()
    rows = score_units(gather_inputs(start, end, as_of=today), rule)
    try:
        with transaction.atomic():
            circular = Circular.objects.create(
                title=f"{period_name(PeriodKind.MONTH, start)}执法全过程记录情况通报",
                period_kind=PeriodKind.MONTH, period_start=start, period_end=end, text="",
                formula=rule, rows=rows, as_of=today, created_by=None)
            record(actor=None, actor_name="system", action=events.event_circular_drafted,
                   target=circular,
                   detail={"period": f"{start}..{end}", "units": len(rows),
                           "formula_version": rule.get("version")})
    except IntegrityError:  # another node's run drafted it a moment ago
        return None
    return circular


def publish_circular(*, actor, circular: Circular, text: str | None = None) -> Circular:
    """Publish a draft: the PDF is made from the kept rows and stored with its SHA-256; after
    this the circular does not change (第二十四条 通报, kept)."""
    _require(actor, "circular.manage", events.event_circular_published, circular)
    with transaction.atomic():
        locked = Circular.objects.select_for_update().get(pk=circular.pk)
        if locked.status != CircularStatus.DRAFT:
            raise IllegalTransition("该通报已发布，不能再次发布或修改")
        if text is not None:
            locked.text = text.strip()
        locked.status = CircularStatus.PUBLISHED
        locked.published_by, locked.published_at = actor, timezone.now()
        pdf = to_pdf(locked)
        locked.pdf, locked.pdf_sha256 = pdf, hashlib.sha256(pdf).hexdigest()
        locked.save()
        record(actor=actor, action=events.event_circular_published, target=locked,
               detail={"sha256": locked.pdf_sha256, "bytes": len(pdf)})
    return locked


def visible_circulars(user):
    """The legal affairs office sees drafts too; the units and leaders the published ones."""
    if not allows(user, "circular.view"):
        return Circular.objects.none()
    if allows(user, "circular.manage"):
        return Circular.objects.all()
    return Circular.objects.filter(status=CircularStatus.PUBLISHED)


def recompute(circular: Circular) -> list[dict]:
    """The scores again from the circular's kept inputs and formula (to explain a score)."""
    return score_units({r["unit_id"]: r["inputs"] for r in circular.rows}, circular.formula)
