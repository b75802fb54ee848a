"""The spot-check draw (第二十三条), reproducible: the same seed over the same population draws
the same sample, on any machine and either database, so anyone can redraw and compare.

Method 2 (every new check) never reads the population's ids into Python. One GROUP BY gives,
per stratum and per bucket of ``BUCKET`` consecutive ids, the count of members, the sum of
their ids and the sum of their squared ids modulo ``PRIME``. The stratum sizes are the bucket
counts added up; the population's identity is the SHA-256 of those rows (so adding, removing
or moving a member into another stratum or bucket changes it). Each stratum's positions (0 ..
size - 1, in id order) are drawn by a PRNG seeded with the check's seed and the stratum's name;
a stratum's positions are resolved to its members by one query that ranks, by id, the
stratum's members in the primary-key ranges of the buckets drawn.

For recordings the counts per stratum and bucket come from running tallies the database keeps
per capture day (``tallies``, triggers on the recordings), added up over the period's days: a
draw over a million recordings reads a few tens of thousands of tally rows instead. They are
the same numbers as the GROUP BY over the recordings gives, so the identity and the sample are
the same (tested); a redraw counts the recordings themselves (``recount``), which proves the
identity stored at the opening independently of the tallies.

Method 1 (checks opened before method 2) read every id in id order and hashed the lists; a
redraw of such a check uses it again, so its stored identity still compares. Both methods
draw the same positions, hence the same sample, from the same population."""

from __future__ import annotations

import hashlib
import random
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from datetime import timezone as dt_timezone
from itertools import accumulate

from django.db import models
from django.db.models import Count, F, Q, Sum, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from liuhen.cases.models import Case, Patrol
from liuhen.core.errors import InvalidInput
from liuhen.evidence.models import Recording
from liuhen.supervision import tallies
from liuhen.supervision.choices import Population, Strata
from liuhen.supervision.models import DrawTally

METHOD = 2
BUCKET = tallies.BUCKET
PRIME = tallies.PRIME
RESOLVE_CHUNK = 200  # buckets per query resolving positions (SQLite's expression depth: 1000)


@dataclass(frozen=True)
class Draw:
    population_size: int
    population_digest: str
    strata_sizes: dict[str, int]
    sample: list[tuple[str, int, int]]  # (stratum, object id, unit id), in draw order
    method: int = METHOD


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    zone = timezone.get_default_timezone()
    return (
        datetime.combine(start, time.min, tzinfo=zone),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone),
    )


def _population(population: str, start: date, end: date, filters: dict):
    """The population's queryset and the field its kind is read from."""
    units = filters.get("units") or []
    if population == Population.RECORDINGS:
        lo, hi = _bounds(start, end)
        qs = Recording.objects.filter(
            captured_start__gte=lo, captured_start__lt=hi, disposed_at__isnull=True
        )
        if filters.get("kinds"):
            qs = qs.filter(kind__in=filters["kinds"])
        kind = "kind"
    elif population == Population.CASES:
        qs = Case.objects.filter(opened_on__gte=start, opened_on__lte=end)
        if filters.get("kinds"):
            qs = qs.filter(kind__in=filters["kinds"])
        kind = "kind"
    elif population == Population.PATROLS:
        qs = Patrol.objects.filter(date__gte=start, date__lte=end)
        kind = "unit_id"  # a patrol has no kind: its stratum by kind is its unit
    else:
        raise InvalidInput("抽查对象不正确")
    if units:
        qs = qs.filter(unit_id__in=units)
    return qs, kind


def population_rows(population: str, start: date, end: date, filters: dict):
    """(id, unit id, kind) of every member of the population, in id order (method 1)."""
    qs, kind = _population(population, start, end, filters)
    return qs.order_by("id").values_list("id", "unit_id", kind).iterator(chunk_size=20000)


