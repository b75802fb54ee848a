"""The completeness of many cases at once, for ``liuhen completeness`` (第十条: every step
leaves a trace; 第二十四条: the legal affairs office reports each unit's results).

:func:`completeness_summary` re-evaluates the cases in bulk (the stored snapshots are then
current), audits the run and returns one plain row per case with the Chinese names of its
kind, stage and missing requirements (each with its article), so that a person reads words
and a program reads the same rows as JSON or CSV.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from liuhen.cases.choices import CaseKind, Stage
from liuhen.cases.models import Case
from liuhen.rules import engine
from liuhen.rules.models import CaseCompleteness
from liuhen.rules.services import default_workers, evaluate_cases, record_check

KIND_LABELS = dict(CaseKind.choices)
STAGE_LABELS = dict(Stage.choices)


@dataclass
class CaseRow:
    """One case's completeness as the report prints it."""

    number: str
    unit: str
    kind: str
    stage: str
    ratio: float
    met: int
    missing_count: int
    waived: int
    applicable: int
    missing: list[dict] = field(default_factory=list)  # {"id", "title", "article"}

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    @property
    def stage_label(self) -> str:
        return STAGE_LABELS.get(self.stage, self.stage)

    def missing_text(self, sep: str = "；") -> str:
        return sep.join(f"{m['title']}（{m['article']}）" for m in self.missing)

    def as_dict(self) -> dict:
        return {
            "case": self.number,
            "unit": self.unit,
            "kind": self.kind,
            "kind_label": self.kind_label,
            "stage": self.stage,
            "stage_label": self.stage_label,
            "completeness": round(self.ratio, 4),
            "met": self.met,
            "missing": self.missing_count,
            "waived": self.waived,
            "applicable": self.applicable,
            "missing_rules": [m["id"] for m in self.missing],
            "missing_items": self.missing,
        }


@dataclass
class Summary:
    """What one run evaluated: the count, the number of rules, the rows."""

    cases: int
    rules: int
    rows: list[CaseRow]

    @property
    def complete(self) -> int:
        return sum(1 for r in self.rows if r.missing_count == 0)


def completeness_summary(*, unit=None, actor=None, workers: int | None = None) -> Summary:
    """Re-evaluate every case (of ``unit`` and its sub-units) and return its completeness.

    The run is audited (``completeness.checked``, one entry naming the unit and the count).
    """
    cases = Case.objects.all()
    if unit is not None:
        cases = cases.filter(unit__path__startswith=unit.path)
    count = evaluate_cases(cases, workers=default_workers() if workers is None else workers)
    record_check(actor=actor, unit=unit, count=count)
    by_id = engine.rules_by_id()
    rows = []
    snapshots = (
        CaseCompleteness.objects.filter(case__in=cases)
        .order_by("case__number")
        .values_list(
            "case__number", "case__unit__name", "case__kind", "case__stage", "ratio", "met",
            "missing_count", "waived", "applicable", "missing",
        )
    )
    for number, unit_name, kind, stage, ratio, met, n_missing, waived, applicable, missing in (
        snapshots.iterator(chunk_size=2000)
    ):
        rows.append(CaseRow(
            number=number, unit=unit_name, kind=kind, stage=stage, ratio=ratio, met=met,
            missing_count=n_missing, waived=waived, applicable=applicable,
            missing=[{"id": code, "title": by_id[code].title, "article": by_id[code].article}
                     for code in missing if code in by_id],
        ))
    return Summary(cases=count, rules=sum(len(r) for r in engine.load_rules().values()),
                   rows=rows)
