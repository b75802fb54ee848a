"""Read-side queries of the vault: the recording list and the late-upload report.

Every query starts from ``restrict(user, action)`` (deny by default). The list must stay fast
on a million recordings (第十八条 classification is only useful if it can be searched): it is
keyset-paginated on ``(captured_start, id)`` (no OFFSET, no COUNT), and
filters on related tables (case, party, device, unit) are first resolved to ids on those small
tables, so the big table is only ever filtered on its own indexed columns.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection
from django.db.models import Count, Max, Prefetch, Q, Sum
from django.db.models.functions import Coalesce
from django.utils.dateparse import parse_datetime

from liuhen.access.permissions import OWN, TREE, scope_for
from liuhen.access.querysets import sub_unit_ids, user_role, user_unit
from liuhen.cases.models import Case, Party
from liuhen.devices.models import Device
from liuhen.evidence.forms import day_start
from liuhen.evidence.models import CaseLink, FixityCheck, Recording, linked_recording_ids
from liuhen.org.models import Unit

PAGE_SIZE = 50
LATE_REPORT_ROWS = 500


@dataclass
class RecordingPage:
    """One page of the list, and the cursor of the next one (None on the last page)."""

    rows: list
    next_cursor: str | None


@dataclass
class LateReport:
    """Late uploads in a period (第十三条): per unit, per uploader, and the rows themselves."""

    per_unit: list = field(default_factory=list)
    per_uploader: list = field(default_factory=list)
    rows: list = field(default_factory=list)
    total: int = 0
    truncated: bool = False


def encode_cursor(recording) -> str:
    """Opaque cursor after ``recording`` in ``-captured_start, -id`` order."""
    raw = f"{recording.captured_start.isoformat()}|{recording.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    """The (captured_start, id) a cursor points after; None for a missing or forged cursor."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, pk = raw.split("|")
        when = parse_datetime(moment)
        return (when, int(pk)) if when is not None else None
    except (ValueError, UnicodeDecodeError):
        return None


def filter_recordings(queryset, filters: dict):
    """Apply the list filters (cleaned data of ``RecordingFilterForm``) to ``queryset``."""
    if unit := filters.get("unit"):
        unit_ids = Unit.objects.filter(path__startswith=unit.path).values_list("pk", flat=True)
        queryset = queryset.filter(unit_id__in=list(unit_ids))
    if number := (filters.get("device") or "").strip():
        device_ids = list(
            Device.objects.filter(number__istartswith=number).values_list("pk", flat=True)[:200]
        )
        queryset = queryset.filter(device_id__in=device_ids)
    if officer := filters.get("officer"):
        queryset = queryset.filter(officer=officer)
    if start := filters.get("start"):
        queryset = queryset.filter(captured_start__gte=day_start(start))
    if end := filters.get("end"):
        queryset = queryset.filter(captured_start__lt=day_start(end, end=True))
    if text := (filters.get("party") or "").strip():
        party_ids = list(
            Party.objects.filter(Q(name__icontains=text) | Q(id_number=text.upper())).values_list(
                "pk", flat=True
            )[:500]
        )
        queryset = queryset.filter(party_id__in=party_ids)
    if text := (filters.get("case") or "").strip():
        case_ids = list(
            Case.objects.filter(Q(number=text) | Q(cause__icontains=text)).values_list(
                "pk", flat=True
            )[:500]
        )
        # The primary case through its index, and recordings linked to these cases as
        # further evidence (第十四条: one recording, several cases) by a literal id list.
        also = list(CaseLink.objects.filter(case_id__in=case_ids, ended_at__isnull=True,
                                            is_primary=False)
                    .values_list("recording_id", flat=True)[:2000])
        queryset = queryset.filter(Q(case_id__in=case_ids) | Q(pk__in=also) if also
                                   else Q(case_id__in=case_ids))
    if kind := filters.get("kind"):
        queryset = queryset.filter(kind=kind)
    if filters.get("late"):
        queryset = queryset.filter(is_late=True)
    if filters.get("flagged"):
        queryset = queryset.filter(is_flagged=True)
    return queryset


