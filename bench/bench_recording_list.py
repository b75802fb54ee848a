"""Benchmark: recording list latency on 1,000,000 rows (第十八条 search), SQLite and PostgreSQL.

    python bench/bench_recording_list.py                 # 1,000,000 rows, both databases
    python bench/bench_recording_list.py --rows 100000 --db sqlite

Builds a throw-away database (SQLite file in a temp folder; PostgreSQL database
``liuhen_bench_<random>`` on LIUHEN_BENCH_PG_URL, default postgres://postgres@127.0.0.1:5432),
migrates it, creates 33 units, 300 officers, 300 devices, ~5,000 cases and ~2,000 parties with
the ORM, then bulk-inserts the recordings directly in SQL (INSERT ... SELECT over a number
series). It then times ``liuhen.evidence.queries.recording_page`` (what the list page runs)
for the three access scopes and every filter, first pages and later pages, and the whole page
through Django's test client (template and audit entry included). Target: p95 < 100 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _deploy import PASSWORD  # noqa: E402  (bench/ is not a package)
from _otp import enroll, login_fields  # noqa: E402
from _seed import bench_database, seed  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=int(os.environ.get("BENCH_ROWS", 1_000_000)))
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--runs", type=int, default=20, help="timed runs per query")
    args = parser.parse_args()
    if args.db == "both":
        results = {}
        for db in ("sqlite", "postgres"):
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--rows",
                    str(args.rows),
                    "--db",
                    db,
                    "--runs",
                    str(args.runs),
                ],
                check=True,
                stdout=subprocess.PIPE,
                text=True,
            )
            print(out.stdout, end="", flush=True)
            results[db] = json.loads(out.stdout.strip().splitlines()[-1])
        print("SUMMARY " + json.dumps(results))
        return
    run_one(args.db, args.rows, args.runs)


def run_one(db: str, rows: int, runs: int) -> None:
    with bench_database(db, "liuhen-bench-list-"):
        started = time.perf_counter()
        people = seed(rows)
        seeded = time.perf_counter() - started
        print(f"[{db}] seeded {rows:,} recordings in {seeded:.1f} s", flush=True)
        result = measure(db, people, runs)
        result.update({"db": db, "rows": rows, "seed_seconds": round(seeded, 1)})
        print(json.dumps(result))


def measure(db: str, people: dict, runs: int) -> dict:
    from datetime import date

    from django.conf import settings
    from django.test import Client

    from liuhen.access.otp import must_use_otp
    from liuhen.evidence import queries

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]

    scenarios = []
    for label, officer in people.items():
        if label.startswith("_"):
            continue
        scenarios += [
            (f"{label}: no filter", officer, {}),
            (f"{label}: late only", officer, {"late": True}),
            (f"{label}: flagged only", officer, {"flagged": True}),
            (f"{label}: kind=audio", officer, {"kind": "audio"}),
            (f"{label}: one month", officer, {"start": date(2024, 6, 1), "end": date(2024, 6, 30)}),
            (f"{label}: device number", officer, {"device": people["_device"]}),
            (f"{label}: officer", officer, {"officer": people["_officer"]}),
            (f"{label}: case number", officer, {"case": people["_case_number"]}),
            (f"{label}: case cause text", officer, {"case": "工资31"}),
            (f"{label}: party text", officer, {"party": "劳务有限公司7"}),
            (f"{label}: unit subtree", officer, {"unit": people["_detachment"]}),
            (
                f"{label}: late + kind + month",
                officer,
                {
                    "late": True,
                    "kind": "video",
                    "start": date(2024, 3, 1),
                    "end": date(2024, 3, 31),
                },
            ),
        ]
    samples: list[float] = []
    per_query = []
    for name, officer, filters in scenarios:
        user = officer.user
        times = []
        cursor = None
        for i in range(runs + 2):
            t0 = time.perf_counter()
            page = queries.recording_page(user=user, filters=filters, cursor=cursor)
            elapsed = (time.perf_counter() - t0) * 1000
            if i >= 2:
                times.append(elapsed)
            cursor = page.next_cursor if i % 2 == 0 else None  # alternate first / next page
        samples += times
        p95 = _p95(times)
        per_query.append((name, statistics.median(times), p95, len(page.rows)))
        print(
            f"[{db}] {name:55s} p50 {statistics.median(times):7.1f} ms  p95 {p95:7.1f} ms"
            f"  rows {len(page.rows)}",
            flush=True,
        )
    # The whole page over HTTP (template, audit entry, session) for the three roles, each
    # logged in through /login/ as a person is: the legal office (LIUHEN_OTP_REQUIRED_ROLES)
    # with its TOTP code too, else every page of it is a 302 to /otp/.
    page_times = []
    for label, officer in people.items():
        if label.startswith("_"):
            continue
        user = officer.user
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
        needs_otp = must_use_otp(user)
        if needs_otp:
            enroll([user.username])
        client = Client()
        response = client.post(
            "/login/", login_fields(user.username, PASSWORD, 0 if needs_otp else None)
        )
        assert response.status_code == 302 and "login" not in response.url, (label, response)
        for i in range(runs + 1):
            t0 = time.perf_counter()
            response = client.get("/recordings/", {"late": "on"} if i % 2 else {})
            assert response.status_code == 200, response.status_code
            if i:
                page_times.append((time.perf_counter() - t0) * 1000)
    worst = max(per_query, key=lambda q: q[2])
    result = {
        "query_p50_ms": round(statistics.median(samples), 1),
        "query_p95_ms": round(_p95(samples), 1),
        "worst_query": worst[0],
        "worst_query_p95_ms": round(worst[2], 1),
        "page_p50_ms": round(statistics.median(page_times), 1),
        "page_p95_ms": round(_p95(page_times), 1),
        "target_ms": 100,
    }
    print(
        f"[{db}] all queries: p50 {result['query_p50_ms']} ms, p95 {result['query_p95_ms']} ms"
        f" (worst: {worst[0]} p95 {worst[2]:.1f} ms); whole page over HTTP: "
        f"p50 {result['page_p50_ms']} ms, p95 {result['page_p95_ms']} ms; target < 100 ms",
        flush=True,
    )
    return result


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


if __name__ == "__main__":
    main()
