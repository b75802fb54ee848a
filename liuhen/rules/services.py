"""Completeness of cases against what 第五条–第十条 require, and the archive gate (第十二条).

``case_changed`` re-evaluates one case whenever a fact of it changes (the ``case_changed``
domain event, published by cases, records and the vault); ``evaluate_cases`` does the same in
bulk for ``liuhen completeness``. Facts are read
with a handful of set-based queries, evaluated by the pure ``engine`` and stored as one
``CaseCompleteness`` row per case.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections import defaultdict, deque
from concurrent.futures import ThreadPoolExecutor
from datetime import date

from django.db import connection, connections, transaction
from django.db.models import Q
from django.utils import timezone

from liuhen.audit.services import record, record_denied
from liuhen.cases.choices import CaseKind
from liuhen.cases.models import Case
from liuhen.core.errors import Conflict, InvalidInput
from liuhen.evidence.models import CaseLink, Mark
from liuhen.org.models import Officer
from liuhen.records.models import Approval, Document, Service
from liuhen.rules import engine, events
from liuhen.rules.models import CaseCompleteness

BATCH = 2000
# From this many cases on, ``liuhen completeness`` evaluates in forked worker processes.
PARALLEL_FROM = 20_000


class CaseIncomplete(Conflict):
    """Raised by the archive gate: the case lacks requirements without an approved waiver."""

    code = "case_incomplete"
    message = "案件记录不完整，不能归档"


def _chunks(ids, size=BATCH):
    ids = list(ids)
    for i in range(0, len(ids), size):
        yield ids[i:i + size]


def gather_facts(case_rows: list[dict], *, on: date | None = None) -> list[engine.CaseFacts]:
    """CaseFacts for the given case rows (dicts with id, kind, stage and the flags).

    One query per kind of record for the whole batch, never one per case. A batch is
    selected by its id range (cheap to plan and an index range scan); rows of cases outside
    the batch that fall in the range are skipped.
    """
    on = on or timezone.localdate()
    ids = [row["id"] for row in case_rows]
    if len(ids) == 1:
        by_case = {"case_id": ids[0]}
    else:
        by_case = {"case_id__gte": min(ids), "case_id__lte": max(ids)}
    facts = {
        row["id"]: engine.CaseFacts(
            case_id=row["id"], kind=row["kind"], stage=row["stage"],
            flags={**{k: row[k] for k in ("is_random_inspection", "is_disputed",
                                          "is_major_incident", "hearing_requested",
                                          "is_complex_or_major",
                                          "written_record_impractical")},
                   "av_other": bool(row.get("av_other_reason")),
                   # Acts out of the law's order, found by the deadlines app
                   # (deadlines/procedure.py) and stored on the case.
                   "procedure_flagged": bool(row.get("procedure_flags"))})
        for row in case_rows
    }
    _add_documents(facts, by_case)
    _add_approvals(facts, by_case)
    _add_services(facts, by_case)
    _add_recordings(facts, by_case)
    _count_qualified_officers(facts, by_case, on)
    return [facts[i] for i in ids]


def _add_documents(facts: dict, by_case: dict) -> None:
    """The current documents of the batch's cases (``extra`` keys only where a rule reads them)."""
    labels = dict(Document._meta.get_field("doc_type").choices)
    # Only document types some rule reads ``extra`` of (fee bills) pay for decoding JSON.
    extra_types = engine.extra_doc_types()
    for d in (Document.objects.filter(**by_case, is_current=True)
              .values_list("id", "case_id", "doc_type", "signature", "number")):
        if d[1] not in facts:
            continue
        facts[d[1]].documents.append(engine.DocFact(
            id=d[0], doc_type=d[2], signature=d[3],
            label=f"{labels.get(d[2], d[2])} {d[4]}".strip()))
    if extra_types:
        extras = {pk: extra for pk, extra in Document.objects.filter(
            **by_case, is_current=True, doc_type__in=extra_types).values_list("id", "extra")}
        for f in facts.values():
            f.documents = [d if d.id not in extras else engine.DocFact(
                id=d.id, doc_type=d.doc_type, signature=d.signature, label=d.label,
                extra_keys=frozenset(extras[d.id] if isinstance(extras[d.id], dict) else ()))
                for d in f.documents]


def _add_approvals(facts: dict, by_case: dict) -> None:
    for a in (Approval.objects.filter(**by_case)
              .values_list("id", "case_id", "action", "decision", "requirement_code",
                           "approver__officer__name", "approver__username", "reason",
                           "opinion")):
        if a[1] not in facts:
            continue
        facts[a[1]].approvals.append(engine.ApprovalFact(
            id=a[0], action=a[2], decision=a[3], requirement_code=a[4],
            approver=a[5] or a[6] or "", reason=a[7], opinion=a[8]))


