"""Benchmark: supervision over 1,000,000 recordings (issue 12), SQLite and PostgreSQL.

    python bench/bench_supervision.py                  # 1,000,000 rows, both databases
    python bench/bench_supervision.py --rows 100000 --db sqlite

Seeds the throw-away bureau of bench/_seed.py, shared with bench_recording_list.py (30 teams, 300 officers and
devices, --cases cases (100,000), recordings one per minute from 2024-01-01, bulk SQL), then times:
the spot-check draw (第二十三条) over the whole population and over one month, stratified by
unit, as a new check draws (from the running tallies) and as a redraw does (counting the
recordings themselves); the 第二十六条 detectors (``detectors.run_all``) and ``detect_violations`` (which also
stores the findings) at the end of the data; and a circular's inputs and scores (第二十四条)
for a month and a year. Targets: draw < 2 s, detectors < 60 s. Prints the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))


def _timed(fn):
    started = time.perf_counter()
    value = fn()
    return round(time.perf_counter() - started, 3), value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--draw-only", action="store_true", help="only the spot-check draw")
    args = parser.parse_args()
    if args.db == "both":
        for db in ("sqlite", "postgres"):
            subprocess.run([sys.executable, __file__, "--rows", str(args.rows), "--db", db,
                            "--cases", str(args.cases)]
                           + (["--draw-only"] if args.draw_only else []), check=True)
        return
    run_one(args.db, args.rows, args.draw_only, args.cases)


def _cpu() -> float:
    """CPU seconds of this process plus, on PostgreSQL, of its server backend (another process
    on this machine: its utime + stime from /proc)."""
    from django.db import connection

    spent = time.process_time()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        spent += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return spent


def run_one(db: str, rows: int, draw_only: bool = False, cases: int = 100_000) -> None:
    import _seed
    from _seed import bench_database, seed

    with bench_database(db, "liuhen-bench-sup-"):
        from datetime import date, datetime, timedelta
        from zoneinfo import ZoneInfo

        from liuhen.supervision import circulars, detectors, sampling, services

        per_team = -(-cases // _seed.TEAMS)
        seeded, _ = _timed(lambda: seed(rows, per_team))
        print(f"[{db}] seeded {rows:,} recordings, {per_team * _seed.TEAMS:,} cases in "
              f"{seeded:.1f} s", flush=True)
        result = {"db": db, "rows": rows, "cases": per_team * _seed.TEAMS,
                  "seed_seconds": seeded}

        def draw(start, end, recount=False):
            return sampling.draw(population="recordings", start=start, end=end, filters={},
                                 strata="unit", per_stratum=5, seed="bench", recount=recount)

        for name, (start, end) in {"draw_all": (date(2023, 1, 1), date(2026, 12, 31)),
                                   "draw_month": (date(2025, 3, 1), date(2025, 3, 31))}.items():
            cpu = _cpu()
            first, drawn = _timed(lambda s=start, e=end: draw(s, e))
            again, redrawn = _timed(lambda s=start, e=end: draw(s, e))
            assert redrawn == drawn  # the same seed and population: the same sample
            result[name] = {"seconds": first, "again": again,
                            "cpu_seconds_both": round(_cpu() - cpu, 3),
                            "population": drawn.population_size, "sample": len(drawn.sample)}
            cpu = _cpu()
            seconds, recounted = _timed(lambda s=start, e=end: draw(s, e, recount=True))
            assert recounted == drawn  # the redraw's count of the records: the same draw
            result[name].update(redraw_seconds=seconds, redraw_cpu=round(_cpu() - cpu, 3))
        if draw_only:
            result["load"] = os.getloadavg()
            print(json.dumps(result, ensure_ascii=False), flush=True)
            return
        # The data ends about 694 days after 2024-01-01 for a million rows.
        end = datetime(2024, 1, 1, tzinfo=ZoneInfo("Asia/Shanghai")) + timedelta(minutes=rows)
        seconds, found = _timed(lambda: detectors.run_all(end))
        result["detectors"] = {"seconds": seconds, "findings": len(found)}
        seconds, summary = _timed(lambda: services.detect_violations(now=end))
        result["detect_violations"] = {"seconds": seconds, **summary}
        seconds, again = _timed(lambda: services.detect_violations(now=end))
        result["detect_violations_again"] = {"seconds": seconds, **again}
        rule = circulars.formula()
        day = end.date().replace(day=1)
        for kind in ("month", "year"):
            start, stop = circulars.period_bounds(kind, day)
            seconds, rows_ = _timed(lambda s=start, t=stop: circulars.score_units(
                circulars.gather_inputs(s, t, as_of=day), rule))
            result[f"circular_{kind}"] = {"seconds": seconds, "units": len(rows_)}
        result["load"] = os.getloadavg()
        print(json.dumps(result, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
