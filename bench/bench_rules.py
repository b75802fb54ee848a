"""Benchmark of the rules engine (issue 4): bulk evaluation of 100,000 cases with their records
(target < 30 s) and re-evaluation of one case after a change (target < 50 ms), each printed
with a ratio to a baseline measured in the same run on the same rows.

    .venv/bin/python bench/bench_rules.py                      # SQLite in a temporary folder
    LIUHEN_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \\
        .venv/bin/python bench/bench_rules.py                  # PostgreSQL (own database)
    options: --cases N (default 100000), --workers N (default: one per core, at most 4)

Rows are inserted with bulk_create (not through the services) so that the set-up stays
minutes, not hours; the evaluation itself goes through the real ``evaluate_cases`` and
``case_changed``. Baselines: reading the same rows with plain queries (bulk), and one
indexed primary-key fetch of the case with its documents (single).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup_django(data_dir: Path) -> str | None:
    os.environ["LIUHEN_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "liuhen.settings"
    os.environ.setdefault("LIUHEN_TASKS", "immediate")
    pg_db = None
    base = os.environ.get("LIUHEN_DATABASE_URL", "")
    if base.startswith("postgres"):
        import psycopg

        pg_db = f"liuhen_bench_rules_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(base.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{pg_db}"')
        os.environ["LIUHEN_DATABASE_URL"] = base.rsplit("/", 1)[0] + "/" + pg_db
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return pg_db


def drop_pg(pg_db: str, base: str) -> None:
    import psycopg

    with psycopg.connect(base.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{pg_db}" WITH (FORCE)')


def populate(n_cases: int) -> None:
    """n cases over the five kinds and every stage, with documents, approvals, services,
    recordings and marks in realistic proportions (some complete, most with gaps)."""
    import random
    from datetime import date

    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from liuhen.cases import stages
    from liuhen.cases.models import Case
    from liuhen.evidence.models import Mark, Recording
    from liuhen.org.models import Officer, Unit
    from liuhen.records.models import Approval, Document, Service

    rng = random.Random(4)
    user = get_user_model().objects.create_user("bench", password="x")
    unit = Unit.objects.create(name="监察一大队", case_number_prefix="冀人社监")
    officers = [
        Officer.objects.create(
            user=get_user_model().objects.create_user(f"o{i}", password="x"),
            name=f"执法员{i}",
            unit=unit,
            qualification_number=f"Q{i}",
            qualification_valid_to=date(2099, 1, 1),
        )
        for i in range(2)
    ]
    kinds = ["penalty"] * 5 + ["coercion", "levy", "fee", "inspection", "inspection"]
    doc_types = {
        "penalty": [
            "filing_approval",
            "inquiry_record",
            "officer_info",
            "violation_notice",
            "statement_record",
            "penalty_decision",
            "service_receipt",
            "closing_approval",
        ],
        "coercion": [
            "reminder_notice",
            "statement_record",
            "enforcement_decision",
            "service_receipt",
        ],
        "levy": ["levy_declaration", "levy_platform_record"],
        "fee": ["fee_receipt"],
        "inspection": ["inspection_record"],
    }
    marks = [
        "recording_notice",
        "party_signed",
        "credentials_shown",
        "vehicle_used",
        "officer_conduct",
        "inspected_party",
        "premises_goods",
        "inspection_conduct",
    ]
    now = timezone.now()
    chunk = 5000
    through = Case.officers.through
    for start in range(0, n_cases, chunk):
        with transaction.atomic():
            cases = []
            for i in range(start, min(n_cases, start + chunk)):
                kind = rng.choice(kinds)
                cases.append(
                    Case(
                        number=f"冀人社监〔2026〕{i + 1}号",
                        year=2026,
                        unit=unit,
                        kind=kind,
                        cause="基准测试",
                        source="complaint",
                        stage=rng.choice(stages.path(kind)),
                        opened_on=date(2026, 1, 1),
                        is_random_inspection=rng.random() < 0.1,
                        is_disputed=rng.random() < 0.1,
                        hearing_requested=rng.random() < 0.05,
                        created_by=user,
                    )
                )
            cases = Case.objects.bulk_create(cases)
            through.objects.bulk_create(
                [through(case_id=c.pk, officer_id=o.pk) for c in cases for o in officers]
            )
            docs, approvals, recordings = [], [], []
            for c in cases:
                for t in doc_types[c.kind]:
                    if rng.random() < 0.85:
                        docs.append(
                            Document(
                                case=c,
                                doc_type=t,
                                signature="signed",
                                created_by=user,
                                stage=c.stage,
                                extra={"bill_number": "1"} if t == "fee_receipt" else {},
                            )
                        )
                for action in ("filing", "investigation_end", "penalty_decision", "closing"):
                    if c.kind == "penalty" and rng.random() < 0.7:
                        approvals.append(
                            Approval(
                                case=c,
                                action=action,
                                requested_by=user,
                                approver=user,
                                decision="approved",
                            )
                        )
                if c.kind in ("penalty", "coercion", "inspection") and rng.random() < 0.6:
                    recordings.append(
                        Recording(
                            kind="video",
                            original_name="bench.mp4",
                            size=1,
                            captured_start=now,
                            capture_time_source="metadata",
                            unit=unit,
                            case=c,
                            sha256=uuid.uuid4().hex + uuid.uuid4().hex,
                            sm3=uuid.uuid4().hex + uuid.uuid4().hex,
                            storage_key="x",
                            uploaded_by=user,
                            channel="web",
                            deadline_at=now,
                        )
                    )
            Document.objects.bulk_create(docs, batch_size=2000)
            Approval.objects.bulk_create(approvals, batch_size=2000)
            recordings = Recording.objects.bulk_create(recordings, batch_size=2000)
            Mark.objects.bulk_create(
                [
                    Mark(recording=r, offset_seconds=0, label=label, created_by=user)
                    for r in recordings
                    for label in rng.sample(marks, 3)
                ],
                batch_size=2000,
            )
            services = [
                Service(
                    case=d.case,
                    document=d,
                    method=rng.choice(["direct", "left_at_premises", "public_notice"]),
                    served_at=now,
                    recipient="x",
                    signature="signed",
                    created_by=user,
                )
                for d in docs
                if d.doc_type == "service_receipt" and rng.random() < 0.3
            ]
            Service.objects.bulk_create(services, batch_size=2000)


def cpu_time() -> float:
    """CPU seconds of this process plus its finished children (the forked workers)."""
    import resource

    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--single-runs", type=int, default=50)
    parser.add_argument(
        "--workers", type=int, default=None, help="evaluate_cases workers (default: per core)"
    )
    args = parser.parse_args()
    base_url = os.environ.get("LIUHEN_DATABASE_URL", "")
    tmp = Path(tempfile.mkdtemp(prefix="bench-rules-"))
    pg_db = setup_django(tmp)
    try:
        from django.db import connection

        from liuhen.cases import events as case_events
        from liuhen.cases.models import Case
        from liuhen.evidence.models import Mark, Recording
        from liuhen.records.models import Approval, Document, Service
        from liuhen.rules import services
        from liuhen.rules.models import CaseCompleteness

        db = connection.vendor
        workers = args.workers or services.default_workers()  # as `liuhen completeness` runs it
        t0 = time.perf_counter()
        populate(args.cases)
        # Fresh statistics, as a live database has them (without, PostgreSQL plans the
        # batch range scans as sequential scans over freshly bulk-loaded tables).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        setup_s = time.perf_counter() - t0
        counts = {
            m.__name__: m.objects.count()
            for m in (Case, Document, Approval, Service, Recording, Mark)
        }
        print(f"[{db}] set-up {setup_s:.1f} s: {counts}")

        # Baseline (bulk): read the same rows with plain queries, nothing evaluated or stored.
        t0, cpu0 = time.perf_counter(), time.process_time()
        n = 0
        for model, fields in (
            (Case, ("id", "kind", "stage")),
            (Document, ("case_id", "doc_type", "signature")),
            (Approval, ("case_id", "action", "decision")),
            (Service, ("case_id", "method")),
            (Recording, ("case_id", "kind")),
            (Mark, ("recording_id", "label")),
        ):
            for _row in model.objects.values_list(*fields).iterator(chunk_size=5000):
                n += 1
        baseline_bulk = time.perf_counter() - t0
        baseline_cpu = time.process_time() - cpu0

        t0, cpu0 = time.perf_counter(), cpu_time()
        if os.environ.get("BENCH_PROFILE"):
            import cProfile
            import pstats

            # In one process (workers=1): cProfile sees neither forked workers nor threads.
            profiler = cProfile.Profile()
            evaluated = profiler.runcall(services.evaluate_cases, workers=1)
            pstats.Stats(profiler).sort_stats(
                os.environ.get("BENCH_PROFILE", "cumulative")
            ).print_stats(25)
        else:
            evaluated = services.evaluate_cases(workers=workers)
        bulk_s = time.perf_counter() - t0
        bulk_cpu = cpu_time() - cpu0
        load_bulk = os.getloadavg()[0]
        assert evaluated == args.cases and CaseCompleteness.objects.count() == args.cases
        complete = CaseCompleteness.objects.filter(missing_count=0).count()
        # Again over the stored snapshots, as a routine `liuhen completeness` runs (every row exists).
        t0, cpu0 = time.perf_counter(), cpu_time()
        assert services.evaluate_cases(workers=workers) == args.cases
        rerun_s, rerun_cpu = time.perf_counter() - t0, cpu_time() - cpu0

        # Single case: a document is added, then the case_changed event re-evaluates it.
        case = Case.objects.filter(kind="penalty").order_by("id")[args.cases // 3]
        user = case.created_by
        single, rules_only, baseline_single = [], [], []
        for _ in range(args.single_runs):
            Document.objects.create(case=case, doc_type="other", created_by=user)
            t0 = time.perf_counter()
            # What every service publishes: completeness (rules) and deadlines recompute.
            case_events.case_changed.publish(case=case, actor=user)
            single.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            services.refresh_completeness(case=case)
            rules_only.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            fetched = Case.objects.get(pk=case.pk)
            list(Document.objects.filter(case=fetched).values_list("doc_type"))
            baseline_single.append(time.perf_counter() - t0)
        single_ms = statistics.median(single) * 1000
        base_ms = statistics.median(baseline_single) * 1000

        print(
            f"[{db}] bulk evaluation of {evaluated:,} cases ({sum(counts.values()):,} rows, "
            f"{workers} worker process(es)): "
            f"{bulk_s:.1f} s ({evaluated / bulk_s:,.0f} cases/s; target < 30 s) — "
            f"{complete:,} complete; CPU time of this process and its workers {bulk_cpu:.1f} s "
            f"(the rest is the database and other load on the machine: "
            f"load average {load_bulk:.1f} on {os.cpu_count()} cores)"
        )
        print(
            f"[{db}] again over the stored snapshots: {rerun_s:.1f} s (CPU {rerun_cpu:.1f} s)"
        )
        print(
            f"[{db}] baseline: plain read of the same {n:,} rows {baseline_bulk:.1f} s; "
            f"(CPU {baseline_cpu:.1f} s); ratio {bulk_s / baseline_bulk:.1f}× wall, "
            f"{bulk_cpu / baseline_cpu:.1f}× CPU"
        )
        print(
            f"[{db}] re-evaluation of one case after a change: median {single_ms:.1f} ms, "
            f"p95 {sorted(single)[int(len(single) * 0.95) - 1] * 1000:.1f} ms "
            f"(target < 50 ms); baseline case + documents fetch {base_ms:.2f} ms; "
            f"ratio {single_ms / base_ms:.1f}×"
        )
        print(
            f"[{db}]   of which the completeness snapshot alone (refresh_completeness): "
            f"median {statistics.median(rules_only) * 1000:.1f} ms; the rest is the "
            f"statutory-deadline refresh that case_changed also runs"
        )
    finally:
        from django.db import connections

        connections.close_all()
        if pg_db:
            drop_pg(pg_db, base_url)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
