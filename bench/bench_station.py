"""Benchmark: an ingest-station run (采集站) of 200 files, direct and over tus, against a baseline.

    python bench/bench_station.py                 # 200 files, direct and over tus, SQLite
    LIUHEN_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python bench/bench_station.py
    python bench/bench_station.py --files 50 --mode direct
    python bench/bench_station.py --no-server     # direct mode alone, as this bench ran before

A body camera's dump folder is generated once with real media (mediafactory): H.264 and HEVC
MP4 clips named like a body camera names them (<device>_<YYYYMMDDhhmmss>_<seq>.MP4), JPEG photos
with EXIF, and a few large recordings (a real MP4 padded to tens of MiB). For each mode a fresh
deployment is started as users run it: ``liuhen serve`` with its default workers (2 web
workers, the job worker, which derives posters and proxies while the station runs, and the
scheduler, its periodic jobs marked as just run) on a temporary data folder (SQLite, or a fresh
PostgreSQL database next to ``LIUHEN_DATABASE_URL``, dropped at the end). Then ``liuhen ingest``
empties the folder:

* direct: on the server machine, in-process (``--user``);
* tus: remotely, with an API token, over tus with per-chunk sha256 checksums (16 MiB chunks,
  the station's default).

Python's bytecode cache is on (see ``bytecode_env``): an installed Liuhen is byte-compiled,
while this session's environment sets PYTHONDONTWRITEBYTECODE, which made every station run
compile its modules again (1.5 s of a 6 s run before 2026-12-04).

Baseline, in the same run on the same files, just before and just after each mode (the faster
is used): ``cp -r DUMP COPY``, ``sha256sum DUMP/*`` and ``openssl dgst -sm3 DUMP/*`` as three
processes in parallel (copy + both digests). Targets (issue 9): direct >= 0.7 of the baseline's
files/s, over tus >= 0.5.

Printed per mode: wall time, files/s, MB/s, the station process's CPU time, the server's (its
process tree from /proc, by process: web workers, master, job worker, scheduler), the baseline's
wall and CPU time, the ratio of files/s (ours / baseline) and the CPU ratio
(station + server without the job worker, over the baseline's), the load average before and
after, the receipt's count of files safe to erase, and how long the job worker then took to
finish the derivations still queued (wall, CPU).

Derivation (issue 9): each mode runs twice by default (``--derivation both``). *Running*: the
job worker derives posters and proxies while the station stores, as deployed; on the 2-core
machine it competes with the station for the CPUs, so this files/s is what an operator sees,
but it includes work the baseline does not do. *Paused*: the job worker is stopped (SIGSTOP)
until the station is done, then derives the backlog: the storing alone (copy, SHA-256, SM3,
probe, register), the same work as the baseline. Both are printed against the target; the
paused one compares like with like, the running one is what users get on a 2-core server.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _deploy as d  # noqa: E402

TARGETS = {"direct": 0.7, "tus": 0.5}


def make_dump(folder: Path, files: int, device: str, large_mib: int) -> int:
    """Write ``files`` media files into ``folder``; return their total size in bytes."""
    mediafactory = d.mediafactory()
    folder.mkdir(parents=True, exist_ok=True)
    start = datetime.now(UTC) - timedelta(hours=3)
    photos, large, hevc = files // 5, max(1, files // 20), files // 10
    for i in range(files):
        at = start + timedelta(seconds=37 * i)
        stamp = at.astimezone(mediafactory.SHANGHAI).strftime("%Y%m%d%H%M%S")
        if i < photos:
            mediafactory.make_jpeg_with_exif(folder / f"{device}_{stamp}_{i:04d}.JPG", taken_at=at)
        elif i < photos + large:
            size = large_mib * (1 << 20) + i * 4096  # distinct sizes: distinct digests
            mediafactory.make_large_file(folder / f"{device}_{stamp}_{i:04d}.MP4", size)
        elif i < photos + large + hevc:
            mediafactory.make_hevc_mp4(
                folder / f"{device}_{stamp}_{i:04d}.MP4", seconds=1, creation_time=at
            )
        else:
            mediafactory.make_h264_mp4(
                folder / f"{device}_{stamp}_{i:04d}.MP4", seconds=1, creation_time=at
            )
    return sum(p.stat().st_size for p in folder.iterdir())


def bytecode_env(work: Path) -> dict:
    """Compiled bytecode, as an installed Liuhen has it (pip and Debian's python3 packages
    byte-compile at install time). This session's environment sets PYTHONDONTWRITEBYTECODE
    (the shared virtual environment stays clean), and without a cache every ``liuhen ingest``
    compiled about 1,150 modules again: 1.5 s of CPU in a station run of 200 files, which no
    station pays. The cache lives in this bench's temporary folder."""
    return {"PYTHONDONTWRITEBYTECODE": "", "PYTHONPYCACHEPREFIX": str(work / "pycache")}