# Columns the list shows: loading only these keeps 50 rows x 6 joined models cheap.
LIST_FIELDS = (
    "id",
    "kind",
    "original_name",
    "captured_start",
    "capture_time_source",
    "is_late",
    "is_flagged",
    "flags",
    "sha256",
    "unit__name",
    "device__number",
    "officer__name",
    "case__number",
    "party",
    "disposed_at",
)


def recording_page(
    *, user, filters: dict, cursor: str | None = None, page_size: int = PAGE_SIZE
) -> RecordingPage:
    """A page of the recordings ``user`` may see, newest capture first.

    No total count: on a million rows a COUNT under a sparse filter (late, flagged) reads far
    more rows than the page itself, so the page only says whether there is a next one.
    """
    queryset = filter_recordings(Recording.objects.restrict(user, "recording.view"), filters)
    after = decode_cursor(cursor)
    if after is not None:
        when, pk = after
        # The plain ``<=`` bound lets the database range-scan the captured_start index; the OR
        # alone (``< when OR (= when AND id < pk)``) makes SQLite scan and sort the whole table.
        queryset = queryset.filter(
            Q(captured_start__lte=when), Q(captured_start__lt=when) | Q(pk__lt=pk)
        )
    # Two steps: the ids of the page first (the database answers from an index alone, even
    # when it must sort the matches of an IN list), then those rows with their joins.
    units = _units_to_merge(user, filters)
    if units and linked_recording_ids(units):
        # Recordings of other units linked to these units' cases are not in any unit's own
        # index: the plain query finds them with the rest.
        units = None
    if units:
        ids = _newest_ids_per_unit(queryset, units, page_size + 1)
    else:
        order = "-captured_start"
        if filters.get("case") or filters.get("party"):
            # The rows linked to at most 500 cases or parties: read them all through the
            # case/party index and keep the newest. Ordered by the bare column, PostgreSQL
            # walks the time index instead, expecting them spread evenly, and passes 100,000
            # other rows when they are not (a records keeper's case search: 27 → 2 ms).
            order = Coalesce("captured_start", "captured_start").desc()
        ids = list(
            queryset.order_by(order, "-id").values_list("pk", flat=True)[: page_size + 1]
        )
    # The parties (a fifth of the rows have one) in a query of their own: joined as a sixth
    # table, PostgreSQL took 1.9-5.5 ms to plan this 0.5-2.5 ms query (EXPLAIN on 1,000,000
    # recordings, issue 9 item 3; see evidence.views._DETAIL_ROWS).
    by_id = (
        Recording.objects.select_related("unit", "device", "officer", "case")
        .prefetch_related(Prefetch("party", queryset=Party.objects.only("id", "name", "kind")))
        .only(*LIST_FIELDS)
        .in_bulk(ids)
    )
    rows = [by_id[pk] for pk in ids if pk in by_id]
    _attach_case_ids(rows)
    next_cursor = encode_cursor(rows[page_size - 1]) if len(rows) > page_size else None
    return RecordingPage(rows=rows[:page_size], next_cursor=next_cursor)


def _attach_case_ids(rows) -> None:
    """Each row's ``linked_case_ids`` (active links, primary first) in one query."""
    by_recording: dict[int, list[int]] = {row.pk: [] for row in rows}
    for rec_id, case_id in (CaseLink.objects.filter(recording_id__in=list(by_recording),
                                                    ended_at__isnull=True)
                            .order_by("-is_primary", "linked_at", "id")
                            .values_list("recording_id", "case_id")):
        by_recording[rec_id].append(case_id)
    for row in rows:
        row.linked_case_ids = by_recording[row.pk]


# Filters whose own index finds the rows (an id list, one officer, the small late/flagged
# partial indexes across units): no unit-by-unit merge.
_DRIVING_FILTERS = ("device", "officer", "case", "party", "late", "flagged")
# Beyond this many units the merge would be a long statement; the database plans it alone.
MERGE_UNITS_MAX = 64