def _stratum(strata: str, unit_id: int, kind) -> str:
    if strata == Strata.UNIT:
        return f"unit:{unit_id}"
    if strata == Strata.KIND:
        return f"kind:{kind}"
    return f"unit:{unit_id}|kind:{kind}"


def _stratum_filter(strata: str, kind_field: str, unit_id, kind) -> dict:
    if strata == Strata.UNIT:
        return {"unit_id": unit_id}
    if strata == Strata.KIND:
        return {kind_field: kind}
    return {"unit_id": unit_id, kind_field: kind}


def _positions(seed: str, name: str, size: int, per_stratum: int) -> list[int]:
    rng = random.Random(f"{seed}|{name}")
    return rng.sample(range(size), min(per_stratum, size))


def draw(
    *,
    population: str,
    start: date,
    end: date,
    filters: dict,
    strata: str,
    per_stratum: int,
    seed: str,
    method: int = METHOD,
    recount: bool = False,
) -> Draw:
    """Stratify, fingerprint and draw ``per_stratum`` from each stratum (all of a smaller one).
    Method 2 counts recordings from the running tallies (``tallies``) where they apply, or from
    the records themselves when ``recount`` is asked (a redraw) or they do not; both give the
    same numbers, hence the same identity and sample."""
    if strata not in Strata.values:
        raise InvalidInput("分层方式不正确")
    if method == 1:
        return _draw_v1(
            population=population,
            start=start,
            end=end,
            filters=filters,
            strata=strata,
            per_stratum=per_stratum,
            seed=seed,
        )
    if method != METHOD:
        raise InvalidInput("抽取方法不正确")
    qs, kind_field = _population(population, start, end, filters)
    counted = None if recount else _tallied(population, start, end, filters)
    if counted is None:
        counted = _grouped(qs, kind_field)
    # Per stratum: its filter values and its buckets (bucket, count, sum, sum of squares).
    strata_rows: dict[str, dict] = {}
    for b, unit_id, kind, n, s, q in counted:
        if not n:  # a tally row whose members all left (disposed of, moved)
            continue
        name = _stratum(strata, unit_id, kind)
        entry = strata_rows.setdefault(
            name,
            {
                "filter": _stratum_filter(strata, kind_field, unit_id, kind),
                "buckets": defaultdict(lambda: [0, 0, 0]),
            },
        )
        acc = entry["buckets"][int(b)]
        acc[0] += int(n)
        acc[1] += int(s)
        acc[2] = (acc[2] + int(q)) % PRIME
    identity = hashlib.sha256(f"v{METHOD}|{population}|{strata}|{BUCKET}".encode())
    sample, sizes, total = [], {}, 0
    for name in sorted(strata_rows):
        entry = strata_rows[name]
        buckets = sorted(entry["buckets"].items())
        counts = [n for _b, (n, _s, _q) in buckets]
        sizes[name] = size = sum(counts)
        total += size
        identity.update(f"\n{name}:".encode())
        identity.update(";".join(f"{b},{n},{s},{q}" for b, (n, s, q) in buckets).encode())
        ends = list(accumulate(counts))  # members up to and including each bucket
        wanted = []  # (bucket, offset within it) of each drawn position, in draw order
        for position in _positions(seed, name, size, per_stratum):
            i = bisect_right(ends, position)
            wanted.append((buckets[i][0], position - (ends[i] - counts[i])))
        found = _resolve(qs.filter(**entry["filter"]), wanted)
        for key in wanted:
            if key not in found:
                raise InvalidInput("抽取期间总体发生了变化，请重新抽取")
            sample.append((name, *found[key]))
    return Draw(total, identity.hexdigest(), sizes, sample, METHOD)


def _bucket():
    return models.ExpressionWrapper(F("id") / BUCKET, output_field=models.BigIntegerField())


