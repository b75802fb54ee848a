"""The completeness report per unit and for the bureau (第十条, 第二十四条: the legal affairs
office circulates each unit's results); read from the stored snapshots."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db import transaction

from liuhen.audit.services import record
from liuhen.cases.choices import CaseKind, Stage
from liuhen.org.models import Unit
from liuhen.rules import engine, events
from liuhen.rules.models import CaseCompleteness

GAP_LIMIT = 200


def build_report(*, actor, unit_id: int | None = None) -> dict:
    """Completeness rate per unit and overall, the most often missing requirements and the
    cases with gaps, within the actor's ``report.view`` scope."""
    tally = _tally(_rows(actor, unit_id))
    by_id = engine.rules_by_id()
    units = sorted(
        (
            {
                "unit_id": pk,
                "name": u["name"],
                "cases": u["cases"],
                "complete": u["complete"],
                "complete_rate": u["complete"] / u["cases"],
                "average": u["ratio_sum"] / u["cases"],
            }
            for pk, u in tally.per_unit.items()
        ),
        key=lambda u: (u["average"], u["name"]),
    )
    top = [
        {"id": code, "title": by_id[code].title, "article": by_id[code].article, "count": count}
        for code, count in tally.missing.most_common(15)
        if code in by_id
    ]
    for gap in tally.gaps:
        gap["missing"] = [
            {"id": c, "title": by_id[c].title, "article": by_id[c].article}
            for c in gap["missing"]
            if c in by_id
        ]
    tally.gaps.sort(key=lambda g: g["percent"])
    total, complete = tally.total, tally.complete
    with transaction.atomic():
        record(
            actor=actor,
            action=events.event_report_viewed,
            target=None,
            detail={"unit": unit_id, "cases": total},
        )
    return {
        "cases": total,
        "complete": complete,
        "complete_rate": complete / total if total else 1.0,
        "average": tally.ratio_sum / total if total else 1.0,
        "units": units,
        "top_missing": top,
        "gaps": tally.gaps,
        "gaps_truncated": total - complete > len(tally.gaps),
    }


def _rows(actor, unit_id: int | None):
    """One row per stored snapshot in the actor's scope (and ``unit_id``'s sub-tree)."""
    qs = CaseCompleteness.objects.restrict(actor, "report.view").select_related(
        "case", "case__unit"
    )
    if unit_id:
        unit = Unit.objects.filter(pk=unit_id).first()
        qs = qs.filter(case__unit__path__startswith=unit.path) if unit else qs.none()
    return qs.values_list(
        "case_id",
        "case__number",
        "case__cause",
        "case__kind",
        "case__stage",
        "case__unit_id",
        "case__unit__name",
        "ratio",
        "missing_count",
        "missing",
    )


@dataclass
class _Tally:
    per_unit: dict = field(
        default_factory=lambda: defaultdict(lambda: {"cases": 0, "complete": 0, "ratio_sum": 0.0})
    )
    missing: Counter = field(default_factory=Counter)
    gaps: list = field(default_factory=list)
    total: int = 0
    complete: int = 0
    ratio_sum: float = 0.0


def _tally(rows) -> _Tally:
    """Counts per unit and overall in one pass (read in chunks: bounded memory)."""
    t = _Tally()
    for (
        case_id,
        number,
        cause,
        kind,
        stage,
        unit_pk,
        unit_name,
        ratio,
        missing_count,
        missing,
    ) in rows.iterator(chunk_size=2000):
        u = t.per_unit[unit_pk]
        u["name"] = unit_name
        u["cases"] += 1
        u["ratio_sum"] += ratio
        t.total += 1
        t.ratio_sum += ratio
        if missing_count == 0:
            u["complete"] += 1
            t.complete += 1
        else:
            t.missing.update(missing)
            if len(t.gaps) < GAP_LIMIT:
                t.gaps.append(
                    {
                        "case_id": case_id,
                        "number": number,
                        "cause": cause,
                        "kind": CaseKind(kind).label,
                        "stage": Stage(stage).label,
                        "unit": unit_name,
                        "percent": int(ratio * 100),
                        "missing": missing,
                    }
                )
    return t
