"""The spot-check draw (第二十三条), reproducible: the same seed over the same population draws
the same sample, on any machine and either database, so anyone can redraw and compare.

Method 2 (every new check) never reads the population's ids into Python. One GROUP BY gives,
per stratum and per bucket of ``BUCKET`` consecutive ids, the count of members, the sum of
their ids and the sum of their squared ids modulo ``PRIME``. The stratum sizes are the bucket
counts added up; the population's identity is the SHA-256 of those rows (so adding, removing
or moving a member into another stratum or bucket changes it). Each stratum's positions (0 ..
size - 1, in id order) are drawn by a PRNG seeded with the check's seed and the stratum's name;
a position is resolved to its member by an indexed primary-key range query in its bucket.

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
from itertools import accumulate

from django.db import models
from django.db.models import Count, F, Sum
from django.utils import timezone

from liuhen.cases.models import Case, Patrol
from liuhen.core.errors import InvalidInput
from liuhen.evidence.models import Recording
from liuhen.supervision.choices import Population, Strata

METHOD = 2
BUCKET = 4096
PRIME = 2147483647  # 2**31 - 1: a squared id below 3·10^9 fits in 64 bits before the modulo


@dataclass(frozen=True)
class Draw:
    population_size: int
    population_digest: str
    strata_sizes: dict[str, int]
    sample: list[tuple[str, int, int]]  # (stratum, object id, unit id), in draw order
    method: int = METHOD


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    zone = timezone.get_default_timezone()
    return (datetime.combine(start, time.min, tzinfo=zone),
            datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone))


def _population(population: str, start: date, end: date, filters: dict):
    """The population's queryset and the field its kind is read from."""
    units = filters.get("units") or []
    if population == Population.RECORDINGS:
        lo, hi = _bounds(start, end)
        qs = Recording.objects.filter(captured_start__gte=lo, captured_start__lt=hi,
                                      disposed_at__isnull=True)
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


def draw(*, population: str, start: date, end: date, filters: dict, strata: str,
         per_stratum: int, seed: str, method: int = METHOD) -> Draw:
    """Stratify, fingerprint and draw ``per_stratum`` from each stratum (all of a smaller one)."""
    if strata not in Strata.values:
        raise InvalidInput("分层方式不正确")
    if method == 1:
        return _draw_v1(population=population, start=start, end=end, filters=filters,
                        strata=strata, per_stratum=per_stratum, seed=seed)
    if method != METHOD:
        raise InvalidInput("抽取方法不正确")
    qs, kind_field = _population(population, start, end, filters)
    bucket = models.ExpressionWrapper(F("id") / BUCKET, output_field=models.BigIntegerField())
    squares = models.ExpressionWrapper(F("id") * F("id") % PRIME,
                                       output_field=models.BigIntegerField())
    grouped = (qs.order_by().annotate(lh_bucket=bucket, lh_kind=F(kind_field))
               # The bucket first: SQLite then groups in the order its captured_start index
               # yields (about id order), which halves the sort's cost at a million rows.
               .values("lh_bucket", "unit_id", "lh_kind")
               .annotate(n=Count("id"), s=Sum("id"), q=Sum(squares)))
    # Per stratum: its filter values and its buckets (bucket, count, sum, sum of squares).
    strata_rows: dict[str, dict] = {}
    for row in grouped:
        unit_id, kind = row["unit_id"], row["lh_kind"]
        name = _stratum(strata, unit_id, kind)
        entry = strata_rows.setdefault(name, {
            "filter": _stratum_filter(strata, kind_field, unit_id, kind),
            "buckets": defaultdict(lambda: [0, 0, 0])})
        acc = entry["buckets"][row["lh_bucket"]]
        acc[0] += row["n"]
        acc[1] += row["s"]
        acc[2] = (acc[2] + row["q"]) % PRIME
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
        for position in _positions(seed, name, size, per_stratum):
            i = bisect_right(ends, position)
            b, offset = buckets[i][0], position - (ends[i] - counts[i])
            found = list(qs.filter(id__gte=b * BUCKET, id__lt=(b + 1) * BUCKET, **entry["filter"])
                         .order_by("id").values_list("id", "unit_id")[offset:offset + 1])
            if not found:
                raise InvalidInput("抽取期间总体发生了变化，请重新抽取")
            sample.append((name, found[0][0], found[0][1]))
    return Draw(total, identity.hexdigest(), sizes, sample, METHOD)


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
        sample.extend((name, rows[i][0], rows[i][1])
                      for i in _positions(seed, name, len(rows), per_stratum))
    return Draw(total, identity.hexdigest(), sizes, sample, 1)
