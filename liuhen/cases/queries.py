"""Read-side helpers shared by the pages and the API: filtering cases and parties."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Q

from liuhen.cases.choices import CaseKind, Stage
from liuhen.cases.models import Case, Party
from liuhen.core.errors import InvalidInput


@dataclass
class CaseFilter:
    unit: int | None = None
    kind: str | None = None
    stage: str | None = None
    officer: int | None = None
    party: str | None = None
    q: str | None = None
    opened_from: date | None = None
    opened_to: date | None = None
    include_sub_units: bool = True


def search_cases(*, actor, filters: CaseFilter):
    """The cases ``actor`` may see, narrowed by ``filters``, newest first."""
    if filters.kind and filters.kind not in CaseKind.values:
        raise InvalidInput("执法行为类型无效", detail={"field": "kind"})
    if filters.stage and filters.stage not in Stage.values:
        raise InvalidInput("环节无效", detail={"field": "stage"})
    if filters.opened_from and filters.opened_to and filters.opened_from > filters.opened_to:
        raise InvalidInput("起始日期不能晚于截止日期", detail={"field": "opened_from"})
    qs = Case.objects.restrict(actor, "case.view").select_related("unit")
    if filters.unit:
        from liuhen.org.models import Unit

        unit = Unit.objects.filter(pk=filters.unit).only("path").first()
        if unit is None:
            return qs.none()
        if filters.include_sub_units:
            qs = qs.filter(unit__in=Unit.objects.filter(path__startswith=unit.path).values("pk"))
        else:
            qs = qs.filter(unit=unit)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.stage:
        qs = qs.filter(stage=filters.stage)
    # Officer and party filters go through the link tables as IN (subquery): a JOIN would
    # need DISTINCT over every matching case, and a name match would scan them all
    # (bench/bench_cases.py: seconds on 100,000 cases, now milliseconds).
    if filters.officer:
        if not 0 < filters.officer < 2**63:  # cannot exist; the driver would overflow
            return qs.none()
        links = Case.officers.through.objects.filter(officer_id=filters.officer)
        qs = qs.filter(pk__in=links.values("case_id"))
    if filters.party:
        term = filters.party.strip()
        parties = Party.objects.filter(Q(name__contains=term) | Q(id_number=term.upper()))
        links = Case.parties.through.objects.filter(party_id__in=parties.values("pk"))
        qs = qs.filter(pk__in=links.values("case_id"))
    if filters.q:
        term = filters.q.strip()
        qs = qs.filter(Q(number__contains=term) | Q(cause__contains=term))
    if filters.opened_from:
        qs = qs.filter(opened_on__gte=filters.opened_from)
    if filters.opened_to:
        qs = qs.filter(opened_on__lte=filters.opened_to)
    return qs.order_by("-opened_on", "-id")
