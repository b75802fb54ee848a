"""Benchmark (issue 14): concurrent tus uploads through HAProxy to two nodes against the same
uploads to one node, in the same run, on the cluster of `make cluster` (bench/cluster.py).

    python bench/bench_cluster_upload.py                      # 8 x 256 MiB, 16 MiB chunks
    python bench/bench_cluster_upload.py --concurrent 4 --size 32M --chunk 8M   # quick

Starts the cluster (a fresh PostgreSQL database, moto's S3 server with Object Lock, Redis, two
nodes `liuhen serve --no-worker` with their default web workers, one job worker, HAProxy
balancing each request round robin), then runs the scenarios in turn, ``--rounds`` times each:

- ``one node``: ``--concurrent`` uploads of ``--size`` at once, every request to node A;
- ``two nodes``: the same number and size of uploads at once through HAProxy, so each upload's
  PATCHes alternate between A and B (the partial files on the shared upload folder, offsets and
  locks in PostgreSQL, the running digests following the upload, issue 14 item 1).

Each upload is ``tuspy`` (``Uploader.upload`` with ``Upload-Checksum: sha256`` per chunk) in a
client process of its own; every scenario uploads fresh bytes. A scenario counts as failed when
any upload raises or when a stored recording's SHA-256 (read back through the API) differs from
the file's. Printed per scenario: wall time and aggregate MB/s; CPU seconds of node A's and
node B's process trees, of the job worker, and of this process (moto's S3 server runs on its
threads) and the clients; requests per node (HAProxy's stats); the load average before and
after. On the 2-core development machine two nodes cannot be faster than one (they share the
cores): the point there is that throughput does not fall and nothing fails. Derivation of the
recordings (not media: flagged unreadable at once) is waited for between scenarios.
"""

from __future__ import annotations

import _thread
import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from urllib.request import Request, urlopen

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _deploy as d  # noqa: E402
import cluster as c  # noqa: E402

MIB = 1 << 20


def parse_size(text: str) -> int:
    text = str(text).strip().upper().removesuffix("B").removesuffix("I")
    factor = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:], 1)
    return int(float(text[:-1] if factor > 1 else text) * factor)