def _add_services(facts: dict, by_case: dict) -> None:
    for s in Service.objects.filter(**by_case).values_list("id", "case_id", "method",
                                                            "signature"):
        if s[1] not in facts:
            continue
        facts[s[1]].services.append(engine.ServiceFact(id=s[0], method=s[2], signature=s[3]))


def _add_recordings(facts: dict, by_case: dict) -> None:
    """The recordings linked to the batch's cases, each with the labels of its marks.

    Every active link counts: one recording may be evidence in several cases (第十四条)."""
    recordings = [r for r in CaseLink.objects.filter(**by_case, ended_at__isnull=True)
                  .values_list("recording_id", "case_id", "recording__kind",
                               "recording__original_name") if r[1] in facts]
    # Marks by recording id (an index look-up), not through a join on the case range:
    # PostgreSQL hashes the whole mark table for the join.
    marks = defaultdict(set)
    rec_ids = [r[0] for r in recordings]
    for i in range(0, len(rec_ids), 900):
        for rec_id, label in Mark.objects.filter(
                recording_id__in=rec_ids[i:i + 900]).order_by().values_list(
                "recording_id", "label"):
            marks[rec_id].add(label)
    for rec_id, case_id, kind, name in recordings:
        facts[case_id].recordings.append(engine.RecordingFact(
            id=rec_id, kind=kind, labels=frozenset(marks.get(rec_id, ())), label=name))


def _count_qualified_officers(facts: dict, by_case: dict, on: date) -> None:
    # 第十一条 / 行政处罚法第四十二条: count the case's officers qualified on the day.
    qualified = (Q(qualification_valid_to__gte=on) & ~Q(qualification_number="")
                 & (Q(qualification_valid_from__isnull=True)
                    | Q(qualification_valid_from__lte=on)))
    through = Case.officers.through
    for case_id in through.objects.filter(**by_case).filter(
            officer__in=Officer.objects.filter(qualified)).values_list("case_id", flat=True):
        if case_id in facts:
            facts[case_id].qualified_officers += 1


CASE_FIELDS = ("id", "kind", "stage", "is_random_inspection", "is_disputed",
               "is_major_incident", "hearing_requested", "procedure_flags",
               "is_complex_or_major", "written_record_impractical", "av_other_reason")


def _snapshot(case_id: int, result: dict, now) -> CaseCompleteness:
    counts = result["counts"]
    return CaseCompleteness(
        case_id=case_id, ratio=result["ratio"], met=counts[engine.MET],
        missing_count=counts[engine.MISSING], waived=counts[engine.WAIVED],
        not_applicable=counts[engine.NOT_APPLICABLE], applicable=result["applicable"],
        items=result["items"], missing=result["missing"], evaluated_at=now)


SNAPSHOT_FIELDS = ["ratio", "met", "missing_count", "waived", "not_applicable", "applicable",
                   "items", "missing", "evaluated_at"]


def evaluate_case(case: Case) -> dict:
    """Evaluate one case now (nothing stored)."""
    row = {f: getattr(case, f) for f in CASE_FIELDS}
    return engine.evaluate(gather_facts([row])[0])


def refresh_completeness(*, case: Case) -> CaseCompleteness:
    """Re-evaluate one case and store its snapshot."""
    result = evaluate_case(case)
    now = timezone.now()
    _upsert([(case.pk, result, now)])
    return _snapshot(case.pk, result, now)


def _snapshot_rows(snaps: list[tuple]) -> list[tuple]:
    """Column values for ``_upsert``: JSON encoded once, compactly (the ORM's per-field
    preparation costs more than the evaluation at 100,000 cases)."""

    dumps = _encode_json
    adapt = connection.ops.adapt_datetimefield_value
    rows = []
    for case_id, result, now in snaps:
        counts = result["counts"]
        rows.append((case_id, result["ratio"], counts[engine.MET], counts[engine.MISSING],
                     counts[engine.WAIVED], counts[engine.NOT_APPLICABLE], result["applicable"],
                     dumps(result["items"]), dumps(result["missing"]), adapt(now)))
    return rows


_encode_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_COLUMNS = ["case_id", *SNAPSHOT_FIELDS]
_STAGING = "liuhen_rules_snapshot_staging"


