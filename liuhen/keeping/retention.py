"""The retention table (第十二条, 第十四条) as data, and the arithmetic of periods.

Pure: no database access here. ``data/retention.toml`` says, row by row and each with its
source, how long a case file (卷宗), a recording and a written record are kept;
``services.py`` gathers the facts of a record and applies the bureau's audited changes
(``RetentionChange``). Where several rows apply (a recording is evidence in several cases),
the longest wins: permanent, then "not yet known" (a case still open: its file's period starts
when it is archived), then the latest disposal date.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

from liuhen.cases.choices import CaseKind

DATA_FILE = Path(__file__).resolve().parent / "data" / "retention.toml"

PERMANENT, CASE_FILE = "permanent", "case_file"
OUTCOMES = {"any": "不论结果", "decided": "已作出决定", "not_decided": "未作出决定"}
# Facts of a case that can select a case-file row (``when_any``).
CONDITIONS = {
    "hearing_requested": "当事人申请听证",
    "is_major_incident": "重大、突发事件",
    "is_disputed": "易引发争议的现场检查",
    "complaint": "投诉、举报来源",
}
_PERIOD = re.compile(r"^(?:(permanent)|(case_file)|(\d{1,3})([ym]))$")


class RetentionDataError(ValueError):
    """The retention table is malformed (the message names the row)."""


@dataclass(frozen=True)
class Period:
    """A keeping period: ``months`` (years are 12 months), or permanent, or "as the case file"."""

    months: int = 0
    permanent: bool = False
    case_file: bool = False

    @classmethod
    def parse(cls, text: str) -> Period:
        match = _PERIOD.match(str(text).strip())
        if not match:
            raise RetentionDataError(f"期限写法有误：{text!r}（应为 permanent、case_file、数字加 y 或 m）")
        if match.group(1):
            return cls(permanent=True)
        if match.group(2):
            return cls(case_file=True)
        n = int(match.group(3))
        if n <= 0:
            raise RetentionDataError(f"期限须大于零：{text!r}")
        return cls(months=n * 12 if match.group(4) == "y" else n)

    @property
    def code(self) -> str:
        if self.permanent:
            return PERMANENT
        if self.case_file:
            return CASE_FILE
        return f"{self.months // 12}y" if self.months % 12 == 0 else f"{self.months}m"

    @property
    def label(self) -> str:
        if self.permanent:
            return "永久"
        if self.case_file:
            return "与案卷保管期限相同"
        if self.months % 12 == 0:
            return f"{self.months // 12}年"
        return f"{self.months}个月"

    def shorter_than(self, other: Period) -> bool:
        """Whether this period ends before ``other`` would (for the statutory minimum)."""
        if other.permanent:
            return not self.permanent
        if self.permanent or self.case_file:
            return False
        return self.months < other.months

    def end(self, start: date) -> date | None:
        """The first day after the period that began on ``start`` (None: kept permanently)."""
        if self.permanent:
            return None
        month = start.month - 1 + self.months
        year, month = start.year + month // 12, month % 12 + 1
        day = min(start.day, _days_in(year, month))
        return date(year, month, day)


def _days_in(year: int, month: int) -> int:
    following = date(year + month // 12, month % 12 + 1, 1)
    return (following - date(year, month, 1)).days


@dataclass(frozen=True)
class Row:
    """One row of the table: which records it covers, for how long, on what basis."""

    id: str
    group: str  # case_file | recording | document
    title: str
    source: str
    period: Period
    changeable: bool = False
    minimum: Period | None = None
    kind: str = ""  # case_file rows: the kind of enforcement act
    outcome: str = "any"
    when_any: tuple[str, ...] = ()
    applies: str = ""  # recording rows: every | case_kind | long_term (第十五条)
    kinds: tuple[str, ...] = ()


@dataclass(frozen=True)
class Table:
    rows: tuple[Row, ...]
    by_id: dict = field(default_factory=dict, compare=False)

    def group(self, name: str) -> list[Row]:
        return [r for r in self.rows if r.group == name]


def _row(group: str, raw: dict) -> Row:
    rid = raw.get("id") or "?"
    try:
        for key in ("id", "title", "source", "period"):
            if not str(raw.get(key, "")).strip():
                raise RetentionDataError(f"缺少 {key}")
        period = Period.parse(raw["period"])
        minimum = Period.parse(raw["minimum"]) if raw.get("minimum") else None
        row = Row(id=raw["id"], group=group, title=raw["title"], source=raw["source"],
                  period=period, changeable=bool(raw.get("changeable", False)),
                  minimum=minimum, kind=raw.get("kind", ""), outcome=raw.get("outcome", "any"),
                  when_any=tuple(raw.get("when_any", ())), applies=raw.get("applies", ""),
                  kinds=tuple(raw.get("kinds", ())))
        if group == "case_file":
            if row.kind not in CaseKind.values:
                raise RetentionDataError(f"执法行为 {row.kind!r} 不存在")
            if row.outcome not in OUTCOMES:
                raise RetentionDataError(f"办理结果 {row.outcome!r} 不存在")
            if row.period.case_file:
                raise RetentionDataError("案卷的期限不能写作 case_file")
            for cond in row.when_any:
                if cond not in CONDITIONS:
                    raise RetentionDataError(f"条件 {cond!r} 不存在")
        if group == "recording":
            if row.applies not in ("every", "case_kind", "long_term"):
                raise RetentionDataError("applies 应为 every、case_kind 或 long_term")
            if row.applies == "every" and row.period.case_file:
                raise RetentionDataError("适用于全部音像资料的行须写明期限")
            for kind in row.kinds:
                if kind not in CaseKind.values:
                    raise RetentionDataError(f"执法行为 {kind!r} 不存在")
        if minimum and period.shorter_than(minimum):
            raise RetentionDataError(f"期限 {period.label} 短于法定最低 {minimum.label}")
        return row
    except RetentionDataError as exc:
        raise RetentionDataError(f"{DATA_FILE.name} [{group}] {rid}: {exc}") from None


@cache
def load_table(path: Path = DATA_FILE) -> Table:
    """The table, validated; a malformed file raises ``RetentionDataError`` naming the row."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise RetentionDataError(f"{path.name}: {exc}") from None
    rows = tuple(_row(group, raw) for group in ("case_file", "recording", "document")
                 for raw in data.get(group, ()))
    by_id: dict[str, Row] = {}
    for row in rows:
        if row.id in by_id:
            raise RetentionDataError(f"{path.name}: 重复的 id {row.id}")
        by_id[row.id] = row
    covered = {r.kind for r in rows if r.group == "case_file"}
    if missing := set(CaseKind.values) - covered:
        raise RetentionDataError(f"{path.name}: 以下执法行为没有案卷期限：{sorted(missing)}")
    if not any(r.group == "document" for r in rows):
        raise RetentionDataError(f"{path.name}: 缺少文字记录的期限")
    return Table(rows=rows, by_id=by_id)


