"""The detectors of 第二十六条 (一)–(五), their thresholds in ``data/detectors.toml``.

Each detector is a function ``(rule, now) -> list[Finding]`` that reads what the lower apps
already keep (completeness, recordings, the audit log, fixity checks) with grouped queries, so
a run over a million recordings stays a handful of statements. A finding is a suspicion with
its evidence; the legal affairs office confirms or dismisses it (``services``)."""

from __future__ import annotations

import tomllib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

from django.db.models import Count, Exists, F, Max, OuterRef, Q, Window
from django.db.models.functions import ExtractHour, RowNumber, TruncDate, TruncMonth
from django.utils import timezone

from liuhen.audit.models import AuditEntry
from liuhen.evidence.models import CaseLink, FixityCheck, Recording
from liuhen.org.models import Officer
from liuhen.rules.models import CaseCompleteness

DATA = Path(__file__).resolve().parent / "data" / "detectors.toml"
EVIDENCE_SAMPLE = 20  # how many ids of a group's records a finding lists


@dataclass
class Finding:
    """What a detector saw: enough to name the unit and officer and to show why."""

    detector: str
    item: int
    fingerprint: str
    title: str
    unit_id: int | None = None
    officer_id: int | None = None
    subject_type: str = ""
    subject_id: str = ""
    evidence: dict = field(default_factory=dict)


@cache
def rules() -> dict[str, dict]:
    """The detectors' rules by id, as data (第二十六条)."""
    with open(DATA, "rb") as fh:
        return {rule["id"]: rule for rule in tomllib.load(fh)["detector"]}


def _zone():
    return timezone.get_default_timezone()


def _since(rule, now) -> datetime:
    return now - timedelta(days=rule.get("lookback_days", 90))