def _upsert(snaps: list[tuple], *, copy: bool = False) -> None:
    """Insert or replace snapshots. SQLite, and one case anywhere: one executemany of
    ``INSERT … ON CONFLICT DO UPDATE``. PostgreSQL with ``copy``: COPY into a session
    temporary table, then one ``INSERT … SELECT … ON CONFLICT`` (client-side parameter
    quoting of an executemany cost a third of the bulk run's time)."""

    table = CaseCompleteness._meta.db_table
    columns = ", ".join(_COLUMNS)
    updates = ", ".join(f"{c} = excluded.{c}" for c in SNAPSHOT_FIELDS)
    rows = _snapshot_rows(snaps)
    with connection.cursor() as cursor:
        if copy and connection.vendor == "postgresql":
            cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGING} "
                           f"(LIKE {table}) ON COMMIT DELETE ROWS")
            with cursor.cursor.copy(f"COPY {_STAGING} ({columns}) FROM STDIN") as staging:
                for row in rows:
                    staging.write_row(row)
            cursor.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {_STAGING} "
                           f"ON CONFLICT (case_id) DO UPDATE SET {updates}")
            # Emptied here too: inside an outer transaction nothing commits between batches.
            cursor.execute(f"DELETE FROM {_STAGING}")
            return
        cast = "::jsonb" if connection.vendor == "postgresql" else ""
        values = ", ".join(f"%s{cast}" if c in ("items", "missing") else "%s" for c in _COLUMNS)
        cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({values}) "
                           f"ON CONFLICT (case_id) DO UPDATE SET {updates}", rows)


def _store_batch(snaps: list[tuple]) -> int:
    """Write one batch of snapshots in its own transaction."""
    with transaction.atomic():
        _upsert(snaps, copy=True)
    return len(snaps)


