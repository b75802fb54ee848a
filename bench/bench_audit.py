"""Audit log benchmark (第二十六条 (二), (三)): append cost and `liuhen audit verify` speed.

Prints, on a throw-away database (SQLite under a temp folder, or a fresh PostgreSQL database
when LIUHEN_DATABASE_URL=postgres://… is set):

* audit append cost per entry through ``audit.services.record()`` — one transaction per entry,
  as a service writes it — against a plain INSERT of the same columns into a comparable table
  without chain, lock or triggers (target: under 2 ms);
* ``liuhen audit verify`` entries per second over 1,000,000 entries (target: over 50,000/s),
  against raw ``hashlib.new("sm3")`` over the same canonical bytes (the floor any verifier
  pays).

Usage:  .venv/bin/python bench/bench_audit.py [--entries 1000000] [--appends 2000]
        LIUHEN_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python …
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup_database() -> tuple[str, callable]:
    """Point Django at a fresh database; return a label and a clean-up function."""
    tmp = Path(tempfile.mkdtemp(prefix="liuhen-bench-audit-"))
    os.environ["LIUHEN_DATA_DIR"] = str(tmp)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liuhen.settings")
    os.environ["LIUHEN_TASKS"] = "immediate"
    base = os.environ.get("LIUHEN_DATABASE_URL", "")
    dbname = None
    if base.startswith("postgres"):
        import psycopg

        dbname = f"liuhen_bench_audit_{uuid.uuid4().hex[:8]}"
        admin = base.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{dbname}"')
        os.environ["LIUHEN_DATABASE_URL"] = base.rsplit("/", 1)[0] + "/" + dbname

    def cleanup():
        from django.db import connections

        connections.close_all()
        if dbname:
            import psycopg

            with psycopg.connect(base.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        shutil.rmtree(tmp, ignore_errors=True)

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.db import connection

    return connection.vendor, cleanup


def bench_append(n: int) -> tuple[float, float, float]:
    """Milliseconds per entry: record() vs a plain INSERT into a comparable table."""
    from django.db import transaction

    from liuhen.audit.services import record

    detail = {"number": "冀人社监〔2026〕12号", "kind": "penalty", "officers": [3, 7]}
    for _ in range(50):  # warm up
        with transaction.atomic():
            record(actor=None, actor_name="bench", action="bench.warmup", target=("x.y", "1"))
    times = []
    for i in range(n):
        started = time.perf_counter()
        with transaction.atomic():
            record(
                actor=None,
                actor_name="基准测试",
                action="case.viewed",
                target=("cases.case", str(i), f"案件 {i}"),
                detail=detail,
            )
        times.append(time.perf_counter() - started)
    chained = statistics.mean(times) * 1000

    plain = _plain_inserts(n, detail, indexed=False)
    indexed = _plain_inserts(n, detail, indexed=True)
    return chained, plain, indexed


def _plain_inserts(n: int, detail: dict, *, indexed: bool) -> float:
    """A plain INSERT per transaction into a copy of the table: no chain, no lock, no hash.
    ``indexed`` gives the copy the audit table's 11 indexes (the comparable write cost)."""
    import json

    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_plain AS SELECT * FROM audit_auditentry WHERE 1 = 0")
        if indexed:
            for i, cols in enumerate(
                [
                    "seq",
                    "uuid",
                    "hash",
                    "at",
                    "actor_id",
                    "action",
                    "object_type",
                    "object_id",
                    "outcome",
                    "object_type, object_id, seq",
                ]
            ):
                unique = "UNIQUE " if cols in ("seq", "uuid", "hash") else ""
                cursor.execute(f"CREATE {unique}INDEX bench_plain_{i} ON bench_plain ({cols})")

    cols = (
        "seq",
        "uuid",
        "at",
        "actor_id",
        "actor_name",
        "actor_role",
        "session",
        "ip",
        "via",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "outcome",
        "reason",
        "detail",
        "prev_hash",
        "hash",
    )
    sql = f"INSERT INTO bench_plain ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})"
    times = []
    for i in range(n):
        row = (
            i,
            uuid.uuid4().hex if connection.vendor == "sqlite" else uuid.uuid4(),
            datetime.now(UTC),
            None,
            "基准测试",
            "",
            "",
            "",
            "system",
            "case.viewed",
            "cases.case",
            str(i),
            f"案件 {i}",
            "succeeded",
            "",
            json.dumps(detail, ensure_ascii=False),
            "0" * 64,
            f"{i:064d}",
        )
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, row)
        times.append(time.perf_counter() - started)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_plain")
    return statistics.mean(times) * 1000


