"""Benchmark: an ingest-station run (采集站) of 200 files, videos and photos, in files/s and MB/s.

    python bench/bench_station.py                 # 200 files, direct and over tus
    python bench/bench_station.py --files 50 --mode direct

A body camera's dump folder is generated with real media (mediafactory): H.264 and HEVC MP4
clips named like a body camera names them (<device>_<YYYYMMDDhhmmss>_<seq>.MP4), JPEG photos
with EXIF, and a few large recordings (a real MP4 padded to tens of MiB). ``liuhen ingest``
then empties it, once directly on the server machine and once remotely over tus with an API
token (the two ways the station runs), and the figures are printed with the receipt's count.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _vault import ROOT, Server  # noqa: E402

sys.path.insert(0, str(ROOT))
from liuhen.evidence.tests import mediafactory  # noqa: E402


def make_dump(folder: Path, files: int, device: str, large_mib: int) -> int:
    """Write ``files`` media files into ``folder``; return their total size in bytes."""
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
            mediafactory.make_hevc_mp4(folder / f"{device}_{stamp}_{i:04d}.MP4", seconds=1,
                                       creation_time=at)
        else:
            mediafactory.make_h264_mp4(folder / f"{device}_{stamp}_{i:04d}.MP4", seconds=1,
                                       creation_time=at)
    return sum(p.stat().st_size for p in folder.iterdir())


def run(server: Server, dump: Path, receipts: Path, *, remote: bool) -> float:
    args = ["ingest", str(dump), "--device", server.people["device"], "--receipt-dir",
            str(receipts)]
    if remote:
        args += ["--server", server.url, "--token", server.people["token"]]
    else:
        args += ["--user", server.people["username"]]
    t0 = time.perf_counter()
    server.manage(*args)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=int(os.environ.get("BENCH_FILES", 200)))
    parser.add_argument("--large-mib", type=int, default=32, help="size of the large videos")
    parser.add_argument("--mode", choices=("direct", "tus", "both"), default="both")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="liuhen-bench-station-"))
    results = {}
    try:
        for mode in ("direct", "tus"):
            if args.mode not in (mode, "both"):
                continue
            server = Server()
            try:
                dump = work / f"dump-{mode}"
                t0 = time.perf_counter()
                total = make_dump(dump, args.files, server.people["device"], args.large_mib)
                made = time.perf_counter() - t0
                if mode == "tus":
                    server.start()
                receipts = work / f"receipts-{mode}"
                receipts.mkdir()
                seconds = run(server, dump, receipts, remote=mode == "tus")
                receipt = next(receipts.glob("receipt-*.json"), None)
                rows = json.loads(receipt.read_text()) if receipt else {}
                stored = _count_safe(rows)
                results[mode] = {
                    "files": args.files, "bytes": total, "seconds": round(seconds, 2),
                    "files_per_s": round(args.files / seconds, 1),
                    "mb_per_s": round(total / 1e6 / seconds, 1), "safe_to_erase": stored,
                }
                r = results[mode]
                print(f"{mode:6s}: {args.files} files, {total / 1e6:.0f} MB (made in {made:.0f} s)"
                      f" ingested in {r['seconds']:.1f} s: {r['files_per_s']} files/s, "
                      f"{r['mb_per_s']} MB/s; receipt: {stored} safe to erase", flush=True)
            finally:
                server.stop()
        print(json.dumps(results))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _count_safe(receipt: dict) -> int:
    """Files the station's JSON receipt marks safe to erase from the camera."""
    return sum(1 for item in receipt.get("items", []) if item.get("safe_to_erase") == "yes")


if __name__ == "__main__":
    main()
