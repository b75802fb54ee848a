"""Benchmark: uploads with the official tus client through `liuhen serve` as deployed.

    python bench/bench_serve_upload.py                       # the full set (issue 9), SQLite
    LIUHEN_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python bench/bench_serve_upload.py
    python bench/bench_serve_upload.py --size 128M --concurrent 4 --concurrent-size 32M   # quick
    python bench/bench_serve_upload.py --chunks 16 --checksum off --only single

The server is ``liuhen serve`` with its DEFAULT workers (gunicorn, 2 web workers with 8 threads
each, the job worker, the scheduler) on a temporary data folder (SQLite, or a fresh PostgreSQL
database next to ``LIUHEN_DATABASE_URL``, dropped at the end). An officer, a device and an API
token are created; the scheduler's periodic jobs are marked as just run, so its first fixity
pass (ten minutes after start-up) cannot fall inside a measurement.

Scenarios: chunk size (16 MiB, the ingest station's default, and 4 MiB) × per-chunk checksums
(none, and ``Upload-Checksum: sha256`` on every PATCH) × (one upload of ``--size``, 1 GiB; and
``--concurrent`` 8 uploads of ``--concurrent-size``, 256 MiB, at once). Each upload is
``tuspy`` (``tusclient.Uploader.upload``) in a client process of its own, as a user's program
would run it: POST, then one PATCH per chunk, each a new HTTP connection, so gunicorn spreads
the chunks of one upload over its workers. Every scenario uploads fresh content (a tag written
into the files' padding), so nothing is a duplicate.

Baseline, measured in the same run on the same files just before and just after each scenario
(the faster of the two is used): ``cat FILE | tee >(sha256sum) | openssl dgst -sm3`` (read +
SHA-256 + SM3, the digests the server must compute; the process substitution as a named pipe,
see ``pipeline``), one pipeline per file, all at once for the concurrent scenario. Its digests are then compared with the stored recording's, read back
through the API (``GET /api/uploads/<id>/result`` and ``GET /api/recordings/<id>``).

Printed per scenario: wall time and MB/s; the server's CPU time (its whole process tree from
/proc: web workers, gunicorn master, job worker, scheduler) and the clients'; the baseline's
wall and CPU; wall ratio = baseline wall / upload wall (target >= 0.8); CPU ratio = server CPU /
baseline CPU (target <= 1.3); the RSS of the largest web worker at 25/50/75/100 % of the upload
and its peak (flat as the file grows = streaming); the load average before and after.
``BENCH_PERF=FILE`` records a ``perf`` profile of the web workers during each upload,
``BENCH_PYSPY=PREFIX`` their Python stacks (``py-spy``, the ``bench`` extra) into
``PREFIX-<pid>.txt``.
The derivation job each new recording queues is waited for between scenarios (its CPU time is
printed apart), so that it does not run inside the next measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.request import Request, urlopen

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _deploy as d  # noqa: E402

MIB = 1 << 20


def parse_size(text: str) -> int:
    text = str(text).strip().upper().removesuffix("B").removesuffix("I")
    factor = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:], 1)
    return int(float(text[:-1] if factor > 1 else text) * factor)


# -- the client: one process per upload ------------------------------------------------------
def client(url: str, token: str, path: str, chunk: int, checksum: bool, device: str) -> None:
    """tuspy as a user's program runs it; waits for "go" on stdin, prints its figures."""
    import hashlib

    from tusclient import client as tus_client
    from tusclient.uploader import Uploader

    class Sha256Uploader(Uploader):
        CHECKSUM_ALGORITHM_PAIR = ("sha256", hashlib.sha256)

    tus = tus_client.TusClient(f"{url}/api/uploads/", headers={"Authorization": f"Bearer {token}"})
    uploader = Sha256Uploader(
        file_path=path,
        client=tus,
        chunk_size=chunk,
        upload_checksum=checksum,
        metadata={"filename": Path(path).name, "device": device},
    )
    print("ready", flush=True)
    sys.stdin.readline()
    started, cpu = time.monotonic(), time.process_time()
    uploader.upload()
    print(
        json.dumps(
            {
                "url": uploader.url,
                "start": started,
                "end": time.monotonic(),
                "cpu": time.process_time() - cpu,
                "offset": uploader.offset,
            }
        ),
        flush=True,
    )