def fill_chain(total: int, batch: int = 20_000) -> list[bytes]:
    """Append ``total`` well-formed chained entries in bulk (raw executemany on SQLite, COPY on
    PostgreSQL: the ORM would take longer than the verify being measured); return a sample of
    their canonical bytes for the raw-SM3 baseline."""
    import json

    from django.db import connection, transaction

    from liuhen.audit.models import GENESIS_HASH, AuditEntry
    from liuhen.audit.services import HASHED_FIELDS, canonical_bytes

    head = AuditEntry.objects.order_by("-seq").values_list("seq", "hash").first()
    seq, prev = (head[0], head[1]) if head else (0, GENESIS_HASH)
    start = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
    actions = [
        "case.viewed",
        "case.created",
        "case.stage_changed",
        "recording.viewed",
        "auth.login",
        "party.viewed",
    ]
    columns = [*HASHED_FIELDS, "hash"]
    pg = connection.vendor == "postgresql"
    sample: list[bytes] = []
    made = 0
    while made < total:
        rows = []
        for _ in range(min(batch, total - made)):
            seq += 1
            values = {
                "seq": seq,
                "uuid": uuid.uuid4(),
                "at": start + timedelta(seconds=seq, microseconds=(seq * 1371) % 1_000_000),
                "actor_id": seq % 40 + 1,
                "actor_name": f"执法员{seq % 40}",
                "actor_role": "officer",
                "session": f"{seq % 997:016x}",
                "ip": "10.0.3.17",
                "via": "web",
                "action": actions[seq % len(actions)],
                "object_type": "cases.case",
                "object_id": str(seq % 100_000),
                "object_repr": f"冀人社监〔2026〕{seq % 100_000}号 拖欠劳动者工资",
                "outcome": "succeeded",
                "reason": "",
                "detail": {"from": "initiation", "to": "investigation", "n": seq % 7},
                "prev_hash": prev,
            }
            data = canonical_bytes(values)
            values["hash"] = prev = hashlib.new("sm3", data).hexdigest()
            if len(sample) < 200_000:
                sample.append(data)
            values["detail"] = json.dumps(values["detail"], ensure_ascii=False)
            if not pg:
                values["uuid"] = values["uuid"].hex
                values["at"] = values["at"].replace(tzinfo=None).isoformat(" ")
            rows.append([values[c] for c in columns])
        with transaction.atomic():
            if pg:
                raw = connection.connection
                with (
                    raw.cursor() as cur,
                    cur.copy(f"COPY audit_auditentry ({', '.join(columns)}) FROM STDIN") as copy,
                ):
                    for row in rows:
                        copy.write_row(row)
            else:
                with connection.cursor() as cursor:
                    cursor.executemany(
                        f"INSERT INTO audit_auditentry ({', '.join(columns)}) "
                        f"VALUES ({', '.join(['%s'] * len(columns))})",
                        rows,
                    )
        made += len(rows)
        if made % 200_000 < batch:
            print(f"  … {made:,} entries written", flush=True)
    return sample


def bench_verify() -> tuple[float, int]:
    """Run the real `liuhen audit verify --quiet`; return entries/s and the count."""
    from django.core.management import call_command

    out = io.StringIO()
    started, cpu = time.perf_counter(), time.process_time()
    call_command("audit", "verify", "--quiet", stdout=out)
    seconds = time.perf_counter() - started
    bench_verify.cpu_seconds = time.process_time() - cpu
    text = out.getvalue()
    assert "审计日志完整" in text, text
    from liuhen.audit.models import AuditEntry

    count = AuditEntry.objects.count()
    return count / seconds, count


def bench_raw_sm3(sample: list[bytes]) -> float:
    """Entries/s of hashing alone: hashlib.new('sm3') over the same canonical bytes."""
    new = hashlib.new
    started, cpu = time.perf_counter(), time.process_time()
    for data in sample:
        new("sm3", data).hexdigest()
    bench_raw_sm3.cpu_seconds = time.process_time() - cpu
    return len(sample) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--appends", type=int, default=2000)
    args = parser.parse_args()
    vendor, cleanup = setup_database()
    try:
        print(f"== audit benchmark on {vendor} ==")
        chained, plain, indexed = bench_append(args.appends)
        print(
            f"append via record(): {chained:.3f} ms/entry   plain INSERT: {plain:.3f} ms "
            f"(same indexes: {indexed:.3f} ms)   ratio {chained / plain:.1f}× "
            f"({chained / indexed:.1f}× indexed)   target < 2 ms: "
            f"{'MET' if chained < 2 else 'MISSED'}"
        )
        print(f"filling the chain to {args.entries:,} entries …", flush=True)
        started = time.perf_counter()
        sample = fill_chain(args.entries)
        print(f"  filled in {time.perf_counter() - started:.0f} s")
        rate, count = bench_verify()
        raw = bench_raw_sm3(sample)
        print(
            f"liuhen audit verify: {rate:,.0f} entries/s over {count:,} entries   "
            f"raw SM3 over the same bytes: {raw:,.0f}/s   verify = {rate / raw:.2f}× raw   "
            f"target > 50,000/s: {'MET' if rate > 50_000 else 'MISSED'}"
        )
        # The machine may be shared: per CPU-second of this process is what one free core does
        # (on PostgreSQL the server's own CPU time is not in it).
        print(
            f"  per CPU-second: verify {count / bench_verify.cpu_seconds:,.0f}/s, raw SM3 "
            f"{len(sample) / bench_raw_sm3.cpu_seconds:,.0f}/s; "
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
        )
    finally:
        cleanup()


if __name__ == "__main__":
    main()
