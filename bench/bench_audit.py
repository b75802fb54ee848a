"""Audit log benchmark (第二十六条 (二), (三)): append cost and `liuhen audit verify` speed.

Prints, on a throw-away database (SQLite under a temp folder, or a fresh PostgreSQL database
when LIUHEN_DATABASE_URL=postgres://… is set):

* audit append cost per entry through ``audit.services.record()`` — one transaction per entry,
  as a service writes it — against a plain INSERT of the same columns into a comparable table
  without chain, lock or triggers, and into one with the audit table's indexes (target: under
  2 ms); the variants run in turn in one loop, and the same append is also timed after another
  writer moved the chain's head (on PostgreSQL the entry is then built twice, see
  ``audit.services._append_postgresql``), with the statements one append sends;
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


_PLAIN_COLUMNS = (
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
# The audit table's 11 indexes (id's primary key aside), for the comparable plain write.
_PLAIN_INDEXES = [
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


def bench_append(n: int) -> dict[str, tuple[float, float, float]]:
    """Per variant: mean and median wall milliseconds per entry, and this process's CPU ms.

    The variants run in turn inside one loop (record(), record() after another writer moved
    the head, plain INSERT, plain INSERT with the same indexes), so a neighbour's load or a
    slow fsync spell hits all of them alike and the ratios stay meaningful on a busy machine.
    """
    import json

    from django.db import connection, transaction

    from liuhen.audit import services
    from liuhen.audit.models import GENESIS_HASH
    from liuhen.audit.services import record

    detail = {"number": "冀人社监〔2026〕12号", "kind": "penalty", "officers": [3, 7]}
    with connection.cursor() as cursor:
        for table, indexed in (("bench_plain", False), ("bench_plain_idx", True)):
            cursor.execute(f"CREATE TABLE {table} AS SELECT * FROM audit_auditentry WHERE 1 = 0")
            for i, cols in enumerate(_PLAIN_INDEXES if indexed else []):
                unique = "UNIQUE " if cols in ("seq", "uuid", "hash") else ""
                cursor.execute(f"CREATE {unique}INDEX {table}_{i} ON {table} ({cols})")
    sqlite = connection.vendor == "sqlite"

    def chained(i):
        with transaction.atomic():
            record(
                actor=None,
                actor_name="基准测试",
                action="case.viewed",
                target=("cases.case", str(i), f"案件 {i}"),
                detail=detail,
            )

    def moved(i):
        # Another writer appended since this process's last append (several workers taking
        # turns): on PostgreSQL the entry is built on a stale head, refused by
        # liuhen_audit_append(), and built again on the head it returned.
        services._head_guess = (0, GENESIS_HASH)
        chained(i)

    def plain_into(table):
        sql = (
            f"INSERT INTO {table} ({', '.join(_PLAIN_COLUMNS)}) "
            f"VALUES ({', '.join(['%s'] * len(_PLAIN_COLUMNS))})"
        )

        def plain(i):
            row = (
                i,
                uuid.uuid4().hex if sqlite else uuid.uuid4(),
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
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql, row)

        return plain

    variants = {
        "record": chained,
        "moved": moved,
        "plain": plain_into("bench_plain"),
        "indexed": plain_into("bench_plain_idx"),
    }
    for run in variants.values():  # warm up
        for i in range(50):
            run(-1 - i)
    walls = {name: [] for name in variants}
    cpus = {name: 0.0 for name in variants}
    for i in range(n):
        for name, run in variants.items():
            started, cpu = time.perf_counter(), time.process_time()
            run(i)
            walls[name].append(time.perf_counter() - started)
            cpus[name] += time.process_time() - cpu
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_plain")
        cursor.execute("DROP TABLE bench_plain_idx")
    return {
        name: (statistics.mean(w) * 1000, statistics.median(w) * 1000, cpus[name] / n * 1000)
        for name, w in walls.items()
    }


def statements_per_append() -> list[str]:
    """The statements one append sends inside its transaction (BEGIN and COMMIT aside)."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from liuhen.audit.services import record

    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        record(actor=None, actor_name="bench", action="bench.count", target=("x.y", "1"))
    return [q["sql"].split("(")[0][:60] for q in queries.captured_queries]


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
        figures = bench_append(args.appends)
        chained, plain, indexed = (figures[k][0] for k in ("record", "plain", "indexed"))
        print(
            f"append via record(): {chained:.3f} ms/entry   plain INSERT: {plain:.3f} ms "
            f"(same indexes: {indexed:.3f} ms)   ratio {chained / plain:.1f}× "
            f"({chained / indexed:.1f}× indexed)   target < 2 ms: "
            f"{'MET' if chained < 2 else 'MISSED'}"
        )
        labels = {
            "record": "record()",
            "moved": "record(), head moved by another writer",
            "plain": "plain INSERT",
            "indexed": "plain INSERT, same indexes",
        }
        for name, (mean, median, cpu) in figures.items():
            print(
                f"  {labels[name]:40s} mean {mean:.3f} ms  median {median:.3f} ms  "
                f"CPU of this process {cpu:.3f} ms"
            )
        statements = statements_per_append()
        print(f"  statements per append besides BEGIN/COMMIT: {len(statements)} {statements}")
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