def reload() -> None:
    load_table.cache_clear()


@dataclass(frozen=True)
class CaseFacts:
    """What the case-file rows are chosen by (gathered by ``services.case_facts``)."""

    kind: str
    decided: bool
    conditions: frozenset[str]
    # The period of a case file counts from 1 January after the year it was archived
    # (or closed, when no archiving time is recorded); None while it is still open.
    filed_year: int | None


@dataclass(frozen=True)
class Basis:
    """One row that applies to a record, with the dates it gives."""

    row_id: str
    title: str
    source: str
    period: Period
    start: date | None
    until: date | None  # first day the record may be disposed of; None: permanent or pending
    pending: bool = False  # the start is not known yet (the case is still open)
    note: str = ""  # e.g. which case a recording's link points to

    @property
    def sort_key(self) -> tuple:
        if self.period.permanent:
            return (2, date.max)
        if self.pending:
            return (1, date.max)
        return (0, self.until or date.max)


@dataclass(frozen=True)
class Retention:
    """How long one record is kept: the winning basis and every basis considered."""

    winner: Basis
    considered: tuple[Basis, ...]

    @property
    def permanent(self) -> bool:
        return self.winner.period.permanent

    @property
    def pending(self) -> bool:
        return self.winner.pending and not self.permanent

    @property
    def disposal_date(self) -> date | None:
        """The first day it may be disposed of, or None (permanent, or not known yet)."""
        return None if (self.permanent or self.pending) else self.winner.until

    @property
    def period_label(self) -> str:
        return self.winner.period.label

    @property
    def disposal_label(self) -> str:
        if self.permanent:
            return "永久保存，不销毁"
        if self.pending:
            return "案件归档后起算"
        return f"{self.disposal_date:%Y-%m-%d} 起可按程序销毁"

    def as_dict(self) -> dict:
        """What a disposal tombstone and the API record: rule, period, dates, basis."""
        return {
            "rule": self.winner.row_id, "title": self.winner.title,
            "source": self.winner.source, "period": self.winner.period.code,
            "start": self.winner.start.isoformat() if self.winner.start else None,
            "disposal_date": self.disposal_date.isoformat() if self.disposal_date else None,
            "permanent": self.permanent, "pending": self.pending,
            "considered": [{"rule": b.row_id, "period": b.period.code, "note": b.note,
                            "until": b.until.isoformat() if b.until else None,
                            "pending": b.pending} for b in self.considered],
        }


def longest(bases: list[Basis]) -> Retention:
    """The longest of the bases wins (第十四条: a minimum, and evidence as long as its file)."""
    if not bases:
        raise ValueError("no basis")
    ordered = sorted(bases, key=lambda b: b.sort_key)
    return Retention(winner=ordered[-1], considered=tuple(ordered[::-1]))


def case_file_rows(table: Table, facts: CaseFacts) -> list[Row]:
    """The case-file rows a case's facts select (at least one per kind: the table checks)."""
    selected = []
    for row in table.group("case_file"):
        if row.kind != facts.kind:
            continue
        if row.outcome == "decided" and not facts.decided:
            continue
        if row.outcome == "not_decided" and facts.decided:
            continue
        if row.when_any and not (set(row.when_any) & facts.conditions):
            continue
        selected.append(row)
    return selected


def case_file_start(facts: CaseFacts) -> date | None:
    return date(facts.filed_year + 1, 1, 1) if facts.filed_year else None


def basis_for(row: Row, period: Period, start: date | None, *, note: str = "") -> Basis:
    if period.permanent:
        return Basis(row.id, row.title, row.source, period, start, None, note=note)
    if start is None:
        return Basis(row.id, row.title, row.source, period, None, None, pending=True, note=note)
    return Basis(row.id, row.title, row.source, period, start, period.end(start), note=note)
