"""The spot-check draw (第二十三条): the population is read as ids per stratum in id order,
its identity is the SHA-256 of those lists, and each stratum's sample is drawn by a PRNG seeded
with the check's seed and the stratum's name. The same seed over the same population draws the
same sample, on any machine, so anyone can redraw and compare."""

from __future__ import annotations

import hashlib
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from liuhen.cases.models import Case, Patrol
from liuhen.core.errors import InvalidInput
from liuhen.evidence.models import Recording
from liuhen.supervision.choices import Population, Strata


@dataclass(frozen=True)
class Draw:
    population_size: int
    population_digest: str
    strata_sizes: dict[str, int]
    sample: list[tuple[str, int, int]]  # (stratum, object id, unit id), in draw order


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    zone = timezone.get_default_timezone()
    return (datetime.combine(start, time.min, tzinfo=zone),
            datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone))


def population_rows(population: str, start: date, end: date, filters: dict):
    """(id, unit id, kind) of every member of the population, in id order."""
    units = filters.get("units") or []
    if population == Population.RECORDINGS:
        lo, hi = _bounds(start, end)
        qs = Recording.objects.filter(captured_start__gte=lo, captured_start__lt=hi,
                                      disposed_at__isnull=True)
        if filters.get("kinds"):
            qs = qs.filter(kind__in=filters["kinds"])
        fields = ("id", "unit_id", "kind")
    elif population == Population.CASES:
        qs = Case.objects.filter(opened_on__gte=start, opened_on__lte=end)
        if filters.get("kinds"):
            qs = qs.filter(kind__in=filters["kinds"])
        fields = ("id", "unit_id", "kind")
    elif population == Population.PATROLS:
        qs = Patrol.objects.filter(date__gte=start, date__lte=end)
        fields = ("id", "unit_id", "unit_id")
    else:
        raise InvalidInput("抽查对象不正确")
    if units:
        qs = qs.filter(unit_id__in=units)
    return qs.order_by("id").values_list(*fields).iterator(chunk_size=20000)


def _stratum(strata: str, unit_id: int, kind) -> str:
    if strata == Strata.UNIT:
        return f"unit:{unit_id}"
    if strata == Strata.KIND:
        return f"kind:{kind}"
    return f"unit:{unit_id}|kind:{kind}"


def draw(*, population: str, start: date, end: date, filters: dict, strata: str,
         per_stratum: int, seed: str) -> Draw:
    """Stratify, fingerprint and draw ``per_stratum`` from each stratum (all of a smaller one)."""
    if strata not in Strata.values:
        raise InvalidInput("分层方式不正确")
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
        rng = random.Random(f"{seed}|{name}")
        chosen = rng.sample(range(len(rows)), min(per_stratum, len(rows)))
        sample.extend((name, rows[i][0], rows[i][1]) for i in chosen)
    return Draw(total, identity.hexdigest(), sizes, sample)