def _grouped(qs, kind_field):
    """(bucket, unit id, kind, count, sum of ids, sum of squared ids mod PRIME) of the
    population, counted from its records."""
    squares = models.ExpressionWrapper(
        F("id") * F("id") % PRIME, output_field=models.BigIntegerField()
    )
    return (
        qs.order_by()
        .annotate(lh_bucket=_bucket(), lh_kind=F(kind_field))
        # The bucket first: SQLite then groups in the order its captured_start index
        # yields (about id order), which halves the sort's cost at a million rows.
        .values("lh_bucket", "unit_id", "lh_kind")
        .annotate(n=Count("id"), s=Sum("id"), q=Sum(squares))
        .values_list("lh_bucket", "unit_id", "lh_kind", "n", "s", "q")
    )


def _tallied(population: str, start: date, end: date, filters: dict):
    """The same rows as :func:`_grouped`, added up from the running tallies, or None where
    they do not apply: another population, another bucket size, or a period whose bounds are
    not midnights of the tallies' UTC+8 (a time zone other than 北京时间)."""
    if population != Population.RECORDINGS or BUCKET != tallies.BUCKET:
        return None
    utc8 = dt_timezone(timedelta(hours=tallies.DAY_OFFSET_HOURS))
    lo, hi = _bounds(start, end)
    if lo != datetime.combine(start, time.min, tzinfo=utc8) or hi != datetime.combine(
        end + timedelta(days=1), time.min, tzinfo=utc8
    ):
        return None
    rows = DrawTally.objects.filter(day__gte=start, day__lte=end)
    if filters.get("kinds"):
        rows = rows.filter(kind__in=filters["kinds"])
    if filters.get("units"):
        rows = rows.filter(unit_id__in=filters["units"])
    return (
        rows.order_by()
        .values("bucket", "unit_id", "kind")
        .annotate(n=Sum("members"), s=Sum("id_sum"), q=Sum("square_sum"))
        .values_list("bucket", "unit_id", "kind", "n", "s", "q")
    )


def _resolve(stratum_qs, wanted: list[tuple[int, int]]) -> dict[tuple[int, int], tuple[int, int]]:
    """(object id, unit id) of each (bucket, offset) of one stratum: its members' rank in their
    bucket by id, read in one query per ``RESOLVE_CHUNK`` buckets, each bucket a primary-key
    range."""
    found = {}
    buckets = sorted({b for b, _ in wanted})
    ranks = sorted({offset + 1 for _, offset in wanted})
    for i in range(0, len(buckets), RESOLVE_CHUNK):
        ranges = Q()
        for b in buckets[i : i + RESOLVE_CHUNK]:
            ranges |= Q(id__gte=b * BUCKET, id__lt=(b + 1) * BUCKET)
        rows = (
            stratum_qs.filter(ranges)
            .order_by()
            .annotate(
                lh_bucket=_bucket(),
                lh_rank=Window(RowNumber(), partition_by=[_bucket()], order_by=F("id").asc()),
            )
            .filter(lh_rank__in=ranks)
            .values_list("lh_bucket", "lh_rank", "id", "unit_id")
        )
        found.update({(int(b), rank - 1): (pk, unit_id) for b, rank, pk, unit_id in rows})
    return found


def _draw_v1(*, population, start, end, filters, strata, per_stratum, seed) -> Draw:
    """Method 1: every id read in id order, the identity the SHA-256 of the id lists."""
    members: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for pk, unit_id, kind in population_rows(population, start, end, filters):
        members[_stratum(strata, unit_id, kind)].append((pk, unit_id))
    identity = hashlib.sha256(f"{population}|{strata}".encode())
    sample, sizes, total = [], {}, 0
    for name in sorted(members):
        rows = members[name]
        sizes[name] = len(rows)
        total += len(rows)
        identity.update(f"\n{name}:".encode())
        identity.update(",".join(str(pk) for pk, _ in rows).encode())
        sample.extend(
            (name, rows[i][0], rows[i][1]) for i in _positions(seed, name, len(rows), per_stratum)
        )
    return Draw(total, identity.hexdigest(), sizes, sample, 1)