def run_clients(
    dep: d.Deployment, files: list[Path], chunk: int, checksum: bool, timeout: float
) -> dict:
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--client",
                dep.url,
                dep.people["token"],
                str(f),
                str(chunk),
                "1" if checksum else "0",
                dep.people["device"],
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for f in files
    ]
    for proc in procs:
        line = proc.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"client did not start: {line}{proc.stderr.read()[-2000:]}")
    load_before, cpu_before = d.loadavg(), dep.cpu()
    perf = None
    if os.environ.get("BENCH_PERF"):  # a profile of the web workers: perf report -i FILE
        pids = ",".join(str(p) for p in dep.roles()["web"])
        perf = subprocess.Popen(
            ["perf", "record", "-q", "-F", "997", "-g", "-o", os.environ["BENCH_PERF"], "-p", pids],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1.0)
    spies = []
    if os.environ.get("BENCH_PYSPY"):  # Python stacks of each web worker: PREFIX-<pid>.txt
        py_spy = Path(sys.executable).with_name("py-spy")
        spies = [
            subprocess.Popen(
                [str(py_spy), "record", "--nonblocking", "--threads", "-r", "250", "-f", "raw",
                 "-o", f"{os.environ['BENCH_PYSPY']}-{pid}.txt", "-p", str(pid)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for pid in dep.roles()["web"]
        ]
        time.sleep(1.0)
    with d.RssSampler(dep) as rss:
        for proc in procs:
            proc.stdin.write("go\n")
            proc.stdin.flush()
        results, errors = [], []
        deadline = time.monotonic() + timeout
        for proc in procs:
            try:
                out, err = proc.communicate(timeout=max(1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                for p in procs:
                    p.kill()
                errors.append(f"timed out after {timeout:.0f} s")
                break
            if proc.returncode:
                errors.append(err[-1500:])
            else:
                results.append(json.loads(out.strip().splitlines()[-1]))
    cpu_after = dep.cpu()
    if perf is not None:
        perf.send_signal(2)
        perf.wait(timeout=60)
    for spy in spies:
        spy.send_signal(2)
        spy.wait(timeout=60)
    wall = (
        max(r["end"] for r in results) - min(r["start"] for r in results)
        if results and not errors
        else float("nan")
    )
    return {
        "wall": wall,
        "results": results,
        "errors": errors,
        "rss": rss,
        "server_cpu": d.cpu_delta(cpu_before, cpu_after),
        "client_cpu": sum(r["cpu"] for r in results),
        "load_before": load_before,
        "load_after": d.loadavg(),
    }


# -- files, baseline, verification -----------------------------------------------------------
def tag(path: Path, label: str) -> None:
    """Write a unique tag into the padding (the ``free`` box) near the end: fresh content."""
    data = f"liuhen-bench {label} {uuid.uuid4()}".encode().ljust(64, b" ")
    fd = os.open(path, os.O_WRONLY)
    try:
        os.pwrite(fd, data, path.stat().st_size - 4096)
    finally:
        os.close(fd)


def pipeline(path: Path) -> str:
    """``cat FILE | tee >(sha256sum) | openssl dgst -sm3``, with the process substitution
    spelled as a named pipe so that ``sha256sum`` is a child of the shell.

    Written as ``>(sha256sum)``, sha256sum is forked by the shell that then becomes ``tee``,
    which never waits for it: its CPU time (as much as SM3's, coreutils' SHA-256 has no SHA
    instructions) was reaped by nobody and missing from the baseline (1.4 instead of 2.6-2.9 s for 256 MiB at load 15): the CPU
    ratios printed before 2026-12-04 were about twice what they are with the same work."""
    fifo = f"{path}.fifo"
    return (
        f"rm -f '{fifo}'; mkfifo '{fifo}'; sha256sum < '{fifo}' > '{path}.sha256' & "
        f"cat '{path}' | tee '{fifo}' | openssl dgst -sm3 > '{path}.sm3'; wait; rm -f '{fifo}'"
    )


def file_digests(path: Path) -> tuple[str, str]:
    sha256 = Path(f"{path}.sha256").read_text().split()[0]
    sm3 = Path(f"{path}.sm3").read_text().strip().rsplit("= ", 1)[-1]
    return sha256, sm3


def api_get(dep: d.Deployment, url: str) -> dict:
    request = Request(
        url if url.startswith("http") else dep.url + url,
        headers={"Authorization": f"Bearer {dep.people['token']}"},
    )
    with urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def recordings_of(dep: d.Deployment, results: list[dict]) -> list[dict]:
    """The stored recordings of finished uploads, read back through the API."""
    recordings = []
    for result in results:
        upload = api_get(dep, f"{result['url']}/result")
        recordings.append(api_get(dep, f"/api/recordings/{upload['recording_id']}"))
    return recordings


def verify(dep: d.Deployment, results: list[dict], files: list[Path]) -> list[dict]:
    """Each stored recording's digests (through the API) against the baseline's of its file."""
    recordings = recordings_of(dep, results)
    expected = {file_digests(f) for f in files}
    stored = {(r["sha256"], r["sm3"]) for r in recordings}
    if stored != expected or len(recordings) != len(files):
        raise AssertionError(f"stored digests differ from the files': {stored} != {expected}")
    return recordings


def wait_for_derivation(dep: d.Deployment, recordings: list[dict], timeout: float = 600) -> dict:
    """Let the job worker finish the derivation each new recording queued (not measured)."""
    before, started = dep.cpu(), time.perf_counter()
    pending = {r["id"] for r in recordings}
    while pending and time.perf_counter() - started < timeout:
        for rid in list(pending):
            if api_get(dep, f"/api/recordings/{rid}")["derivation_status"] != "pending":
                pending.discard(rid)
        time.sleep(0.5)
    return {
        "seconds": round(time.perf_counter() - started, 1),
        "still_pending": len(pending),
        "cpu": d.cpu_delta(before, dep.cpu()),
    }


# -- one scenario ----------------------------------------------------------------------------
def scenario(
    dep: d.Deployment, files: list[Path], label: str, chunk: int, checksum: bool, timeout: float
) -> dict:
    for f in files:
        tag(f, label)
    total = sum(f.stat().st_size for f in files)
    before = d.baseline([pipeline(f) for f in files])
    run = run_clients(dep, files, chunk, checksum, timeout)
    after = d.baseline([pipeline(f) for f in files])
    base = min(before, after, key=lambda b: b["wall"])
    result = {
        "scenario": label,
        "files": len(files),
        "bytes": total,
        "chunk_mib": chunk // MIB,
        "checksum": checksum,
        "load_before": run["load_before"],
        "load_after": run["load_after"],
        "baseline_wall_s": round(base["wall"], 2),
        "baseline_cpu_s": round(base["cpu"], 2),
        "baseline_walls_s": [round(before["wall"], 2), round(after["wall"], 2)],
    }
    if run["errors"] or before["failed"] or after["failed"]:
        result["error"] = run["errors"] or "baseline failed"
        print(f"-- {label}: FAILED {result['error']}", flush=True)
        return result
    recordings = verify(dep, run["results"], files)
    derivation = wait_for_derivation(dep, recordings)
    server = run["server_cpu"]
    rss = run["rss"]
    result.update(
        {
            "wall_s": round(run["wall"], 2),
            "mb_per_s": round(total / 1e6 / run["wall"], 1),
            "baseline_mb_per_s": round(total / 1e6 / base["wall"], 1),
            "server_cpu_s": server["total"],
            "server_cpu_by_process": server,
            "client_cpu_s": round(run["client_cpu"], 2),
            "wall_ratio": round(base["wall"] / run["wall"], 2),
            "cpu_ratio": round(server["total"] / base["cpu"], 2) if base["cpu"] else None,
            "rss_web_mib": [round(d.mib(rss.at(f)[0]), 1) for f in (0.25, 0.5, 0.75, 1.0)],
            "rss_web_peak_mib": round(d.mib(rss.peak()[0]), 1),
            "rss_tree_peak_mib": round(d.mib(rss.peak()[1]), 1),
            "digests_verified": True,
            "derivation_after": derivation,
        }
    )
    r = result
    print(
        f"-- {label}: {r['files']} × {total / r['files'] / MIB:.0f} MiB, "
        f"{r['chunk_mib']} MiB chunks, checksum {'sha256' if checksum else 'none'}\n"
        f"   upload   wall {r['wall_s']:8.2f} s  {r['mb_per_s']:7.1f} MB/s   server CPU "
        f"{r['server_cpu_s']:7.2f} s (web {server['web']:.2f}, master {server['master']:.2f},"
        f" jobs {server['jobs']:.2f}, scheduler {server['scheduler']:.2f}, "
        f"postgres {server['postgres']:.2f})   client CPU "
        f"{r['client_cpu_s']:.2f} s\n"
        f"   baseline wall {r['baseline_wall_s']:8.2f} s  {r['baseline_mb_per_s']:7.1f} MB/s   "
        f"CPU {r['baseline_cpu_s']:.2f} s   (cat | tee >(sha256sum) | openssl dgst -sm3; "
        f"before/after {before['wall']:.2f}/{after['wall']:.2f} s)\n"
        f"   wall ratio {r['wall_ratio']:.2f} (target >= 0.8: "
        f"{'met' if r['wall_ratio'] >= 0.8 else 'MISSED'})   CPU ratio server/baseline "
        f"{r['cpu_ratio']:.2f} (target <= 1.3: "
        f"{'met' if r['cpu_ratio'] is not None and r['cpu_ratio'] <= 1.3 else 'MISSED'})\n"
        f"   web worker RSS at 25/50/75/100 %: "
        f"{' / '.join(f'{v:.0f}' for v in r['rss_web_mib'])} MiB, peak "
        f"{r['rss_web_peak_mib']:.0f} MiB (server tree peak {r['rss_tree_peak_mib']:.0f} MiB)\n"
        f"   digests (SHA-256, SM3) verified through the API; derivation afterwards "
        f"{derivation['seconds']} s, job worker CPU {derivation['cpu']['jobs']:.2f} s   "
        f"load {r['load_before']} -> {r['load_after']}",
        flush=True,
    )
    return result


def main() -> None:
    if sys.argv[1:2] == ["--client"]:
        url, token, path, chunk, checksum, device = sys.argv[2:8]
        client(url, token, path, int(chunk), checksum == "1", device)
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1G", help="the single upload's size (1G)")
    parser.add_argument("--concurrent", type=int, default=8, help="uploads at once (8)")
    parser.add_argument("--concurrent-size", default="256M", help="each concurrent upload (256M)")
    parser.add_argument("--chunks", default="16,4", help="chunk sizes in MiB, comma list")
    parser.add_argument("--checksum", choices=("both", "on", "off"), default="both")
    parser.add_argument("--only", choices=("both", "single", "concurrent"), default="both")
    parser.add_argument("--timeout", type=float, default=1800, help="per scenario, seconds")
    parser.add_argument("--work-dir", default="", help="where the files go (default: /tmp)")
    args = parser.parse_args()
    facts = d.header("uploads through liuhen serve (default workers), tuspy client")
    work = Path(tempfile.mkdtemp(prefix="liuhen-bench-upload-", dir=args.work_dir or None))
    db = d.database_from_env("upload")
    dep = d.Deployment(database_url=db.url if db else "")
    results = []
    try:
        dep.prepare().start()
        print(
            f"   server: liuhen serve on {dep.url}, "
            f"{'PostgreSQL ' + db.name if db else 'SQLite'}; processes "
            f"{ {k: len(v) for k, v in dep.roles().items()} }",
            flush=True,
        )
        mf = d.mediafactory()
        # Unmeasured: the first upload a worker finishes maps FFmpeg's and Pillow's code.
        warm = [mf.make_large_file(work / f"DSJ_warm{i}.mp4", MIB + i * 4096) for i in range(4)]
        warm_run = run_clients(dep, warm, MIB // 4, False, 300)
        if warm_run["errors"]:
            raise RuntimeError(f"warm-up upload failed: {warm_run['errors']}")
        wait_for_derivation(dep, recordings_of(dep, warm_run["results"]))
        single = mf.make_large_file(work / "DSJ_single.mp4", parse_size(args.size))
        many = [
            mf.make_large_file(work / f"DSJ_c{i}.mp4", parse_size(args.concurrent_size))
            for i in range(args.concurrent)
        ]
        checksums = {"both": (False, True), "on": (True,), "off": (False,)}[args.checksum]
        kinds = {
            "both": ("single", "concurrent"),
            "single": ("single",),
            "concurrent": ("concurrent",),
        }[args.only]
        for chunk_mib in (int(c) for c in args.chunks.split(",")):
            for checksum in checksums:
                for kind in kinds:
                    files = [single] if kind == "single" else many
                    label = f"{kind} {chunk_mib}M {'sha256' if checksum else 'plain'}"
                    results.append(
                        scenario(dep, files, label, chunk_mib * MIB, checksum, args.timeout)
                    )
        print_summary(results)
    finally:
        dep.cleanup()
        if db:
            db.drop()
        shutil.rmtree(work, ignore_errors=True)
        d.footer(facts)
    print(json.dumps({**facts, "database": "postgresql" if db else "sqlite", "scenarios": results}))


def print_summary(results: list[dict]) -> None:
    print(
        "\n   scenario                   wall s   MB/s  base s  wall ratio  server CPU  "
        "base CPU  CPU ratio  RSS peak MiB"
    )
    for r in results:
        if "error" in r:
            print(f"   {r['scenario']:<25} FAILED")
            continue
        print(
            f"   {r['scenario']:<25} {r['wall_s']:7.1f} {r['mb_per_s']:6.1f} "
            f"{r['baseline_wall_s']:7.1f} {r['wall_ratio']:10.2f} {r['server_cpu_s']:11.1f} "
            f"{r['baseline_cpu_s']:9.1f} {r['cpu_ratio']:10.2f} {r['rss_web_peak_mib']:13.0f}"
        )
    print("   targets: wall ratio >= 0.8, CPU ratio (server / baseline) <= 1.3, RSS flat")


if __name__ == "__main__":
    main()