def _units_to_merge(user, filters: dict) -> list[int] | None:
    """The units to read one by one when the list is limited to several units, else None.

    A unit head's or records keeper's scope, or a unit filter with sub-units, is
    ``unit_id IN (…)``. Ordered by capture time, the database then either walks the global
    time index until it has found a page (fast when the matches are dense, a scan of every row
    when the units hold none: a kind filter the units never use, 0.8 s on 1,000,000 rows), or
    sorts all the units' matches. Reading each unit's newest rows from its own
    ``(unit, …, captured_start)`` index and merging them costs at most a page per unit.
    """
    if any(filters.get(name) for name in _DRIVING_FILTERS):
        return None
    units = None
    scope, own = scope_for(user_role(user), "recording.view"), user_unit(user)
    if scope in (OWN, TREE) and own is not None:
        units = {own.pk} if scope == OWN else set(sub_unit_ids(own))
    if unit := filters.get("unit"):
        chosen = set(sub_unit_ids(unit))
        units = chosen if units is None else units & chosen
    if units is None or not 1 < len(units) <= MERGE_UNITS_MAX:
        return None
    return sorted(units)


def _newest_ids_per_unit(queryset, units: list[int], limit: int) -> list[int]:
    """The ids of the ``limit`` newest rows of ``queryset``, read unit by unit in one query.

    One ``UNION ALL`` of per-unit subqueries, each ordered and limited by the unit's index,
    then merged; the same rows in the same ``-captured_start, -id`` order as one query. The
    branch is compiled once and repeated with each unit's id as its parameter.
    """
    marker = -(2**62) + 7  # no unit has this id: it marks the branch's unit parameter
    branch = (queryset.filter(unit_id=marker).order_by("-captured_start", "-id")
              .values_list("pk", "captured_start")[:limit])
    sql, branch_params = branch.query.sql_with_params()
    assert branch_params.count(marker) == 1, "the unit parameter must appear once"
    parts, params = [], []
    for unit_id in units:
        parts.append(f"SELECT * FROM ({sql}) AS u{int(unit_id)}")
        params.extend(unit_id if p == marker else p for p in branch_params)
    sql = f"{' UNION ALL '.join(parts)} ORDER BY 2 DESC, 1 DESC LIMIT {int(limit)}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def late_report(*, user, start=None, end=None, unit=None) -> LateReport:
    """Late uploads (第十三条) stored in a period: how late, by whom, per unit."""
    queryset = Recording.objects.restrict(user, "recording.late_report").filter(is_late=True)
    if unit is not None:
        unit_ids = Unit.objects.filter(path__startswith=unit.path).values_list("pk", flat=True)
        queryset = queryset.filter(unit_id__in=list(unit_ids))
    if start:
        queryset = queryset.filter(stored_at__gte=day_start(start))
    if end:
        queryset = queryset.filter(stored_at__lt=day_start(end, end=True))
    report = LateReport()
    report.per_unit = list(
        queryset.order_by()
        .values("unit__name")
        .annotate(n=Count("id"), total=Sum("late_seconds"), worst=Max("late_seconds"))
        .order_by("-n", "unit__name")
    )
    report.per_uploader = list(
        queryset.order_by()
        .values("uploaded_by__username", "uploaded_by__officer__name", "unit__name")
        .annotate(n=Count("id"), total=Sum("late_seconds"), worst=Max("late_seconds"))
        .order_by("-n", "uploaded_by__username")
    )
    report.total = sum(row["n"] for row in report.per_unit)
    rows = list(
        queryset.select_related(
            "unit", "officer", "uploaded_by", "uploaded_by__officer", "device", "case"
        ).order_by("-late_seconds", "-id")[: LATE_REPORT_ROWS + 1]
    )
    report.truncated = len(rows) > LATE_REPORT_ROWS
    report.rows = rows[:LATE_REPORT_ROWS]
    return report


def human_duration(seconds: int | float | None) -> str:
    """'3天4小时' / '5小时12分' / '40分' for lateness and durations."""
    if not seconds:
        return "0分"
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}天{hours}小时"
    if hours:
        return f"{hours}小时{minutes}分"
    return f"{max(minutes, 1)}分"


def fixity_checks_for(user):
    """The fixity checks ``user`` may see: ``restrict(user, "recording.fixity")``. A bureau-wide
    scope keeps every row, so supervisors also see orphans (objects in storage with no row,
    hence no unit); a unit scope drops them."""

    return FixityCheck.objects.restrict(user, "recording.fixity")