def warm_bytecode(dep: d.Deployment) -> None:
    """Compile what ``liuhen ingest`` imports (every app through ``check``, the tus client),
    before anything is measured."""
    dep.manage("check")
    subprocess.run(
        [sys.executable, "-c", "import requests, tqdm, tusclient.storage.filestorage"],
        env=dep.env,
        check=True,
    )


def baseline(dump: Path, copy: Path) -> dict:
    """``cp -r`` + ``sha256sum`` + ``openssl dgst -sm3`` of the same files, in parallel."""
    shutil.rmtree(copy, ignore_errors=True)
    result = d.baseline(
        [
            f"cp -r '{dump}' '{copy}'",
            f"sha256sum '{dump}'/* > /dev/null",
            f"openssl dgst -sm3 '{dump}'/* > /dev/null",
        ]
    )
    shutil.rmtree(copy, ignore_errors=True)
    return result


def ingest(dep: d.Deployment, dump: Path, receipts: Path, *, remote: bool) -> dict:
    """``liuhen ingest`` as the station runs it; wall and CPU time of its process."""
    args = ["ingest", str(dump), "--device", dep.people["device"], "--receipt-dir", str(receipts)]
    if remote:
        args += ["--server", dep.url, "--token", dep.people["token"]]
    else:
        args += ["--user", dep.people["username"]]
    with d.ChildCpu() as cpu:
        t0 = time.perf_counter()
        dep.manage(*args)
        wall = time.perf_counter() - t0
    return {"wall": wall, "cpu": cpu.seconds}


def derivation_settled(dep: d.Deployment, timeout: float = 900) -> dict:
    """Wait until the job worker has derived what the run queued (its CPU stops moving for
    3 s); its wall and CPU time after the station finished."""
    started, before = time.perf_counter(), dep.cpu()
    last, still = before["jobs"], 0
    while still < 3 and time.perf_counter() - started < timeout:
        time.sleep(1)
        now = dep.cpu()["jobs"]
        still = still + 1 if now - last < 0.02 else 0
        last = now
    return {
        "seconds": round(time.perf_counter() - started - still, 1),
        "cpu": round(dep.cpu()["jobs"] - before["jobs"], 2),
    }


