"""Benchmark: a tus upload on loopback vs ``cat FILE | tee COPY | openssl dgst -sm3``.

    python bench/bench_tus_upload.py                     # 1 GiB (and 256 MiB for memory)
    BENCH_UPLOAD_BYTES=268435456 python bench/bench_tus_upload.py
    python bench/bench_tus_upload.py --size 512M --small 128M

The file is a real MP4 padded with a ``free`` box (mediafactory.make_large_file). The upload
is the tus protocol as clients speak it: POST (creation, API token) then one PATCH streaming
the whole file; the time runs until the server answers, that is after it has received,
hashed (SHA-256 and SM3 while streaming), fsynced and stored the original and committed its
row. The baseline, measured in the same run on the same file, reads, copies and SM3-hashes it.
Target ratio (baseline time / upload time) >= 0.7.

Peak memory: the largest RSS of the server's processes, sampled every 20 ms during each
upload, for the small and the large file; it must not grow with the file (streaming). A 1 MiB
upload comes first, unmeasured: the first upload a worker finishes maps the code of FFmpeg's
and Pillow's libraries (media probing) into it, once, whatever the file's size.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _vault import ROOT, RssSampler, Server, mib_per_s, openssl_sm3_seconds  # noqa: E402

sys.path.insert(0, str(ROOT))
from liuhen.evidence.tests.mediafactory import make_large_file  # noqa: E402


def parse_size(text: str) -> int:
    text = str(text).strip().upper().removesuffix("B").removesuffix("I")
    factor = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:], 1)
    return int(float(text[:-1] if factor > 1 else text) * factor)


def tus_upload(server: Server, path: Path) -> dict:
    """POST + one streaming PATCH; returns the server's digests and the elapsed seconds."""
    size = path.stat().st_size
    host = urlparse(server.url)
    meta = {"filename": path.name, "device": server.people["device"]}
    metadata = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in meta.items())
    auth = {"Authorization": f"Bearer {server.people['token']}", "Tus-Resumable": "1.0.0"}
    t0 = time.perf_counter()
    conn = http.client.HTTPConnection(host.hostname, host.port, timeout=600, blocksize=1 << 20)
    conn.request("POST", "/api/uploads/", headers={
        **auth, "Upload-Length": str(size), "Upload-Metadata": metadata, "Content-Length": "0"})
    created = conn.getresponse()
    created.read()
    assert created.status == 201, created.status
    location = created.getheader("Location")
    with open(path, "rb") as fh:
        conn.request("PATCH", urlparse(location).path, body=fh, headers={
            **auth, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream",
            "Content-Length": str(size)})
        done = conn.getresponse()
        body = done.read()
    elapsed = time.perf_counter() - t0
    assert done.status == 204, (done.status, body[:500])
    assert int(done.getheader("Upload-Offset")) == size
    conn.close()
    return {"seconds": elapsed, "sm3": done.getheader("Liuhen-Sm3"),
            "recording": done.getheader("Liuhen-Recording-Id")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default=os.environ.get("BENCH_UPLOAD_BYTES", "1G"))
    parser.add_argument("--small", default=os.environ.get("BENCH_UPLOAD_SMALL_BYTES", ""),
                        help="second, smaller size for the memory comparison (default size/4)")
    args = parser.parse_args()
    size = parse_size(args.size)
    small = parse_size(args.small) if args.small else max(size // 4, 1 << 20)
    work = Path(tempfile.mkdtemp(prefix="liuhen-bench-tus-"))
    server = Server()
    results = {}
    try:
        server.start()
        warm_up = make_large_file(work / "DSJ_warm_up.mp4", 1 << 20)
        tus_upload(server, warm_up)
        warm_up.unlink()
        for label, n in (("small", small), ("large", size)):
            path = make_large_file(work / f"DSJ_{label}.mp4", n)
            baseline = openssl_sm3_seconds(path, copy=True)
            with RssSampler(server.pids) as rss:
                upload = tus_upload(server, path)
            again = openssl_sm3_seconds(path, copy=True)  # the same conditions after the upload
            base = min(baseline, again)
            results[label] = {
                "bytes": n, "upload_s": round(upload["seconds"], 2),
                "upload_mib_s": round(mib_per_s(n, upload["seconds"]), 1),
                "baseline_s": round(base, 2), "baseline_mib_s": round(mib_per_s(n, base), 1),
                "ratio": round(base / upload["seconds"], 2),
                "server_peak_rss_mib": round(rss.peak_kib / 1024, 1),
            }
            r = results[label]
            print(f"{label:5s} {n / (1 << 20):8.0f} MiB  tus upload {r['upload_s']:7.2f} s "
                  f"({r['upload_mib_s']:6.1f} MiB/s)  cat|tee|openssl sm3 {r['baseline_s']:6.2f} s "
                  f"({r['baseline_mib_s']:6.1f} MiB/s)  ratio {r['ratio']:.2f} (target >= 0.7)  "
                  f"server peak RSS {r['server_peak_rss_mib']:.0f} MiB", flush=True)
            path.unlink()
        growth = results["large"]["server_peak_rss_mib"] - results["small"]["server_peak_rss_mib"]
        results["rss_growth_mib"] = round(growth, 1)
        print(f"server peak RSS grew by {growth:.1f} MiB while the file grew "
              f"{(size - small) / (1 << 20):.0f} MiB (flat = streaming)")
        print(json.dumps(results))
    finally:
        server.stop()
        for leftover in work.glob("*"):
            leftover.unlink()
        work.rmdir()


if __name__ == "__main__":
    main()