def _month(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m") if timezone.is_aware(value) \
        else value.strftime("%Y-%m")


def _finding(rule, key: str, **kwargs) -> Finding:
    return Finding(detector=rule["id"], item=rule["item"], fingerprint=f"{rule['id']}:{key}",
                   title=kwargs.pop("title", rule["title"]), **kwargs)


def _officers_by_user(user_ids) -> dict[int, tuple[int, int]]:
    """user id → (officer id, unit id), for findings read from the audit log."""
    rows = Officer.objects.filter(user_id__in=set(user_ids)).values_list("user_id", "pk",
                                                                          "unit_id")
    return {user_id: (pk, unit_id) for user_id, pk, unit_id in rows}


# --- (一) not recorded, or not stored in time ---------------------------------------------


def missing_records(rule, now) -> list[Finding]:
    """Cases at or past service with required records missing (第五条至第十条)."""
    rows = (CaseCompleteness.objects.filter(missing_count__gt=0,
                                            case__stage__in=rule["stages"])
            .values_list("case_id", "case__number", "case__unit_id", "case__stage",
                         "missing", "ratio"))
    return [
        _finding(rule, f"case:{case_id}", title=f"{rule['title']}：案件 {number}",
                 unit_id=unit_id, subject_type="cases.case", subject_id=str(case_id),
                 evidence={"case": number, "stage": stage, "missing": missing,
                           "ratio": round(ratio, 3), "article": rule["article"]})
        for case_id, number, unit_id, stage, missing, ratio in rows
    ]


def _recording_groups(queryset, rule, key: str) -> list[Finding]:
    """Recordings grouped by officer, unit and month of capture: one finding per group, with
    the first ``EVIDENCE_SAMPLE`` recordings of each group as its evidence. Two statements
    whatever the number of groups: the counts, then the samples ranked by a window function."""
    month = TruncMonth("captured_start", tzinfo=_zone())
    groups = (queryset.annotate(month=month)
              .values("officer_id", "unit_id", "month")
              .annotate(n=Count("id")).order_by("unit_id", "officer_id", "month"))
    groups = [g for g in groups if g["n"] >= rule.get("min_count", 1)]
    if not groups:
        return []
    ranked = (queryset.annotate(month=month, rank=Window(
        RowNumber(), partition_by=[F("officer_id"), F("unit_id"), month],
        order_by=[F("captured_start").asc(), F("id").asc()]))
        .filter(rank__lte=EVIDENCE_SAMPLE).order_by()
        .values_list("officer_id", "unit_id", "month", "captured_start", "pk"))
    samples: dict[tuple, list] = defaultdict(list)
    for officer_id, unit_id, group_month, captured, pk in ranked:
        samples[(officer_id, unit_id, _month(group_month))].append((captured, pk))
    findings = []
    for group in groups:
        month_name = _month(group["month"])
        sample = [pk for _, pk in sorted(
            samples[(group["officer_id"], group["unit_id"], month_name)])]
        who = f"officer:{group['officer_id']}" if group["officer_id"] else \
            f"unit:{group['unit_id']}"
        findings.append(_finding(
            rule, f"{who}:{month_name}",
            title=f"{rule['title']}（{month_name}，{group['n']} 条）",
            unit_id=group["unit_id"], officer_id=group["officer_id"],
            evidence={"month": month_name, "count": group["n"], "recordings": sample,
                      "article": rule["article"], key: rule.get(key)},
        ))
    return findings


def late_uploads(rule, now) -> list[Finding]:
    """Recordings stored more than ``hours_beyond_deadline`` after their 第十三条 deadline."""
    late = Recording.objects.filter(
        is_late=True, late_seconds__gte=rule["hours_beyond_deadline"] * 3600,
        captured_start__gte=_since(rule, now))
    return _recording_groups(late, rule, "hours_beyond_deadline")


# --- (二) modified or deleted originals ----------------------------------------------------


def modification_refused(rule, now) -> list[Finding]:
    """Refused attempts to modify or delete an original (the vault refuses and audits them)."""
    entries = (AuditEntry.objects.filter(action__in=rule["actions"], outcome="denied",
                                         at__gte=_since(rule, now))
               .values_list("seq", "at", "actor_id", "actor_name", "action", "object_type",
                            "object_id", "object_repr", "reason"))
    entries = list(entries)
    people = _officers_by_user(e[2] for e in entries if e[2])
    findings = []
    for seq, at, actor_id, name, action, otype, oid, orepr, reason in entries:
        officer_id, unit_id = people.get(actor_id, (None, None))
        findings.append(_finding(
            rule, f"audit:{seq}", title=f"{rule['title']}：{orepr or oid}",
            unit_id=unit_id, officer_id=officer_id, subject_type=otype, subject_id=oid,
            evidence={"audit_seq": seq, "at": at.isoformat(), "actor": name,
                      "action": action, "reason": reason, "article": rule["article"]}))
    return findings


def digest_mismatch(rule, now) -> list[Finding]:
    """A stored original whose bytes no longer match its digests: it was altered (一 check per
    object, the latest)."""
    return _fixity_groups(rule, now, ["mismatch"])


# --- (三) read or copied without approval --------------------------------------------------


def _audit_per_person_day(rule, now, outcome: str):
    return (AuditEntry.objects.filter(action__in=rule["actions"], outcome=outcome,
                                      at__gte=_since(rule, now), actor_id__isnull=False)
            .annotate(day=TruncDate("at", tzinfo=_zone()))
            .values("actor_id", "day").annotate(n=Count("id"), name=Max("actor_name"))
            .order_by("day", "actor_id"))


def _person_day_findings(rule, rows, now, outcome: str) -> list[Finding]:
    rows = list(rows)
    people = _officers_by_user(r["actor_id"] for r in rows)
    findings = []
    for row in rows:
        day = row["day"].isoformat()
        officer_id, unit_id = people.get(row["actor_id"], (None, None))
        start = datetime.combine(row["day"], datetime.min.time(), tzinfo=_zone())
        sample = list(AuditEntry.objects.filter(
            action__in=rule["actions"], outcome=outcome, actor_id=row["actor_id"],
            at__gte=start, at__lt=start + timedelta(days=1),
        ).order_by("seq").values_list("seq", flat=True)[:EVIDENCE_SAMPLE])
        findings.append(_finding(
            rule, f"user:{row['actor_id']}:{day}",
            title=f"{rule['title']}：{row['name']} {day} 共 {row['n']} 次",
            unit_id=unit_id, officer_id=officer_id, subject_type="auth.user",
            subject_id=str(row["actor_id"]),
            evidence={"day": day, "count": row["n"], "actor": row["name"],
                      "audit_seqs": sample, "article": rule["article"]}))
    return findings


def access_refused(rule, now) -> list[Finding]:
    """Refused reads of recordings and documents (get_for's audited refusals), at least
    ``min_count`` by one person in one day."""
    rows = _audit_per_person_day(rule, now, "denied").filter(n__gte=rule["min_count"])
    return _person_day_findings(rule, rows, now, "denied")


def download_volume(rule, now) -> list[Finding]:
    """More than ``max_per_day`` downloads of originals by one person in one day."""
    rows = _audit_per_person_day(rule, now, "succeeded").filter(n__gt=rule["max_per_day"])
    return _person_day_findings(rule, rows, now, "succeeded")


# --- (四) lost or damaged ------------------------------------------------------------------


def _fixity_groups(rule, now, outcomes) -> list[Finding]:
    rows = (FixityCheck.objects.filter(outcome__in=outcomes, at__gte=_since(rule, now))
            .values("storage_key", "recording_id", "recording__unit_id",
                    "recording__officer_id", "object_kind", "object_id")
            .annotate(n=Count("id"), last=Max("at")).order_by("storage_key"))
    return [
        _finding(rule, f"key:{row['storage_key']}",
                 title=f"{rule['title']}：{row['storage_key'][-24:]}",
                 unit_id=row["recording__unit_id"], officer_id=row["recording__officer_id"],
                 subject_type="evidence.recording" if row["recording_id"] else row["object_kind"],
                 subject_id=str(row["recording_id"] or row["object_id"] or ""),
                 evidence={"storage_key": row["storage_key"], "checks": row["n"],
                           "last_check": row["last"].isoformat(), "outcomes": outcomes,
                           "article": rule["article"]})
        for row in rows
    ]


def fixity_lost(rule, now) -> list[Finding]:
    """Originals the fixity pass found missing or could not read (第二十六条 (四))."""
    return _fixity_groups(rule, now, rule["outcomes"])


# --- (五) devices or records used outside enforcement ---------------------------------------


def _unlinked(since):
    active_link = CaseLink.objects.filter(recording=OuterRef("pk"), ended_at__isnull=True)
    return (Recording.objects.filter(captured_start__gte=since, case__isnull=True,
                                     patrol__isnull=True, disposed_at__isnull=True)
            .exclude(Exists(active_link)))


def unlinked_recordings(rule, now) -> list[Finding]:
    """Recordings captured over ``after_days`` ago and linked to no case and no patrol."""
    qs = _unlinked(_since(rule, now)).filter(
        captured_start__lt=now - timedelta(days=rule["after_days"]))
    return _recording_groups(qs, rule, "after_days")


def outside_duty(rule, now) -> list[Finding]:
    """Recordings captured outside duty hours (local time) and linked to no case or patrol."""
    qs = (_unlinked(_since(rule, now))
          .annotate(hour=ExtractHour("captured_start", tzinfo=_zone()))
          .filter(Q(hour__lt=rule["duty_start"]) | Q(hour__gte=rule["duty_end"])))
    return _recording_groups(qs, rule, "duty_start")


DETECTORS: dict[str, Callable[[dict, datetime], list[Finding]]] = {
    "missing_records": missing_records,
    "late_uploads": late_uploads,
    "modification_refused": modification_refused,
    "digest_mismatch": digest_mismatch,
    "access_refused": access_refused,
    "download_volume": download_volume,
    "fixity_lost": fixity_lost,
    "unlinked_recordings": unlinked_recordings,
    "outside_duty": outside_duty,
}


def run_all(now=None) -> list[Finding]:
    """Every detector of the data file, in its order."""
    now = now or timezone.now()
    found = []
    for rule_id, rule in rules().items():
        found.extend(DETECTORS[rule_id](rule, now))
    return found