def run_mode(
    mode: str, dump: Path, work: Path, files: int, total: int, server: bool, paused: bool
) -> dict:
    db = d.database_from_env(f"station_{mode}")
    dep = d.Deployment(database_url=db.url if db else "", extra_env=bytecode_env(work))
    label = f"{mode}, derivation {'paused' if paused else 'running'}" if server else mode
    stopped: list[int] = []
    try:
        dep.prepare()
        warm_bytecode(dep)
        if server:
            dep.start()
        before = baseline(dump, work / "copy")
        if paused:  # the job worker holds its derivations until the station is done
            stopped = dep.roles()["jobs"]
            for pid in stopped:
                os.kill(pid, signal.SIGSTOP)
        load_before, cpu_before = d.loadavg(), dep.cpu()
        receipts = work / f"receipts-{mode}-{'paused' if paused else 'running'}"
        receipts.mkdir()
        station = ingest(dep, dump, receipts, remote=mode == "tus")
        served = d.cpu_delta(cpu_before, dep.cpu())
        load_after = d.loadavg()
        for pid in stopped:
            os.kill(pid, signal.SIGCONT)
        stopped = []
        derivation = derivation_settled(dep) if server else {"seconds": 0, "cpu": 0}
        after = baseline(dump, work / "copy")
    finally:
        for pid in stopped:
            os.kill(pid, signal.SIGCONT)
        dep.cleanup()
        if db:
            db.drop()
    base = min(before, after, key=lambda b: b["wall"])
    receipt = next(receipts.glob("receipt-*.json"), None)
    safe = _count_safe(json.loads(receipt.read_text()) if receipt else {})
    ours_cpu = station["cpu"] + served["total"] - served["jobs"]
    r = {
        "mode": mode,
        "derivation_during_run": server and not paused,
        "derivation_after": derivation,
        "files": files,
        "bytes": total,
        "wall_s": round(station["wall"], 2),
        "files_per_s": round(files / station["wall"], 1),
        "mb_per_s": round(total / 1e6 / station["wall"], 1),
        "station_cpu_s": round(station["cpu"], 2),
        "server_cpu_s": served,
        "baseline_wall_s": round(base["wall"], 2),
        "baseline_walls_s": [round(before["wall"], 2), round(after["wall"], 2)],
        "baseline_files_per_s": round(files / base["wall"], 1),
        "baseline_cpu_s": round(base["cpu"], 2),
        "ratio": round(base["wall"] / station["wall"], 2),
        "cpu_ratio": round(ours_cpu / base["cpu"], 2) if base["cpu"] else None,
        "target": TARGETS[mode],
        "safe_to_erase": safe,
        "server_running": server,
        "load_before": load_before,
        "load_after": load_after,
    }
    met = "met" if r["ratio"] >= r["target"] else "MISSED"
    print(
        f"-- {label}: {files} files, {total / 1e6:.0f} MB"
        f"{'' if server else ' (no server running)'}\n"
        f"   station  wall {r['wall_s']:7.2f} s  {r['files_per_s']:6.1f} files/s  "
        f"{r['mb_per_s']:6.1f} MB/s   station CPU {r['station_cpu_s']:.2f} s   server CPU "
        f"{served['total']:.2f} s (web {served['web']:.2f}, master {served['master']:.2f}, "
        f"jobs {served['jobs']:.2f}, scheduler {served['scheduler']:.2f}, "
        f"postgres {served['postgres']:.2f})\n"
        f"   baseline wall {r['baseline_wall_s']:7.2f} s  {r['baseline_files_per_s']:6.1f} files/s"
        f"   CPU {r['baseline_cpu_s']:.2f} s   (cp -r + sha256sum + openssl dgst -sm3 in "
        f"parallel; before/after {before['wall']:.2f}/{after['wall']:.2f} s)\n"
        f"   files/s ratio {r['ratio']:.2f} (target >= {r['target']}: {met})   CPU ratio "
        f"(station + server without job worker) / baseline {r['cpu_ratio']:.2f}\n"
        f"   job worker after the station: {derivation['seconds']} s, CPU "
        f"{derivation['cpu']:.2f} s (derivations still queued when it finished)\n"
        f"   receipt: {safe}/{files} safe to erase   load {load_before} -> {load_after}",
        flush=True,
    )
    return r


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=int(os.environ.get("BENCH_FILES", 200)))
    parser.add_argument("--large-mib", type=int, default=32, help="size of the large videos")
    parser.add_argument("--mode", choices=("direct", "tus", "both"), default="both")
    parser.add_argument(
        "--derivation",
        choices=("running", "paused", "both"),
        default="both",
        help="the job worker derives posters and proxies while the station runs (as deployed), "
        "or is paused (SIGSTOP) until it is done: the storing alone, the work the baseline does",
    )
    parser.add_argument(
        "--no-server",
        action="store_true",
        help="direct mode without `liuhen serve` running beside it (its job worker derives "
        "posters and proxies during the run when it does)",
    )
    args = parser.parse_args()
    facts = d.header("ingest station (liuhen ingest), liuhen serve with default workers")
    work = Path(tempfile.mkdtemp(prefix="liuhen-bench-station-"))
    results = {}
    try:
        dump = work / "dump"
        t0 = time.perf_counter()
        total = make_dump(dump, args.files, d.DEVICE, args.large_mib)
        print(
            f"   dump folder: {args.files} files, {total / 1e6:.0f} MB, made in "
            f"{time.perf_counter() - t0:.0f} s",
            flush=True,
        )
        for mode in ("direct", "tus"):
            if args.mode not in (mode, "both"):
                continue
            server = mode == "tus" or not args.no_server
            pauses = {"running": (False,), "paused": (True,), "both": (False, True)}
            for paused in pauses[args.derivation] if server else (False,):
                key = f"{mode}-{'paused' if paused else 'running'}" if server else mode
                results[key] = run_mode(mode, dump, work, args.files, total, server, paused)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        d.footer(facts)
    print(
        json.dumps({**facts, "database": "postgresql" if d.database_url() else "sqlite", **results})
    )


def _count_safe(receipt: dict) -> int:
    """Files the station's JSON receipt marks safe to erase from the camera."""
    return sum(1 for item in receipt.get("items", []) if item.get("safe_to_erase") == "yes")


if __name__ == "__main__":
    main()