def make_file(path: Path, size: int, tag: str) -> None:
    """Fresh bytes per file and scenario (no duplicate): a tag, then pseudo-random blocks."""
    import hashlib

    block = hashlib.sha256(tag.encode()).digest() * (MIB // 32)
    with open(path, "wb") as fh:
        fh.write(tag.encode().ljust(4096, b"\0"))
        written = 4096
        n = 0
        while written < size:
            piece = block[n % 251:] + block[:n % 251]
            piece = piece[: size - written]
            fh.write(piece)
            written += len(piece)
            n += 1


def upload(url: str, token: str, path: str, chunk: int) -> dict:
    """One tuspy upload (a client process of its own)."""
    import hashlib

    from tusclient import client as tus_client
    from tusclient.uploader import Uploader

    class Sha256Uploader(Uploader):
        CHECKSUM_ALGORITHM_PAIR = ("sha256", hashlib.sha256)

    started, cpu = time.monotonic(), time.process_time()
    try:
        tus = tus_client.TusClient(f"{url}/api/uploads/",
                                   headers={"Authorization": f"Bearer {token}"})
        uploader = Sha256Uploader(file_path=path, client=tus, chunk_size=chunk,
                                  upload_checksum=True, metadata={"filename": Path(path).name})
        uploader.upload()
        error = None
    except Exception as exc:  # noqa: BLE001 - counted as a failure and printed
        uploader, error = None, f"{type(exc).__name__}: {exc}"[:300]
    return {"url": uploader.url if uploader else None, "error": error,
            "wall": time.monotonic() - started, "cpu": time.process_time() - cpu}


def tree_cpu(pid: int) -> float:
    return sum(d.cpu_seconds(p) for p in d.tree(pid))


def stored_sha256(upload_url: str, token: str) -> str | None:
    """The stored recording's SHA-256, read back through the API."""
    def get(url: str) -> dict:
        request = Request(url, headers={"Authorization": f"Bearer {token}"})
        with urlopen(request, timeout=120) as response:  # noqa: S310 - loopback
            return json.load(response)

    base = upload_url.split("/api/", 1)[0]
    result = get(f"{upload_url}/result")
    return get(f"{base}/api/recordings/{result['recording_id']}").get("sha256")


def scenario(cluster, label: str, port: int, token: str, files: list[Path], chunk: int,
             file_sha: dict) -> dict:
    url = f"http://127.0.0.1:{port}"
    procs = {n["name"]: n["proc"].pid for n in cluster.nodes}
    worker = next(p.pid for p in cluster.procs if "supervise" in " ".join(map(str, p.args)))
    load_before = d.loadavg()
    before = {name: tree_cpu(pid) for name, pid in procs.items()}
    before["worker"], before["bench"] = tree_cpu(worker), time.process_time()
    requests_before = cluster.proxy.requests()
    started = time.monotonic()
    with ProcessPoolExecutor(len(files), mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(upload, url, token, str(f), chunk) for f in files]
        results = [f.result() for f in futures]
    wall = time.monotonic() - started
    after = {name: tree_cpu(pid) for name, pid in procs.items()}
    after["worker"], after["bench"] = tree_cpu(worker), time.process_time()
    requests_after = cluster.proxy.requests()
    load_after = d.loadavg()
    failures = [r["error"] for r in results if r["error"]]
    for r, f in zip(results, files, strict=True):
        if r["url"] and not r["error"]:
            found = stored_sha256(r["url"], token)
            if found != file_sha[f]:
                failures.append(f"{f.name}: stored sha256 {found} != {file_sha[f]}")
    total = sum(f.stat().st_size for f in files)
    return {
        "scenario": label, "uploads": len(files), "bytes": total, "wall_s": round(wall, 2),
        "mb_s": round(total / MIB / wall, 1),
        "cpu_s": {k: round(after[k] - before[k], 2) for k in after},
        "client_cpu_s": round(sum(r["cpu"] for r in results), 2),
        "requests_per_node": {k: requests_after.get(k, 0) - requests_before.get(k, 0)
                              for k in requests_after},
        "failures": failures, "load_before": load_before, "load_after": load_after,
    }


def wait_for_derivations(cluster, seconds: float = 600) -> None:
    """Until no recording is pending derivation (so that it does not fall into the next
    scenario)."""
    deadline = time.monotonic() + seconds
    script = ("from liuhen.evidence.models import Recording; "
              "print(Recording.objects.filter(derivation_status='pending').count())")
    while time.monotonic() < deadline:
        if cluster.manage("shell", "-c", script).split()[-1] == "0":
            return
        time.sleep(2)
    print("derivations still pending after the wait", file=sys.stderr)


MIN_FREE = 10 << 30


def disk_guard(workdir: Path, stop) -> None:
    """Abort the run before the disk fills (it is shared with PostgreSQL, which stops on a full
    disk). Twice on 2026-12-04 a second round ran the disk from 74 GB free to 0 in about two
    minutes with nothing but this bench running; the cause is not found yet, so on the way down
    this names what grew (the bench's folder, the system temp folder, and files held open after
    deletion, which is how moto's S3 server spools large objects)."""
    import shutil

    def watch():
        while not stop.wait(1.0):
            free = shutil.disk_usage(workdir).free
            if free >= MIN_FREE:
                continue
            print(f"\n!! free disk {free >> 20} MiB < {MIN_FREE >> 30} GiB: stopping the run",
                  flush=True)
            for cmd in (f"du -sh {workdir}/* /tmp/* 2>/dev/null | sort -h | tail -8",
                        "ls -l /proc/*/fd 2>/dev/null | grep deleted | sort -k5 -n | tail -8"):
                subprocess.run(cmd, shell=True)
            _thread.interrupt_main()  # KeyboardInterrupt in the main thread: the cluster stops
            return

    threading.Thread(target=watch, daemon=True).start()


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrent", type=int, default=8)
    parser.add_argument("--size", default="256M")
    parser.add_argument("--chunk", default="16M")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument(
        "--two-first",
        action="store_true",
        help="the two-node scenario first (moto's S3 server slows as it fills, which handicaps "
        "whichever scenario runs second)",
    )
    args = parser.parse_args()
    size, chunk = parse_size(args.size), parse_size(args.chunk)
    workdir = Path(tempfile.mkdtemp(prefix="liuhen-bench-cluster-"))
    print(f"{d.stamp()}  uptime: {uptime()}")
    cluster = c.Cluster(workdir)
    rows = []
    stop_guard = threading.Event()
    disk_guard(workdir, stop_guard)
    try:
        cluster.start()
        token = cluster.manage("shell", "-c", c.SETUP_OFFICER.format(password=c.PASSWORD)
                               ).split()[-1]
        a = cluster.nodes[0]["port"]
        files_dir = workdir / "files"
        files_dir.mkdir()
        for n in range(args.rounds):
            order = [("one node (A)", a), ("two nodes (HAProxy)", cluster.proxy.port)]
            for label, port in order[::-1] if args.two_first else order:
                tag = f"{label}-{n}-{time.time_ns()}"
                files = [files_dir / f"DSJ00{i}_20261204{n:02d}{i:02d}00_{i:04d}.bin"
                         for i in range(args.concurrent)]
                file_sha = {}
                for i, f in enumerate(files):
                    make_file(f, size, f"{tag}-{i}")
                    file_sha[f] = subprocess.run(["sha256sum", str(f)], capture_output=True,
                                                 text=True, check=True).stdout.split()[0]
                row = scenario(cluster, label, port, token, files, chunk, file_sha)
                rows.append(row)
                print(json.dumps(row, ensure_ascii=False))
                for f in files:
                    f.unlink()
                wait_for_derivations(cluster)
    finally:
        stop_guard.set()
        cluster.stop()
    print(f"\n{args.concurrent} concurrent uploads of {args.size} in chunks of {args.chunk}, "
          f"{os.cpu_count()} CPUs")
    print(f"{'scenario':22} {'wall s':>8} {'MB/s':>7} {'node A':>8} {'node B':>8} {'worker':>8} "
          f"{'bench+S3':>8} {'clients':>8}  requests A/B  failures  load before -> after")
    for r in rows:
        cpu = r["cpu_s"]
        req = r["requests_per_node"]
        print(f"{r['scenario']:22} {r['wall_s']:8.1f} {r['mb_s']:7.1f} {cpu['a']:8.1f} "
              f"{cpu['b']:8.1f} {cpu['worker']:8.1f} {cpu['bench']:8.1f} "
              f"{r['client_cpu_s']:8.1f}  {req.get('a', 0):>5}/{req.get('b', 0):<5}  "
              f"{len(r['failures']):8}  {r['load_before']} -> {r['load_after']}")
    one = [r["mb_s"] for r in rows if r["scenario"].startswith("one")]
    two = [r["mb_s"] for r in rows if r["scenario"].startswith("two")]
    print(f"two nodes / one node, aggregate throughput: {sum(two) / sum(one):.2f}")
    print(f"{d.stamp()}  uptime: {uptime()}")
    return 1 if any(r["failures"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
