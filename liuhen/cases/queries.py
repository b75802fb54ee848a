"""Read-side helpers shared by the pages and the API: filtering and paging cases.

The case list must answer within 100 ms on 100,000 cases (bench/bench_cases.py). Three habits
keep it there: the scope and the filters are checked inside the ``(…, opened_on, id, unit)``
indexes (see ``Case.Meta.indexes``); a page is first found as ids by an index-only scan and only
those 50 rows are then read (no OFFSET over whole rows); and the total is counted only up to
``COUNT_CAP``, since counting a whole bureau's cases costs more than the page itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Exists, OuterRef, Q, QuerySet

from liuhen.access.querysets import sub_unit_ids
from liuhen.cases.choices import CaseKind, Stage
from liuhen.cases.models import Case, Party
from liuhen.core.errors import InvalidInput
from liuhen.org.models import Unit

# Counting beyond this many rows costs more than it tells anyone: the list says "more than".
COUNT_CAP = 10_000
# A party search matching more parties than this filters on a subquery instead of their ids.
PARTY_IDS_INLINE = 1_000
# An officer or party with more linked cases than this: a page walks the list order (CaseSearch).
LINKS_WALK_ORDER = 2_000


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


@dataclass
class CaseSearch:
    """The cases a search finds, in two equivalent shapes (same rows, different plans).

    ``ordered`` (newest first) finds a page; ``counted`` counts. They differ only in how an
    officer or party filter reaches the link table when it links many cases: a page then walks
    the list's order index and probes each case's links (EXISTS), stopping after one page,
    while a count reads the links and looks up their cases (IN), touching only the matches.
    SQLite does not weigh the two itself (bench/bench_cases.py, an officer with 8,333 cases:
    the page's ids 12 → 0.3 ms).
    """

    ordered: QuerySet
    counted: QuerySet


def search_cases(*, actor, filters: CaseFilter) -> CaseSearch:
    """The cases ``actor`` may see, narrowed by ``filters``."""
    if filters.kind and filters.kind not in CaseKind.values:
        raise InvalidInput("执法行为类型无效", detail={"field": "kind"})
    if filters.stage and filters.stage not in Stage.values:
        raise InvalidInput("环节无效", detail={"field": "stage"})
    if filters.opened_from and filters.opened_to and filters.opened_from > filters.opened_to:
        raise InvalidInput("起始日期不能晚于截止日期", detail={"field": "opened_from"})
    qs = Case.objects.restrict(actor, "case.view")
    nothing = CaseSearch(ordered=qs.none(), counted=qs.none())
    if filters.unit:
        unit = Unit.objects.filter(pk=filters.unit).only("path").first()
        if unit is None:
            return nothing
        if filters.include_sub_units:
            # Literal ids like the scope's (access.querysets.sub_unit_ids): the database then
            # reads this, the narrower list, through the unit index.
            qs = qs.filter(unit__in=sub_unit_ids(unit))
        else:
            qs = qs.filter(unit=unit)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.stage:
        qs = qs.filter(stage=filters.stage)
    if filters.q:
        term = filters.q.strip()
        qs = qs.filter(Q(number__contains=term) | Q(cause__contains=term))
    if filters.opened_from:
        qs = qs.filter(opened_on__gte=filters.opened_from)
    if filters.opened_to:
        qs = qs.filter(opened_on__lte=filters.opened_to)
    # Officer and party filters go through the link tables, never a JOIN: a JOIN would need
    # DISTINCT over every matching case, and a name match would scan them all.
    link_filters = []
    if filters.officer:
        if not 0 < filters.officer < 2**63:  # cannot exist; the driver would overflow
            return nothing
        link_filters.append(Case.officers.through.objects.filter(officer_id=filters.officer))
    if filters.party:
        term = filters.party.strip()
        parties = Party.objects.filter(Q(name__contains=term) | Q(id_number=term.upper()))
        # The matching parties (a small table) as literal ids: PostgreSQL then reads their
        # links through the party index instead of hashing the whole link table.
        party_ids = list(parties.values_list("pk", flat=True)[: PARTY_IDS_INLINE + 1])
        if len(party_ids) > PARTY_IDS_INLINE:
            party_ids = parties.values("pk")
        link_filters.append(Case.parties.through.objects.filter(party_id__in=party_ids))
    ordered = counted = qs
    for links in link_filters:
        counted = counted.filter(pk__in=links.values("case_id"))
        many = links.values("pk")[: LINKS_WALK_ORDER + 1].count() > LINKS_WALK_ORDER
        if many:
            ordered = ordered.filter(Exists(links.filter(case_id=OuterRef("pk"))))
        else:
            ordered = ordered.filter(pk__in=links.values("case_id"))
    return CaseSearch(ordered=ordered.order_by("-opened_on", "-id"), counted=counted)


@dataclass
class CasePage:
    """One page of case ids in list order, and what the pager needs to know about the rest."""

    ids: list[int]
    number: int
    count: int  # exact when ``capped`` is false; COUNT_CAP when more than that many match
    capped: bool
    has_next: bool


def capped_count(qs) -> int:
    """How many rows ``qs`` has, counting no further than COUNT_CAP + 1."""
    return qs.order_by().values("pk")[: COUNT_CAP + 1].count()


def page_count(count: int, page_size: int) -> int:
    """Pages needed for ``count`` rows (at least one, for an empty list)."""
    return max(1, -(-count // page_size))


def case_page(search: CaseSearch, *, number: int, page_size: int,
              within_cap: bool) -> CasePage:
    """Page ``number`` of the cases ``search`` found, newest first, as ids.

    The ids come from the list's ordering index alone; the caller then reads only those rows
    (a deep page no longer walks thousands of whole rows), without filtering them again. The
    count is cheap:

    * a page that is not full ends the list, so its total is known without a COUNT;
    * otherwise the COUNT stops at COUNT_CAP + 1 ("more than 10,000").

    ``within_cap`` (the list page) keeps page numbers within the counted rows: a page past them
    shows the last counted page. Without it (the API) any page whose rows exist is answered, and
    only a page past the end falls back to the last page, as Django's ``Paginator.get_page``.
    """
    # Any page past 2**31 is past the end; the bound keeps OFFSET within a 64-bit integer.
    number = min(max(1, number), 2**31)
    qs = search.counted
    ids_of = search.ordered.values_list("pk", flat=True)
    count = None
    if within_cap and number > 1:
        count = capped_count(qs)
        number = min(number, page_count(min(count, COUNT_CAP), page_size))
    offset = (number - 1) * page_size
    ids = list(ids_of[offset:offset + page_size + 1])
    if not ids and number > 1:
        # Past the end (API only): the last page, found with an exact count; a rare request.
        count = qs.order_by().count()
        number = page_count(count, page_size)
        offset = (number - 1) * page_size
        ids = list(ids_of[offset:offset + page_size + 1])
    more = len(ids) > page_size
    ids = ids[:page_size]
    if count is None:
        if not more:
            count = offset + len(ids)
        elif offset + page_size >= COUNT_CAP:
            count = offset + page_size + 1  # already past the cap: nothing left to count
        else:
            count = capped_count(qs)
    if within_cap:
        more = number < page_count(min(count, COUNT_CAP), page_size)
    return CasePage(ids=ids, number=number, count=min(count, COUNT_CAP),
                    capped=count > COUNT_CAP, has_next=more)