def default_workers() -> int:
    """Worker processes for ``liuhen completeness``: the cores this process may run on, at most 4."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 4))


def evaluate_cases(queryset=None, *, batch: int = BATCH, workers: int = 1,
                   min_parallel: int = PARALLEL_FROM) -> int:
    """Re-evaluate and store every case of ``queryset`` (all cases by default); the count.

    Cases are read in id order and evaluated a batch at a time, so memory stays bounded.
    With ``workers`` > 1 (the console command passes ``default_workers()``; forking is for
    a process of its own, not a web worker) and from ``min_parallel`` cases on, the id range
    is cut into ``workers`` contiguous parts evaluated by forked processes, each on its own
    database connection. Inside a transaction (tests, or a caller's ``atomic``) or on an
    in-memory database other connections would not see the caller's cases, so everything
    runs in this process on its connection. Every way stores the same rows.
    """

    queryset = Case.objects.all() if queryset is None else queryset
    now = timezone.now()
    others_see_data = not connection.in_atomic_block and not (
        connection.vendor == "sqlite" and connection.is_in_memory_db())
    if workers > 1 and others_see_data:
        ids = queryset.order_by("id").values_list("id", flat=True)
        count = ids.count()
        if count >= max(min_parallel, 2):
            step = -(-count // workers)
            cuts = [ids[i] for i in range(step, count, step)]
            parts = [(queryset.query, lo, hi, batch, now)
                     for lo, hi in zip([None, *cuts], [*cuts, None], strict=True)]
            connections.close_all()
            with multiprocessing.get_context("fork").Pool(len(parts)) as pool:
                return sum(pool.map(_evaluate_part, parts))
    return _evaluate_range(queryset, batch=batch, now=now, aside=_write_aside(others_see_data))


def _write_aside(others_see_data: bool) -> bool:
    """Whether a helper thread should write the snapshots: on PostgreSQL the server parses
    and stores them while this process evaluates the next batch. SQLite writes in this
    process anyway, so a second thread only adds contention for the interpreter lock."""

    return others_see_data and connection.vendor == "postgresql"


def _evaluate_part(part: tuple) -> int:
    # Runs in a forked worker process: it opens its own database connection.
    query, lo, hi, batch, now = part
    connections.close_all()
    try:
        queryset = Case.objects.all()
        queryset.query = query
        return _evaluate_range(queryset, lo=lo, hi=hi, batch=batch, now=now,
                               aside=_write_aside(True))
    finally:
        connections.close_all()


def _evaluate_range(queryset, *, lo: int | None = None, hi: int | None = None, batch: int,
                    now, aside: bool) -> int:
    """Evaluate and store the cases of ``queryset`` with ``lo <= id < hi`` (bounds optional).

    Cases are read a batch at a time by id (keyset pagination: each batch is one short, fully
    read query, so no read stays open while snapshots are written; an open read would keep
    SQLite's snapshot from before other writers' commits and fail the write as locked).
    With ``aside`` the snapshots are written by a helper thread on its own connection while
    the next batch is read and evaluated, so the database's work overlaps Python's; without,
    each batch is written in line.
    """
    if lo is not None:
        queryset = queryset.filter(id__gte=lo)
    if hi is not None:
        queryset = queryset.filter(id__lt=hi)
    queryset = queryset.order_by("id")

    def batches():
        after = None
        while True:
            page = queryset if after is None else queryset.filter(id__gt=after)
            buffer = list(page.values(*CASE_FIELDS)[:batch])
            if not buffer:
                return
            yield [(f.case_id, engine.evaluate(f), now) for f in gather_facts(buffer)]
            if len(buffer) < batch:
                return
            after = buffer[-1]["id"]

    if not aside:
        return sum(_store_batch(snaps) for snaps in batches())
    total, pending = 0, deque()
    with ThreadPoolExecutor(1, thread_name_prefix="liuhen-snapshots") as writer:
        try:
            for snaps in batches():
                while len(pending) >= 2:  # at most two batches wait: bounded memory
                    total += pending.popleft().result()
                pending.append(writer.submit(_store_batch, snaps))
            while pending:
                total += pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()
            writer.submit(connections.close_all)  # the writer thread's own connection
    return total


def case_changed(*, case, actor=None) -> None:
    """Re-evaluate a case's requirements after any fact of it changed (第十条): the handler
    of the ``cases.events.case_changed`` domain event (subscribed in ``RulesConfig.ready``)."""
    refresh_completeness(case=case)


def check_waiver_requirement(*, case, requirement_code: str) -> None:
    """A waiver (缺项说明) must name a requirement of the case's kind: the handler of the
    ``records.events.waiver_requested`` domain event."""
    rule = engine.rules_by_id().get(requirement_code)
    if rule is None or rule.kind != case.kind:
        raise InvalidInput("请指明要说明（豁免）的记录要求")


def completeness_for(case: Case) -> CaseCompleteness:
    """The stored snapshot, evaluated now when there is none yet."""
    snap = CaseCompleteness.objects.filter(case=case).first()
    return snap or refresh_completeness(case=case)


def describe(snapshot: CaseCompleteness) -> list[dict]:
    """The snapshot's items joined with their rules' titles and articles, for pages and API."""
    by_id = engine.rules_by_id()
    rows = []
    for item in snapshot.items:
        rule = by_id.get(item["id"])
        if rule is None:  # a rule removed from the data since the snapshot was taken
            continue
        reason = item.get("reason", "")
        if item["status"] == engine.NOT_APPLICABLE:
            reason = engine.not_applicable_reason(rule, item.get("why", ""))
        rows.append({
            **item, "reason": reason,
            "records": [{"type": t, "id": i, "label": label}
                        for t, i, label in item.get("records", [])],
            "title": rule.title, "article": rule.article, "add": rule.add,
            "needs": rule.needs_text(), "trigger": rule.trigger_text,
            "from_stage": rule.from_stage,
            "status_label": engine.STATUS_LABELS[item["status"]],
        })
    return rows


def archive_gate(*, case, actor) -> None:
    """Raise CaseIncomplete unless every applicable requirement is met or waived (第十条): the
    handler of the ``cases.events.case_archiving`` domain event.

    A waiver is an approved ``Approval`` of action ``waiver`` for that requirement, approved
    by the unit head with a written reason.
    """
    snap = refresh_completeness(case=case)
    if not snap.missing:
        return
    by_id = engine.rules_by_id()
    missing = [{"id": code, "title": by_id[code].title, "article": by_id[code].article}
                for code in snap.missing if code in by_id]
    text = "；".join(f"{m['title']}（依据{m['article']}）" for m in missing)
    record_denied(actor=actor, action=events.event_archive_refused, target=case,
                  reason=f"记录不完整：{text}"[:1000], detail={"missing": snap.missing})
    raise CaseIncomplete(f"案件记录不完整，不能归档。缺少：{text}。请补齐，或由单位负责人"
                         f"批准缺项说明（豁免）。", detail={"missing": missing})


def record_check(*, actor, unit=None, count: int) -> None:
    """Audit one bulk run (``liuhen completeness``): one entry naming the unit and the count."""
    with transaction.atomic():
        record(actor=actor, actor_name="liuhen completeness" if actor is None else None,
               action=events.event_completeness_checked, target=unit, detail={"cases": count})


KIND_LABELS = dict(CaseKind.choices)
